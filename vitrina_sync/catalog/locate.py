"""Where each RowUpdate lands in the sheet as it is NOW (pure; shared by every adapter).

People insert, delete and sort rows while jobs run, so updates never carry a row number alone:
each is re-found by SKU in a fresh read of the keys right before writing. A SKU that vanished is
skipped and reported, a guard that no longer holds refuses the update, duplicates are written only
when the update says so (the duplicate error itself).
"""

from __future__ import annotations

from collections import defaultdict

from ..columns import MACHINE_KEYS, REVIEW_KEYS
from .model import RowUpdate, Sheet, WriteReport

Cell = tuple[int, str, str]  # (1-based sheet row, column key, text)


def locate(
    updates: list[RowUpdate], sheet: Sheet, *, review: bool = False
) -> tuple[list[Cell], WriteReport]:
    """Cells to write for `updates` against `sheet` (a fresh read) and what was skipped and why."""
    allowed = set(MACHINE_KEYS) | (set(REVIEW_KEYS) if review else set())
    by_sku: dict[str, list] = defaultdict(list)
    by_number = {}
    for row in sheet.rows:
        by_sku[row.sku].append(row)
        by_number[row.number] = row
    cells: list[Cell] = []
    report = WriteReport()
    for update in updates:
        illegal = set(update.values) - allowed
        if illegal:
            raise ValueError(f"refusing to write people's columns {sorted(illegal)}")
        targets = _targets(update, by_sku, by_number)
        if targets is None:
            report.missing.append(update.sku or f"row {update.row_hint}")
            continue
        expected = update.expect_fingerprint
        if isinstance(expected, str):
            expected = (expected,)
        if expected is not None and any(row.get("fingerprint") not in expected for row in targets):
            report.refused.append(update.sku)
            continue
        for row in targets:
            cells.extend((row.number, key, value) for key, value in update.values.items())
        report.written.append(update.sku or f"row {update.row_hint}")
    return cells, report


def _targets(update: RowUpdate, by_sku, by_number):
    if update.sku and not update.row_hint:
        rows = by_sku.get(update.sku, [])
        if not rows or (len(rows) > 1 and not update.all_duplicates):
            return None
        return rows
    row = by_number.get(update.row_hint) if update.row_hint else None
    if row is None or row.sku != update.sku:
        return None
    if update.match and any(row.get(k) != v for k, v in update.match.items()):
        return None
    return [row]
