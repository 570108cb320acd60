"""Bit-identity check of white-mode outputs across code changes (model output cached).

    .venv/bin/python bench/compare_outputs.py save bench/out/compare_ref   # on the old code
    .venv/bin/python bench/compare_outputs.py check bench/out/compare_ref  # on the new code

(--set held-out: the held-out scenes instead, as bench_white.py makes them.)

The model's work-resolution alpha is computed once per photo and cached (npz next to the
reference), so both runs see the same model output and the comparison covers only our code.
For every photo of the noisy set and three configurations (white; card with a gradient; white
with shadow) it keeps the main JPEG's bytes (store.encode: q95 4:4:4), the mask's pixels read
back from its PNG (as store.py writes it) and every QA figure, unrounded, bit for bit.
"""

from __future__ import annotations

import argparse
import io
import pickle
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
SETTINGS = {"default_model": "u2netp", "onnx_threads": 2}
BASE = {"canvas": [2000, 2000], "fill": 0.85, "model": "u2netp"}
CONFIGS = {
    "white": ("white", BASE),
    "card-gradient": ("card", {**BASE, "background": "gradient:#FFFFFF:#DDE3EA"}),
    "white-shadow": ("white", {**BASE, "shadow": True}),
}


def cached_predict(cache: Path):
    """predict_work with the model's alpha read from (or written to) `cache`."""
    from vitrina_sync.imaging import cutout

    original = cutout.predict_work
    cache.mkdir(parents=True, exist_ok=True)

    def predict(img, model, settings=None, side=640, pixels=None):
        key = cache / f"{img.width}x{img.height}-{hash_image(img)}.npy"
        if key.exists():
            rgb = img.convert("RGB")
            factor = side / max(rgb.size)
            if factor < 1.0:
                size = (max(1, round(rgb.width * factor)), max(1, round(rgb.height * factor)))
                rgb = rgb.resize(size, Image.Resampling.BOX)
            return rgb, np.load(key)
        rgb, p = original(img, model, settings, side, pixels)
        np.save(key, p)
        return rgb, p

    return predict


def hash_image(img: Image.Image) -> str:
    import hashlib

    return hashlib.sha1(img.tobytes()).hexdigest()[:16]


def run_all(files: list[Path], cache: Path) -> dict:
    """{(config, photo): (jpeg bytes, mask pixels, raw figures)} for every photo and config."""
    from vitrina_sync import store
    from vitrina_sync.imaging import qa
    from vitrina_sync.imaging.load import load_image
    from vitrina_sync.modes import white
    from vitrina_sync.modes.base import ModeContext
    from vitrina_sync.modes.card import CardMode

    white.cutout.predict_work = cached_predict(cache)
    raw: list = []
    finish = qa.finish
    qa.finish = lambda figures, *a, **k: raw.append(dict(figures)) or finish(figures, *a, **k)
    modes = {"white": white.WhiteMode(), "card": CardMode()}
    results = {}
    for path in files:
        loaded = load_image(path)
        for name, (mode, preset) in CONFIGS.items():
            out = modes[mode].process(loaded, ModeContext(path.stem, "0" * 12, preset, SETTINGS))
            jpeg, _ = store.encode(out.image, "JPEG")
            mask = np.asarray(Image.open(io.BytesIO(mask_bytes(store, out.mask))))
            results[name, path.name] = (jpeg, mask, raw.pop(), out.qa)
    qa.finish = finish
    return results


def time_white(files: list[Path], cache: Path) -> None:
    """ms per photo of white mode's process() (model output cached), single thread; with
    PROFILE=1 also a cProfile of the run (sorted by PROFILE_SORT, default tottime)."""
    import cProfile
    import os
    import pstats
    import time

    from vitrina_sync.imaging.load import load_image
    from vitrina_sync.modes import white
    from vitrina_sync.modes.base import ModeContext

    white.cutout.predict_work = cached_predict(cache)
    mode = white.WhiteMode()
    mode.warm(SETTINGS)
    loaded = [load_image(p) for p in files]
    mode.process(loaded[0], ModeContext("x", "0" * 12, BASE, SETTINGS))
    prof = cProfile.Profile() if os.environ.get("PROFILE") else None
    start = time.process_time()
    if prof:
        prof.enable()
    for img in loaded:
        out = mode.process(img, ModeContext("x", "0" * 12, BASE, SETTINGS))
        mask_bytes(store_module(), out.mask)
    if prof:
        prof.disable()
    took = time.process_time() - start
    print(f"process() + mask PNG: {took / len(loaded) * 1000:.1f} ms CPU per photo")
    if prof and os.environ.get("PROFILE") == "stages":
        print_stages(pstats.Stats(prof), len(loaded))
    elif prof:
        stats = pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "tottime"))
        stats.print_stats(int(os.environ.get("PROFILE_N", "40")))


STAGES = [
    ("white.py", "process", "mode process()"),
    ("white.py", "cut_out", "cut-out (resample + refinement)"),
    ("compose.py", "resample_region", "region resample (LANCZOS)"),
    ("refine.py", "refine_alpha", "edge refinement (refine_alpha)"),
    ("refine.py", "guided_fields", "guided fit"),
    ("refine.py", "_two_colour", "two-colour step"),
    ("edge_colour.py", "edge_colours", "decontamination (edge_colours)"),
    ("compose.py", "composite", "compositing"),
    ("white.py", "figures", "QA figures"),
    ("qa.py", "halo", "halo"),
    ("qa.py", "background_inside", "bg_inside"),
    ("qa.py", "purity", "purity"),
    ("qa.py", "colour_drift", "colour drift"),
    ("compare_outputs.py", "mask_bytes", "mask PNG"),
]


def print_stages(stats, n: int) -> None:
    """Cumulative ms per photo of the pipeline's stages (cProfile, single thread)."""
    for (path, _line, name), row in stats.stats.items():
        for file, func, label in STAGES:
            if path.endswith(file) and name == func:
                print(f"{label}: {row[3] / n * 1000:.1f} ms")


def store_module():
    from vitrina_sync import store

    return store


def mask_bytes(store, mask: Image.Image) -> bytes:
    """The mask's PNG as the store writes it (Pillow at compress_level 1 before mask_png)."""
    if hasattr(store, "mask_png"):
        return store.mask_png(mask)
    buf = io.BytesIO()
    mask.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def compare(ref: dict, new: dict) -> list[str]:
    problems = []
    for key, (jpeg, mask, figures, report) in ref.items():
        got = new.get(key)
        if got is None:
            problems.append(f"{key}: missing")
            continue
        if got[0] != jpeg:
            problems.append(f"{key}: JPEG bytes differ")
        if got[1].shape != mask.shape or not np.array_equal(got[1], mask):
            problems.append(f"{key}: mask pixels differ")
        for name, value in figures.items():
            other = got[2].get(name)
            if not np.array_equal(np.asarray(value), np.asarray(other)):
                problems.append(f"{key}: {name} {value!r} -> {other!r}")
        if got[3] != report:
            problems.append(f"{key}: QA report differs")
    return problems


def main() -> None:
    import bench_white

    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("save", "check", "time"))
    parser.add_argument("ref", type=Path)
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--noise", type=float, default=3.0)
    parser.add_argument("--set", default="project", choices=["project", "held-out"])
    args = parser.parse_args()
    folder = bench_white.OUT / (f"white_in_noise{args.noise:g}" if args.noise else "white_in")
    if args.set == "held-out":  # bench_white.py's held-out scenes (tests/synthetic.py HELD_OUT)
        folder = folder.with_name(folder.name + "_heldout")
        files = bench_white.generate_held_out(folder, args.n, args.noise)
    else:
        files = bench_white.generate(folder, args.n, args.noise)
    if args.action == "time":
        time_white(files, args.ref / "model_cache")
        return
    results = run_all(files, args.ref / "model_cache")
    store_file = args.ref / "outputs.pickle"
    if args.action == "save":
        store_file.write_bytes(pickle.dumps(results))
        print(f"saved {len(results)} outputs to {store_file}")
        return
    problems = compare(pickle.loads(store_file.read_bytes()), results)
    for line in problems[:40]:
        print(line)
    print(f"{len(results)} outputs compared: {len(problems)} differences")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
