"""Faults driven against real Redis and real worker processes: killed workers, a Redis restart,
the catalog edited on disk while jobs run."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import redis
from conftest import write_catalog
from openpyxl import load_workbook
from rq import Queue, SimpleWorker, Worker
from rq.executions import prepare_execution

from vitrina_sync.errors import QueueError
from vitrina_sync.local_workers import requeue_jobs_of
from vitrina_sync.queue import connect
from vitrina_sync.runner import Summary, requeue_lost_jobs, run, work_dir


def slow_rows(n: int) -> list[list]:
    photos = ["mug", "bag", "ring", "bottle", "coffee", "chelsea"]
    return [
        [f"K{i}", f"photos/{photos[i % len(photos)]}.jpg", "slow", "", "", ""] for i in range(n)
    ]


def sheet_status(path: Path) -> dict[str, tuple]:
    ws = load_workbook(path).active
    h = [c.value for c in ws[1]]
    return {
        r[0]: (
            r[h.index("Status")],
            r[h.index("Fingerprint")],
            r[h.index("Result")],
            r[h.index("Message")],
        )
        for r in ws.iter_rows(min_row=2, values_only=True)
    }


class RunInThread(threading.Thread):
    def __init__(self, catalog, settings, **kw):
        super().__init__(daemon=True)
        self.args, self.kw, self.summary, self.error = (str(catalog), settings), kw, None, None

    def run(self):
        try:
            self.summary = run(*self.args, progress=False, **self.kw)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            self.error = exc


def embedded_conn(workspace: Path, timeout: float = 30) -> redis.Redis:
    sock = work_dir((workspace / "vitrina-out").resolve()) / "redis.sock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.exists():
            try:
                conn = redis.Redis(unix_socket_path=str(sock))
                conn.ping()
                return conn
            except redis.RedisError:
                pass
        time.sleep(0.05)
    raise AssertionError("embedded Redis never came up")


def wait_for(predicate, timeout: float = 60, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not reached in time")


def busy_worker_pid(conn) -> int | None:
    for w in Worker.all(connection=conn):
        if w.get_current_job_id():
            return w.pid
    return None


def outputs(workspace: Path) -> dict[str, list[str]]:
    root = workspace / "vitrina-out"
    return {
        d.name: sorted(p.name for p in d.iterdir() if not p.name.startswith("."))
        for d in root.iterdir()
        if d.is_dir() and not d.name.startswith(".")
    }


@pytest.fixture
def slow(monkeypatch):
    monkeypatch.setenv("VITRINA_TEST_SLOW", "1.5")


def test_worker_killed_mid_job_the_row_is_finished_by_another_worker(workspace, settings, slow):
    catalog = write_catalog(workspace / "catalog.xlsx", slow_rows(4))
    runner = RunInThread(catalog, settings, workers=2)
    runner.start()
    conn = embedded_conn(workspace)
    pid = wait_for(lambda: busy_worker_pid(conn))
    os.kill(pid, signal.SIGKILL)
    runner.join(180)
    assert not runner.is_alive(), "the run still waits on a row after 180 s"
    assert runner.error is None, runner.error
    status = sheet_status(catalog)
    assert {s for s, *_ in status.values()} == {"needs_review"}, status
    assert all(len(v) == 1 for v in outputs(workspace).values())  # exactly one output per row
    assert any("requeued 1 job" in n for n in runner.summary.notes), runner.summary.notes


@pytest.mark.parametrize("marked_started", [False, True])
def test_a_job_taken_by_a_worker_that_died_goes_back_to_its_queue(redis_url, marked_started):
    """RQ takes a job in two pipelines: the execution (and the worker's execution index) first,
    then the job's own worker name and status. A worker killed between them left a job that named
    no worker: it stayed out of every queue and `run` waited on it for ever (a CI failure). Both
    windows are driven here with a real worker's bookkeeping, stopped where the kill would land."""
    conn = connect(redis_url)
    queue = Queue("cpu", connection=conn)
    other = queue.enqueue("testplugins.probe.parent")
    job = queue.enqueue("testplugins.probe.parent")
    dead = SimpleWorker([queue], name="vitrina-dead", connection=conn)
    dead.register_birth()
    taken, _ = Queue.dequeue_any([queue], None, connection=conn)
    assert taken.id == other.id
    execution = prepare_execution(dead, taken)
    if marked_started:
        dead.prepare_job_execution(taken, remove_from_intermediate_queue=True)
    assert (taken.get_status(refresh=True) == "started") is marked_started
    assert (taken.worker_name == "vitrina-dead") is marked_started
    assert requeue_jobs_of(conn, "vitrina-alive", ["cpu"]) == 0  # not that worker's job
    assert requeue_jobs_of(conn, "vitrina-dead", ["cpu"]) == 1
    assert queue.get_job_ids() == [other.id, job.id]  # back, and first in line
    assert queue.started_job_registry.get_job_ids() == []
    assert other.get_status(refresh=True) == "queued"
    assert not conn.exists(execution.worker_executions_key)
    assert requeue_jobs_of(conn, "vitrina-dead", ["cpu"]) == 0  # and only once


def test_a_job_popped_by_a_worker_on_two_queues_that_died_is_queued_again(redis_url):
    """A worker on two queues pops a job with BLPOP: until it marks the job started, nothing
    holds it (no intermediate queue, no registry), and a worker killed then leaves a job that
    reads `queued` for ever. `run`'s reconcile puts it back at its second sighting (a live
    worker marks a taken job started within milliseconds); jobs still held stay as they are."""
    from collections import Counter

    conn = connect(redis_url)
    cpu, gpu = Queue("cpu", connection=conn), Queue("gpu", connection=conn)
    lost, waiting_job = (
        cpu.enqueue("testplugins.probe.parent"),
        cpu.enqueue("testplugins.probe.parent"),
    )
    taken, _ = Queue.dequeue_any([gpu, cpu], None, connection=conn)  # what such a worker does
    assert taken.id == lost.id and lost.get_status(refresh=True) == "queued"
    assert cpu.get_job_ids() == [waiting_job.id]
    waiting = {lost.id: "SKU-LOST", waiting_job.id: "SKU-WAITING"}
    attempts, summary = Counter(), Summary()
    requeue_lost_jobs(conn, waiting, attempts, summary)  # first sighting: it may be starting
    assert cpu.get_job_ids() == [waiting_job.id] and summary.notes == []
    requeue_lost_jobs(conn, waiting, attempts, summary)
    assert cpu.get_job_ids() == [lost.id, waiting_job.id]  # back, and first in line
    assert summary.notes == ["SKU-LOST: job taken by a worker that died; queued again"]
    requeue_lost_jobs(conn, waiting, attempts, summary)  # held again: nothing more
    requeue_lost_jobs(conn, waiting, attempts, summary)
    assert cpu.get_job_ids() == [lost.id, waiting_job.id] and len(summary.notes) == 1
    # taken again and marked started by a live worker between the two sightings: left alone
    worker = SimpleWorker([cpu], name="vitrina-live", connection=conn)
    worker.register_birth()
    again, _ = Queue.dequeue_any([gpu, cpu], None, connection=conn)
    requeue_lost_jobs(conn, waiting, attempts, summary)
    prepare_execution(worker, again)
    requeue_lost_jobs(conn, waiting, attempts, summary)
    assert cpu.get_job_ids() == [waiting_job.id] and len(summary.notes) == 1


def test_embedded_redis_restarted_mid_run_completes_and_rerun_redoes_nothing(
    workspace, settings, slow
):
    catalog = write_catalog(workspace / "catalog.xlsx", slow_rows(4))
    runner = RunInThread(catalog, settings, workers=2)
    runner.start()
    conn = embedded_conn(workspace)
    wait_for(
        lambda: conn.hlen(next(iter(conn.scan_iter("vitrina:results:*")), b"none")) >= 1,
        timeout=120,
    )
    pid = int(conn.info("server")["process_id"])
    os.kill(pid, signal.SIGKILL)  # Redis dies without a chance to save; its AOF has the queue
    runner.join(240)
    if runner.error is not None:  # allowed: a clear message, and the re-run finishes the rest
        assert isinstance(runner.error, QueueError) and "Redis" in str(runner.error)
    else:
        assert any("restarted" in n for n in runner.summary.notes), runner.summary.notes
    made = {p: p.stat().st_mtime_ns for p in (workspace / "vitrina-out").glob("K*/*/main.jpg")}
    rerun = run(str(catalog), settings, progress=False)
    status = sheet_status(catalog)
    assert {s for s, *_ in status.values()} == {"needs_review"}, status
    for path, mtime in made.items():
        assert path.stat().st_mtime_ns == mtime  # finished rows were not redone
    assert all(len(v) == 1 for v in outputs(workspace).values())
    assert rerun.statuses == {"needs_review": 4}


def test_a_dead_embedded_redis_is_noticed_at_once(workspace, settings):
    """`run` restarts its embedded Redis when a command fails. With redis-py's default reconnect
    back-off that took ~7 s (~4 s in the results subscription, ~3 s in the next command), long
    enough for the workers' jobs in flight to fail on it; a refused connection now says so at
    once, and the restarted server answers the same client."""
    from vitrina_sync.runner import SyncSession, results_listener

    catalog = write_catalog(workspace / "catalog.xlsx", slow_rows(1))
    session = SyncSession(str(catalog), settings)
    broker = session.connect()
    try:
        listener = results_listener(session)
        assert listener is not None and broker.conn.ping()
        session.embedded.proc.kill()
        session.embedded.proc.wait()
        start = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            while time.monotonic() - start < 10:  # the subscription's confirmation comes first
                listener.get_message(timeout=0.2)
        with pytest.raises(redis.ConnectionError):
            broker.conn.hlen("vitrina:results:x")
        assert time.monotonic() - start < 1  # was ~7 s
        assert "restarted" in session.recover_redis()
        assert broker.conn.ping()
    finally:
        session.close()


def test_catalog_edited_on_disk_during_run_results_land_on_their_own_sku(workspace, settings, slow):
    catalog = write_catalog(workspace / "catalog.xlsx", slow_rows(4))
    runner = RunInThread(catalog, settings, workers=2)
    runner.start()
    conn = embedded_conn(workspace)
    wait_for(lambda: busy_worker_pid(conn))
    wb = load_workbook(catalog)  # a person inserts a row at the top and sorts the rest descending
    ws = wb.active
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    ws.delete_rows(2, ws.max_row)
    ws.append(["NEW-TOP", "photos/mug.jpg", "white", "", "", ""] + [None] * (len(rows[0]) - 6))
    for values in sorted(rows, key=lambda r: r[0], reverse=True):
        ws.append(values)
    wb.save(catalog)
    runner.join(180)
    assert runner.error is None, runner.error
    status = sheet_status(catalog)
    for sku in ("K0", "K1", "K2", "K3"):
        state, fp, result, _ = status[sku]
        assert state == "needs_review" and result.startswith(f"vitrina-out/{sku}/{fp[:12]}/")
    assert status["NEW-TOP"][0] in (None, "")  # not planned in this run: the next sync picks it up
    rerun = run(str(catalog), settings, progress=False)
    assert rerun.queued == 1 and sheet_status(catalog)["NEW-TOP"][0] == "needs_review"
