"""Which catalog rows go into a pack: approved, bound to the fingerprint of the source as it is now.

The rule itself lives in vitrina_sync.plan.pack_eligibility (it recomputes the fingerprint from
the source file at pack time); this module only calls it, so a photo replaced after approval is
never shipped under the old approval, and every row left out says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..decisions import parse_decision
from .base import PackItem

ID_KEYS = ("wb_nmid", "ozon_offer_id", "kaspi_sku")
# What people type in the Marketplaces column, per marketplace name.
ALIASES = {
    "wildberries": {"wildberries", "wb", "вб", "вайлдберриз", "валдберис"},
    "ozon": {"ozon", "озон"},
    "kaspi": {"kaspi", "каспи", "kaspi.kz"},
}

Eligibility = Callable[[Any], tuple[bool, str, str]]  # row -> (ok, reason, fingerprint)


def plan_check(settings, asset_root, out_root: Path, storage=None) -> Eligibility:
    """plan.pack_eligibility bound to a PlanContext built once per pack.

    The hash cache is in memory only: at pack time every source is hashed as it is on disk now.
    """
    from .. import plugins
    from ..drive.sources import DriveSources, drive_ids
    from ..fingerprint import FileHashCache
    from ..plan import PlanContext, pack_eligibility
    from ..storage import root_location

    known = {"kaspi", "wildberries", "ozon"} | set(plugins.marketplaces())
    ctx = PlanContext(
        settings,
        root_location(asset_root),
        Path(out_root).resolve(),
        plugins.modes(),
        known,
        FileHashCache(),
        drive=DriveSources(settings),  # in memory: each Drive row's metadata as it is now
        storage=root_location(storage or out_root),
    )

    def check(row):
        return pack_eligibility(row, ctx)

    def prepare(rows) -> None:  # Drive rows' metadata in batches of 100, not one request a row
        ctx.drive.refresh(drive_ids(row.get("source") for row in rows))

    check.prepare = prepare
    return check


def output_dir(out_root: Path, sku: str, fingerprint: str) -> Path:
    """Where the job stored the row's outputs (store.output_dir owns the layout)."""
    from ..store import output_dir as store_output_dir

    return Path(store_output_dir(out_root, sku, fingerprint))


def wanted(row, market: str) -> bool:
    """An empty Marketplaces cell means every marketplace; otherwise the list must name this one."""
    cell = row.get("marketplaces").strip()
    if not cell:
        return True
    names = {p.strip().casefold() for p in cell.replace(";", ",").split(",")}
    return bool(names & ALIASES.get(market, {market}))


def select_items(
    rows: Iterable,
    market: str,
    check: Eligibility,
    out_root: Path,
    out_dir_for: Callable[[Path, str, str], Path] = output_dir,
) -> tuple[list[PackItem], list[dict]]:
    """PackItems for the eligible rows, and {sku, row, reason} for every other row."""
    items, skipped = [], []
    rows = list(rows)
    if hasattr(check, "prepare"):
        check.prepare([row for row in rows if row.sku.strip() and wanted(row, market)])
    for row in rows:
        sku = row.sku.strip()
        if not sku:
            skipped.append({"sku": "", "row": row.number, "reason": "no SKU"})
            continue
        if not wanted(row, market):
            skipped.append(
                {
                    "sku": sku,
                    "row": row.number,
                    "reason": f"Marketplaces column does not list {market}",
                }
            )
            continue
        ok, reason, fingerprint = check(row)
        if not ok:
            skipped.append({"sku": sku, "row": row.number, "reason": reason})
            continue
        ids = {k: row.get(k).strip() for k in ID_KEYS if row.get(k).strip()}
        items.append(
            PackItem(
                sku,
                fingerprint,
                out_dir_for(out_root, sku, fingerprint),
                ids,
                row.number,
                parse_decision(row.get("decision")).variant,
            )
        )
    return items, skipped
