"""GET /healthz and /metrics (operators' probes, unauthenticated) and GET /api/status (signed in).

/metrics is rendered by prometheus_client from a custom collector in a registry per app: the
library writes every family's HELP, TYPE and samples together (by hand, four families once printed
their samples after other families' headers, and Prometheus' parser read them as untyped
duplicates).

Every figure comes from what the sync loops recorded on the CatalogStates, plus a few cheap Redis
reads (queue lengths, registered workers, the results hashes). Redis being down makes /healthz
say so; it never makes /metrics or /api/status fail.
"""

from __future__ import annotations

import time
from collections import Counter

import redis
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from rq import Worker

from ..queue import QUEUES, storage_failures


def _state():
    return current_app.extensions["vitrina"]


# -- figures ----------------------------------------------------------------------------------------
def redis_figures(state) -> dict:
    """ping, queue depth and started jobs per queue, registered workers; {'error'} when Redis is down."""
    try:
        broker = state.broker()
        if broker is None:
            return {"error": "no catalog configured"}
        broker.conn.ping()
        workers = Worker.all(connection=broker.conn)
        return {
            "depth": broker.depth(),
            "started": broker.started(),
            "storage_failures": storage_failures(broker.conn),
            "workers": [
                {"name": w.name, "state": str(w.get_state()), "queues": w.queue_names()}
                for w in workers
            ],
        }
    except (redis.RedisError, OSError) as exc:
        return {"error": f"Redis: {exc}"}


def local_worker_pids(state) -> list[int] | None:
    """pids of the workers serve started itself, None when it started none."""
    if state.workers is None:
        return None
    with state.workers_lock:
        return state.workers.pids()


def catalogs_snapshot(state) -> dict[str, dict]:
    return {
        name: cs.snapshot() | {"sheets_api": cs.catalog_metrics(), "drive_api": cs.drive_metrics()}
        for name, cs in state.catalogs.items()
    }


# -- views ------------------------------------------------------------------------------------------
def healthz():
    state = _state()
    figures = redis_figures(state)
    local = local_worker_pids(state)
    alive = len(local) if local is not None else len(figures.get("workers", []))
    catalogs = {
        name: {
            "ok": not snap["last_error"] and not snap["loop_error"],
            "last_error": snap["last_error"],
            "last_sync": snap["last_sync"],
            "loop_error": snap["loop_error"],
            "loop_restarts": snap["loop_restarts"],
        }
        for name, snap in ((n, cs.snapshot()) for n, cs in state.catalogs.items())
    }
    checks = {
        "redis": {"ok": "error" not in figures, "error": figures.get("error", "")},
        "catalogs": {"ok": all(c["ok"] for c in catalogs.values()), "each": catalogs},
        "workers": {"ok": alive > 0, "alive": alive},
    }
    ok = all(c["ok"] for c in checks.values())
    return jsonify({"ok": ok, "checks": checks}), 200 if ok else 503


def api_status():
    state = _state()
    catalogs = catalogs_snapshot(state)
    totals: Counter = Counter()
    for snap in catalogs.values():
        totals.update(snap["statuses"])
    figures = redis_figures(state)
    return jsonify(
        {
            "rows_per_status": dict(totals),
            "queues": figures.get("depth", {}),
            "started": figures.get("started", {}),
            "workers": figures.get("workers", []),
            "local_worker_pids": local_worker_pids(state),
            "redis_error": figures.get("error", ""),
            # jobs that could not reach the storage and were retried, per catalog (queue.py)
            "storage_failures": figures.get("storage_failures", {}),
            "backlog": sum(max(0, s["backlog"]) for s in catalogs.values()),
            "catalogs": catalogs,
            "counters": dict(state.counters),
            "uptime_seconds": round(time.time() - state.started, 1),
        }
    )


def metrics():
    registry = current_app.extensions["vitrina_metrics"]
    # generate_latest writes the classic text format (0.0.4), which every Prometheus reads.
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


# -- Prometheus exposition: prometheus_client renders it ---------------------------------------------
class StatusCollector(Collector):
    """Every family from one consistent read of the app's state, at scrape time (prometheus_client's
    "custom collector"): the library writes each family's HELP, TYPE and samples together."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        state = self.app.extensions.get("vitrina")
        catalogs = catalogs_snapshot(state) if state is not None else {}
        figures = redis_figures(state) if state is not None else {"error": "no state"}
        counters = dict(state.counters) if state is not None else {}
        yield from catalog_families(catalogs)
        yield from api_families(catalogs, "sheets_api", SHEETS_API)
        yield from api_families(catalogs, "drive_api", DRIVE_API)
        yield from app_families(counters, figures)


def _family(kind, name: str, help_text: str, labels=()):
    return kind(name, help_text, labels=list(labels)) if labels else kind(name, help_text)


def catalog_families(catalogs: dict[str, dict]):
    rows = _family(
        GaugeMetricFamily,
        "vitrina_rows",
        "Catalog rows per status at the last sync.",
        ("catalog", "status"),
    )
    seconds = SummaryMetricFamily(
        "vitrina_sync_seconds",
        "Seconds per sync cycle (plan, enqueue, write-back).",
        labels=["catalog"],
    )
    per_catalog = {
        "last_seconds": (
            GaugeMetricFamily,
            "vitrina_sync_last_seconds",
            "Seconds the last sync cycle took.",
        ),
        "failed_cycles": (CounterMetricFamily, "vitrina_sync_errors", "Sync cycles that failed."),
        "last_sync": (
            GaugeMetricFamily,
            "vitrina_sync_last_timestamp_seconds",
            "Unix time of the last good sync.",
        ),
        "backlog": (
            GaugeMetricFamily,
            "vitrina_writeback_backlog",
            "Finished results in Redis not yet written back.",
        ),
        "loop_restarts": (
            CounterMetricFamily,
            "vitrina_sync_loop_restarts",
            "Times a catalog's sync loop crashed (an unexpected error) and was restarted.",
        ),
        "loop_error": (
            GaugeMetricFamily,
            "vitrina_sync_loop_failing",
            "1 while a sync loop's last crash is not followed by a good cycle.",
        ),
    }
    families = {
        key: _family(kind, name, text, ("catalog",))
        for key, (kind, name, text) in per_catalog.items()
    }
    for name, snap in catalogs.items():
        for status, n in sorted(snap["statuses"].items()):
            rows.add_metric([name, status], n)
        seconds.add_metric([name], snap["cycles"] + snap["failed_cycles"], snap["seconds_total"])
        for key, family in families.items():
            value = snap[key]
            value = bool(value) if key == "loop_error" else max(0, value)
            family.add_metric([name], float(value))
    yield rows
    yield seconds
    yield from families.values()


SHEETS_API = (
    ("requests", "Google Sheets API requests sent."),
    ("retries", "Google Sheets API requests retried."),
    ("failures", "Google Sheets API calls that gave up."),
    ("throttled_seconds", "Seconds held back by the client-side quota budget."),
)
DRIVE_API = (
    ("requests", "Google Drive API requests sent (a batch of 100 counts once)."),
    ("retries", "Google Drive API requests retried."),
    ("failures", "Google Drive API calls that gave up."),
)


def api_families(catalogs: dict[str, dict], api: str, figures_named):
    """One counter family per figure of a Google API client (`sheets_api`, `drive_api`), labelled
    by catalog; catalogs without that client add no samples."""
    per_catalog = {name: snap[api] for name, snap in catalogs.items() if snap.get(api)}
    for key, help_text in figures_named:
        family = CounterMetricFamily(f"vitrina_{api}_{key}", help_text, labels=["catalog"])
        for catalog, figures in per_catalog.items():
            family.add_metric([catalog], float(figures.get(key, 0)))
        yield family


def app_families(counters: dict, figures: dict):
    jobs = CounterMetricFamily(
        "vitrina_jobs", "Finished jobs written back, by outcome.", labels=["outcome"]
    )
    jobs.add_metric(["done"], counters.get("jobs_done", 0))
    jobs.add_metric(["failed"], counters.get("jobs_failed", 0))
    yield jobs
    hooks = CounterMetricFamily(
        "vitrina_webhooks", "Webhook deliveries, by outcome.", labels=["outcome"]
    )
    for outcome, key in (
        ("accepted", "webhooks"),
        ("duplicate", "webhooks_duplicate"),
        ("refused", "webhooks_refused"),
    ):
        hooks.add_metric([outcome], counters.get(key, 0))
    yield hooks
    depth = GaugeMetricFamily("vitrina_queue_depth", "Jobs waiting per queue.", labels=["queue"])
    for queue in QUEUES:
        depth.add_metric([queue], figures.get("depth", {}).get(queue, 0))
    yield depth
    yield GaugeMetricFamily(
        "vitrina_workers", "Workers registered in Redis.", value=len(figures.get("workers", []))
    )
    yield GaugeMetricFamily(
        "vitrina_redis_up", "1 when Redis answered.", value=0 if "error" in figures else 1
    )
    storage = CounterMetricFamily(
        "vitrina_storage_failures",
        "Jobs that could not reach the storage (retried), per catalog.",
        labels=["catalog"],
    )
    for catalog, n in sorted((figures.get("storage_failures") or {}).items()):
        storage.add_metric([catalog], n)
    yield storage


def init_app(app) -> None:
    bp = Blueprint("api", __name__)  # one per app: the status view's guard is chosen at wiring time
    bp.add_url_rule("/healthz", "healthz", healthz)
    bp.add_url_rule("/metrics", "metrics", metrics)
    bp.add_url_rule("/api/status", "status", _signed_in(api_status))
    app.register_blueprint(bp)
    # A registry per app (not prometheus_client's global one): tests build many apps in a process.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector(app))
    app.extensions["vitrina_metrics"] = registry


def _signed_in(view):
    """/api/status shows catalog contents (SKUs in errors): reviewers only, via auth's login_required."""
    try:
        from .auth import login_required
    except ImportError:  # TODO(issue 6): auth.py not there yet; the status API is open until it is
        return view
    return login_required(view)
