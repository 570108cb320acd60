"""A warmed worker template: one process imports the worker's libraries and loads the compiled
kernels once, then forks each local worker from that state (a "zygote", as Android and
gunicorn's preload do it).

Every worker process otherwise pays the same ~0.6 s of CPU at start (numba's type registry,
scipy, onnxruntime, rq, the kernels from numba's cache) before its first job; two of them on two
cores after the parent's own start-up put the first job at ~1.0 s into a `run`. The template starts
as soon as `run` is called, so its imports overlap the parent's, and a fork is ready in ~50 ms
(its model session): first job at ~0.65 s, and half the start-up CPU. A worker that dies or
recycles is replaced by a fork too.

What the template holds is what every worker needs and nothing tied to one run: modules, compiled
kernels, the malloc tuning. No model session, no Redis connection, no plugin manager (those depend
on the settings and environment of the run, which each worker gets with its spawn request: its
environment and working folder are set before anything reads them).

Protocol (JSON lines; the template's stdin and stdout are pipes to the parent):
  parent -> template: {"name", "args", "env", "cwd", "quiet"}   fork a worker running
                       `vitrina_sync.worker.main(args)`
  template -> parent: {"spawned": name, "pid": pid} or {"failed": name, "error": text};
                      {"exited": pid, "code": code} when a worker ends (Popen's returncode:
                      negative for a signal)
The template exits when its stdin closes; its workers are the parent's to stop (by pid).

This module imports only the standard library: the parent starts the template before its own
heavy imports.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

PRELOAD_TIMEOUT = 120.0  # a template that has not answered by then is given up (Popen instead)
# where the template's and the run's environments may differ without a new template: OpenBLAS's
# thread count is read once at import (BLAS barely runs in a job); each worker gets its own value
MAY_DIFFER = {"OMP_NUM_THREADS"}


def enabled() -> bool:
    """Workers fork from a template on Linux, unless VITRINA_WORKER_TEMPLATE=0 (then each worker
    is a new interpreter, as before)."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and os.environ.get("VITRINA_WORKER_TEMPLATE", "1") != "0"
    )


def worker_env(count: int, extra: dict | None = None) -> dict[str, str]:
    """The environment of `count` local workers: each gets its share of the cores (onnxruntime
    would otherwise start one thread per core in every process, all fighting over the same
    cores)."""
    env = {**os.environ, **(extra or {})}
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) // max(1, count))))
    return env


def preload() -> None:
    """What every cpu worker imports and loads at start, done once here. Failures are left for
    the worker to meet (and report) on its own: the template must still fork."""
    try:
        from . import jobs, worker  # noqa: F401 - rq, redis, psutil, the store, imaging.load
        from .imaging import compose, qa, refine  # noqa: F401 - scipy.ndimage, numba kernels
        from .modes import card, white  # noqa: F401 - the built-in cut-out modes

        try:
            import onnxruntime  # noqa: F401 - imported, no session: sessions belong to workers
        except ImportError:  # pragma: no cover - a build without it: workers report it per row
            pass
        refine.warm()  # compiled kernels loaded from numba's cache (no threads: fork-safe)
        worker.keep_freed_memory()  # mallopt settings are inherited by every fork
        worker.freeze_startup_objects()
    except Exception:  # noqa: BLE001 - a broken import: each worker imports again and says why
        import traceback

        traceback.print_exc()  # seen with VITRINA_DEBUG=1 (the template's stderr)


def _child(request: dict, keep: set[int]) -> None:
    """In the forked worker: its own signals, stdio, environment and folder, then the worker."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        if request.get("quiet", True):
            os.dup2(devnull, 2)
        for fd in keep:
            if fd > 2:
                os.close(fd)
        os.close(devnull)
        _name_process(b"vitrina-worker")  # `top`, `ps -o comm`; args stay the template's
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        for entry in reversed(request["env"].get("PYTHONPATH", "").split(os.pathsep)):
            if entry and entry not in sys.path:  # as a new interpreter would have it
                sys.path.insert(0, entry)
        sys.argv = [sys.executable, "-m", "vitrina_sync.worker", *request["args"]]
        from . import worker

        code = worker.main(request["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - never return into the template's loop
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _name_process(name: bytes) -> None:
    """The process's short name (Linux prctl PR_SET_NAME, 15 bytes), where libc allows it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(15, name[:15], 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def main() -> int:
    _name_process(b"vitrina-tmpl")
    preload()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent and the workers
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the wake-up pipe
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    pending = b""
    children: set[int] = set()

    def send(message: dict) -> None:
        os.write(stdout, (json.dumps(message) + "\n").encode())

    def reap() -> None:
        for pid in list(children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 255 << 8
            if done:
                children.discard(pid)
                send({"exited": pid, "code": os.waitstatus_to_exitcode(status)})

    while True:
        try:
            ready, _, _ = select.select([stdin, wake_r], [], [])
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
        if wake_r in ready:
            os.read(wake_r, 512)
            reap()
        if stdin not in ready:
            continue
        data = os.read(stdin, 65536)
        if not data:  # the parent closed our stdin: done (workers are the parent's to stop)
            return 0
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            try:
                pid = os.fork()
            except OSError as exc:
                send({"failed": request["name"], "error": str(exc)})
                continue
            if pid == 0:
                _child(request, {stdin, stdout, wake_r, wake_w})
            children.add(pid)
            send({"spawned": request["name"], "pid": pid})
        reap()


class Template:
    """The parent's handle on a template process."""

    def __init__(self, env: dict[str, str], quiet: bool = True):
        self.env, self.quiet = env, quiet
        self.spawned = 0  # workers forked so far
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vitrina_sync.template"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else None,
            # one OpenBLAS thread: no thread in the template when it forks (BLAS barely runs here)
            env={**env, "OPENBLAS_NUM_THREADS": "1"},
        )
        self.exits: dict[int, int] = {}
        self._buffer = b""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, name: str, args: list[str], env: dict, cwd: str) -> int:
        """Fork a worker; its pid. Waits for the template's preload the first time (the
        parent has queued its rows meanwhile). RuntimeError when the template cannot."""
        request = {"name": name, "args": args, "env": env, "cwd": cwd, "quiet": self.quiet}
        with self._lock:
            return self._spawn(name, request)

    def _spawn(self, name: str, request: dict) -> int:
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise RuntimeError(f"worker template gone: {exc}") from exc
        deadline = time.monotonic() + PRELOAD_TIMEOUT
        while True:
            for message in self._read(max(0.0, deadline - time.monotonic())):
                if message.get("spawned") == name:
                    self.spawned += 1
                    return int(message["pid"])
                if message.get("failed") == name:
                    raise RuntimeError(f"worker template could not fork: {message['error']}")
            if not self.alive() or time.monotonic() >= deadline:
                raise RuntimeError("worker template did not answer")

    def poll(self, timeout: float = 0.0) -> None:
        """Take in the exit reports the template has sent (waiting up to `timeout` for one)."""
        with self._lock:
            self._read(timeout)

    def fits(self, env: dict[str, str], quiet: bool) -> bool:
        """Whether workers for this environment may fork from this template."""
        keys = (set(env) | set(self.env)) - MAY_DIFFER
        return quiet == self.quiet and all(env.get(k) == self.env.get(k) for k in keys)

    def _read(self, timeout: float) -> list[dict]:
        out = self.proc.stdout
        if out is None or out.closed:
            return []
        fd = out.fileno()
        messages: list[dict] = []
        ready, _, _ = select.select([fd], [], [], timeout)
        while ready:
            data = os.read(fd, 65536)
            if not data:  # the template has ended
                out.close()
                break
            self._buffer += data
            ready, _, _ = select.select([fd], [], [], 0)
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            message = json.loads(line)
            if "exited" in message:
                self.exits[int(message["exited"])] = int(message["code"])
            messages.append(message)
        return messages

    def close(self) -> None:
        """End the template (its workers are stopped separately). One that never forked is
        killed at once: it may still be importing, and nothing of it is needed."""
        if not self.spawned and self.proc.poll() is None:
            self.proc.kill()
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()


_prestarted: Template | None = None


def prestart(env: dict[str, str]) -> None:
    """Start a template now, for the LocalWorkers this process is about to create (`run` calls
    this first thing: the template's imports overlap the parent's own start-up and planning)."""
    global _prestarted
    if enabled() and _prestarted is None:
        _prestarted = Template(env, quiet=not os.environ.get("VITRINA_DEBUG"))


def take(env: dict[str, str], quiet: bool) -> Template:
    """The prestarted template where it suits these workers, else a new one."""
    global _prestarted
    ready, _prestarted = _prestarted, None
    if ready is not None and ready.alive() and ready.fits(env, quiet):
        return ready
    if ready is not None:
        ready.close()
    return Template(env, quiet)


def discard() -> None:
    """Close a prestarted template nobody took (a run with nothing to process)."""
    global _prestarted
    if _prestarted is not None:
        _prestarted.close()
        _prestarted = None


class Forked:
    """A worker forked by the template, with the Popen methods LocalWorkers uses. Signals go
    through a pidfd taken while the worker runs, so a recycled pid is never signalled."""

    def __init__(self, template: Template, pid: int):
        self.template = template
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux >= 5.3: plain pids
            self._pidfd = None

    def _exited(self) -> bool:
        """Whether the process has ended (its pidfd turns readable), code known or not."""
        if self._pidfd is None:
            return False
        ready, _, _ = select.select([self._pidfd], [], [], 0)
        return bool(ready)

    def poll(self) -> int | None:
        if self.returncode is None:
            self.template.poll()
            code = self.template.exits.pop(self.pid, None)
            if code is None and not self.template.alive() and self._exited():
                code = -signal.SIGKILL  # the template died with it: no code, treat as a crash
            if code is not None:
                self._finish(code)
        return self.returncode

    def _finish(self, code: int) -> None:
        self.returncode = code
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def send_signal(self, sig: int) -> None:
        if self.poll() is not None:
            return
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait_exit(self, timeout: float) -> bool:
        """Up to `timeout` s for the worker to end; True when it has (its exit code then known,
        or unknowable because the template is gone)."""
        deadline = time.monotonic() + max(0.0, timeout)
        while self.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self.template.alive():
                if self._pidfd is None:
                    return False
                ready, _, _ = select.select([self._pidfd], [], [], left)
                if ready:
                    self._finish(-signal.SIGKILL)
                continue
            self.template.poll(min(left, 0.5))
        return True

    def wait(self, timeout: float | None = None) -> int | None:
        self.wait_exit(1e9 if timeout is None else timeout)
        return self.returncode


if __name__ == "__main__":
    sys.exit(main())
