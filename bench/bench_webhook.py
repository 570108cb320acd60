"""Time from a webhook POST to the new row showing `queued` in the sheet, XLSX and Google Sheet.

What runs is what `serve` runs: build_state (embedded Redis), the sync loop thread, the Flask app
on werkzeug's threaded server on 127.0.0.1, a real HTTP POST signed as the Apps Script signs it.
No workers: the row's job just waits in the queue, which is exactly the `queued` we time. The poll
interval is an hour, so every cycle measured is one the webhook started.

Per repeat: a person adds a row (outside the timing), then t0 = POST, t1 = the row reads
`queued` in the sheet. XLSX: t1 is when the workbook file is replaced (stat polled every 2 ms;
the row is checked afterwards). Google Sheet: the local Sheets API runs in its own process (so its
JSON work does not share our GIL) and is asked for the row's Status cell every 2 ms. Also per
cycle: seconds (sync loop's own figure) and Sheets API requests (the adapter's counter). The
client-side quota budget is lifted so only the work is timed.

    .venv/bin/python bench/bench_webhook.py [--rows 100 1000] [--repeats 10]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from openpyxl import Workbook, load_workbook
from werkzeug.serving import make_server

from vitrina_sync.settings import load_settings
from vitrina_sync.web import create_app
from vitrina_sync.web.commands import build_state, shutdown
from vitrina_sync.web.hooks import sign
from vitrina_sync.web.sync import start_loops

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the local Sheets API
from fakes.sheets_api import FakeSheetsApi

BOOK, TITLE, SECRET = "bench-hook-book", "Catalog", "bench-secret"
HEADER = ["SKU", "Source", "Mode", "Marketplaces"]
PHOTOS = ["mug", "bag", "coffee", "bottle", "ring", "chelsea", "astronaut"]


def rows(n: int) -> list[list[str]]:
    return [
        [f"R{i:06d}", f"photos/{PHOTOS[i % len(PHOTOS)]}.jpg", "white", "kaspi"] for i in range(n)
    ]


def new_row(k: int) -> list[str]:
    return [f"NEW-{k:03d}", f"photos/{PHOTOS[k % len(PHOTOS)]}.jpg", "white", "ozon"]


# -- the two kinds of sheet ---------------------------------------------------------------------------
class XlsxSheet:
    def __init__(self, folder: Path, n: int):
        self.path = folder / "catalog.xlsx"
        book = Workbook()
        book.active.title = TITLE
        for row in [HEADER, *rows(n)]:
            book.active.append(row)
        book.save(self.path)
        self.spec = str(self.path)

    def add(self, row: list[str]) -> None:
        book = load_workbook(self.path)
        book.active.append(row)
        book.save(self.path)
        self.stamp = self._stamp()

    def _stamp(self):
        st = os.stat(self.path)
        return st.st_ino, st.st_mtime_ns

    def changed(self, _sku: str) -> bool:
        return self._stamp() != self.stamp

    def status(self, sku: str) -> str:
        ws = load_workbook(self.path, read_only=True).active
        header = [c.value for c in next(ws.iter_rows(max_row=1))]
        col = header.index("Status")
        return next(str(r[col]) for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == sku)

    def close(self) -> None:
        pass


def _fake_api(n: int, pipe) -> None:
    with FakeSheetsApi() as api:
        api.add_sheet(BOOK, TITLE, [HEADER, *rows(n)], rows=n + 200)
        pipe.send(api.url)
        while True:
            cmd, arg = pipe.recv()
            if cmd == "stop":
                return
            with api.lock:
                ws = api.sheet(BOOK, TITLE)
                if cmd == "add":
                    ws.put(len(ws.data) + 1, 1, None)
                    ws.data[-1] = list(arg)
                    pipe.send(len(ws.data))
                elif cmd == "status":  # arg = row number
                    header = ws.data[0]
                    pipe.send(
                        ws.get(arg, header.index("Status") + 1) if "Status" in header else None
                    )


class GoogleSheet:
    def __init__(self, n: int):
        ctx = mp.get_context("fork")
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=_fake_api, args=(n, child), daemon=True)
        self.proc.start()
        self.url = self.pipe.recv()
        self.spec = f"gsheet://{BOOK}/{TITLE}"

    def add(self, row: list[str]) -> None:
        self.pipe.send(("add", row))
        self.row = self.pipe.recv()

    def changed(self, _sku: str) -> bool:
        return self.status(_sku) == "queued"

    def status(self, _sku: str) -> str:
        self.pipe.send(("status", self.row))
        return self.pipe.recv()

    def close(self) -> None:
        self.pipe.send(("stop", None))
        self.proc.join(10)


# -- one configuration -------------------------------------------------------------------------------
def settings_for(folder: Path, sheet) -> dict:
    overrides = {
        "presets": str(folder / "presets.toml"),
        "webhook_secret": SECRET,
        "poll_interval": 3600,
        "assets": str(folder),
        "out": str(folder / "out"),
        "lock_wait": 0.05,
    }
    if isinstance(sheet, GoogleSheet):
        overrides.update(google_credentials="none", google_api_url=sheet.url)
    settings = load_settings(env={}, overrides=overrides)
    settings.update(google_reads_per_minute=1e6, google_writes_per_minute=1e6)
    return settings


def post_hook(port: int, k: int) -> None:
    body = json.dumps({"event_id": f"bench-{k}-{time.time()}", "spreadsheet_id": BOOK}).encode()
    t = int(time.time())
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/hooks/sheet",
        data=body,
        method="POST",
        headers={"X-Vitrina-Signature": f"t={t},v1={sign(SECRET, t, body)}"},
    )
    with urllib.request.urlopen(req, timeout=30) as response:
        assert response.status == 202


def wait_cycles(cs, at_least: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while cs.cycles + cs.failed_cycles < at_least:
        assert time.monotonic() < deadline, "no sync cycle"
        time.sleep(0.002)
    assert not cs.last_error, cs.last_error


def measure(kind: str, n: int, repeats: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-hook-"))
    shutil.copytree(ROOT / "examples" / "photos", folder / "photos")
    (folder / "presets.toml").write_text("[white.default]\ncanvas = [400, 400]\n")
    sheet = XlsxSheet(folder, n) if kind == "xlsx" else GoogleSheet(n)  # fork before any thread
    state, embedded = build_state(
        [sheet.spec], settings_for(folder, sheet), None, str(folder), str(folder / "out")
    )
    server = make_server("127.0.0.1", 0, create_app(state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    loops = start_loops(state)
    cs = next(iter(state.catalogs.values()))
    try:
        wait_cycles(cs, 1)  # the first cycle queues all n rows
        latencies, seconds, requests = [], [], []
        for k in range(repeats):
            sheet.add(new_row(k))
            done = cs.cycles
            before = cs.catalog_metrics().get("requests", 0)
            t0 = time.perf_counter()
            post_hook(server.server_port, k)
            while not sheet.changed(new_row(k)[0]):
                time.sleep(0.002)
            latencies.append(time.perf_counter() - t0)
            wait_cycles(cs, done + 1)
            assert sheet.status(new_row(k)[0]) == "queued"
            seconds.append(cs.last_seconds)
            requests.append(cs.catalog_metrics().get("requests", 0) - before)
        idle_before, idle_cycles = cs.catalog_metrics().get("requests", 0), cs.cycles
        post_hook(server.server_port, 999)
        wait_cycles(cs, idle_cycles + 1)
        idle = cs.catalog_metrics().get("requests", 0) - idle_before
    finally:
        server.shutdown()
        shutdown(state, loops, embedded)
        sheet.close()
        shutil.rmtree(folder, ignore_errors=True)
    q = (
        statistics.quantiles(latencies, n=10, method="inclusive")
        if len(latencies) > 1
        else latencies * 9
    )
    return {
        "kind": kind,
        "rows": n,
        "median": statistics.median(latencies),
        "p90": q[8],
        "max": max(latencies),
        "cycle": statistics.median(seconds),
        "requests": max(requests) if kind == "gsheet" else None,
        "idle_requests": idle if kind == "gsheet" else None,
    }


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per POST
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--kinds", nargs="+", default=["xlsx", "gsheet"])
    args = parser.parse_args()
    print(
        "| catalog | rows | webhook -> queued median s | p90 s | max s | cycle s (median) "
        "| API requests / cycle (new row; idle) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in args.kinds:
        for n in args.rows:
            r = measure(kind, n, args.repeats)
            reqs = f"{r['requests']}; {r['idle_requests']}" if r["requests"] is not None else "n/a"
            print(
                f"| {kind} | {n:,} | {r['median']:.3f} | {r['p90']:.3f} | {r['max']:.3f} | {r['cycle']:.3f} "
                f"| {reqs} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
