"""Worker processes started by `run` and `serve` on this machine, and what to do when one dies."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.executions import WORKER_EXECUTIONS_KEY_TEMPLATE
from rq.job import Job
from rq.registry import StartedJobRegistry

from . import template as templates
from .queue import wait_exit
from .worker import EXIT_RECYCLE

log = logging.getLogger(__name__)


class LocalWorkers:
    def __init__(self, url: str, count: int, queues: list[str], env: dict | None = None):
        self.url = url
        self.count = max(1, count)
        self.queues = queues
        self.env = templates.worker_env(self.count, env)
        self.procs: dict[str, subprocess.Popen | templates.Forked] = {}
        self.restarts = 0
        # workers fork from a warmed template process (template.py) where there is fork
        self.template: templates.Template | None = None
        self.use_template = templates.enabled()

    def _spawn(self, index: int) -> None:
        name = f"vitrina-{os.getpid()}-{index}-{self.restarts}"
        args = ["--url", self.url, "--queues", ",".join(self.queues), "--name", name]
        quiet = not os.environ.get("VITRINA_DEBUG")
        if self.use_template:
            try:
                if self.template is None or not self.template.alive():
                    self.template = templates.take(self.env, quiet)
                pid = self.template.spawn(name, args, self.env, os.getcwd())
                self.procs[name] = templates.Forked(self.template, pid)
                return
            except (RuntimeError, OSError) as exc:
                log.warning("worker template failed (%s): starting workers as new processes", exc)
                self.use_template = False
                if self.template is not None:
                    self.template.close()
                    self.template = None
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "vitrina_sync.worker", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if quiet else None,
        )

    def start(self) -> LocalWorkers:
        for i in range(self.count):
            self._spawn(i)
        return self

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values() if p.poll() is None]

    def check(self, conn) -> list[str]:
        """Replace dead workers; a job a dead worker held goes back to its queue (retries permitting)."""
        notes = []
        for name, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None:
                continue
            del self.procs[name]
            if code != EXIT_RECYCLE:
                requeued = requeue_jobs_of(conn, name, self.queues)
                notes.append(f"worker {name} exited ({code}); requeued {requeued} job(s)")
            self.restarts += 1
            self._spawn(len(self.procs))
        return notes

    def stop(self, timeout: float = 20) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # warm shutdown: the current job finishes
        deadline = time.monotonic() + timeout
        for name, proc in self.procs.items():
            if not wait_exit(proc, max(0.1, deadline - time.monotonic())):
                # a stop that hangs is a bug to see (its teardown logs where it waits after
                # worker.SLOW_STOP_S when VITRINA_DEBUG shows worker output), not a silent kill
                log.warning(
                    "worker %s (pid %s) did not stop within %g s of SIGTERM: killed",
                    name,
                    proc.pid,
                    timeout,
                )
                proc.kill()
                proc.wait()
        self.procs.clear()
        if self.template is not None:
            self.template.close()
            self.template = None


def requeue_jobs_of(conn, worker_name: str, queues: list[str]) -> int:
    """Jobs the dead worker had started: retried now instead of after the registry TTL expires.

    A job is the worker's when its execution was (RQ's per-worker execution index) or when the job
    names the worker. The index is written first: a worker killed between taking a job and marking
    it started (two pipelines in RQ) leaves a job that names no worker, and that job must still go
    back, or the run waits on it for ever."""
    owned = {m.decode() for m in conn.smembers(WORKER_EXECUTIONS_KEY_TEMPLATE.format(worker_name))}
    count = 0
    for queue_name in queues:
        registry = StartedJobRegistry(queue_name, connection=conn)
        # Entries are "<job id>:<execution id>"; the whole entry must go, then the job is queued again.
        for entry in conn.zrange(registry.key, 0, -1):
            entry_text = entry.decode()
            job_id = registry.parse_job_id(entry_text)
            try:
                job = Job.fetch(job_id, connection=conn)
            except NoSuchJobError:
                conn.zrem(registry.key, entry)
                continue
            mine = entry_text in owned or job.worker_name == worker_name
            if mine and conn.zrem(registry.key, entry):
                Queue(job.origin, connection=conn).enqueue_job(job, at_front=True)
                count += 1
    conn.delete(WORKER_EXECUTIONS_KEY_TEMPLATE.format(worker_name))
    return count


def held(conn, queues) -> set[str]:
    """Ids of the jobs some queue, intermediate queue or started registry of `queues` holds: a
    job with status `queued` outside all of them was taken by a worker that died before it
    marked it started (a worker on two queues pops with BLPOP: nothing keeps it meanwhile)."""
    ids: set[str] = set()
    for name in queues:
        queue = Queue(name, connection=conn)
        ids.update(queue.get_job_ids())
        ids.update(queue.intermediate_queue.get_job_ids())
        ids.update(StartedJobRegistry(name, connection=conn).get_job_ids())
    return ids


def requeue_lost(conn, job_ids: list[str]) -> list[str]:
    """Put jobs that are `queued` but held nowhere (see held) back at the front of their queue;
    the ids put back. A job that moved on meanwhile (started, finished, gone) is left alone."""
    back = []
    for job_id in job_ids:
        try:
            job = Job.fetch(job_id, connection=conn)
        except NoSuchJobError:
            continue
        if job.get_status(refresh=False) == "queued":
            Queue(job.origin, connection=conn).enqueue_job(job, at_front=True)
            back.append(job_id)
    return back
