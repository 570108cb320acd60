"""The sync loop of `serve` survives any cell and any bug (issue 14).

A Marketplaces cell `amazonia` once raised out of the cycle's bookkeeping and killed the sync
thread: no row was processed and /healthz stayed 200. Now a bad cell costs its own row (status
error + Message) and an unexpected exception is caught by the loop's supervisor: logged with its
traceback, counted in /metrics, shown on /api/status, /healthz 503 for that catalog, and the loop
starts again.
"""

from __future__ import annotations

import logging
import threading

import pytest
from conftest import write_catalog
from local_net import wait_until
from prometheus_client.parser import text_string_to_metric_families
from test_server import sheet_rows

from vitrina_sync.web import create_app, sync
from vitrina_sync.web.auth import add_user
from vitrina_sync.web.commands import build_state, shutdown, start_workers
from vitrina_sync.web.sync import start_loops


@pytest.fixture
def serve(workspace, settings):
    """serve's own pieces: one embedded Redis, one local worker, the app; loops started by the test."""

    def start(rows: list[list]):
        catalog = write_catalog(workspace / "catalog.xlsx", rows)
        settings.update(poll_interval=0.3)
        state, embedded = build_state([str(catalog)], settings, None, None, None)
        started.append((state, embedded))
        state.workers = start_workers(state, 1)
        app = create_app(state, {"TESTING": True, "USERS_FILE": str(workspace / "users.json")})
        add_user(workspace / "users.json", "ann", "password1")
        return state, app, catalog

    started: list = []
    loops: list = []
    try:
        yield start, loops
    finally:
        for state, embedded in started:
            shutdown(state, loops, embedded)


def restarts_metric(client, spec) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "vitrina_sync_loop_restarts_total" and s.labels == {"catalog": spec}:
                return s.value
    raise AssertionError("no vitrina_sync_loop_restarts_total sample for the catalog")


def test_unknown_marketplace_costs_its_row_not_the_loop(serve):
    start, loops = serve
    state, app, catalog = start(
        [
            ["MUG-1", "photos/mug.jpg", "white", "", "kaspi, ozon"],
            ["BAD-1", "photos/bag.jpg", "white", "", "amazonia"],
            ["BAG-2", "photos/bag.jpg", "", "", "wb"],
        ]
    )
    cs = next(iter(state.catalogs.values()))
    loops += start_loops(state)
    done = {"MUG-1": "needs_review", "BAG-2": "needs_review", "BAD-1": "error"}
    wait_until(
        lambda: {k: r.get("Status") for k, r in sheet_rows(catalog).items()} == done,
        90,
        "the good rows processed and the bad one marked",
    )
    bad = sheet_rows(catalog)["BAD-1"]
    assert "unknown marketplace 'amazonia'" in bad["Message"]
    assert all(loop.is_alive() for loop in loops)
    cycles = cs.snapshot()["cycles"]
    wait_until(lambda: cs.snapshot()["cycles"] > cycles, 10, "another cycle")  # still looping
    snap = cs.snapshot()
    assert snap["loop_restarts"] == 0 and not snap["loop_error"] and not snap["last_error"]
    assert snap["marketplaces"] == {"kaspi": 1, "ozon": 1, "wildberries": 1}
    client = app.test_client()
    assert client.get("/healthz").status_code == 200


def test_a_bug_in_a_cycle_is_logged_counted_shown_and_the_loop_restarts(serve, monkeypatch, caplog):
    start, loops = serve
    state, app, catalog = start([["MUG-1", "photos/mug.jpg"]])
    cs = next(iter(state.catalogs.values()))
    spec = cs.session.spec
    client = app.test_client()
    real_cycle = sync.sync_cycle
    calls, go = [], threading.Event()

    def broken_once(session):
        """A bug on the first cycle; the next one waits until the test has looked."""
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("a bug in the cycle")
        go.wait(30)
        return real_cycle(session)

    monkeypatch.setattr(sync, "sync_cycle", broken_once)
    caplog.set_level(logging.ERROR, logger="vitrina_sync.serve")
    loops += start_loops(state)
    wait_until(lambda: cs.snapshot()["loop_restarts"] == 1, 10, "the supervisor to catch it")

    health = client.get("/healthz")
    assert health.status_code == 503
    each = health.json["checks"]["catalogs"]["each"][spec]
    assert not each["ok"] and "KeyError" in each["loop_error"] and each["loop_restarts"] == 1
    assert restarts_metric(client, spec) == 1
    with client.session_transaction() as sess:
        sess["user"] = "ann"
    status = client.get("/api/status").json["catalogs"][spec]
    assert "a bug in the cycle" in status["loop_error"] and status["loop_restarts"] == 1
    assert "sync loop crashed" in client.get("/").get_data(as_text=True)  # the dashboard
    crash = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert crash and crash[0].exc_info and crash[0].exc_info[0] is KeyError  # with traceback

    go.set()  # the restarted loop's cycles now succeed
    wait_until(
        lambda: sheet_rows(catalog)["MUG-1"].get("Status") == "needs_review", 90, "MUG-1 done"
    )
    wait_until(lambda: client.get("/healthz").status_code == 200, 10, "/healthz back to 200")
    assert all(loop.is_alive() for loop in loops)
    assert cs.snapshot()["loop_restarts"] == 1 and restarts_metric(client, spec) == 1


def test_restart_back_off_doubles_while_crashing_and_resets_after_a_good_cycle(
    serve, monkeypatch, caplog
):
    start, loops = serve
    state, _app, _catalog = start([["MUG-1", "photos/mug.jpg"]])
    cs = next(iter(state.catalogs.values()))
    monkeypatch.setattr(sync, "RESTART_BACKOFF", (0.01, 0.04))
    real_cycle = sync.sync_cycle
    script = iter(["bug", "bug", "bug", "bug", "ok", "bug"])

    def scripted(session):
        if next(script, "ok") == "bug":
            raise RuntimeError("scripted bug")
        return real_cycle(session)

    monkeypatch.setattr(sync, "sync_cycle", scripted)
    caplog.set_level(logging.ERROR, logger="vitrina_sync.serve")
    loops += start_loops(state)
    wait_until(lambda: cs.snapshot()["loop_restarts"] == 5, 20, "five crashes")
    delays = [
        r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records if "crashed" in r.getMessage()
    ]
    assert delays == ["0.01 s", "0.02 s", "0.04 s", "0.04 s", "0.01 s"]
    wait_until(lambda: not cs.snapshot()["loop_error"], 10, "a good cycle after the last crash")
