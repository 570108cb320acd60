"""API requests and seconds per sync cycle of the Google Sheets adapter, on the local API server.

A cycle is what the sync loop does: read() the whole worksheet, then write_back() 50 finished
results (re-read of the keys + one RAW values.batchUpdate). The local server runs in its own
process so its JSON work does not share our GIL; real Google adds network latency per request
(3 round trips a cycle) on top of these figures.

    .venv/bin/python bench/bench_gsheet.py [--rows 1000 10000 50000] [--cycles 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

from vitrina_sync.catalog import RowUpdate, open_catalog
from vitrina_sync.columns import COLUMNS
from vitrina_sync.settings import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the local API server
from fakes.sheets_api import FakeSheetsApi

BOOK, TITLE = "bench-book", "Catalog"
HEADER = [c.header for c in COLUMNS]


def catalog_rows(n: int) -> list[list[str]]:
    """A realistic catalog: people's columns filled, machine columns of earlier runs filled too."""
    rows = [HEADER]
    for i in range(n):
        rows.append(
            [
                f"{i:06d}",
                f"photos/{i}.jpg",
                "white",
                "",
                "kaspi, ozon",
                "shoes",
                "",
                "",
                "",
                "needs_review",
                f"out/{i:06d}/main.jpg",
                "vitrina 0.1 u2netp",
                "dE 0.4 | ok",
                "",
                f"{i:012x}",
                "",
                "2026-11-26 23:00",
            ]
        )
    return rows


def serve(n: int, queue) -> None:
    with FakeSheetsApi() as api:
        api.add_sheet(BOOK, TITLE, catalog_rows(n), rows=n + 1)
        queue.put(api.url)
        queue.get()  # until the parent is done


def run_cycles(url: str, n: int, cycles: int) -> dict:
    settings = load_settings(
        env={}, overrides={"google_credentials": "none", "google_api_url": url}
    )
    settings.update(google_reads_per_minute=1e6, google_writes_per_minute=1e6)  # time the work only
    catalog = open_catalog(f"gsheet://{BOOK}/{TITLE}", settings)
    reads, writes, totals, requests = [], [], [], []
    for cycle in range(cycles):
        before = catalog.counters.requests
        t0 = time.perf_counter()
        sheet = catalog.read()
        t1 = time.perf_counter()
        step = max(1, len(sheet.rows) // 50)
        done = sheet.rows[cycle::step][:50]
        report = catalog.write_back(
            [
                RowUpdate(
                    r.sku,
                    {
                        "status": "needs_review",
                        "result": f"out/{r.sku}/c{cycle}.jpg",
                        "qa": "dE 0.5 | halo 0.01 | ok",
                        "updated": f"cycle {cycle}",
                    },
                )
                for r in done
            ]
        )
        t2 = time.perf_counter()
        assert len(report.written) == 50, report
        reads.append(t1 - t0)
        writes.append(t2 - t1)
        totals.append(t2 - t0)
        requests.append(catalog.counters.requests - before)
    return {
        "rows": n,
        "requests": max(requests),
        "read_s": statistics.median(reads),
        "write_s": statistics.median(writes),
        "cycle_s": statistics.median(totals),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    print("| rows | API requests / cycle | read s | write-back s (50 results) | cycle s |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.rows:
        queue = mp.get_context("fork").Queue()
        server = mp.get_context("fork").Process(target=serve, args=(n, queue), daemon=True)
        server.start()
        url = queue.get(timeout=300)
        try:
            r = run_cycles(url, n, args.cycles)
        finally:
            queue.put("done")
            server.join(10)
        print(
            f"| {r['rows']:,} | {r['requests']} | {r['read_s']:.3f} | {r['write_s']:.3f} | "
            f"{r['cycle_s']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
