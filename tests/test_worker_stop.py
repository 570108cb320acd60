"""A worker stops at once when asked: no scheduler process, no 1 s wait for its listener thread."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from rq import Queue, Worker

from vitrina_sync.queue import connect
from vitrina_sync.worker import VitrinaWorker


def test_unsubscribe_ends_the_listener_thread_without_waiting(redis_url):
    conn = connect(redis_url)
    for _ in range(5):  # RQ's own order lost the race about every other time (1 s each)
        worker = VitrinaWorker([Queue("cpu", connection=conn)], connection=conn)
        worker.subscribe()
        time.sleep(0.05)  # the thread is reading
        start = time.monotonic()
        worker.unsubscribe()
        assert time.monotonic() - start < 0.5
        assert not worker.pubsub_thread.is_alive()


def test_worker_process_stops_cleanly_on_sigterm(redis_url, tmp_path):
    conn = connect(redis_url)
    cmd = [sys.executable, "-m", "vitrina_sync.worker", "--url", redis_url, "--name", "w-stop"]
    log = open(tmp_path / "err.log", "w")  # noqa: SIM115 - the worker's stderr, read on failure
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not Worker.all(connection=conn) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [w.name for w in Worker.all(connection=conn)] == ["w-stop"]
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
        assert code == 0, (tmp_path / "err.log").read_text()[-3000:]
        assert time.monotonic() - start < 5  # was ~1-2 s: scheduler, listener thread, teardown
        assert Worker.all(connection=conn) == []  # deregistered before it left
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


STOP_AT = """
import signal, sys
from vitrina_sync import worker

where, url = sys.argv[1], sys.argv[2]
cls = worker.VitrinaWorker


def signalled(name, before):
    original = getattr(cls, name)

    def patched(self, *args, **kwargs):
        if before:
            signal.raise_signal(signal.SIGTERM)  # its handler runs at the next bytecode
        result = original(self, *args, **kwargs)
        if not before:
            signal.raise_signal(signal.SIGTERM)
        return result

    setattr(cls, name, patched)


if where == "after-birth":  # registered, RQ's handlers not installed yet
    signalled("register_birth", before=False)
elif where == "relay-start":  # RQ's handlers installed, its loop's try not entered yet
    signalled("_start_signal_relay", before=True)
elif where == "burst-teardown":  # the loop is done; the teardown has not deregistered yet
    signalled("register_death", before=True)
args = ["--url", url, "--name", "w-" + where] + (["--burst"] if "burst" in where else [])
worker.exit_now(worker.main(args))
"""


@pytest.mark.parametrize("where", ["after-birth", "relay-start", "burst-teardown"])
def test_a_stop_signal_outside_the_work_loop_is_a_clean_stop(redis_url, tmp_path, where):
    """A SIGTERM anywhere in the worker's life once it is registered stops it warm: exit 0,
    deregistered. RQ 3's work() installs its handlers only after registering the worker
    (after-birth: the process was killed, -15, and stayed registered), and its handler raises
    StopRequested whenever the worker is not busy, which escapes outside the loop's `try`
    (relay-start, burst-teardown: exit 1, a StopRequested traceback, the worker left registered;
    the CI run's exit 1 of test_worker_process_stops_cleanly_on_sigterm)."""
    conn = connect(redis_url)
    done = subprocess.run(
        [sys.executable, "-c", STOP_AT, where, redis_url],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "StopRequested" not in done.stderr
    assert Worker.all(connection=conn) == []  # deregistered before it left


JOB_MEMORY = """
import resource, sys
import numpy as np
from vitrina_sync.worker import keep_freed_memory
if sys.argv[1] == "1":
    assert keep_freed_memory()
def job(k):  # the sizes of a white-mode job: canvas, region, float maps
    canvas = np.full((2000, 2000, 3), 255, np.uint8)
    region = np.ones((1700 + k, 1500, 3), np.uint8)
    maps = [np.ones((1700 + k, 1500), np.float32) for _ in range(3)]
    return int(canvas[1, 1, 1]) + int(region[1, 1, 1]) + sum(int(m[1, 1]) for m in maps)
for k in range(3):
    job(k)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for k in range(20):
    job(k % 7)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning")
def test_worker_keeps_freed_buffers_for_the_next_job():
    """keep_freed_memory: the buffers one job frees serve the next job, so a job no longer
    faults its whole working set in again (glibc unmapped every buffer over its threshold)."""

    def faults(tuned: bool) -> int:
        done = subprocess.run(
            [sys.executable, "-c", JOB_MEMORY, "1" if tuned else "0"],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(done.stdout.strip())

    default, tuned = faults(False), faults(True)
    assert default > 20 * 1000  # 20 jobs of ~57 MB: over 1k page faults each
    assert tuned < default / 20


def test_a_published_result_wakes_the_waiting_run_at_once(redis_url):
    """`run` waits on the catalog's result notes: publish_result wakes it the moment a row is
    done instead of at its next poll; without a note the pause lasts its full time."""
    import threading
    from types import SimpleNamespace

    from vitrina_sync.queue import publish_result
    from vitrina_sync.runner import pause, results_listener

    conn = connect(redis_url)
    session = SimpleNamespace(broker=SimpleNamespace(conn=conn), key="cat-1")
    listener = results_listener(session)
    assert listener is not None
    start = time.monotonic()
    pause(listener, 0.3)  # nothing published: the whole pause
    assert time.monotonic() - start >= 0.25
    timer = threading.Timer(0.1, publish_result, (conn, "cat-1", {"sku": "A", "status": "x"}))
    timer.start()
    start = time.monotonic()
    pause(listener, 10)
    assert time.monotonic() - start < 2
    assert conn.hexists("vitrina:results:cat-1", "A")
    listener.close()
    pause(None, 0.01)  # no subscription: a plain sleep


def test_wait_exit_wakes_when_the_child_exits_and_reports_a_timeout():
    from vitrina_sync.queue import wait_exit

    quick = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    start = time.monotonic()
    assert wait_exit(quick, 20)
    assert time.monotonic() - start < 5 and quick.returncode == 0
    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not wait_exit(slow, 0.2)
    finally:
        slow.kill()
        slow.wait()


def _after_the_blocking_pop(monkeypatch, then) -> list[float]:
    """redis-py's send_command patched: right after the first blocking pop (BLMOVE, BLPOP) is
    sent, its time goes into the list returned, and then() runs."""
    import redis.connection

    sent: list[float] = []
    send_command = redis.connection.AbstractConnection.send_command

    def send_and_note(self, *args, **kwargs):
        send_command(self, *args, **kwargs)
        if args and args[0] in ("BLMOVE", "BLPOP") and not sent:
            sent.append(time.monotonic())
            then()

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_command", send_and_note)
    return sent


def _work(worker) -> None:
    """worker.work() in this thread until it stops; the process's SIGTERM and SIGINT handlers
    (the worker installs its own) are put back after."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.work(logging_level="WARNING", with_scheduler=False)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def test_a_stop_between_the_blocking_pop_and_its_reply_does_not_hang_the_teardown(
    redis_url, monkeypatch
):
    """An idle worker stops by raising StopRequested from its SIGTERM handler. When the handler
    runs after redis-py has sent the blocking pop (BLMOVE; BLPOP on several queues) but before
    it reads the reply, the exception skips the read's disconnect-on-error: the connection goes
    back to the pool with the pop pending, and the teardown's deregistration is sent on it and
    waits behind the pop for the whole dequeue timeout (405 s by default; 10 s here). The
    signal is raised right after the send: the point where a busy box preempts the worker
    while redis-server, just woken by the command, runs."""
    # its handler runs right after the send: sent, not yet read
    sent = _after_the_blocking_pop(monkeypatch, lambda: signal.raise_signal(signal.SIGTERM))
    conn = connect(redis_url)
    # worker_ttl 25: a 10 s dequeue timeout, so the hang this guards against is bounded here
    _work(VitrinaWorker([Queue("cpu", connection=conn)], connection=conn, worker_ttl=25))
    assert sent, "the worker never sent its blocking pop"
    assert time.monotonic() - sent[0] < 3  # was 10 s: the dequeue timeout
    assert Worker.all(connection=conn) == []  # deregistered before it left


def test_a_stop_signal_the_blocked_pop_does_not_see_is_sent_again(redis_url, monkeypatch):
    """A signal ends a blocking wait only when it arrives during the wait. One handled at C
    level just before the wait starts (or taken by another thread, as here) leaves RQ's handler
    pending while the idle worker sleeps in BLMOVE for the whole dequeue timeout (405 s by
    default; 10 s here). The relay thread sends it again to the main thread."""
    import threading

    sent = _after_the_blocking_pop(monkeypatch, lambda: None)

    def another_thread_takes_the_signal():
        while not sent:
            time.sleep(0.01)
        time.sleep(0.3)  # the main thread waits in the pop's poll by now
        sent.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    conn = connect(redis_url)
    worker = VitrinaWorker([Queue("cpu", connection=conn)], connection=conn, worker_ttl=25)
    threading.Thread(target=another_thread_takes_the_signal, daemon=True).start()
    _work(worker)
    assert len(sent) == 2, "the signal was never sent"
    assert time.monotonic() - sent[1] < 3  # was 10 s: the dequeue timeout
    assert Worker.all(connection=conn) == []
    assert signal.set_wakeup_fd(-1) == -1  # the relay's wakeup fd was given back


def test_a_slow_teardown_is_logged_with_where_it_waits(redis_url, monkeypatch, caplog):
    import logging

    from vitrina_sync import worker as worker_module

    monkeypatch.setattr(worker_module, "SLOW_STOP_S", 0.1)
    conn = connect(redis_url)
    worker = VitrinaWorker([Queue("cpu", connection=conn)], connection=conn, name="w-slow")

    def deregistration_waiting_on_redis():
        time.sleep(0.5)

    monkeypatch.setattr(worker, "register_death", deregistration_waiting_on_redis)
    with caplog.at_level(logging.WARNING, logger="vitrina_sync.worker"):
        worker.teardown()
    assert "worker w-slow: still stopping after 0.1 s" in caplog.text
    assert "deregistration_waiting_on_redis" in caplog.text  # the stack it waits in
    caplog.clear()
    monkeypatch.setattr(worker, "register_death", lambda: None)
    with caplog.at_level(logging.WARNING, logger="vitrina_sync.worker"):
        worker.teardown()  # a quick stop says nothing
        time.sleep(0.3)
    assert "still stopping" not in caplog.text


def test_a_worker_that_does_not_stop_is_logged_then_killed(caplog):
    import logging

    from vitrina_sync.local_workers import LocalWorkers

    class Stuck:  # a worker process that ignores SIGTERM
        pid = 4321
        signal = killed = None

        def poll(self):
            return -9 if self.killed else None

        def send_signal(self, sig):
            self.signal = sig

        def wait_exit(self, timeout):
            return False

        def kill(self):
            self.killed = True

        def wait(self):
            return -9

    workers = LocalWorkers("unix:///nowhere.sock", 1, ["cpu"])
    stuck = workers.procs["w-stuck"] = Stuck()
    with caplog.at_level(logging.WARNING, logger="vitrina_sync.local_workers"):
        workers.stop(timeout=0.1)
    assert stuck.signal == signal.SIGTERM and stuck.killed
    assert "worker w-stuck (pid 4321) did not stop within 0.1 s of SIGTERM: killed" in caplog.text
