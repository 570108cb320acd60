"""RQ jobs: importable module-level functions taking plain data.

process_row never raises for a bad row: every problem becomes a result with status `error` and a
clear Message, so one broken image never stops the batch or crashes a worker. Results are also
published to the catalog's results hash for the single writer.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import traceback
from functools import lru_cache

from . import store
from .errors import RowError, StorageError, VitrinaError
from .modes.base import ModeContext
from .settings import Settings
from .storage import open_storage

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _modes() -> dict:
    from .plugins import modes

    return modes()


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def base_result(task: dict) -> dict:
    from .imaging.cutout import LOAD_COUNT

    # worker: which process made it and how many model sessions that process has created so far
    # (benchmarks and tests check models load once per worker process, never per job).
    return {
        "sku": task["sku"],
        "fingerprint": task["fingerprint"],
        "mode": task["mode"],
        "reopened": task.get("reopened", ""),
        "updated": now_text(),
        "worker": {"pid": os.getpid(), "model_loads": LOAD_COUNT["n"]},
    }


def error_result(task: dict, message: str, transient: bool = False) -> dict:
    """transient: not the row's fault (a bug, a timeout, a dead worker): the next sync tries again."""
    return {
        **base_result(task),
        "status": "error",
        "message": message,
        "qa": "",
        "result": "",
        "ai_version": "",
        "transient": transient,
    }


def _load(task: dict, settings: Settings):
    from .sources import load

    return load(task["source"], settings)


def make_output(task: dict) -> dict:
    """Run the row's mode and store its output; RowError for anything wrong with the row."""
    settings = Settings(task.get("settings") or {})
    storage = open_storage(task["out_root"], settings)
    folder = store.folder_path(storage, task["sku"], task["fingerprint"])
    done = store.load_result_at(storage, folder)
    if done is not None:  # finished before (a re-run after a crash): reuse, never redo
        return {
            **done,
            **base_result(task),
            "result": store.result_location(storage, folder, done["files"]["main"]),
            "reused": True,
        }
    mode = _modes().get(task["mode"])
    if mode is None:
        raise RowError(f"mode {task['mode']!r} is not installed on this worker")
    loaded, source_path, source_bytes = _load(task, settings)
    strokes = list(task.get("strokes") or [])
    ctx = ModeContext(
        task["sku"],
        task["fingerprint"],
        task["preset"],
        settings,
        task.get("category", ""),
        strokes,
    )
    output = mode.process(loaded, ctx)
    flags = list(output.qa.get("flags") or [])
    message = "; ".join(flags + loaded.notes)
    result = {
        **base_result(task),
        "status": "needs_review",
        "message": message,
        "flags": flags,
        "qa": output.qa.get("summary") or ("ok" if not flags else " | ".join(flags)),
        "ai_version": output.ai_version,
    }
    meta = {
        "sku": task["sku"],
        "fingerprint": task["fingerprint"],
        "preset_name": task["preset_name"],
        "preset": task["preset"],
        "notes": loaded.notes,
        "result": result,
    }
    if task.get("source_version"):  # what planning keyed this source by (ETag, Drive md5)
        meta["source_version"] = task["source_version"]
    fmt = task["preset"].get("format", "JPEG")
    files = store.write_output_to(
        storage, folder, source_path, source_bytes, output, fmt, meta, strokes
    )
    return {
        **result,
        "result": store.result_location(storage, folder, files["main"]),
        "files": files,
    }


def process_row(task: dict) -> dict:
    try:
        result = make_output(task)
    except StorageError:  # not the row's fault: RQ retries the job, then on_job_failure says so
        note_storage_failure(task)
        raise
    except VitrinaError as exc:  # `retry`: Drive over quota or away, so the next sync tries again
        result = error_result(task, str(exc), transient=bool(getattr(exc, "retry", False)))
    except MemoryError:
        result = error_result(task, "out of memory while processing this image", transient=True)
    except Exception as exc:  # noqa: BLE001 - a bug must not crash the worker or lose the row: say what happened
        log.error("job %s failed:\n%s", task.get("sku"), traceback.format_exc())
        result = error_result(task, f"internal error: {type(exc).__name__}: {exc}", transient=True)
    _publish(task, result)
    return result


def note_storage_failure(task: dict) -> None:
    """Count it where /api/status reads it (queue.storage_failures)."""
    from rq import get_current_job

    from .queue import count_storage_failure

    job = get_current_job()
    if job is not None:
        count_storage_failure(job.connection, task.get("catalog_key", ""))


def _publish(task: dict, result: dict) -> None:
    from rq import get_current_job

    from .queue import publish_result

    job = get_current_job()
    if job is not None and task.get("catalog_key"):
        publish_result(job.connection, task["catalog_key"], result)


def on_job_failure(job, connection, exc_type, exc_value, tb) -> None:
    """RQ failure callback (timeouts, abandoned jobs of killed workers): the row gets an error result,
    unless RQ still has retries for it."""
    if job.retries_left:
        return
    task = job.args[0]
    name = getattr(exc_type, "__name__", "failure")
    reason = {
        "JobTimeoutException": "took longer than the job timeout",
        "AbandonedJobError": "its worker died and retries ran out",
    }.get(name, f"{name}: {exc_value}")
    from .queue import publish_result

    publish_result(
        connection,
        task["catalog_key"],
        error_result(task, f"processing failed: {reason}", transient=True),
    )
