"""Benchmarks of the main job (issue 2). Each measurement runs in a fresh process (peak memory is
that process's ru_maxrss).

    .venv/bin/python bench/bench_sync.py                 # all: sync 1k/10k/100k, write-back, e2e
    .venv/bin/python bench/bench_sync.py --sizes 1000,10000 --photos 50
    .venv/bin/python bench/bench_sync.py --sizes 10000,100000 --photos 10 --only writeback

1. no-change `sync` of generated catalogs (every row already processed, fingerprints current),
   beside openpyxl's read-only iteration of the same file (the floor we must stay within +20% of);
2. write-back of 50 finished rows into the 10k and 100k files, both ways in the same run: the XML
   patch (the default) and the older openpyxl load/save round trip (its fallback);
3. end-to-end `run` on 50 photos of 1500x2000 px with the embedded default on this machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "sync"
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_photos(folder: Path, n: int, size=(1500, 2000)) -> list[str]:
    import numpy as np
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    rng = np.random.default_rng(7)
    for i in range(n):
        name = f"p{i:03d}.jpg"
        names.append(f"photos/{name}")
        if (folder / name).exists():
            continue
        base = rng.integers(60, 200, 3)
        img = Image.new("RGB", size, tuple(int(v) for v in base))
        d = ImageDraw.Draw(img)
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        w, h = size
        d.rounded_rectangle((w * 0.25, h * 0.2, w * 0.75, h * 0.8), 60, fill=colour)
        d.ellipse((w * 0.35, h * 0.3, w * 0.5, h * 0.45), fill=(240, 240, 240))
        img.save(folder / name, "JPEG", quality=90)
    return names


def settings_for(folder: Path):
    from vitrina_sync.settings import settings_for_catalog

    return settings_for_catalog(folder)


def make_catalog(rows: int, photos: list[str]) -> Path:
    """A catalog whose rows are all finished with current fingerprints (a no-change sync)."""
    from openpyxl import Workbook

    from vitrina_sync import plugins
    from vitrina_sync.catalog.model import Row
    from vitrina_sync.fingerprint import FileHashCache
    from vitrina_sync.plan import PlanContext, plan_row

    path = OUT / f"catalog-{rows}.xlsx"
    if path.exists():
        return path
    ctx = PlanContext(
        settings_for(OUT),
        OUT,
        OUT / "vitrina-out",
        plugins.modes(),
        {"kaspi", "ozon", "wildberries"},
        FileHashCache(),
    )
    fps = {}
    for p in photos:
        fps[p] = plan_row(Row(2, {"sku": "x", "source": p}), ctx).fingerprint
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Catalog")
    ws.append(
        [
            "SKU",
            "Source",
            "Mode",
            "Preset",
            "Marketplaces",
            "Category",
            "Status",
            "Result",
            "AI version",
            "QA",
            "Audit",
            "Fingerprint",
            "Message",
            "Updated",
            "Decision fingerprint",
            "Decision",
            "Approver",
            "Review date",
            "Reject reason",
        ]
    )
    for i in range(rows):
        src = photos[i % len(photos)]
        fp = fps[src]
        ws.append(
            [
                f"SKU-{i:06d}",
                src,
                "white",
                "",
                "kaspi, ozon",
                "kitchen",
                "needs_review",
                f"vitrina-out/SKU-{i:06d}/{fp[:12]}/main.jpg",
                "vitrina-sync 1 | rembg u2netp | white",
                "dE 0.3 | halo 0.01 | fill 0.85 | ok",
                "",
                fp,
                "",
                "2026-11-26 12:00 UTC",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    wb.save(path)
    return path


def one_openpyxl(path: Path) -> dict:
    from openpyxl import load_workbook

    t = time.perf_counter()
    wb = load_workbook(path, read_only=True)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    return {"seconds": time.perf_counter() - t, "rows": n, "peak_mb": peak_mb()}


def one_sync(path: Path) -> dict:
    from vitrina_sync import plugins
    from vitrina_sync.runner import SyncSession, sync_once

    t = time.perf_counter()
    plugins.modes()  # process start-up: plugin imports (numpy/scipy/Pillow), the same for any catalog size
    startup = time.perf_counter() - t
    t = time.perf_counter()
    session = SyncSession(str(path), settings_for(path.parent))
    summary = sync_once(session)
    session.close(stop_redis=False)
    assert summary.queued == 0 and summary.changed == 0, (summary.queued, summary.changed)
    return {
        "seconds": time.perf_counter() - t,
        "startup": startup,
        "rows": summary.rows,
        "peak_mb": peak_mb(),
    }


def one_writeback(path: Path, how: str = "patch") -> dict:
    from vitrina_sync.catalog import RowUpdate, open_catalog
    from vitrina_sync.catalog import xlsx as xlsx_adapter

    xlsx_adapter.USE_PATCH = how == "patch"
    work = path.with_name(f"wb-{how}-" + path.name)
    shutil.copy(path, work)
    cat = open_catalog(str(work), settings_for(path.parent))
    step = max(1, int(path.stem.split("-")[1]) // 50)
    updates = [
        RowUpdate(
            f"SKU-{i:06d}", {"status": "needs_review", "qa": "dE 0.2 | ok", "message": "bench"}
        )
        for i in range(0, step * 50, step)
    ]
    t = time.perf_counter()
    report = cat.write_back(updates)
    seconds = time.perf_counter() - t
    assert len(report.written) == 50, report
    said = "write-back: patched" if how == "patch" else "write-back: openpyxl round trip"
    assert any(n.startswith(said) for n in report.notes), report.notes
    work.unlink()
    return {"seconds": seconds, "rows": 50, "peak_mb": peak_mb()}


def one_e2e(n: int) -> dict:
    from openpyxl import Workbook

    from vitrina_sync.runner import run

    folder = OUT / f"e2e-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    photos = make_photos(OUT / "photos", n)
    shutil.copytree(OUT / "photos", folder / "photos")
    wb = Workbook()
    ws = wb.active
    ws.append(["SKU", "Source", "Mode"])
    for i, p in enumerate(photos):
        ws.append([f"E{i:03d}", p, "white"])
    wb.save(folder / "catalog.xlsx")
    t = time.perf_counter()
    summary = run(str(folder / "catalog.xlsx"), settings_for(folder), workers=2, progress=False)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "rows": summary.processed,
        "images_per_min": 60 * summary.processed / seconds,
        "model_loads": sorted(summary.model_loads.values()),
        "statuses": dict(summary.statuses),
        "peak_mb": peak_mb(),
    }


def child(kind: str, arg: str, how: str = "") -> dict:
    cmd = [sys.executable, __file__, "--one", kind, "--arg", arg] + (["--how", how] if how else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} {arg} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--photos", type=int, default=50)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--arg", help=argparse.SUPPRESS)
    parser.add_argument("--how", default="patch", help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", choices=["writeback"], help="writeback: only the write-back table (both paths)"
    )
    args = parser.parse_args()
    if args.one:
        fn = {"openpyxl": one_openpyxl, "sync": one_sync}.get(args.one)
        if args.one == "e2e":
            result = one_e2e(int(args.arg))
        elif args.one == "writeback":
            result = one_writeback(Path(args.arg), args.how)
        else:
            result = fn(Path(args.arg))
        print(json.dumps(result))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    photos = make_photos(OUT / "photos", args.photos)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.only == "writeback":
        print(
            "| rows | write-back 50, openpyxl round trip s | peak MiB | write-back 50, XML patch s | peak MiB | speed-up |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for size in sizes:
            path = make_catalog(size, photos)
            old = child("writeback", str(path), "openpyxl")
            new = child("writeback", str(path), "patch")
            print(
                f"| {size:,} | {old['seconds']:.2f} | {old['peak_mb']:.0f} | {new['seconds']:.2f} | {new['peak_mb']:.0f} "
                f"| {old['seconds'] / new['seconds']:.1f}x |"
            )
        return
    print(
        "| rows | openpyxl read-only s | sync s | sync / floor | + start-up s | sync peak MiB "
        "| write-back 50 (openpyxl) s | peak MiB | write-back 50 (XML patch) s | peak MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    nan = {"seconds": float("nan"), "peak_mb": float("nan")}
    for size in sizes:
        path = make_catalog(size, photos)
        child("sync", str(path))  # warm the file-hash cache and the OS page cache once
        floor = child("openpyxl", str(path))
        sync = child("sync", str(path))
        old = child("writeback", str(path), "openpyxl") if size >= 10000 else nan
        new = child("writeback", str(path), "patch") if size >= 10000 else nan
        print(
            f"| {size:,} | {floor['seconds']:.2f} | {sync['seconds']:.2f} | {sync['seconds'] / floor['seconds']:.2f} "
            f"| {sync['startup']:.2f} | {sync['peak_mb']:.0f} | {old['seconds']:.2f} | {old['peak_mb']:.0f} "
            f"| {new['seconds']:.2f} | {new['peak_mb']:.0f} |"
        )
    e2e = child("e2e", str(args.photos))
    print(
        f"\nend-to-end run, {e2e['rows']} photos 1500x2000, 2 workers: {e2e['seconds']:.1f} s, "
        f"{e2e['images_per_min']:.1f} images/min, model loads per worker {e2e['model_loads']}, {e2e['statuses']}"
    )


if __name__ == "__main__":
    main()
