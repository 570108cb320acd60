"""RQ worker for queues cpu and/or gpu: models load once per process, never per job.

One long-lived process (SimpleWorker: no fork per job, so ONNX and CUDA sessions survive), which
recycles itself after `recycle_after_jobs` jobs or above `recycle_rss_mb` of memory: long-running
image servers leak. `python -m vitrina_sync.worker` and the repo's `worker.py` run it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import NoReturn

import psutil
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.worker import WorkerStatus

from .errors import VitrinaError
from .queue import connect
from .settings import load_settings
from .storage import check_locations

log = logging.getLogger("vitrina_sync.worker")
EXIT_RECYCLE = 3
SLOW_STOP_S = 10  # a teardown still running after this long is logged, with where it waits
RELAY_AFTER_S = 0.5  # a stop signal not handled by an idle worker after this long is sent again


class VitrinaWorker(SimpleWorker):
    rss_limit_mb = 0
    gpu_limit_mb = 0
    jobs_done = 0  # RQ 3 counts finished jobs in Redis only, not on the worker object
    recycling = False  # stopping over a memory limit: a recycle, not a crash

    def unsubscribe(self):
        """RQ's unsubscribe, with the listener thread told to stop before UNSUBSCRIBE goes out.

        RQ sends UNSUBSCRIBE and then stops the thread: when the server's reply woke the thread
        before the flag was cleared, it went back to a 60 s read and the join gave up after its
        1 s timeout, so about every other worker stop took a second longer. Stopped first, the
        thread wakes on the reply, sees the flag and ends at once. redis-py 8.2's stop() also
        joins the thread, with no timeout unless given one: told to wait there, before the
        UNSUBSCRIBE that wakes it, it waited out the thread's 60 s read (a recycling worker
        stopped a minute late), so it is told not to wait (timeout 0; older stop() takes none).
        """
        if self.pubsub_thread:
            try:
                self.pubsub_thread.stop(timeout=0)
            except TypeError:  # redis-py < 8.2: stop() only clears the flag
                self.pubsub_thread.stop()
            self.pubsub.unsubscribe()
            self.pubsub_thread.join(timeout=1)
            self.pubsub.close()

    handlers_installed = False
    in_pop = False  # in dequeue_job_and_maintain_ttl: a stop signal raises StopRequested

    def bootstrap(self, *args, **kwargs):
        """RQ's bootstrap with the stop handlers installed first.

        RQ's work() registers the worker (register_birth, in bootstrap), subscribes to its
        channel and only then installs its SIGTERM/SIGINT handlers: a stop signal in between
        met the default action and killed the process (-15), still registered. Whoever waits
        for the worker to show up in RQ's registry (LocalWorkers, the tests) may stop it at once.
        """
        self._install_signal_handlers()
        super().bootstrap(*args, **kwargs)

    def _install_signal_handlers(self):
        if self.handlers_installed:  # work() calls it again after bootstrap: a stop handled by
            return  # then switched the handlers to a cold stop, which must stay
        self.handlers_installed = True
        super()._install_signal_handlers()
        self._start_signal_relay()

    def _shutdown(self):
        """A warm stop: StopRequested only where RQ's loop catches it, the flag elsewhere.

        RQ raises StopRequested from the signal handler whenever the worker is not busy, to break
        its blocking pop. Raised anywhere else it escapes: in bootstrap, in the bytecodes between
        RQ's handler install and its loop's `try` (where this class starts its signal relay,
        which waits for its thread to start: long on a busy box), or in the teardown after a
        burst run, it left work() uncaught, skipped or cut the teardown (the worker stayed
        registered) and the process exited 1 with a StopRequested traceback. Outside the pop the
        flag is enough: RQ's loop checks it before each pop, and the pop checks it again here.
        """
        if self.in_pop:
            raise StopRequested()
        if self.get_state() == WorkerStatus.BUSY:
            super()._shutdown()  # RQ's: finish the job, then stop
        else:
            self._stop_requested = True

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        self.in_pop = True
        try:
            if self._stop_requested:  # a stop handled after the loop's check, before in_pop
                raise StopRequested()
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        finally:
            self.in_pop = False  # a job taken runs to its end on a stop from here on

    def _start_signal_relay(self) -> None:
        """Make sure a SIGTERM/SIGINT reaches an idle worker that is blocked in its blocking pop.

        Python runs a signal's handler in the main thread, between bytecodes; a blocking call
        returns early (EINTR) only for a signal that arrives while the call waits. One that
        arrives just before the wait starts (or is taken by another thread) leaves the handler
        pending while the main thread sleeps in BLMOVE's poll for the whole dequeue timeout:
        405 s of a worker that does not stop. Python writes each signal's number to the wakeup
        fd; this thread reads it and, if the worker is idle and the handler has still not run
        after RELAY_AFTER_S, sends the signal again to the main thread itself: the wait ends,
        the pending handler runs (RQ ignores a second stop signal within a second of the first).
        """
        if threading.current_thread() is not threading.main_thread():
            return
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        try:
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except ValueError:  # not the main interpreter
            os.close(read_fd)
            os.close(write_fd)
            return
        self._relay = (read_fd, write_fd, previous)
        main = threading.main_thread().ident
        stops = {int(signal.SIGTERM), int(signal.SIGINT)}

        def relay():
            while True:
                try:
                    data = os.read(read_fd, 64)
                except OSError:
                    data = b""
                if not data:  # teardown closed the pipe's other end
                    os.close(read_fd)
                    return
                sig = next((b for b in data if b in stops), None)
                if sig is None:
                    continue
                deadline = time.monotonic() + RELAY_AFTER_S
                while self._shutdown_requested_date is None and time.monotonic() < deadline:
                    time.sleep(0.02)
                if self._shutdown_requested_date is None and self.get_state() == "idle":
                    log.warning(
                        "worker %s: signal %s not handled after %s s while idle: sent again",
                        self.name,
                        sig,
                        RELAY_AFTER_S,
                    )
                    signal.pthread_kill(main, sig)

        threading.Thread(target=relay, name="vitrina-signal-relay", daemon=True).start()

    def _stop_signal_relay(self) -> None:
        relay = getattr(self, "_relay", None)
        if relay is None or threading.current_thread() is not threading.main_thread():
            return
        _, write_fd, previous = relay
        self._relay = None
        signal.set_wakeup_fd(previous)
        os.close(write_fd)  # the relay thread reads EOF, closes its end and ends

    def teardown(self):
        """RQ's teardown (deregister, unsubscribe) on fresh Redis connections, logged if slow.

        An idle worker stops by raising StopRequested from its SIGTERM handler. When the handler
        runs after redis-py has sent the blocking pop (BLMOVE, or BLPOP on several queues) but
        before it reads the reply, the exception skips the read's disconnect-on-error and the
        connection goes back to the pool with the pop still pending; a busy box makes this likely,
        as the worker is often preempted right after the send while redis-server runs. The
        deregistration was then sent on that connection and waited behind the pop for the whole
        dequeue timeout (405 s), and then failed: it read the pop's empty reply as its own
        ("Wrong number of response items"). So the pool's idle connections are closed first
        (one reconnect, ~1 ms; redis-server drops a closed client's pending pop, which then takes
        no job either), and a teardown that still takes over SLOW_STOP_S says so.
        """
        self.connection.connection_pool.disconnect(inuse_connections=False)
        caller = threading.get_ident()
        watchdog = threading.Timer(SLOW_STOP_S, self._report_slow_stop, (caller,))
        watchdog.daemon = True
        watchdog.start()
        try:
            super().teardown()
        finally:
            watchdog.cancel()
            self._stop_signal_relay()

    def _report_slow_stop(self, thread_id: int) -> None:
        frame = sys._current_frames().get(thread_id)
        where = "".join(traceback.format_stack(frame)[-6:]) if frame is not None else "?\n"
        log.warning(
            "worker %s: still stopping after %s s; waiting in:\n%s", self.name, SLOW_STOP_S, where
        )

    def execute_job(self, job, queue):
        super().execute_job(job, queue)
        self.jobs_done += 1
        rss = psutil.Process().memory_info().rss / 2**20
        if self.rss_limit_mb and rss > self.rss_limit_mb:
            log.warning(
                "worker %s: %.0f MiB > %s MiB, recycling", self.name, rss, self.rss_limit_mb
            )
            self._stop_requested = self.recycling = True
        if self.gpu_limit_mb and "gpu" in self.queue_names():
            from .imaging.diffusion import gpu_memory_mb

            held = gpu_memory_mb()
            # long-running diffusion processes fragment and grow the pool
            if held > self.gpu_limit_mb:
                log.warning(
                    "worker %s: GPU %.0f MiB > %s MiB, recycling",
                    self.name,
                    held,
                    self.gpu_limit_mb,
                )
                self._stop_requested = self.recycling = True


def keep_freed_memory() -> bool:
    """glibc malloc: keep the big buffers a job frees for the next job instead of unmapping them.

    A white-mode job allocates and frees dozens of 4-40 MB arrays (canvas, mask, the region's
    float maps). By default glibc serves each from fresh mmap'd pages and unmaps them on free, so
    every job faults its whole working set in again: 9-16k minor faults and 25-40 ms of kernel
    time per job on the bench photos. With the mmap threshold at its ceiling (32 MiB) and the heap
    trimmed only above 256 MiB free, the next job reuses the same pages: ~2.4k faults, 6-8 ms.
    Resident memory stays near one job's high-water mark (what the next job needs anyway);
    `recycle_rss_mb` still catches growth. Returns False where this is not glibc (no-op).
    """
    import ctypes

    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # musl and others: nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))


def share_cores() -> int:
    """OpenCV's thread pool sized to this worker's share of the cores (OMP_NUM_THREADS, which
    template.worker_env sets to cores / workers and onnxruntime already follows). OpenCV's
    wheels run their own pthreads pool, one thread per core in every process, and ignore
    OMP_NUM_THREADS: two workers on two cores each split every resize, dilation and labelling
    over two threads that wait for the other worker's core (connectedComponents on a 640x480
    mask: 0.54 ms of CPU with 2 threads, 0.24 with 1). The same arithmetic either way (OpenCV's
    parallel loops split rows, each row's result is the same). Returns the count set, 0 where
    OMP_NUM_THREADS is unset or not a count (OpenCV's default is kept)."""
    try:
        threads = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return 0
    if threads < 1:
        return 0
    try:
        import cv2
    except ImportError:  # pragma: no cover - a build without OpenCV has no pool to size
        return 0
    cv2.setNumThreads(threads)
    return threads


def freeze_startup_objects() -> None:
    """Move every object alive after start-up (modules, compiled kernels, sessions) out of the
    garbage collector's reach (gc.freeze), after collecting what start-up left behind.

    They live as long as the process, yet every full collection walks them again: a warmed
    white-mode worker holds ~140k tracked objects (numba, scipy, onnxruntime, rq), ~25 ms per
    full collection, and jobs allocate enough containers to trigger one every few jobs. perf on
    48 bench jobs in one process: the collector's share of CPU 1.0% -> 0.3% (~3 ms per job).
    """
    import gc

    gc.collect()
    gc.freeze()


def warm(queues: list[str], settings) -> list[str]:
    """Load every model this worker's modes need, once, before the first job."""
    from .plugins import modes

    warmed = []
    for mode in modes().values():
        if getattr(mode, "queue", "cpu") in queues and hasattr(mode, "warm"):
            try:
                mode.warm(settings)
                warmed.append(mode.name)
            except VitrinaError as exc:  # e.g. a model not installed: jobs will say so per row
                log.warning("mode %s not warmed: %s", mode.name, exc)
    return warmed


def check_gpu(settings) -> str:
    """A gpu worker without a GPU says so and exits (ConfigError) unless gpu_cpu_ok is set."""
    from .imaging.diffusion import check_worker_device

    return check_worker_device(settings)


def run_worker(
    url: str, queues: list[str], settings, name: str | None = None, burst: bool = False
) -> int:
    if "gpu" in queues:
        log.info("%s", check_gpu(settings))
    # a wrong bucket or key is one clear error now, not a failed job per row later
    check_locations(settings.get("storage"), settings.get("assets"), settings=settings)
    conn = connect(url)
    keep_freed_memory()
    share_cores()
    warmed = warm(queues, settings)
    freeze_startup_objects()
    log.info("worker ready on %s, modes warmed: %s", ",".join(queues), ",".join(warmed) or "none")
    worker = VitrinaWorker(
        [Queue(q, connection=conn) for q in queues],
        connection=conn,
        name=name,
        maintenance_interval=int(settings.get("maintenance_interval", 60)),
    )
    worker.rss_limit_mb = int(settings.get("recycle_rss_mb") or 0)
    worker.gpu_limit_mb = int(settings.get("recycle_gpu_mb") or 0)
    max_jobs = int(settings.get("recycle_after_jobs") or 0) or None
    # No scheduler process: nothing here schedules jobs (retries have no interval, so RQ requeues
    # them at once), and RQ's scheduler is a forked process that sleeps a second between polls:
    # stopping a worker waited up to that second for it (~0.7 s per `run` on average).
    worker.work(burst=burst, max_jobs=max_jobs, logging_level="WARNING", with_scheduler=False)
    # recycled: the parent starts a new worker and requeues nothing (any other exit is a crash)
    quota = max_jobs is not None and worker.jobs_done >= max_jobs
    return EXIT_RECYCLE if not burst and (quota or worker.recycling) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vitrina-sync worker", description=__doc__)
    parser.add_argument(
        "--url",
        default=os.environ.get("REDIS_URL", ""),
        help="Redis URL (unix://... or redis://...)",
    )
    parser.add_argument(
        "--queues",
        default="cpu",
        help="comma list of queues: cpu, gpu (gpu needs a GPU or gpu_cpu_ok)",
    )
    parser.add_argument("--name", default=None)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not args.url:
        print("vitrina-sync worker: no Redis: set REDIS_URL or --url", file=sys.stderr)
        return 2
    settings = load_settings()
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    try:
        return run_worker(args.url, queues, settings, args.name, args.burst)
    except VitrinaError as exc:
        print(f"vitrina-sync worker: {exc}", file=sys.stderr)
        return 2


def exit_now(code: int) -> NoReturn:
    """End a worker process without the interpreter's teardown.

    By then the worker has torn itself down (deregistered, its jobs' files written and closed,
    results published), so nothing is left to save; unloading rembg, onnxruntime, numba and scipy
    module by module cost ~0.3 s per process, on every `run`'s stop. Logs are flushed first.
    Only for the process entry point: an in-process caller of main() keeps its interpreter.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
