"""What the web app knows: settings, one SyncSession per catalog, the broker, counters.

Shared by the sync loop threads (writers) and the request handlers (readers). Readers take a
snapshot under the catalog's `lock`; a cycle holds `cycle_lock` from planning to the end of its
write-back, so shutdown can wait for a write-back in progress instead of cutting it off.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..runner import SyncSession

RECENT_ERRORS = 20  # rows with an error shown on the dashboard


@dataclass
class CatalogState:
    session: SyncSession
    last_sync: float = 0.0  # unix time of the last finished cycle
    last_seconds: float = 0.0
    last_error: str = ""
    statuses: Counter = field(default_factory=Counter)
    marketplaces: Counter = field(default_factory=Counter)
    recent_errors: list[tuple[str, str]] = field(default_factory=list)  # (sku, message)
    audit_waiting: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # -- added by the sync loop ------------------------------------------------------------------
    audit_marked: int = 0  # rows the Audit column marks for a second look
    rows: int = 0
    cycles: int = 0
    failed_cycles: int = 0
    seconds_total: float = 0.0  # sum of cycle durations (Prometheus summary _sum)
    backlog: int = 0  # finished results in Redis not yet written back
    last_queued: int = 0
    last_written: int = 0
    loop_error: str = ""  # the last crash of the sync loop, until a cycle succeeds again
    loop_error_at: float = 0.0  # unix time of that crash
    loop_restarts: int = 0  # times the supervisor restarted the loop
    wake: threading.Event = field(default_factory=threading.Event)
    cycle_lock: threading.Lock = field(default_factory=threading.Lock)

    def catalog_metrics(self) -> dict:
        """The adapter's API counters (Google Sheets); {} for file catalogs."""
        metrics = getattr(self.session.catalog, "metrics", None)
        return metrics() if callable(metrics) else {}

    def snapshot(self) -> dict:
        """A consistent copy for the API and the dashboard."""
        with self.lock:
            return {
                "spec": self.session.spec,
                "rows": self.rows,
                "statuses": dict(self.statuses),
                "marketplaces": dict(self.marketplaces),
                "recent_errors": [list(e) for e in self.recent_errors],
                "audit_marked": self.audit_marked,
                "audit_waiting": self.audit_waiting,
                "last_sync": self.last_sync,
                "last_seconds": round(self.last_seconds, 4),
                "last_error": self.last_error,
                "cycles": self.cycles,
                "failed_cycles": self.failed_cycles,
                "seconds_total": round(self.seconds_total, 4),
                "backlog": self.backlog,
                "last_queued": self.last_queued,
                "last_written": self.last_written,
                "loop_error": self.loop_error,
                "loop_error_at": self.loop_error_at,
                "loop_restarts": self.loop_restarts,
            }


class AppState:
    """Shared by the sync loop threads and the request handlers."""

    def __init__(self, settings, sessions: dict[str, SyncSession], work_dir: Path | None = None):
        self.settings = settings
        self.catalogs = {name: CatalogState(s) for name, s in sessions.items()}
        self.work_dir = work_dir
        self.counters: Counter = Counter()  # jobs_done, jobs_failed, sync_errors, webhooks...
        self.counters_lock = threading.Lock()
        self.started = time.time()
        self.wake = threading.Event()  # set by the webhook: sync now (each loop has its own, too)
        self.stopping = threading.Event()  # SIGTERM: loops finish their cycle and exit
        self.closed = False  # serve's shutdown ran (workers stopped, last write-back done)
        self.workers = None  # LocalWorkers when serve started them
        self.embedded = None  # EmbeddedRedis when serve started it (restarted if it dies)
        self.config_file: Path | None = None  # serve's --config (the users file sits beside it)
        self.workers_lock = threading.Lock()  # loops of several catalogs share one LocalWorkers

    @property
    def sessions(self) -> dict[str, SyncSession]:
        return {name: c.session for name, c in self.catalogs.items()}

    def broker(self):
        for c in self.catalogs.values():
            return c.session.connect()
        return None

    def count(self, name: str, n: int = 1) -> None:
        with self.counters_lock:
            self.counters[name] += n

    def trigger_sync(self, spreadsheet_id: str | None = None) -> list[str]:
        """Wake the loops now: those of the spreadsheet named, or every one if none matches."""
        names = [
            n
            for n, c in self.catalogs.items()
            if spreadsheet_id and spreadsheet_id in c.session.spec
        ]
        for name in names or list(self.catalogs):
            self.catalogs[name].wake.set()
        self.wake.set()
        return names or list(self.catalogs)
