"""What each step after the model does, per scene: IoU and kept background in openings at work
resolution after the model (and second look), then after each step of steps.after_model
(openings found, soft remnants, strays, dropped parts regrown), with the pixels each step
cleared (-) or regrew (+). For finding which step helps or hurts a scene; bench_masks.py is the
figure of record (on the output canvas, after the refinement).

    .venv/bin/python bench/bench_mask_steps.py --set tune-3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_masks
import synthetic

from vitrina_sync.imaging import cutout, reframe
from vitrina_sync.imaging import steps as after_model_steps

SETTINGS = {"default_model": "u2netp"}


def model_map(img: Image.Image, side: int = 640):
    work, p = cutout.predict_work(img, "u2netp", SETTINGS, side)
    p = reframe.apply(work, p, "u2netp", SETTINGS, side)
    p = cutout.second_look(img, work.size, p, "u2netp", SETTINGS, side)
    return np.asarray(work), p


def steps(rgb: np.ndarray, p: np.ndarray, preset=None):
    """(name, map) after each step, in after_model's order."""
    preset = preset or {}
    out = [("model", p > 0.5)]
    for name, found in after_model_steps.step_masks(rgb, p, preset):
        cur = out[-1][1].copy()
        if name.startswith("+"):
            cur |= found
        else:
            cur &= ~found
        out.append((name, cur))
    return out


def row(kind, bg, seed, grey16, size, zoom=1.0):
    sc, loaded = bench_masks.source(kind, bg, seed, grey16, size, zoom)
    rgb, p = model_map(loaded.image.convert("RGB"))
    truth = np.asarray(
        Image.fromarray(sc.alpha, "F").resize((p.shape[1], p.shape[0]), Image.Resampling.BOX)
    )
    holes = synthetic.openings(truth)
    cells, prev = [], None
    for name, m in steps(rgb, p):
        kept = float(m[holes].mean()) if holes.any() else float("nan")
        diff = "" if prev is None else f" ({int((prev & ~m).sum())}-/{int((m & ~prev).sum())}+)"
        cells.append(f"{name}: {synthetic.iou(m, truth):.3f} k{kept:.2f}{diff}")
        prev = m
    return sc.name, cells


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="tune-3")
    parser.add_argument("--size", default="900x1200")
    parser.add_argument("--only", default="", help="scenes whose name contains this")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    for kind, bg, seed, grey16, *zoom in bench_masks.cases(args.set):
        if args.only and args.only not in f"{kind}-on-{bg}":
            continue
        name, cells = row(kind, bg, seed, grey16, size, *zoom)
        print(f"{name:40s} " + " | ".join(cells))


if __name__ == "__main__":
    main()
