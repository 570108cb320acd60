"""Local workers forked from a warmed template process (template.py): real Redis, real RQ
workers, real forks; each worker gets its own environment and folder, dead ones are reported
with their exit code and replaced, and stop() leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest
from rq import Queue

from vitrina_sync import template
from vitrina_sync.local_workers import LocalWorkers
from vitrina_sync.queue import connect
from vitrina_sync.worker import EXIT_RECYCLE

pytestmark = pytest.mark.skipif(not template.enabled(), reason="workers fork only on Linux")


def run_job(conn, func: str, *args, timeout: float = 60):
    job = Queue("cpu", connection=conn).enqueue(func, *args)
    deadline = time.monotonic() + timeout
    while job.get_status(refresh=True) not in ("finished", "failed"):
        assert time.monotonic() < deadline, "the job did not run"
        time.sleep(0.05)
    assert job.get_status() == "finished", job.latest_result()
    return job.return_value()


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_workers_fork_from_the_template_with_their_own_environment_and_folder(
    redis_url, tmp_path, monkeypatch
):
    conn = connect(redis_url)
    monkeypatch.setenv("VITRINA_PROBE", "this run")
    # a template started for another worker count: only the thread setting differs, so it serves
    template.prestart({**template.worker_env(1), "OMP_NUM_THREADS": "7"})
    prestarted = template._prestarted
    monkeypatch.chdir(tmp_path)  # the workers' folder is the one at their start
    workers = LocalWorkers(redis_url, 2, ["cpu"])
    try:
        workers.start()
        assert workers.template is prestarted and template._prestarted is None
        procs = list(workers.procs.values())
        assert all(isinstance(p, template.Forked) for p in procs)
        assert {psutil.Process(p.pid).ppid() for p in procs} == {workers.template.proc.pid}
        assert run_job(conn, "testplugins.probe.parent") == workers.template.proc.pid
        assert run_job(conn, "testplugins.probe.environment", "VITRINA_PROBE") == "this run"
        want = str(os.cpu_count() // 2 or 1)
        assert run_job(conn, "testplugins.probe.environment", "OMP_NUM_THREADS") == want
        assert run_job(conn, "testplugins.probe.folder") == str(tmp_path)
    finally:
        workers.stop()


def test_a_killed_worker_is_reported_with_its_signal_and_replaced_by_a_new_fork(redis_url):
    conn = connect(redis_url)
    workers = LocalWorkers(redis_url, 1, ["cpu"]).start()
    try:
        ((name, first),) = workers.procs.items()
        os.kill(first.pid, signal.SIGKILL)
        deadline, notes = time.monotonic() + 30, []
        while not notes and time.monotonic() < deadline:
            notes = workers.check(conn)
            time.sleep(0.02)
        assert notes == [f"worker {name} exited (-9); requeued 0 job(s)"]
        (second,) = workers.procs.values()
        assert second.pid != first.pid and isinstance(second, template.Forked)
        assert psutil.Process(second.pid).ppid() == workers.template.proc.pid
        assert run_job(conn, "testplugins.probe.parent") == workers.template.proc.pid
    finally:
        workers.stop()


def test_a_recycling_worker_is_replaced_by_a_fork_without_a_requeue(redis_url, monkeypatch):
    """recycle_after_jobs: a worker leaves after its quota with EXIT_RECYCLE; that is no crash
    (no note, nothing requeued), and its replacement, forked from the template, takes the next
    jobs."""
    conn = connect(redis_url)
    monkeypatch.setenv("VITRINA_RECYCLE_AFTER_JOBS", "1")
    workers = LocalWorkers(redis_url, 1, ["cpu"]).start()
    try:
        (first,) = workers.procs.values()
        pids = {run_job(conn, "os.getpid")}
        deadline = time.monotonic() + 30
        while first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() == EXIT_RECYCLE
        assert workers.check(conn) == [] and workers.restarts == 1
        (second,) = workers.procs.values()
        assert isinstance(second, template.Forked) and second.pid != first.pid
        pids.add(run_job(conn, "os.getpid"))
        assert pids == {first.pid, second.pid}
    finally:
        workers.stop()


def test_a_worker_over_its_memory_limit_recycles_rather_than_crashes(redis_url, monkeypatch):
    """recycle_rss_mb: a worker whose resident memory passes the limit after a job leaves with
    EXIT_RECYCLE (the parent replaces it and requeues nothing), not with a crash's code."""
    conn = connect(redis_url)
    monkeypatch.setenv("VITRINA_RECYCLE_RSS_MB", "1")  # any worker is over 1 MiB
    workers = LocalWorkers(redis_url, 1, ["cpu"]).start()
    try:
        (first,) = workers.procs.values()
        run_job(conn, "os.getpid")
        deadline = time.monotonic() + 30
        while first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() == EXIT_RECYCLE
        assert workers.check(conn) == [] and len(workers.procs) == 1
    finally:
        workers.stop()


def test_a_dead_template_is_replaced_and_its_orphaned_workers_still_managed(redis_url):
    """The template killed under running workers: they keep serving; one of them killed later is
    still seen to end (its pidfd, no exit report to read), and its replacement forks from a new
    template; stop() ends the rest."""
    conn = connect(redis_url)
    workers = LocalWorkers(redis_url, 2, ["cpu"]).start()
    try:
        old = workers.template
        old.proc.kill()
        old.proc.wait()
        assert run_job(conn, "os.getpid") in {p.pid for p in workers.procs.values()}
        victim = next(iter(workers.procs.values()))
        os.kill(victim.pid, signal.SIGKILL)
        deadline, notes = time.monotonic() + 30, []
        while not notes and time.monotonic() < deadline:
            notes = workers.check(conn)
            time.sleep(0.02)
        assert len(notes) == 1 and "exited (-9)" in notes[0]
        assert workers.template is not old and workers.template.alive()
        new_pids = {p.pid for p in workers.procs.values()} - {victim.pid}
        assert len(new_pids) == 2 and victim.pid not in {p.pid for p in workers.procs.values()}
        newest = [p for p in workers.procs.values() if p.template is workers.template]
        assert (
            len(newest) == 1 and psutil.Process(newest[0].pid).ppid() == workers.template.proc.pid
        )
    finally:
        pids = [p.pid for p in workers.procs.values()]
        workers.stop()
    assert all(gone(pid) for pid in pids)


def test_stop_ends_the_workers_and_the_template(redis_url):
    workers = LocalWorkers(redis_url, 2, ["cpu"]).start()
    pids = [p.pid for p in workers.procs.values()]
    keeper = workers.template.proc
    start = time.monotonic()
    workers.stop()
    assert time.monotonic() - start < 15
    assert all(gone(pid) for pid in pids)
    assert keeper.poll() is not None and workers.template is None and not workers.procs


def test_without_a_template_workers_are_new_interpreters(redis_url, monkeypatch):
    conn = connect(redis_url)
    monkeypatch.setenv("VITRINA_WORKER_TEMPLATE", "0")
    workers = LocalWorkers(redis_url, 1, ["cpu"]).start()
    try:
        (proc,) = workers.procs.values()
        assert isinstance(proc, subprocess.Popen) and workers.template is None
        assert run_job(conn, "testplugins.probe.parent") == os.getpid()
    finally:
        workers.stop()


def test_a_template_that_cannot_fork_falls_back_to_new_interpreters(redis_url, monkeypatch):
    conn = connect(redis_url)

    def refuse(self, *args, **kwargs):
        raise RuntimeError("worker template did not answer")

    monkeypatch.setattr(template.Template, "spawn", refuse)
    workers = LocalWorkers(redis_url, 2, ["cpu"]).start()
    try:
        assert all(isinstance(p, subprocess.Popen) for p in workers.procs.values())
        assert workers.template is None  # the failed one was closed
        assert run_job(conn, "testplugins.probe.parent") == os.getpid()
    finally:
        workers.stop()


def test_a_run_with_nothing_to_process_ends_its_unused_template_at_once(workspace, settings):
    """`run` starts the template before it knows whether any row needs a worker; when none does,
    the template is killed, not waited for (it may still be importing)."""
    from conftest import write_catalog

    from vitrina_sync.runner import run

    catalog = write_catalog(workspace / "catalog.xlsx", [["MUG-1", "photos/mug.jpg", "white"]])
    assert run(str(catalog), settings, progress=False).processed == 1
    template.prestart(template.worker_env(2))
    unused = template._prestarted.proc
    summary = run(str(catalog), settings, progress=False)  # nothing changed: no worker
    assert summary.queued == 0 and template._prestarted is None
    assert unused.returncode == -signal.SIGKILL
