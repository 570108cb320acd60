"""Steps shared by the object-storage tests: approve rows in an XLSX catalog, read a pack's manifest
URLs. (Plain functions over real files; the many-machines test extends the same flow.)"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from openpyxl import load_workbook

BIG_PRESETS = """
[white.default]
canvas = [1000, 1000]
"""
PEOPLE = ["SKU", "Source", "Mode", "Preset", "Marketplaces", "Category", "Decision", "Approver"]


def approve(catalog: Path, skus: set[str], who: str = "alice") -> None:
    """A reviewer's decision typed into the sheet (the next sync binds it to the fingerprint)."""
    wb = load_workbook(catalog)
    ws = wb.active
    head = [str(c.value or "").strip().lower() for c in ws[1]]
    col = {h: i for i, h in enumerate(head)}
    for row in ws.iter_rows(min_row=2):
        if str(row[0].value) in skus:
            row[col["decision"]].value = "approved"
            row[col["approver"]].value = who
    wb.save(catalog)


def manifest_urls(zip_path: Path) -> list[str]:
    """Every http(s) string in every JSON manifest of a pack (not the report)."""
    urls: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            urls.append(value)

    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if name.endswith(".json") and name != "report.json":
                walk(json.loads(zf.read(name)))
    return urls
