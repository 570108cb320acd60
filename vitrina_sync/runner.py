"""One catalog sync: read, plan, enqueue, (wait for local workers), write back, summarise."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis

from . import plugins, sources
from .catalog import open_catalog
from .catalog.model import RowUpdate, WriteReport
from .drive.sources import DriveSources
from .errors import QueueError
from .fingerprint import FileHashCache
from .jobs import error_result
from .local_workers import LocalWorkers, held, requeue_lost
from .plan import PlanContext, RowPlan, plan_sheet
from .queue import (
    QUEUES,
    Broker,
    EmbeddedRedis,
    catalog_key,
    connect,
    job_id,
    publish_result,
    redis_url_from_env,
    results_channel,
)
from .storage import check_locations, configure, root_location, storage_location
from .writeback import merge, result_update

BUILTIN_MARKETPLACES = {"kaspi", "wildberries", "ozon"}


@dataclass
class Summary:
    rows: int = 0
    statuses: Counter = field(default_factory=Counter)
    modes: Counter = field(default_factory=Counter)
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # (sku, row, message)
    queued: int = 0
    processed: int = 0
    reused: int = 0
    changed: int = 0
    notes: list[str] = field(default_factory=list)
    report: WriteReport | None = None
    # worker pid -> model sessions it created
    model_loads: dict[int, int] = field(default_factory=dict)


def known_marketplaces() -> set[str]:
    try:
        return BUILTIN_MARKETPLACES | set(plugins.marketplaces())
    except Exception:  # noqa: BLE001 - a broken marketplace plugin must not stop image work; packs will say so
        return set(BUILTIN_MARKETPLACES)


def work_dir(out_root: Path) -> Path:
    """Where the embedded Redis lives. Unix socket paths are limited to ~107 bytes."""
    folder = out_root / ".vitrina"
    if len(str(folder / "redis.sock")) > 100:
        folder = Path(tempfile.gettempdir()) / (
            "vitrina-" + hashlib.sha256(str(out_root).encode()).hexdigest()[:10]
        )
    return folder


def tasks_of(plans: list[RowPlan]) -> dict[str, dict]:
    """The job of every row that needs one, by SKU."""
    return {p.task["sku"]: p.task for p in plans if p.task}


class SyncSession:
    def __init__(self, spec: str, settings, assets: str | None = None, out: str | None = None):
        self.settings = settings
        self.catalog = open_catalog(spec, settings)
        self.spec = self.catalog.spec
        self.asset_root = root_location(
            assets or settings.get("assets") or self.catalog.default_assets
        )
        # out_root: this machine's work folder (Redis, caches, packs); storage: where outputs go
        self.out_root = Path(out or settings.get("out") or self.catalog.default_out).resolve()
        self.storage = root_location(storage_location(settings, self.out_root))
        configure(settings)
        check_locations(self.asset_root, self.storage, settings=settings)
        self.key = catalog_key(self.spec)
        self.ctx = PlanContext(
            settings,
            self.asset_root,
            self.out_root,
            plugins.modes(),
            known_marketplaces(),
            FileHashCache(self.out_root / ".vitrina" / "hashes.json"),
            self.key,
            drive=DriveSources(settings, self.out_root / ".vitrina" / "drive.json"),
            storage=self.storage,
        )
        self.embedded: EmbeddedRedis | None = None
        self.broker: Broker | None = None

    # -- Redis ------------------------------------------------------------------------------------
    def connect(self) -> Broker:
        if self.broker is None:
            url = redis_url_from_env(self.settings)
            if not url:
                self.embedded = EmbeddedRedis(work_dir(self.out_root)).start()
                url = self.embedded.url
            self.url = url
            # the embedded Redis: a dead one is restarted by wait_for, not waited for
            self.broker = Broker(connect(url, retry=self.embedded is None), self.settings)
        return self.broker

    def recover_redis(self) -> str:
        """The embedded Redis went away: start it again (its AOF keeps the queue)."""
        if self.embedded is None:
            raise QueueError(f"Redis at {self.url} is unreachable")
        if not self.embedded.running():
            self.embedded.start()
        return "embedded Redis stopped during the run; restarted it from its append-only file"

    # -- one cycle --------------------------------------------------------------------------------
    def plan(self) -> list[RowPlan]:
        sheet = self.catalog.read()
        sources.list_assets(self.asset_root, self.settings)  # a bucket: one listing, not N HEADs
        try:
            return plan_sheet(sheet, self.ctx)
        finally:
            sources.forget_assets(self.asset_root)

    def enqueue(self, plans: list[RowPlan]) -> dict[str, dict]:
        tasks = tasks_of(plans)
        if tasks:
            broker = self.connect()
            # A row whose result waits in Redis (its write-back failed, or has not run yet) is done:
            # queueing it again would only redo the job.
            waiting = broker.pending_results(self.key)
            todo = [
                t
                for s, t in tasks.items()
                if waiting.get(s, {}).get("fingerprint") != t["fingerprint"]
            ]
            broker.enqueue_many(todo)
        return tasks

    def finished(self, tasks: dict[str, dict] | None = None) -> dict[str, dict]:
        """Results waiting in Redis for this catalog (only those for `tasks`, if given)."""
        if self.broker is None:
            if (
                redis_url_from_env(self.settings)
                or (work_dir(self.out_root) / "redis.sock").exists()
            ):
                self.connect()
            else:
                return {}
        results = self.broker.pending_results(self.key)
        if tasks is not None:
            results = {
                s: r
                for s, r in results.items()
                if s in tasks and r["fingerprint"] == tasks[s]["fingerprint"]
            }
        return results

    def write_back(self, plans: list[RowPlan], results: dict[str, dict]) -> WriteReport:
        seen = {p.row.sku: p.row.get("fingerprint") for p in plans}
        audit = int(self.settings.get("audit_every") or 0)
        base = Path(self.catalog.default_assets) if hasattr(self.catalog, "path") else None
        updates = merge(
            [p.update for p in plans if p.update is not None],
            [result_update(r, audit, base, seen.get(s)) for s, r in results.items()],
        )
        report = self.catalog.write_back(updates) if updates else WriteReport()
        if results and self.broker is not None:
            written = set(report.written)
            self.broker.drop_results(
                self.key,
                {
                    s: r
                    for s, r in results.items()
                    if s in written or s in report.missing or s in report.refused
                },
            )
        return report

    def close(self, stop_redis: bool = True) -> None:
        self.ctx.hashes.save()
        self.ctx.drive.save()
        if self.embedded is not None and stop_redis:
            self.embedded.stop()


def gpu_worker_possible(settings) -> bool:
    """A local gpu worker can start: a GPU, or gpu_cpu_ok (tests, tiny models)."""
    if settings.get("gpu_cpu_ok"):
        return True
    try:
        from .imaging.diffusion import gpu_available
    except ImportError:
        return False
    return gpu_available()


def queues_for(tasks: dict[str, dict], settings) -> list[str]:
    queues = ["cpu"]
    if any(t.get("queue") == "gpu" for t in tasks.values()) and gpu_worker_possible(settings):
        queues.append("gpu")
    return queues


def without_gpu(session: SyncSession, tasks: dict[str, dict], queues: list[str]) -> dict[str, dict]:
    """gpu tasks no local worker can take: each row says so (an error the next sync retries)."""
    if "gpu" in queues:
        return {}
    stuck = {s: t for s, t in tasks.items() if t.get("queue") == "gpu"}
    for task in stuck.values():
        message = (
            "no GPU worker: scene/apparel need a GPU (or set gpu_cpu_ok to run on CPU, slowly); "
            "or run `vitrina-sync worker --queues gpu` on a GPU host with REDIS_URL"
        )
        publish_result(
            session.broker.conn, session.key, error_result(task, message, transient=True)
        )
    return stuck


def wait_for(
    session: SyncSession,
    tasks: dict[str, dict],
    workers: LocalWorkers,
    summary: Summary,
    progress: bool = True,
    timeout: float | None = None,
) -> dict[str, dict]:
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), unit="row", desc="rows", disable=not progress, leave=True)
    listener = results_listener(session)
    done: dict[str, dict] = {}
    last_check = last_progress = time.monotonic()
    attempts: Counter = Counter()
    try:
        while len(done) < len(tasks):
            try:
                results = session.finished(tasks)
                summary.notes.extend(workers.check(session.broker.conn))
                if time.monotonic() - last_check > 3:
                    last_check = time.monotonic()
                    reconcile(session, tasks, results, attempts, summary)
            except redis.ConnectionError:
                summary.notes.append(session.recover_redis())
                time.sleep(0.5)
                continue
            if len(results) > len(done):
                last_progress = time.monotonic()
            bar.update(len(results) - len(done))
            done = results
            if len(done) >= len(tasks):
                break  # the last result is in: no pause before write-back
            if timeout and time.monotonic() - last_progress > timeout:
                raise QueueError(
                    f"no progress for {timeout:.0f} s; {len(tasks) - len(done)} rows unfinished"
                )
            pause(listener, 0.2)
    finally:
        bar.close()
        if listener is not None:
            listener.close()
    return done


def results_listener(session: SyncSession):
    """A subscription to the catalog's result notes (queue.publish_result), or None."""
    try:
        listener = session.broker.conn.pubsub(ignore_subscribe_messages=True)
        listener.subscribe(results_channel(session.key))
        return listener
    except (redis.RedisError, OSError):
        return None


def pause(listener, seconds: float) -> None:
    """Until a worker publishes a result or `seconds` pass: the results hash stays what is read
    (a note only wakes us), so a missed note costs one poll interval, never a result."""
    deadline = time.monotonic() + seconds
    if listener is not None:
        try:
            while (left := deadline - time.monotonic()) > 0:
                # None also for the subscription's own confirmation: wait on until the deadline
                if listener.get_message(timeout=left) is not None:
                    while listener.get_message(timeout=0) is not None:  # several: one read
                        pass
                    return
            return
        except (redis.RedisError, OSError):
            pass  # a lost subscription (Redis restarted): poll
    time.sleep(max(0.0, deadline - time.monotonic()))


def reconcile(
    session: SyncSession, tasks: dict, results: dict, attempts: Counter, summary: Summary
) -> None:
    """A task with neither a result nor a live job (lost with Redis, failed without a callback) is queued
    again; outputs already on disk are reused, so nothing is redone."""
    conn = session.broker.conn
    waiting: dict[str, str] = {}  # job id -> SKU of the jobs whose status reads `queued`
    for sku, task in tasks.items():
        if sku in results:
            continue
        jid = job_id(sku, task["fingerprint"])
        raw = conn.hget(f"rq:job:{jid}", "status")
        status = raw.decode() if raw else "missing"
        if status == "queued":
            waiting[jid] = sku
            continue
        if status in ("started", "scheduled", "deferred"):
            continue
        attempts[sku] += 1
        if attempts[sku] > 3:
            publish_result(
                conn,
                session.key,
                error_result(task, f"processing failed: job {status} 3 times", True),
            )
            continue
        session.broker.enqueue(task)
        summary.notes.append(f"{sku}: job {status} without a result; queued again")
    requeue_lost_jobs(conn, waiting, attempts, summary)


def requeue_lost_jobs(conn, waiting: dict[str, str], attempts: Counter, summary: Summary) -> None:
    """Jobs that read `queued` but that no queue, intermediate queue or started registry holds,
    at two checks in a row (a live worker marks a job started within milliseconds of taking
    it), go back to their queue: their worker died in between, and nothing else would ever run
    them. `attempts` keeps the first sighting (key ("lost", job id))."""
    if not waiting:
        return
    holding = held(conn, QUEUES)
    lost = []
    for jid in waiting:
        key = ("lost", jid)
        if jid in holding:
            attempts.pop(key, None)
            continue
        attempts[key] += 1
        if attempts[key] >= 2:
            lost.append(jid)
    for jid in requeue_lost(conn, lost):
        attempts.pop(("lost", jid), None)
        summary.notes.append(f"{waiting[jid]}: job taken by a worker that died; queued again")


def summarise(
    plans: list[RowPlan], results: dict[str, dict], report: WriteReport, summary: Summary
) -> Summary:
    summary.rows = len(plans)
    for plan in plans:
        sku = plan.row.sku
        if sku in results:
            status, message = results[sku]["status"], results[sku].get("message", "")
            summary.reused += bool(results[sku].get("reused"))
            worker = results[sku].get("worker") or {}
            if worker.get("pid"):
                pid = worker["pid"]
                summary.model_loads[pid] = max(
                    summary.model_loads.get(pid, 0), worker.get("model_loads", 0)
                )
        elif plan.update is not None and "status" in plan.update.values:
            status, message = plan.update.values["status"], plan.update.values.get("message", "")
        else:
            status, message = plan.row.get("status") or "unknown", plan.row.get("message")
        summary.statuses[status] += 1
        summary.modes[plan.spec.mode if plan.spec else (plan.row.get("mode") or "white")] += 1
        if status == "error":
            summary.errors.append((sku or "(no SKU)", plan.row.number, message))
    summary.changed = len(report.written)
    summary.report = report
    summary.notes.extend(report.notes)
    return summary


def run(
    spec: str, settings, assets=None, out=None, workers: int | None = None, progress: bool = True
) -> Summary:
    """`vitrina-sync run`: everything in one go on this machine, then exit."""
    from . import template

    count = workers or int(settings.get("workers") or 2)
    template.prestart(template.worker_env(count))  # its imports overlap the reading and planning
    session = SyncSession(spec, settings, assets, out)
    summary = Summary()
    local = None
    try:
        plans = session.plan()
        tasks = tasks_of(plans)
        session.enqueue(plans)
        summary.queued = len(tasks)
        if tasks:  # forked from the template as it gets ready; the rows are queued by then
            queues = queues_for(tasks, settings)
            session.connect()
            local = LocalWorkers(session.url, min(count, len(tasks)), queues).start()
        results: dict[str, dict] = {}
        if local is not None:
            if not redis_url_from_env(settings):  # on a shared Redis, remote gpu workers take them
                without_gpu(session, tasks, queues)
            results = wait_for(session, tasks, local, summary, progress)
            summary.processed = len(results)
        report = session.write_back(plans, results)
        return summarise(plans, results, report, summary)
    finally:
        if local is not None:
            local.stop()
        template.discard()  # nothing to process: the prestarted template was not needed
        session.close()


def cycle(session: SyncSession) -> tuple[Summary, list[RowPlan], dict[str, dict]]:
    """One sync cycle: plan + enqueue, and write back (one batch) whatever has finished meanwhile."""
    plans = session.plan()
    tasks = session.enqueue(plans)
    finished = session.finished()
    current = {p.row.sku: p.fingerprint for p in plans}
    results = {s: r for s, r in finished.items() if current.get(s) == r["fingerprint"]}
    report = session.write_back(plans, results)
    summary = summarise(plans, results, report, Summary(queued=len(tasks), processed=len(results)))
    return summary, plans, results


def sync_once(session: SyncSession) -> Summary:
    """`vitrina-sync sync`: one cycle."""
    return cycle(session)[0]


def dumps_summary(summary: Summary) -> str:
    return json.dumps(
        {
            "rows": summary.rows,
            "statuses": dict(summary.statuses),
            "modes": dict(summary.modes),
            "errors": summary.errors,
            "queued": summary.queued,
            "changed": summary.changed,
        },
        ensure_ascii=False,
    )


__all__ = ["RowUpdate", "Summary", "SyncSession", "run", "sync_once"]
