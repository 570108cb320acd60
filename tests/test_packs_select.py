"""Only approved rows whose approval is bound to the source AS IT IS NOW go into a pack.

Runs the real plan.pack_eligibility (fingerprint recomputed from the photo on disk) and the real
`vitrina-sync pack` command on an XLSX catalog.
"""

from __future__ import annotations

import json
import os
import zipfile

from click.testing import CliRunner
from openpyxl import Workbook

from vitrina_sync import decisions
from vitrina_sync.catalog.model import Row
from vitrina_sync.packs.commands import pack
from vitrina_sync.packs.select import plan_check, select_items, wanted
from vitrina_sync.packs.testing import make_output
from vitrina_sync.store import output_dir


def approved(row: Row, fingerprint: str) -> Row:
    """The row as the server leaves it after a reviewer approved the picture `fingerprint`."""
    row.values.update(
        status="approved",
        fingerprint=fingerprint,
        decision="approved",
        approver="anna",
        review_date="2026-11-26",
    )
    row.values["decision_fp"] = decisions.binding(fingerprint, row)
    return row


def rows_and_outputs(workspace, settings):
    """Rows A (approved), B (waiting), C (approved, photo replaced later), D (ozon only)."""
    out_root = workspace / "vitrina-out"
    check = plan_check(settings, workspace, out_root)
    specs = {
        "A": "photos/mug.jpg",
        "B": "photos/bag.jpg",
        "C": "photos/ring.jpg",
        "D": "photos/bottle.jpg",
    }
    rows = []
    for n, (sku, source) in enumerate(specs.items(), start=2):
        row = Row(n, {"sku": sku, "source": source, "marketplaces": "ozon" if sku == "D" else ""})
        fp = check(row)[2]
        make_output(output_dir(out_root, sku, fp), size=(1000, 1000))
        rows.append(row if sku == "B" else approved(row, fp))
    photo = workspace / "photos/ring.jpg"
    photo.write_bytes(photo.read_bytes()[:-2] + b"\x00\xd9")  # the photo changed after approval
    os.utime(photo, ns=(1, 1))
    return rows, out_root


def test_only_approved_and_current_rows_are_selected(workspace, settings):
    rows, out_root = rows_and_outputs(workspace, settings)
    check = plan_check(settings, workspace, out_root)
    items, skipped = select_items(rows, "wildberries", check, out_root)
    assert [i.sku for i in items] == ["A"]
    assert items[0].out_dir == output_dir(out_root, "A", items[0].fingerprint)
    reasons = {s["sku"]: s["reason"] for s in skipped}
    assert reasons["B"].startswith("not approved")
    assert "stale" in reasons["C"]
    assert "does not list wildberries" in reasons["D"]
    ozon_items, _ = select_items(rows, "ozon", check, out_root)
    assert [i.sku for i in ozon_items] == ["A", "D"]


def test_marketplaces_column_aliases():
    def row(cell):
        return Row(2, {"sku": "X", "marketplaces": cell})

    assert wanted(row(""), "kaspi") and wanted(row("WB, Озон"), "ozon")
    assert wanted(row("wb"), "wildberries") and not wanted(row("kaspi"), "wildberries")


def test_pack_command_on_an_xlsx_catalog(workspace, settings):
    rows, out_root = rows_and_outputs(workspace, settings)
    wb = Workbook()
    ws = wb.active
    keys = [
        "sku",
        "source",
        "marketplaces",
        "status",
        "fingerprint",
        "decision",
        "approver",
        "review_date",
        "decision_fp",
    ]
    ws.append(
        [
            "SKU",
            "Source",
            "Marketplaces",
            "Status",
            "Fingerprint",
            "Decision",
            "Approver",
            "Review date",
            "Decision fingerprint",
        ]
    )
    for r in rows:
        ws.append([r.get(k) for k in keys])
    wb.save(workspace / "catalog.xlsx")
    result = CliRunner().invoke(
        pack,
        [
            str(workspace / "catalog.xlsx"),
            "--marketplace",
            "kaspi",
            "--base-url",
            "https://cdn.example.com/p",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 card(s)" in result.output and "skipped C" in result.output
    zip_path = out_root / "packs" / "kaspi.zip"
    report = json.loads(zipfile.ZipFile(zip_path).read("report.json"))
    assert [c["sku"] for c in report["cards"]] == ["A"]
    assert {s["sku"] for s in report["skipped"]} == {"B", "C", "D"}


def test_pack_command_errors_are_one_line(workspace):
    (workspace / "c.xlsx").write_bytes(b"")
    result = CliRunner().invoke(pack, [str(workspace / "c.xlsx"), "-m", "etsy"])
    assert result.exit_code == 1 and "no marketplace plugin 'etsy'" in result.output
