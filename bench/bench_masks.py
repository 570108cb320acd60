"""Mask quality of u2netp on the synthetic ground-truth set, before and after edge refinement.

    .venv/bin/python bench/bench_masks.py            # 5 products x 6 backgrounds, 900x1200
    .venv/bin/python bench/bench_masks.py --size 600x800

For each scene the white mode runs three times on the same model output: `refine=false`
(the model's soft mask, upscaled: what a plain pipeline does), guided filter only, and the full
refinement (guided filter + two-colour sharpening, the default). Scores are on the output
canvas against the true alpha put through the same geometric transform:
IoU (alpha > 0.5), boundary F-measure at 1 px and 3 px, mean absolute alpha error in the edge
band (pixels within 8 px of the true edge), and the halo QA figure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import synthetic

from vitrina_sync.imaging import compose
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.modes.white import WhiteMode

SETTINGS = {"default_model": "u2netp"}
VARIANTS = {
    "upscaled model mask": {"refine": False},
    "guided filter only": {"refine_colour": False},
    "guided + two-colour (default)": {},
}


def truth_on_canvas(out, alpha: np.ndarray) -> np.ndarray:
    g = out.extra["geometry"]
    region = compose.Region(tuple(g["region"]), tuple(g["region_source"]))
    img = Image.fromarray((alpha * 255 + 0.5).astype(np.uint8))
    resampled = np.asarray(compose.resample_region(img, region), np.float32) / 255.0
    canvas = np.zeros((out.mask.height, out.mask.width), np.float32)
    l, t, r, b = region.canvas
    canvas[t:b, l:r] = resampled
    return canvas


def score(out, truth: np.ndarray) -> dict:
    mask = np.asarray(out.mask, np.float32) / 255.0
    edge = truth > 0.5
    near = ndimage.binary_dilation(edge ^ ndimage.binary_erosion(edge), iterations=8)
    return {
        "iou": synthetic.iou(mask, truth),
        "bf1": synthetic.boundary_f(mask, truth, 1),
        "bf3": synthetic.boundary_f(mask, truth, 3),
        "edge_mae": float(np.abs(mask - truth)[near].mean()),
        "halo": out.qa["halo"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="900x1200")
    parser.add_argument("--canvas", type=int, default=1200)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    mode = WhiteMode()
    results: dict[str, dict[str, list]] = {name: {} for name in VARIANTS}
    per_scene = []
    for kind in synthetic.PRODUCTS:
        for bg in synthetic.BACKGROUNDS:
            sc = synthetic.scene(kind, bg, size)
            row = [sc.name]
            for name, extra in VARIANTS.items():
                preset = {"canvas": [args.canvas, args.canvas], "fill": 0.85, **extra}
                out = mode.process(
                    LoadedImage(sc.image, "PNG"), ModeContext("b", "0", preset, SETTINGS)
                )
                s = score(out, truth_on_canvas(out, sc.alpha))
                for k, v in s.items():
                    results[name].setdefault(k, []).append(v)
                row.append(f"{s['iou']:.3f}/{s['bf1']:.3f}")
            per_scene.append(row)
    n = len(per_scene)
    print(
        f"{n} scenes ({len(synthetic.PRODUCTS)} products x {len(synthetic.BACKGROUNDS)} backgrounds), source {args.size}, canvas {args.canvas}"
    )
    print(
        "| variant | mean IoU | boundary F (1 px) | boundary F (3 px) | edge-band alpha MAE | mean halo |"
    )
    print("|---|---|---|---|---|---|")
    for name, vals in results.items():
        m = {k: float(np.mean(v)) for k, v in vals.items()}
        print(
            f"| {name} | {m['iou']:.4f} | {m['bf1']:.4f} | {m['bf3']:.4f} | {m['edge_mae']:.4f} | {m['halo']:.4f} |"
        )
    print()
    print("| scene | " + " | ".join(f"{v} IoU/BF1" for v in VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    for row in per_scene:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
