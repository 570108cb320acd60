"""The sync loop of `serve`: one thread per catalog.

Every `poll_interval` seconds, or at once when the webhook wakes it, a cycle plans the sheet,
queues changed rows and writes back, in ONE batch, the queued marks plus every result that has
finished meanwhile. Results stay in Redis until written (Broker.drop_results runs only after a
successful write), so a failed write-back loses nothing: the results show as backlog and go in the
next cycle. On SIGTERM the loop finishes the cycle in progress and exits; serve then stops the
workers (their current jobs finish) and runs one last cycle to write what they finished.

Failures a cycle expects (the sheet locked or unreachable, Redis down, a disk error: VitrinaError,
RedisError, OSError) are recorded as that cycle's error and tried again next cycle. Anything else is
a bug: it leaves the cycle, and the loop's supervisor (as rq's work loop and gunicorn's arbiter do)
logs it with its traceback, counts it (/metrics `vitrina_sync_loop_restarts_total`), shows it on the
dashboard, /api/status and /healthz (503 for that catalog until a cycle succeeds again), and starts
the loop again after a back-off that doubles with each crash in a row. No row's cells can get there:
planning turns whatever a cell holds into that row's Message (plan.plan_row).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter

import redis

from ..catalog.model import WriteReport
from ..errors import QueueError, VitrinaError
from ..runner import Summary
from ..runner import cycle as sync_cycle
from ..writeback import audited
from .state import RECENT_ERRORS, AppState, CatalogState

log = logging.getLogger("vitrina_sync.serve")

# What a cycle expects to fail on now and then; anything else is a bug for the supervisor.
EXPECTED = (VitrinaError, redis.RedisError, OSError)
RESTART_BACKOFF = (1.0, 60.0)  # seconds: first wait after a crash, and the cap as it doubles


def cycle(state: AppState, cs: CatalogState) -> Summary | None:
    """One sync cycle. An expected failure (a broken sheet, Redis down) is shown and retried next
    cycle (returns None); anything else raises, for SyncLoop's supervisor."""
    started = time.monotonic()
    # Before the cycle: with Redis gone, every call would first sit out redis-py's retries (~10 s).
    _restart_embedded(state)
    with cs.cycle_lock:
        try:
            summary, plans, results = _sync(state, cs)
        except EXPECTED as exc:
            log.warning("sync of %s failed: %s", cs.session.spec, exc)
            _record_failure(state, cs, exc, time.monotonic() - started)
            if isinstance(exc, (redis.ConnectionError, OSError)):
                _restart_embedded(state)
            return None
    _record(state, cs, summary, plans, results, time.monotonic() - started)
    return summary


def _restart_embedded(state: AppState) -> None:
    """serve's own Redis went away: start it again; its append-only file keeps the queue and results."""
    embedded = getattr(state, "embedded", None)
    if embedded is None or state.stopping.is_set() or _listening(embedded.socket):
        return
    with state.workers_lock:  # one loop restarts it, the others find it running
        if not embedded.running():
            log.warning("embedded Redis stopped; starting it again")
            try:
                embedded.start()
            except QueueError as exc:  # shown as the next cycle's error; tried again then
                log.error("%s", exc)


def _listening(path) -> bool:
    """A plain connect: refused at once, where a redis-py ping retries with back-off (~3 s)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect(str(path))
            return True
        except OSError:
            return False


def _sync(state: AppState, cs: CatalogState):
    session = cs.session
    summary, plans, results = sync_cycle(session)
    _check_workers(state, session)
    _save_hashes(session)
    return summary, plans, results


def _save_hashes(session) -> None:
    """serve runs for weeks: keep the photo-hash cache on disk, not only at shutdown."""
    try:
        session.ctx.hashes.save()  # a no-op when nothing new was hashed
    except OSError as exc:
        log.warning("could not save the hash cache: %s", exc)


def _check_workers(state: AppState, session) -> None:
    """Local workers that died are replaced and their jobs requeued (as `run` does)."""
    if state.workers is None or session.broker is None:
        return
    with state.workers_lock:
        for note in state.workers.check(session.broker.conn):
            log.warning("%s", note)


def _record(
    state, cs: CatalogState, summary: Summary, plans, results: dict, seconds: float
) -> None:
    written = set(summary.report.written if summary.report else [])
    done = [r for s, r in results.items() if s in written]
    state.count("jobs_done", sum(r.get("status") != "error" for r in done))
    state.count("jobs_failed", sum(r.get("status") == "error" for r in done))
    state.count("rows_written", len(written))
    marketplaces, marked, waiting = _row_figures(state, plans, results, summary)
    backlog = _backlog(cs)
    with cs.lock:
        cs.rows, cs.statuses = summary.rows, Counter(summary.statuses)
        cs.marketplaces, cs.audit_marked, cs.audit_waiting = marketplaces, marked, waiting
        cs.recent_errors = [(sku, msg) for sku, _row, msg in summary.errors][:RECENT_ERRORS]
        cs.last_sync, cs.last_seconds, cs.last_error = time.time(), seconds, ""
        cs.cycles += 1
        cs.seconds_total += seconds
        cs.backlog, cs.last_queued, cs.last_written = backlog, summary.queued, len(written)


def _record_failure(state, cs: CatalogState, exc: Exception, seconds: float) -> None:
    state.count("sync_errors")
    # With Redis down, asking it again costs another round of redis-py's retries (~10 s).
    backlog = -1 if isinstance(exc, (redis.ConnectionError, OSError)) else _backlog(cs)
    with cs.lock:
        cs.last_error = f"{type(exc).__name__}: {exc}"
        cs.failed_cycles += 1
        cs.seconds_total += seconds
        cs.last_seconds = seconds
        if backlog >= 0:
            cs.backlog = backlog


def _backlog(cs: CatalogState) -> int:
    """Finished results still waiting in Redis to be written (-1: Redis cannot say)."""
    broker = cs.session.broker
    if broker is None:
        return 0
    try:
        return int(broker.conn.hlen(f"vitrina:results:{cs.session.key}"))
    except (redis.RedisError, OSError):
        return -1


def _row_figures(state, plans, results: dict, summary: Summary) -> tuple[Counter, int, int]:
    """Rows per marketplace (of the rows that parse: planning read their cells already), rows
    marked for audit, and those of them still waiting for review."""
    every = int(state.settings.get("audit_every") or 0)
    marketplaces: Counter = Counter()
    marked = waiting = 0
    for plan in plans:
        sku = plan.row.sku
        marketplaces.update(plan.spec.marketplaces if plan.spec else ())
        result = results.get(sku)
        status = result["status"] if result else plan.row.get("status")
        is_marked = audited(sku, every) if result else plan.row.get("audit") == "audit"
        if is_marked and status != "error":
            marked += 1
            waiting += status == "needs_review"
    return marketplaces, marked, waiting


class SyncLoop(threading.Thread):
    """Cycles one catalog until state.stopping is set; woken early by cs.wake (the webhook)."""

    def __init__(self, state: AppState, name: str):
        super().__init__(name=f"sync-{name}", daemon=True)
        self.state, self.cs = state, state.catalogs[name]
        self.interval = float(state.settings.get("poll_interval") or 60)

    def run(self) -> None:
        self.crashes = 0  # in a row (a good cycle resets it): the back-off doubles with each
        while not self.state.stopping.is_set():
            try:
                self._work()
                return
            except Exception as exc:  # the supervisor: log, count, back off, go on
                self.crashes += 1
                delay = restart_delay(self.crashes)
                log.exception(
                    "sync loop of %s crashed; restarting in %.2f s", self.cs.session.spec, delay
                )
                _record_crash(self.state, self.cs, exc)
                self.state.stopping.wait(delay)

    def _work(self) -> None:
        """The loop proper; returns when serve stops, raises on a bug."""
        while not self.state.stopping.is_set():
            self.cs.wake.clear()  # edits before this point are seen by the cycle about to start
            if cycle(self.state, self.cs) is not None:
                self.crashes = 0
                _clear_crash(self.cs)
            self.cs.wake.wait(self.interval)


def restart_delay(crashes: int) -> float:
    """Seconds before the loop runs again after its `crashes`-th crash in a row."""
    first, cap = RESTART_BACKOFF
    return min(first * 2 ** min(crashes - 1, 30), cap)


def _record_crash(state: AppState, cs: CatalogState, exc: Exception) -> None:
    state.count("sync_loop_restarts")
    with cs.lock:
        cs.loop_error = f"{type(exc).__name__}: {exc}"
        cs.loop_error_at = time.time()
        cs.loop_restarts += 1


def _clear_crash(cs: CatalogState) -> None:
    """A good cycle after a crash: the catalog is healthy again (the restart count stays)."""
    with cs.lock:
        cs.loop_error = ""


def start_loops(state: AppState) -> list[SyncLoop]:
    loops = [SyncLoop(state, name) for name in state.catalogs]
    for loop in loops:
        loop.start()
    return loops


def stop_loops(state: AppState, loops: list[SyncLoop], timeout: float = 120) -> None:
    """Let each loop finish the cycle (and write-back) in progress, then return."""
    state.stopping.set()
    for cs in state.catalogs.values():
        cs.wake.set()
    deadline = time.monotonic() + timeout
    for loop in loops:
        loop.join(max(0.1, deadline - time.monotonic()))
        if loop.is_alive():
            log.error("sync loop %s still busy after %.0f s", loop.name, timeout)


def final_cycle(state: AppState) -> list[WriteReport]:
    """After the workers stopped: one more cycle per catalog writes what they finished."""
    reports = []
    for cs in state.catalogs.values():
        try:
            summary = cycle(state, cs)
        except Exception as exc:  # shutdown goes on to the other catalogs
            log.exception("last write-back of %s failed", cs.session.spec)
            _record_crash(state, cs, exc)
            continue
        if summary is not None and summary.report is not None:
            reports.append(summary.report)
    return reports
