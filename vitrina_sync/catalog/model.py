"""Plain data shared by every catalog adapter (XLSX, Google Sheets, CSV)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Protocol

from ..columns import map_headers


def cell_text(value: object) -> str:
    """A cell as the text a person typed: numbers without a spurious '.0', dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value).strip()


@dataclass
class Row:
    number: int  # 1-based row number in the sheet, as read (rows move; never write by it alone)
    values: dict[str, str]  # canonical column key -> cell text

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    @property
    def sku(self) -> str:
        return self.get("sku")


@dataclass
class Sheet:
    """One read of a catalog: headers, where each known column is, and the rows under them."""

    headers: list[str]
    columns: dict[str, int]  # canonical key -> 0-based column index
    rows: list[Row]
    header_row: int = 1
    problems: list[str] = field(default_factory=list)
    version: str = ""  # identifies this read (file hash, sheet revision)

    @classmethod
    def from_values(
        cls, values: list[list[object]], header_row: int = 1, version: str = ""
    ) -> Sheet:
        """Build from a grid of cells whose first row (header_row) holds the headers."""
        headers = [cell_text(v) for v in values[0]] if values else []
        columns, problems = map_headers(headers)
        rows = []
        for offset, raw in enumerate(values[1:], start=1):
            row_values = {
                key: cell_text(raw[idx]) if idx < len(raw) else "" for key, idx in columns.items()
            }
            if any(row_values.values()):
                rows.append(Row(header_row + offset, row_values))
        return cls(headers, columns, rows, header_row, problems, version)


@dataclass
class RowUpdate:
    """Cells to write into the row whose SKU is `sku`, re-found at write time.

    values: canonical key -> text. Only machine columns, unless the adapter is asked to write review
    columns on a signed-in reviewer's behalf. expect_fingerprint: write only if the row's Fingerprint
    cell still holds this value (or one of these values): a result for the inputs it was made from, a
    decision bound to the picture the reviewer saw. For rows with no
    usable SKU (empty, duplicate) `row_hint` + `match` locate the row instead: it is written only if
    the row at row_hint still has exactly the `match` people's values.
    """

    sku: str
    values: dict[str, str]
    expect_fingerprint: str | tuple[str, ...] | None = None
    all_duplicates: bool = False
    row_hint: int | None = None
    match: dict[str, str] | None = None


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)  # SKUs (or "row N") written
    missing: list[str] = field(default_factory=list)  # SKUs no longer in the sheet: skipped
    refused: list[str] = field(default_factory=list)  # guard failed (row changed meanwhile)
    appended_columns: list[str] = field(default_factory=list)
    retries: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. openpyxl features lost, lock waits

    @property
    def changed(self) -> bool:
        return bool(self.written or self.appended_columns)


class Catalog(Protocol):
    """What every catalog adapter offers. Plain data in, plain data out."""

    spec: str
    default_assets: str  # folder Source paths resolve against when no --assets is given
    default_out: str

    def read(self) -> Sheet: ...

    def write_back(self, updates: list[RowUpdate], *, review: bool = False) -> WriteReport: ...
