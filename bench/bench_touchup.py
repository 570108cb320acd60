"""What the touch-up costs where nobody uses it, and what a touched-up job costs (issue 16).

    .venv/bin/python bench/bench_touchup.py                 # 10,000 rows, 5 jobs per case
    .venv/bin/python bench/bench_touchup.py --rows 2000 --jobs 3

plan: plan_sheet over N finished rows (one photo, its hash cached; nothing to queue), three ways in
the same process, best of 3 each:
  baseline  = no touch-up lookup at all (touchup.load answers [] without looking),
  listed    = this branch: the touch-up folder listed once per sync, one touched-up SKU in it,
  per-row   = a file lookup for every row (what planning would cost without the listing).
job: make_output of examples/photos/ring.jpg in white mode on a 2000 x 2000 canvas, without strokes
and with 12 strokes of 150 points (rasterised twice: work image and output region), median of
--jobs runs each, alternating, after one warm-up job.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def plan_times(rows: int) -> dict[str, float]:
    from vitrina_sync import plan, plugins, touchup
    from vitrina_sync.catalog.model import Row, Sheet
    from vitrina_sync.fingerprint import FileHashCache
    from vitrina_sync.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="bench-touchup-"))
    (work / "photos").mkdir()
    photo = work / "photos" / "ring.jpg"
    photo.write_bytes((ROOT / "examples" / "photos" / "ring.jpg").read_bytes())
    ctx = plan.PlanContext(
        Settings({}), work, work / "out", plugins.modes(), {"kaspi"}, FileHashCache()
    )
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    stroke = [{"kind": "remove", "width": 10.0, "points": [[5.0, 5.0]]}]
    touchup.save(ctx.out_root, "SKU-0", sha, stroke, "bench")
    cells = {"source": "photos/ring.jpg", "mode": "white", "marketplaces": "kaspi"}
    sheet = Sheet([], {}, [Row(i + 2, {**cells, "sku": f"SKU-{i}"}) for i in range(rows)])
    for p in plan.plan_sheet(sheet, ctx):  # every row finished with its current fingerprint
        p.row.values.update(fingerprint=p.fingerprint, status="needs_review")
    real_load, real_drawn = touchup.load, touchup.drawn
    cases = {
        "baseline": (lambda *a, **k: [], real_drawn),
        "listed": (real_load, real_drawn),
        "per-row": (real_load, lambda out_root: None),
    }
    times = dict.fromkeys(cases, float("inf"))
    for _ in range(3):  # rounds alternate the cases, so a busy moment does not hit one of them
        for name, (load, drawn) in cases.items():
            touchup.load, touchup.drawn = load, drawn
            started = time.perf_counter()
            plans = plan.plan_sheet(sheet, ctx)
            times[name] = min(times[name], time.perf_counter() - started)
            unchanged = sum(p.action == "unchanged" for p in plans)
            assert unchanged == rows - (name == "baseline")  # SKU-0 was planned touched up
    touchup.load, touchup.drawn = real_load, real_drawn
    return times


def job_times(jobs: int) -> dict[str, float]:
    import math

    from vitrina_sync.jobs import make_output

    out = Path(tempfile.mkdtemp(prefix="bench-touchup-jobs-"))
    strokes = []
    for s in range(12):
        pts = [
            [700 + 300 * math.cos(t / 25 + s), 700 + 300 * math.sin(t / 25 + s)] for t in range(150)
        ]
        strokes.append({"kind": "remove" if s % 2 else "keep", "width": 30.0, "points": pts})
    base = {
        "sku": "B",
        "source": str(ROOT / "examples" / "photos" / "ring.jpg"),
        "mode": "white",
        "preset_name": "",
        "preset": {"canvas": [2000, 2000], "fill": 0.85, "model": "u2netp"},
        "settings": {"default_model": "u2netp"},
    }
    samples: dict[str, list[float]] = {"no strokes": [], "12 strokes": []}
    n = 0
    for i in range(jobs + 1):
        for name, extra in (("no strokes", []), ("12 strokes", strokes)):
            n += 1
            fp = hashlib.sha256(str(n).encode()).hexdigest()  # a new output folder every time
            task = {**base, "fingerprint": fp, "out_root": str(out), "strokes": extra}
            started = time.perf_counter()
            make_output(task)
            if i:  # the first round warms the model and the kernels
                samples[name].append(time.perf_counter() - started)
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=5)
    args = parser.parse_args()
    times = plan_times(args.rows)
    print(f"plan_sheet, {args.rows} finished rows (best of 3):")
    for name, seconds in times.items():
        print(f"  {name:9s} {seconds:7.3f} s  x{seconds / times['baseline']:.2f}")
    jobs = job_times(args.jobs)
    print(f"white job, ring.jpg, 2000 px canvas (median of {args.jobs}):")
    for name, seconds in jobs.items():
        print(f"  {name:11s} {seconds:7.3f} s  x{seconds / jobs['no strokes']:.2f}")


if __name__ == "__main__":
    main()
