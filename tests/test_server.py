"""The sync server in-process: embedded Redis, real local worker processes, a real XLSX catalog.

The poll interval is an hour, so anything that happens after the first cycle happens because the
webhook woke the loop.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import write_catalog
from local_net import wait_until
from openpyxl import load_workbook

from vitrina_sync.runner import SyncSession
from vitrina_sync.web import create_app
from vitrina_sync.web.auth import add_user
from vitrina_sync.web.commands import build_state, shutdown, start_workers
from vitrina_sync.web.hooks import sign
from vitrina_sync.web.state import AppState
from vitrina_sync.web.sync import cycle, start_loops

SECRET = "test-secret"


def sheet_rows(path) -> dict[str, dict]:
    ws = load_workbook(path).active
    headers = [c.value for c in ws[1]]
    return {str(r[0]): dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)}


def add_row(path, values: list) -> None:
    """A person adds a row (as Excel would save it: the other cells untouched)."""
    book = load_workbook(path)
    book.active.append(values)
    book.save(path)


class Hook:
    """Signs deliveries as the Apps Script does, each with a new event id."""

    def __init__(self, client):
        self.client, self.n = client, 0

    def __call__(self):
        self.n += 1
        body = json.dumps({"event_id": f"e{self.n}", "range": "A2"}).encode()
        t = int(time.time())
        header = f"t={t},v1={sign(SECRET, t, body)}"
        return self.client.post("/hooks/sheet", data=body, headers={"X-Vitrina-Signature": header})


@pytest.fixture
def server(workspace, settings):
    catalog = write_catalog(
        workspace / "catalog.xlsx",
        [
            ["MUG-1", "photos/mug.jpg", "white", "", "kaspi, ozon"],
            ["BAG-2", "photos/bag.jpg", "", "", "ozon"],
        ],
    )
    settings.update(poll_interval=3600, webhook_secret=SECRET, audit_every=1)
    state, embedded = build_state([str(catalog)], settings, None, None, None)
    state.workers = start_workers(state, 1)
    app = create_app(state, {"TESTING": True, "USERS_FILE": str(workspace / "users.json")})
    add_user(workspace / "users.json", "ann", "pw")
    loops = start_loops(state)
    try:
        yield state, app, catalog, loops, embedded
    finally:
        shutdown(state, loops, embedded)


def cycles(cs) -> int:
    with cs.lock:
        return cs.cycles + cs.failed_cycles


def test_loop_webhook_backlog_api_and_shutdown(server):
    state, app, catalog, loops, embedded = server
    cs = next(iter(state.catalogs.values()))
    client, hook = app.test_client(), Hook(app.test_client())
    wait_until(lambda: cycles(cs) >= 1, what="the first cycle")
    assert {r["Status"] for r in sheet_rows(catalog).values()} == {"queued"}
    broker = state.broker()
    wait_until(
        lambda: len(broker.pending_results(cs.session.key)) == 2, 90, "both results in Redis"
    )

    # The sheet is open in Excel: the write-back fails, the results stay in Redis as backlog.
    lock = catalog.with_name("~$catalog.xlsx")
    lock.write_text("x")
    assert hook().status_code == 202
    wait_until(lambda: cycles(cs) >= 2, what="the webhook's cycle")
    snap = cs.snapshot()
    assert "open in Excel" in snap["last_error"] and snap["backlog"] == 2
    assert client.get("/healthz").status_code == 503
    assert len(broker.pending_results(cs.session.key)) == 2
    assert {r["Status"] for r in sheet_rows(catalog).values()} == {"queued"}

    lock.unlink()
    started = time.monotonic()
    assert hook().status_code == 202
    wait_until(lambda: cycles(cs) >= 3, what="the next webhook's cycle")
    assert time.monotonic() - started < 10  # at once, not after the hour-long poll interval
    rows = sheet_rows(catalog)
    assert {r["Status"] for r in rows.values()} == {"needs_review"} and rows["MUG-1"][
        "Audit"
    ] == "audit"
    assert cs.snapshot()["backlog"] == 0 and broker.pending_results(cs.session.key) == {}

    health = client.get("/healthz")
    assert health.status_code == 200, health.json
    assert health.json["checks"]["workers"]["alive"] == 1
    check_status_api(app, state)
    check_metrics(client, cs.session.spec)

    # SIGTERM while a job runs: serve's shutdown lets the worker finish it and writes it back.
    add_row(catalog, ["SLOW-3", "photos/bottle.jpg", "slow"])
    assert hook().status_code == 202
    wait_until(lambda: sheet_rows(catalog)["SLOW-3"].get("Status") == "queued", 10, "SLOW-3 queued")
    wait_until(lambda: sum(broker.started().values()) == 1, 30, "the slow job to start")
    shutdown(state, loops, embedded)
    assert sheet_rows(catalog)["SLOW-3"]["Status"] == "needs_review"


def check_status_api(app, state):
    client = app.test_client()
    assert client.get("/api/status").status_code == 302  # reviewers only: to the login page
    with client.session_transaction() as sess:
        sess["user"] = "ann"
    status = client.get("/api/status").json
    assert status["rows_per_status"] == {"needs_review": 2}
    assert status["queues"] == {"cpu": 0, "gpu": 0} and status["backlog"] == 0
    assert len(status["workers"]) == 1 and status["workers"][0]["queues"] == ["cpu"]
    (snap,) = status["catalogs"].values()
    assert snap["marketplaces"] == {"kaspi": 1, "ozon": 2}
    assert snap["audit_marked"] == 2 and snap["audit_waiting"] == 2
    assert snap["last_sync"] > 0 and snap["failed_cycles"] == 1
    assert status["counters"]["jobs_done"] == 2 and status["counters"]["webhooks"] == 2


def check_metrics(client, spec):
    from prometheus_client.parser import text_string_to_metric_families

    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }
    assert samples[("vitrina_rows", (("catalog", spec), ("status", "needs_review")))] == 2
    assert samples[("vitrina_jobs_total", (("outcome", "done"),))] == 2
    assert samples[("vitrina_sync_seconds_count", (("catalog", spec),))] == 3
    assert samples[("vitrina_sync_errors_total", (("catalog", spec),))] == 1
    assert samples[("vitrina_queue_depth", (("queue", "cpu"),))] == 0
    assert samples[("vitrina_redis_up", ())] == 1


def test_unreachable_redis_is_unhealthy_but_metrics_still_answer(workspace, settings):
    catalog = write_catalog(workspace / "catalog.xlsx", [["A-1", "photos/mug.jpg"]])
    settings["redis_url"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    session = SyncSession(str(catalog), settings)
    state = AppState(settings, {session.spec: session})
    client = create_app(state, {"TESTING": True}).test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and not health.json["checks"]["redis"]["ok"]
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "vitrina_redis_up 0.0" in metrics.get_data(as_text=True)


def test_dead_embedded_redis_restarts_and_shutdown_waits_for_the_write_back(workspace, settings):
    catalog = write_catalog(workspace / "catalog.xlsx", [["MUG-1", "photos/mug.jpg"]])
    state, embedded = build_state([str(catalog)], settings, None, None, None)
    cs = next(iter(state.catalogs.values()))
    try:
        cycle(state, cs)
        assert (
            state.broker().depth()["cpu"] == 1
            and sheet_rows(catalog)["MUG-1"]["Status"] == "queued"
        )
        # the job in the append-only file: written there (a SIGKILL keeps what was written; the
        # fsync every second is for a machine that loses power), not a fixed 1.1 s of waiting
        (job_id,) = state.broker().queues["cpu"].get_job_ids()
        aof = embedded.dir / "appendonly.aof"
        wait_until(lambda: aof.exists() and job_id.encode() in aof.read_bytes(), 10, "the AOF")
        embedded.proc.kill()
        embedded.proc.wait()
        assert cycle(state, cs) is not None and not cs.snapshot()["last_error"]  # restarted first
        assert state.broker().depth()["cpu"] == 1  # the job survived in the append-only file

        # SIGTERM arrives while a cycle is writing: shutdown waits for that write to finish.
        catalog_obj, writing = cs.session.catalog, threading.Event()
        real_write = catalog_obj.write_back

        def slow_write(updates, **kw):
            writing.set()
            time.sleep(1)
            return real_write(updates, **kw)

        catalog_obj.write_back = slow_write
        add_row(catalog, ["BAG-2", "photos/bag.jpg"])
        loops = start_loops(state)  # its first cycle plans BAG-2 and writes it, slowly
        assert writing.wait(30)
        shutdown(state, loops, embedded)
        assert not any(loop.is_alive() for loop in loops)
        assert sheet_rows(catalog)["BAG-2"]["Status"] == "queued"
    finally:
        shutdown(state, [], embedded)
