"""Finished results -> machine cells (pure). The sync process is the ONE writer of a catalog."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .catalog.model import RowUpdate

RESULT_KEYS = ("status", "result", "ai_version", "qa", "audit", "fingerprint", "message", "updated")


def audited(sku: str, every: int) -> bool:
    """Every Nth row by a hash of its SKU: deterministic, so re-runs mark the same rows."""
    return every > 0 and int(hashlib.sha256(sku.encode()).hexdigest()[:8], 16) % every == 0


def display_path(path: str, base: Path | None) -> str:
    if not path or base is None:
        return path
    try:
        return (
            os.path.relpath(path, base)
            if Path(path).is_relative_to(base.resolve()) or Path(path).is_relative_to(base)
            else path
        )
    except ValueError:
        return path


def result_values(result: dict, audit_every: int, base: Path | None) -> dict[str, str]:
    message = result.get("message", "")
    if result.get("reopened") and result.get("status") != "error":
        message = "; ".join(filter(None, [f"review re-opened: {result['reopened']}", message]))
    return {
        "status": result.get("status", "error"),
        "result": display_path(result.get("result", ""), base),
        "ai_version": result.get("ai_version", ""),
        "qa": result.get("qa", ""),
        "audit": "audit"
        if result.get("status") != "error" and audited(result["sku"], audit_every)
        else "",
        # A transient failure keeps no fingerprint, so the next sync plans the row again.
        "fingerprint": "" if result.get("transient") else result["fingerprint"],
        "message": message,
        "updated": result.get("updated", ""),
    }


def result_update(
    result: dict, audit_every: int, base: Path | None, seen_fp: str | None = None
) -> RowUpdate:
    """The cells of a finished result, guarded: written only where the row's Fingerprint is still the one
    this result was made for (or the one the planner saw when it queued the job)."""
    allowed = tuple(fp for fp in (result["fingerprint"], seen_fp) if fp is not None)
    values = result_values(result, audit_every, base)
    return RowUpdate(result["sku"], values, expect_fingerprint=allowed)


def merge(plan_updates: list[RowUpdate], result_updates: list[RowUpdate]) -> list[RowUpdate]:
    """One batch: a result supersedes its row's planned 'queued' cells."""
    done = {u.sku for u in result_updates}
    return [u for u in plan_updates if u.sku not in done or not u.sku] + result_updates
