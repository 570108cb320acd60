"""CPU milliseconds per photo of each step of white mode's job path, in one process (any tree).

    PYTHONPATH=<tree> .venv/bin/python bench/bench_job_stages.py --set held-out --n 24 --json a.json
    .venv/bin/python bench/bench_job_stages.py --compare a.json b.json

What a worker does per row (load, mode.process, store's files) on the photos bench_white.py
makes, the model included (onnxruntime, 1 thread, as the job path's settings), each step timed
with time.process_time by wrapping the module attribute white mode calls it through, so the same
script times an older tree (PYTHONPATH) and this one. CPU time, not wall: on a shared box the
per-step sums are what moves with the code. "process: rest" is process() less its timed steps;
"total less onnx run" is the CPU that is not the model's own inference.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
TOTALS = ("load", "process (all)", "output_files (all)")
OUTSIDE_PROCESS = TOTALS + ("  of which onnx run", "encode JPEG", "encode mask PNG")


class Clock:
    """CPU seconds per label, summed over calls."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}

    def add(self, label: str, seconds: float) -> None:
        self.sums[label] = self.sums.get(label, 0.0) + seconds

    def wrap(self, owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.add(label, time.process_time() - start)

        setattr(owner, name, timed)


def instrument(clock: Clock, session) -> None:
    from vitrina_sync import store
    from vitrina_sync.imaging import compose, cutout, refine
    from vitrina_sync.modes import white

    try:  # refine.py before its split held edge_colours
        from vitrina_sync.imaging import edge_colour
    except ImportError:
        edge_colour = refine
    clock.wrap(cutout, "predict_work", "predict_work (prep+inference)")
    if hasattr(cutout, "second_look"):
        clock.wrap(cutout, "second_look", "second_look")
    try:  # the steps after the model: imaging/steps.py, openings.py before it, none at 78fe031
        from vitrina_sync.imaging import steps as after_model
    except ImportError:
        try:
            from vitrina_sync.imaging import openings as after_model
        except ImportError:
            after_model = None
    if after_model is not None:
        clock.wrap(after_model, "after_model", "after_model (openings, repairs)")
    for name in ("resample_region", "resample_region_both"):
        if hasattr(compose, name):
            clock.wrap(compose, name, "resample_region")
    clock.wrap(refine, "refine_alpha", "refine_alpha")
    clock.wrap(edge_colour, "edge_colours", "edge_colours")
    clock.wrap(compose, "composite", "composite")
    clock.wrap(white.WhiteMode, "figures", "QA figures")
    clock.wrap(store, "encode", "encode JPEG")
    clock.wrap(store, "mask_png", "encode mask PNG")
    if hasattr(session, "inner_session"):  # our U2netp (and rembg's sessions): onnxruntime's
        session.inner_session = Runs(session.inner_session, clock)


class Runs:
    """An onnxruntime session whose run() is timed."""

    def __init__(self, inner, clock: Clock) -> None:
        self.inner, self.clock = inner, clock

    def run(self, *args, **kwargs):
        start = time.process_time()
        try:
            return self.inner.run(*args, **kwargs)
        finally:
            self.clock.add("  of which onnx run", time.process_time() - start)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def measure(set_name: str, n: int, reps: int) -> dict[str, float]:
    import bench_white

    from vitrina_sync import store, worker
    from vitrina_sync.imaging import cutout
    from vitrina_sync.imaging.load import load_image
    from vitrina_sync.modes.base import ModeContext
    from vitrina_sync.modes.white import WhiteMode
    from vitrina_sync.presets import resolve
    from vitrina_sync.settings import Settings

    folder = bench_white.OUT / "white_in_noise3"
    if set_name == "held-out":
        files = bench_white.generate_held_out(folder.with_name(folder.name + "_heldout"), n, 3.0)
    else:
        files = bench_white.generate(folder, n, 3.0)
    settings = Settings({"default_model": "u2netp", "onnx_threads": 1})
    preset = resolve("white", "default", settings)
    mode = WhiteMode()
    mode.warm(settings)
    if hasattr(worker, "keep_freed_memory"):
        worker.keep_freed_memory()
    clock = Clock()
    instrument(clock, cutout.session("u2netp", settings))

    def one(path: Path) -> None:
        t0 = time.process_time()
        loaded = load_image(path)
        t1 = time.process_time()
        out = mode.process(loaded, ModeContext(path.stem, "0" * 12, preset, settings))
        t2 = time.process_time()
        if hasattr(store, "output_files"):
            store.output_files(path, b"", out, "JPEG", {"result": {}})
        else:  # 78fe031 wrote the files straight into a folder
            with tempfile.TemporaryDirectory() as folder:
                store._write_files(Path(folder), path, b"", out, "JPEG", {"result": {}})
        t3 = time.process_time()
        for label, seconds in zip(TOTALS, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            clock.add(label, seconds)

    one(files[0])  # first-call costs (caches, arenas) left out
    clock.sums.clear()
    for _ in range(reps):
        for path in files:
            one(path)
    per = {k: v / (len(files) * reps) * 1000 for k, v in clock.sums.items()}
    timed = sum(v for k, v in per.items() if k not in OUTSIDE_PROCESS)
    per["process: rest"] = per["process (all)"] - timed
    per["total"] = sum(per[k] for k in TOTALS)
    per["total less onnx run"] = per["total"] - per.get("  of which onnx run", 0.0)
    return {k: round(v, 2) for k, v in per.items()}


def compare(before: Path, after: Path) -> None:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    print(f"| step (CPU ms/photo) | {before.stem} | {after.stem} |\n|---|---:|---:|")
    for key in a:
        print(f"| {key.strip()} | {a[key]:.1f} | {b.get(key, float('nan')):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="held-out", choices=["project", "held-out"])
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    figures = measure(args.set, args.n, args.reps)
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
