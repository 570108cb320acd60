"""A worker stops at once when asked: no scheduler process, no 1 s wait for its listener thread."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from rq import Queue, Worker

from vitrina_sync.queue import EmbeddedRedis, connect
from vitrina_sync.worker import VitrinaWorker


@pytest.fixture
def redis_url(tmp_path):
    server = EmbeddedRedis(tmp_path / "r").start()
    try:
        yield server.url
    finally:
        server.stop()


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
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not Worker.all(connection=conn) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [w.name for w in Worker.all(connection=conn)] == ["w-stop"]
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert time.monotonic() - start < 5  # was ~1-2 s: scheduler, listener thread, teardown
        assert Worker.all(connection=conn) == []  # deregistered before it left
    finally:
        if proc.poll() is None:
            proc.kill()
