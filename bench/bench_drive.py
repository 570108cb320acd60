"""Drive requests and seconds to plan a catalog whose Source cells are Google Drive links.

For each catalog size: an XLSX catalog of N rows whose Source cells are Drive links (every link
form, round robin), the local Drive v3 server (tests/fakes/drive_api.py) in its own process holding
N photos, and the real planning path (SyncSession.plan: read the XLSX, refresh Drive metadata,
fingerprint every row). Measured in the same run:

- first sync: changes.getStartPageToken + batched files.get (100 per request), no bytes;
- no-change sync: a new SyncSession (as after a restart: the metadata cache and the change token
  come from the work folder) running a full `sync` cycle on the catalog written back by the first
  one: nothing queued, nothing downloaded;
- one edited file: planning again finds exactly that row to queue;
- baseline: the naive way, one files.get per row (what a planner without the cache would do).

Requests are counted by the client (a batch is one HTTP request). Real Google adds ~50-150 ms of
latency per request on top, which is what makes the request count the figure that matters.

    .venv/bin/python bench/bench_drive.py [--rows 1000 10000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the local Drive server
from fakes.drive_api import FakeDriveApi

from vitrina_sync.drive.client import DriveClient
from vitrina_sync.runner import SyncSession, sync_once
from vitrina_sync.settings import load_settings

FORMS = (
    "https://drive.google.com/file/d/{}/view?usp=sharing",
    "https://drive.google.com/open?id={}",
    "https://drive.google.com/uc?id={}&export=download",
    "https://docs.google.com/uc?id={}",
    "gdrive://{}",
)


def serve(n: int, replies, commands) -> None:
    with FakeDriveApi() as api:
        ids = [api.add_file(f"p{i}.jpg", b"\xff\xd8photo %d" % i) for i in range(n)]
        replies.put((api.url, ids))
        while (command := commands.get()) != "done":
            api.edit(command, b"\xff\xd8edited")
            replies.put("ok")


def write_catalog(path: Path, ids: list[str], done: dict[str, str] | None = None) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["SKU", "Source", "Mode", "Status", "Fingerprint"])
    for i, file_id in enumerate(ids):
        sku = f"D{i:06d}"
        fp = (done or {}).get(sku, "")
        ws.append([sku, FORMS[i % len(FORMS)].format(file_id), "white", fp and "needs_review", fp])
    wb.save(path)


def settings_for(url: str):
    return load_settings(
        env={}, overrides={"google_credentials": "none", "google_drive_url": url, "workers": 1}
    )


def timed(session: SyncSession) -> SyncSession:
    """Count the seconds spent bringing Drive metadata up to date (the rest is XLSX + hashing)."""
    drive, refresh = session.ctx.drive, session.ctx.drive.refresh
    drive.seconds = 0.0

    def timed_refresh(ids):
        t0 = time.perf_counter()
        refresh(ids)
        drive.seconds += time.perf_counter() - t0

    drive.refresh = timed_refresh
    return session


def requests_of(session: SyncSession) -> int:
    client = session.ctx.drive._client
    return client.counters.requests if client else 0


def measure(url: str, ids: list[str], commands, replies, folder: Path) -> dict:
    catalog = folder / "catalog.xlsx"
    write_catalog(catalog, ids)
    settings = settings_for(url)
    first = timed(SyncSession(str(catalog), settings, str(folder), str(folder / "out")))
    t0 = time.perf_counter()
    plans = first.plan()
    first_s = time.perf_counter() - t0
    first.close()
    assert all(p.action == "enqueue" for p in plans), {p.action for p in plans}
    done = {p.row.sku: p.fingerprint for p in plans}
    write_catalog(catalog, ids, done)  # as the first sync's write-back leaves it

    again = timed(SyncSession(str(catalog), settings, str(folder), str(folder / "out")))
    t0 = time.perf_counter()
    summary = sync_once(again)
    nochange_s = time.perf_counter() - t0
    assert summary.queued == 0 and summary.changed == 0, summary
    nochange_requests = requests_of(again)
    again.close()

    commands.put(ids[len(ids) // 2])
    replies.get()
    edited = timed(SyncSession(str(catalog), settings, str(folder), str(folder / "out")))
    t0 = time.perf_counter()
    queued = [p.row.sku for p in edited.plan() if p.action == "enqueue"]
    edit_s = time.perf_counter() - t0
    assert queued == [f"D{len(ids) // 2:06d}"], queued
    edit_requests = requests_of(edited)
    edited.close()

    naive = DriveClient.from_settings(settings)
    t0 = time.perf_counter()
    for file_id in ids:
        naive.get(file_id)
    naive_s = time.perf_counter() - t0
    return {
        "rows": len(ids),
        "first_requests": requests_of(first),
        "first_s": first_s,
        "first_drive_s": first.ctx.drive.seconds,
        "nochange_drive_s": again.ctx.drive.seconds,
        "edit_drive_s": edited.ctx.drive.seconds,
        "nochange_requests": nochange_requests,
        "nochange_s": nochange_s,
        "edit_requests": edit_requests,
        "edit_s": edit_s,
        "naive_requests": naive.counters.requests,
        "naive_s": naive_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10_000])
    args = parser.parse_args()
    print(
        "| rows | first sync planning: requests / s (of which Drive) | no-change sync: requests "
        "/ s (of which Drive) | one file edited: requests / s (of which Drive) "
        "| baseline, files.get per row: requests / s |"
    )
    print("|---:|---:|---:|---:|---:|")
    ctx = mp.get_context("fork")
    for n in args.rows:
        replies, commands = ctx.Queue(), ctx.Queue()
        server = ctx.Process(target=serve, args=(n, replies, commands), daemon=True)
        server.start()
        url, ids = replies.get(timeout=300)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                r = measure(url, ids, commands, replies, Path(tmp))
        finally:
            commands.put("done")
            server.join(10)
        print(
            f"| {n:,} | {r['first_requests']} / {r['first_s']:.2f} ({r['first_drive_s']:.2f}) "
            f"| {r['nochange_requests']} / {r['nochange_s']:.2f} ({r['nochange_drive_s']:.3f}) "
            f"| {r['edit_requests']} / {r['edit_s']:.2f} ({r['edit_drive_s']:.3f}) "
            f"| {r['naive_requests']:,} / {r['naive_s']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
