"""Pack throughput (images/s) for N approved SKUs to all three marketplaces, beside the floor.

The floor is Pillow alone doing the unavoidable work for the same images: decode the row's
main output, resize it to the marketplace's target (padded to the aspect), encode JPEG, on the
same number of threads. The pack path adds rule checks, re-opening every file, names, manifests,
the report and the zip. Run:

    .venv/bin/python bench/bench_packs.py --skus 1000 --size 1000 --workers 2 --repeat 2
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from vitrina_sync import plugins
from vitrina_sync.packs.base import PackItem
from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.testing import make_output

MARKETS = ("wildberries", "ozon", "kaspi")


def make_items(root: Path, n: int, size: int) -> list[PackItem]:
    """n row outputs; written once, then hard-linked (the bench measures packing, not drawing)."""
    template = make_output(root / "template", size=(size, size))
    items = []
    for i in range(n):
        folder = root / f"sku{i:05d}"
        folder.mkdir()
        for f in ("main.jpg", "mask.png"):
            os.link(template / f, folder / f)
        items.append(
            PackItem(f"SKU-{i:05d}", f"{i:064x}", folder, {"wb_nmid": str(10_000 + i)}, i + 2)
        )
    return items


def floor_one(path: Path, target: tuple[int, int]) -> int:
    img = Image.open(path).convert("RGB")
    scale = min(target[0] / img.width, target[1] / img.height)
    img = img.resize(
        (round(img.width * scale), round(img.height * scale)),
        Image.Resampling.LANCZOS,
        reducing_gap=3.0,
    )
    canvas = Image.new("RGB", target, (255, 255, 255))
    canvas.paste(img, ((target[0] - img.width) // 2, (target[1] - img.height) // 2))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=92)
    return buf.tell()


def run_floor(items, markets, workers: int) -> tuple[int, float]:
    jobs = [
        (i.out_dir / "main.jpg", (m.rules.v("target_width"), m.rules.v("target_height")))
        for m in markets
        for i in items
    ]
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda j: floor_one(*j), jobs))
    return len(jobs), time.perf_counter() - start


def run_packs(items, markets, out: Path, workers: int) -> tuple[int, float]:
    start = time.perf_counter()
    files = 0
    for m in markets:
        result = build_pack(items, m, out, "https://cdn.example.com/shop", workers=workers)
        assert not result.skipped, result.skipped[:3]
        files += result.report["counts"]["files"]
    return files, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=1000)
    ap.add_argument("--size", type=int, default=1000, help="side of each square main output (px)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="alternate floor/packs; best of each")
    args = ap.parse_args()
    registry = plugins.marketplaces(plugins.build_plugin_manager())
    markets = [registry[n] for n in MARKETS]
    with tempfile.TemporaryDirectory() as tmp:
        items = make_items(Path(tmp) / "out", args.skus, args.size)
        floors, packs = [], []
        for _ in range(args.repeat):  # alternate so machine load and warm caches hit both alike
            floors.append(run_floor(items, markets, args.workers))
            packs.append(run_packs(items, markets, Path(tmp) / "packs", args.workers))
        n_floor, t_floor = min(floors, key=lambda r: r[1])
        n_pack, t_pack = min(packs, key=lambda r: r[1])
    print(
        f"{args.skus} SKUs x {len(markets)} marketplaces, {args.size}px mains, "
        f"{args.workers} threads, {os.cpu_count()} CPUs, best of {args.repeat}, "
        f"load avg {os.getloadavg()[0]:.1f}"
    )
    print(
        f"floor (decode+resize+pad+encode): {n_floor} images in {t_floor:.1f} s = "
        f"{n_floor / t_floor:.1f} images/s"
    )
    print(
        f"packs (render+validate+zip+manifests+report): {n_pack} images in {t_pack:.1f} s = "
        f"{n_pack / t_pack:.1f} images/s"
    )
    print(f"ratio packs/floor: {(n_pack / t_pack) / (n_floor / t_floor):.2f}")


if __name__ == "__main__":
    main()
