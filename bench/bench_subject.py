"""The subject step (imaging/subject.py) alone on the speed photos: how many it runs the model on,
how many masks it changes, and its CPU where it does not run and where it runs.

    .venv/bin/python bench/bench_subject.py            # project + held-out, 48 each, noise 3
    .venv/bin/python bench/bench_subject.py --repeat 9 # min of 9 runs per photo (default 5)

The photos are bench_white's (`white_in_noise3`, `..._heldout`; made when missing). Each is cut
out as the job path does up to steps.after_model (predict, reframe, second look), with one
onnxruntime thread as the job path's workers run it; then subject.apart alone is timed
(time.perf_counter, min of --repeat). The model's run dominates where it runs (~0.3 s of CPU).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_white

from vitrina_sync.imaging import subject
from vitrina_sync.imaging.cutout import as_rgb
from vitrina_sync.imaging.load import load_image
from vitrina_sync.modes import white

SETTINGS = {"default_model": "u2netp", "onnx_threads": 1}


class _Inputs(Exception):
    """Carries what steps.after_model was given, and stops the cut-out there."""


def model_inputs(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(work copy RGB, the model's alpha) as white.cut_out hands them to steps.after_model."""

    def grab(work_rgb, p, preset, constraints=None):
        raise _Inputs(work_rgb, p)

    real, white.steps.after_model = white.steps.after_model, grab
    try:
        white.cut_out(as_rgb(load_image(path).image), None, bench_white.PRESET, SETTINGS)
    except _Inputs as got:
        return got.args
    finally:
        white.steps.after_model = real
    raise AssertionError("steps.after_model was not reached")


def measure(path: Path, repeat: int) -> tuple[bool, bool, float]:
    """(the model ran, the mask changed, min ms of subject.apart)."""
    rgb, p = model_inputs(path)
    runs: list = []
    predict = subject._predict

    def counted(crop, model):
        runs.append(1)
        return predict(crop, model)

    subject._predict = counted
    try:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            other = subject.apart(rgb, p, "u2netp")
            best = min(best, time.perf_counter() - start)
    finally:
        subject._predict = predict
    return bool(runs), bool(other.any()), best * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--noise", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = bench_white.OUT / f"white_in_noise{args.noise:g}"
    sets = {
        "project": bench_white.generate(folder, args.n, args.noise),
        "held-out": bench_white.generate_held_out(
            folder.with_name(folder.name + "_heldout"), args.n, args.noise
        ),
    }
    for name, files in sets.items():
        rows = [(path.stem, *measure(path, args.repeat)) for path in files]
        idle = [ms for _, ran, _, ms in rows if not ran]
        ran = [row for row in rows if row[1]]
        print(
            f"{name}: model runs on {len(ran)}/{len(rows)}, masks changed "
            f"{sum(row[2] for row in rows)}; where it does not run: median "
            f"{np.median(idle):.3f} ms, max {max(idle):.2f} ms"
        )
        for stem, _, changed, ms in ran:
            print(f"    {stem}: {ms:.0f} ms{'' if changed else ' (no change)'}")


if __name__ == "__main__":
    main()
