"""A reviewer's decision, written into the sheet row on their behalf, bound to the picture they saw.

The write goes through the catalog's SKU-keyed write-back with expect_fingerprint = the
fingerprint that was on screen: if the row was re-generated (or its source changed) meanwhile,
the adapter refuses it and nothing is written. Decisions made here are also appended to
<work>/review-log.jsonl, which keeps the history of a SKU (and an audit row's first approval,
which must not reach the sheet until a second reviewer confirms it).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from .. import decisions
from ..catalog.model import Row, RowUpdate
from ..errors import VitrinaError

_log_lock = threading.Lock()
LOCK_WAIT = 30.0  # seconds a decision waits for the sync loop's write-back of the same catalog


@dataclass
class Outcome:
    ok: bool
    message: str


@dataclass
class Request:
    """What the reviewer submitted from the compare page."""

    sku: str
    fp_on_screen: str
    verdict: str  # "approved" | "rejected"
    reviewer: str
    reason: str = ""
    note: str = ""
    variant: int = 1


class ReviewLog:
    """Append-only JSON lines; small enough to read whole for one SKU's history."""

    def __init__(self, path: Path):
        self.path = path

    def append(self, entry: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
        with _log_lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def entries(self, sku: str) -> list[dict]:
        try:
            lines = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: skip it, keep the rest
            if entry.get("sku") == sku:
                out.append(entry)
        return out

    def first_approval(self, sku: str, fp: str) -> dict | None:
        """The pending first approval of an audit row's current picture, if any."""
        pending = None
        for entry in self.entries(sku):
            if entry.get("fp") != fp:
                continue
            pending = entry if entry.get("kind") == "first-approval" else None
        return pending


def cells(req: Request, approver: str, today: dt.date) -> dict[str, str]:
    """The people's review cells, as a reviewer would type them."""
    if req.verdict == "approved":
        decision = "approved" if req.variant <= 1 else f"approved {req.variant}"
        reason = ""
    else:
        decision = "rejected"
        reason = ": ".join(p for p in (req.reason.strip(), req.note.strip()) if p)
    return {
        "decision": decision,
        "approver": approver,
        "review_date": today.isoformat(),
        "reject_reason": reason,
    }


def update_for(row: Row, req: Request, approver: str, today: dt.date) -> RowUpdate:
    review = cells(req, approver, today)
    after = Row(row.number, {**row.values, **review})
    message = f"rejected: {review['reject_reason']}" if req.verdict == "rejected" else ""
    values = {
        **review,
        "status": req.verdict,
        "message": message,
        "decision_fp": decisions.binding(req.fp_on_screen, after),
    }
    return RowUpdate(req.sku, values, expect_fingerprint=req.fp_on_screen)


def check(row: Row | None, req: Request) -> str:
    """Why this decision cannot be written, or '' when it can be tried."""
    if row is None:
        return gone_message(req.sku)
    if row.get("fingerprint") != req.fp_on_screen:
        return changed_message(req)
    if row.get("status") not in ("needs_review", "approved", "rejected"):
        from .review_data import status_name

        return _(
            "%(sku)s is %(status)s now, not waiting for review; nothing was written.",
            sku=req.sku,
            status=_(status_name(row.get("status"))) if row.get("status") else _("not finished"),
        )
    if req.verdict == "rejected" and not (req.reason.strip() or req.note.strip()):
        return _("A rejection needs a reason.")
    return ""


def changed_message(req: Request) -> str:
    return _(
        "Refused: %(sku)s changed since this page was opened (the picture you saw, %(fp)s, is "
        "no longer the row's). Nothing was written; look at the new picture.",
        sku=req.sku,
        fp=req.fp_on_screen[:12],
    )


def gone_message(sku: str) -> str:
    return _("%(sku)s is no longer in the sheet (or appears twice); nothing was written.", sku=sku)


def decide(
    cstate,
    row: Row | None,
    req: Request,
    log: ReviewLog,
    audit_second: bool,
    today: dt.date | None = None,
) -> Outcome:
    today = today or dt.date.today()
    problem = check(row, req)
    if problem:
        return Outcome(False, problem)
    approver = req.reviewer
    if req.verdict == "approved" and audit_second and row.get("audit"):
        first = log.first_approval(req.sku, req.fp_on_screen)
        if first is None:
            log.append(_entry(req, "first-approval", today))
            return Outcome(
                True,
                _(
                    "%(sku)s is an audit row: your approval is recorded; a second reviewer must "
                    "approve it before it is written to the sheet.",
                    sku=req.sku,
                ),
            )
        if first.get("reviewer") == req.reviewer:
            return Outcome(
                False,
                _(
                    "You approved %(sku)s already; an audit row needs a second reviewer other "
                    "than you.",
                    sku=req.sku,
                ),
            )
        approver = f"{first['reviewer']} + {req.reviewer}"
    return _write(cstate, update_for(row, req, approver, today), req, log, today)


def locked_write(cstate, update: RowUpdate, review: bool):
    """Write one update as the sync loop's peer: it holds cycle_lock while it plans and writes back,
    so there is one writer of the catalog at a time. Returns a WriteReport, or an Outcome saying why
    nothing was written."""
    lock = getattr(cstate, "cycle_lock", None) or getattr(cstate, "lock", None)
    if lock is not None and not lock.acquire(timeout=LOCK_WAIT):
        return Outcome(
            False, _("The catalog is busy with a sync; nothing was written. Try again in a moment.")
        )
    try:
        return cstate.session.catalog.write_back([update], review=review)
    except VitrinaError as exc:
        return Outcome(False, _("Nothing was written: %(why)s", why=exc))
    finally:
        if lock is not None:
            lock.release()


def _write(cstate, update: RowUpdate, req: Request, log: ReviewLog, today: dt.date) -> Outcome:
    report = locked_write(cstate, update, review=True)
    if isinstance(report, Outcome):
        return report
    if req.sku in report.refused:
        return Outcome(False, changed_message(req))
    if req.sku not in report.written:
        return Outcome(False, gone_message(req.sku))
    log.append(
        {
            **_entry(req, "decision", today),
            "approver": update.values["approver"],
            "decision": update.values["decision"],
            "reason": update.values["reject_reason"],
        }
    )
    who = update.values["approver"]
    if req.verdict == "approved":
        return Outcome(True, _("%(sku)s: approved by %(approver)s.", sku=req.sku, approver=who))
    return Outcome(True, _("%(sku)s: rejected by %(approver)s.", sku=req.sku, approver=who))


def _entry(req: Request, kind: str, today: dt.date) -> dict:
    return {
        "sku": req.sku,
        "fp": req.fp_on_screen,
        "kind": kind,
        "reviewer": req.reviewer,
        "verdict": req.verdict,
        "date": today.isoformat(),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def regenerate(cstate, sku: str, fp_on_screen: str, reviewer: str, log: ReviewLog) -> Outcome:
    """A new seed: bump the row's Seed cell (a machine column, guarded by the fingerprint on screen).

    The seed is an input of the fingerprint, so the next sync cycle (woken now) plans the row again
    and a new picture goes to review; the old one stays in the history.
    """
    from ..rows import seed_offset

    session = cstate.session
    row = next((r for r in session.catalog.read().rows if r.sku == sku), None)
    if row is None or row.get("fingerprint") != fp_on_screen:
        return Outcome(False, changed_message(Request(sku, fp_on_screen, "", reviewer)))
    seed = seed_offset(row.get("seed")) + 1
    update = RowUpdate(sku, {"seed": str(seed)}, expect_fingerprint=fp_on_screen)
    report = locked_write(cstate, update, review=False)
    if isinstance(report, Outcome):
        return report
    if sku not in report.written:
        return Outcome(False, changed_message(Request(sku, fp_on_screen, "", reviewer)))
    log.append(
        {
            "sku": sku,
            "fp": fp_on_screen,
            "kind": "regenerate",
            "seed": seed,
            "reviewer": reviewer,
            "date": dt.date.today().isoformat(),
        }
    )
    state = current_app_state()
    if state is not None:
        state.trigger_sync()
    return Outcome(
        True,
        _(
            "%(sku)s: new seed (offset %(seed)s) queued; the new picture will come to review.",
            sku=sku,
            seed=seed,
        ),
    )


def current_app_state():
    from flask import current_app, has_app_context

    return current_app.extensions.get("vitrina") if has_app_context() else None
