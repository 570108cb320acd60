"""A real spreadsheet application opens what the write-back wrote (LibreOffice, where installed:
`apt-get install libreoffice-calc-nogui`; skipped otherwise)."""

from __future__ import annotations

import csv
import shutil
import subprocess

import pytest
from openpyxl import Workbook

from vitrina_sync.catalog import RowUpdate, open_catalog

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")


def test_libreoffice_reads_the_patched_workbook_and_its_formulas(tmp_path, settings):
    wb = Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(["SKU", "Source", "Notes"])
    ws.append(["00123", "photos/mug.jpg", "keep"])
    ws.append(["B-2", "photos/bag.jpg", None])
    ws["A2"].data_type = "s"
    prices = wb.create_sheet("Prices")
    prices.append(["SKU", "Price", "VAT"])
    prices.append(["00123", 100, "=B2*1.2"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    report = open_catalog(str(path), settings).write_back(
        [
            RowUpdate("B-2", {"status": "needs_review", "qa": "=1+1 | ok"}),
            RowUpdate("00123", {"message": "ünïcode ✓"}),
        ]
    )
    assert any("patched" in n for n in report.notes), report.notes
    out = tmp_path / "lo"
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            str(path),
            "--outdir",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rows = list(csv.DictReader((out / "c-Catalog.csv").open(encoding="utf-8")))
    assert (
        rows[0]["SKU"] == "00123"
        and rows[0]["Notes"] == "keep"
        and rows[0]["Message"] == "ünïcode ✓"
    )
    assert (
        rows[1]["Status"] == "needs_review" and rows[1]["QA"] == "=1+1 | ok"
    )  # text, not a formula
    assert list(csv.reader((out / "c-Prices.csv").open()))[1] == ["00123", "100", "120"]
