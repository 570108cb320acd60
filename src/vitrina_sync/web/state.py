"""What the web app knows: settings, one SyncSession per catalog, the broker, counters."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..runner import SyncSession


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


class AppState:
    """Shared by the sync loop threads and the request handlers."""

    def __init__(self, settings, sessions: dict[str, SyncSession], work_dir: Path | None = None):
        self.settings = settings
        self.catalogs = {name: CatalogState(s) for name, s in sessions.items()}
        self.work_dir = work_dir
        self.counters: Counter = Counter()  # jobs_done, jobs_failed, sheets_requests, sheets_retries...
        self.started = time.time()
        self.wake = threading.Event()  # set by the webhook: sync now
        self.workers = None  # LocalWorkers when serve started them

    @property
    def sessions(self) -> dict[str, SyncSession]:
        return {name: c.session for name, c in self.catalogs.items()}

    def broker(self):
        for c in self.catalogs.values():
            return c.session.connect()
        return None

    def trigger_sync(self) -> None:
        self.wake.set()
