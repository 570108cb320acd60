"""Planning (pure apart from hashing source files): what each row needs in this sync.

Actions: enqueue (inputs changed, new, or an unfinished earlier run), unchanged, invalid (a row
error, written as status error), decision (a reviewer's new decision to bind to the current
fingerprint). Each plan carries the machine cells to write now; an unchanged row carries none.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import decisions, touchup
from .catalog.model import Row, RowUpdate, Sheet
from .drive.links import is_drive_source, source_id
from .drive.sources import drive_ids
from .errors import RowError, shown
from .fingerprint import FileHashCache, fingerprint
from .paths import is_url
from .rows import RowSpec, parse_row
from .sources import kind
from .storage import STORAGE_SETTINGS

log = logging.getLogger(__name__)

MAX_MESSAGE = 500
FINAL = {"needs_review", "approved", "rejected", "error"}
WORK_SETTINGS = (
    "max_pixels",
    "max_source_bytes",
    "model_dir",
    "default_model",
    "categories",
    "gpu_cpu_ok",
    "allow_urls",
    "url_allowlist",
    "job_timeout",
    "diffusion_downloads",
    "onnx_threads",
    "google_credentials",  # Drive sources: the worker reads them with the sheet's service account
    "google_drive_url",
    "google_retry_attempts",
    "google_retry_base",
    *STORAGE_SETTINGS,
)


@dataclass
class PlanContext:
    settings: Any
    asset_root: Path | str  # a folder, or an s3:// URL (storage.is_remote)
    out_root: Path  # this machine's work folder (touch-ups, caches)
    modes: dict  # name -> Mode
    marketplaces: set[str]
    hashes: FileHashCache = field(default_factory=FileHashCache)
    catalog_key: str = ""
    touched: frozenset[str] | None = None  # touchup.drawn(), listed once per plan_sheet
    drive: Any = None  # drive.sources.DriveSources, for rows whose Source is a Drive link
    storage: Path | str = ""  # where outputs go (the `storage` setting); empty = out_root


@dataclass
class RowPlan:
    row: Row
    action: str
    message: str = ""
    spec: RowSpec | None = None
    fingerprint: str = ""
    update: RowUpdate | None = None
    task: dict | None = None


def source_sha(spec: RowSpec, hashes: FileHashCache, drive=None) -> str:
    if is_drive_source(spec.source):  # Drive's md5Checksum, from metadata: no bytes downloaded
        if drive is None:
            raise RowError("Google Drive sources are not available here")
        return drive.fingerprint_of(source_id(spec.source))
    if spec.source_version:  # the storage's own content version (ETag): no bytes read
        return spec.source_version
    if is_url(spec.source):  # content is fetched by the job; the URL itself is the input here
        return "url:" + hashlib.sha256(spec.source.encode()).hexdigest()
    return hashes.sha256(spec.source)


def row_fingerprint(spec: RowSpec, ctx: PlanContext) -> str:
    return row_inputs(spec, ctx)[0]


def row_inputs(spec: RowSpec, ctx: PlanContext) -> tuple[str, str, list[dict]]:
    """(fingerprint, source key, touch-up strokes): the source key is what stands for the source's
    content (source_sha); strokes count only where drawn on the source as it is now."""
    mode = ctx.modes[spec.mode]
    sha = source_sha(spec, ctx.hashes, ctx.drive)
    strokes = (
        touchup.load(ctx.out_root, spec.sku, sha, ctx.touched)
        if getattr(mode, "takes_strokes", False)
        else []
    )
    fp = fingerprint(
        spec.mode,
        mode.version,
        spec.preset_name,
        spec.preset,
        sha,
        touchup.digest(strokes) if strokes else "",
    )
    return fp, sha, strokes


def _invalid(row: Row, message: str, all_duplicates: bool = False) -> RowPlan:
    if len(message) > MAX_MESSAGE:  # a cell's text quoted whole would outgrow Excel's cell limit
        message = message[: MAX_MESSAGE - 1] + "…"
    if (
        row.get("status") == "error"
        and row.get("message") == message
        and not row.get("fingerprint")
    ):
        return RowPlan(row, "invalid", message)  # already says so: nothing to write
    values = {"status": "error", "message": message, "fingerprint": ""}
    update = RowUpdate(row.sku, values, all_duplicates=all_duplicates)
    if not row.sku:
        update = RowUpdate("", values, row_hint=row.number, match={"source": row.get("source")})
    return RowPlan(row, "invalid", message, update=update)


def _task(spec: RowSpec, fp: str, sha: str, ctx: PlanContext, reopened: str, strokes=()) -> dict:
    task = {
        "sku": spec.sku,
        "fingerprint": fp,
        "source": spec.source,
        "mode": spec.mode,
        "preset_name": spec.preset_name,
        "preset": spec.preset,
        "category": spec.category,
        "out_root": str(ctx.storage or ctx.out_root),  # the workers' output location
        "catalog_key": ctx.catalog_key,
        "queue": getattr(ctx.modes[spec.mode], "queue", "cpu"),
        "reopened": reopened,
        "settings": {k: ctx.settings.get(k) for k in WORK_SETTINGS if k in ctx.settings},
    }
    if strokes:  # a reviewer's touch-up: hard constraints on the mask (imaging.strokes)
        task["strokes"] = list(strokes)
    if kind(spec.source) in ("s3", "drive"):  # the storage's version (ETag, Drive md5), not a
        task["source_version"] = sha  # hash of the bytes: qa.json keeps it for review_touchup
    return task


def _decision_plan(row: Row, spec: RowSpec, fp: str) -> RowPlan:
    """A finished row: bind a new decision, follow a cleared one, or leave it alone."""
    decision = spec.decision
    status = row.get("status")
    bound_sig = row.get("decision_fp").partition(":")[2]
    if decision.verdict and bound_sig != decisions.signature(row):
        values = {
            "status": decision.verdict,
            "decision_fp": decisions.binding(fp, row),
            "message": "",
        }
        if decision.verdict == "rejected" and row.get("reject_reason"):
            values["message"] = f"rejected: {row.get('reject_reason')}"
        return RowPlan(
            row, "decision", spec=spec, fingerprint=fp, update=RowUpdate(row.sku, values)
        )
    bound = decisions.bound_state(row, fp, decision)
    if status in ("approved", "rejected") and bound != status:
        values = {
            "status": bound or "needs_review",
            "decision_fp": row.get("decision_fp") if bound else "",
        }
        return RowPlan(
            row, "decision", spec=spec, fingerprint=fp, update=RowUpdate(row.sku, values)
        )
    return RowPlan(row, "unchanged", spec=spec, fingerprint=fp)


def plan_row(row: Row, ctx: PlanContext) -> RowPlan:
    """The row's plan; whatever its cells hold, a bad row becomes an `invalid` plan, never an
    exception (one row must not stop the sync of the others)."""
    try:
        return _plan_parsed(row, ctx)
    except RowError as exc:
        return _invalid(row, str(exc))
    except OSError as exc:
        return _invalid(row, f"source file unreadable: {shown(row.get('source'))} ({exc.strerror})")
    except Exception as exc:  # a bug must cost one row, not the catalog's sync
        log.exception("row %d (SKU %s) could not be planned", row.number, shown(row.sku))
        return _invalid(row, f"this row could not be read ({type(exc).__name__}: {exc})")


def _plan_parsed(row: Row, ctx: PlanContext) -> RowPlan:
    spec = parse_row(row, ctx.asset_root, ctx.settings, ctx.modes, ctx.marketplaces)
    fp, sha, strokes = row_inputs(spec, ctx)
    stored, status = row.get("fingerprint"), row.get("status")
    if stored == fp and status in FINAL:
        if status == "error":
            return RowPlan(row, "unchanged", row.get("message"), spec, fp)
        return _decision_plan(row, spec, fp)
    reopened = ""
    if (
        stored
        and stored != fp
        and (status == "approved" or decisions.bound_state(row, stored, spec.decision))
    ):
        what = "source or touch-up" if strokes else "source"  # strokes: the reviewer's re-cut
        reopened = f"{what} changed after {decisions.describe_old_approval(row)}; review again"
    values = {"status": "queued", "fingerprint": fp, "message": reopened}
    if row.get("decision") and row.get("decision_fp").partition(":")[2] != decisions.signature(row):
        # A decision nobody bound yet was made for an earlier picture: never let it approve the new one.
        values["decision_fp"] = f"{(stored or '-')[:12]}:{decisions.signature(row)}"
    changed = any(row.get(k) != v for k, v in values.items())
    update = RowUpdate(row.sku, values) if changed else None
    return RowPlan(
        row, "enqueue", reopened, spec, fp, update, _task(spec, fp, sha, ctx, reopened, strokes)
    )


def plan_sheet(sheet: Sheet, ctx: PlanContext) -> list[RowPlan]:
    counts = Counter(row.sku for row in sheet.rows if row.sku)
    where = defaultdict(list)
    for row in sheet.rows:
        where[row.sku].append(row.number)
    if ctx.drive is not None:  # every Drive row's metadata at once: O(1) requests when unchanged
        ctx.drive.refresh(drive_ids(row.get("source") for row in sheet.rows))
    plans = []
    ctx.touched = touchup.drawn(ctx.out_root)
    try:
        for row in sheet.rows:
            if row.sku and counts[row.sku] > 1:
                rows = ", ".join(str(n) for n in where[row.sku])
                message = f"duplicate SKU {shown(row.sku)} (rows {rows})"
                plans.append(_invalid(row, message, all_duplicates=True))
            else:
                plans.append(plan_row(row, ctx))
    finally:
        ctx.touched = None  # a single plan_row later (a pack, a review) looks at the files again
    ctx.hashes.save()
    if ctx.drive is not None:
        ctx.drive.save()
    return plans


def pack_eligibility(row: Row, ctx: PlanContext) -> tuple[bool, str, str]:
    """(ok, reason, fingerprint): approved, and bound to the fingerprint of the source AS IT IS NOW."""
    try:
        spec = parse_row(row, ctx.asset_root, ctx.settings, ctx.modes, ctx.marketplaces)
        fp = row_fingerprint(spec, ctx)
    except (RowError, OSError) as exc:
        return False, f"row error: {exc}", ""
    if row.get("status") != "approved":
        return False, f"not approved (status {row.get('status') or 'empty'})", fp
    if row.get("fingerprint") != fp:
        return False, "source or settings changed after approval: approval is stale", fp
    if decisions.bound_state(row, fp, spec.decision) != "approved":
        return False, "decision is not bound to the current picture: review again", fp
    return True, "approved", fp
