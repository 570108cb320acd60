"""XLSX adapter: reading as typed, SKU-keyed atomic write-back that leaves everything else alone."""

from __future__ import annotations

import time

import pytest
from conftest import write_catalog
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from vitrina_sync.catalog import RowUpdate, open_catalog
from vitrina_sync.errors import CatalogError, CatalogLocked


@pytest.fixture(autouse=True, params=["patch", "openpyxl"])
def write_path(request, monkeypatch):
    """Every test here runs against both write-back paths: the XML patch and its openpyxl fallback."""
    from vitrina_sync.catalog import xlsx as xlsx_mod

    monkeypatch.setattr(xlsx_mod, "USE_PATCH", request.param == "patch")
    return request.param


def rich_catalog(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(["Артикул", "Фото", "Режим", "Notes", "Статус"])
    ws.append(["00123", "photos/mug.jpg", "white", "keep me", ""])
    ws.append(['=HYPERLINK("http://x")', "photos/bag.jpg", "white", "", ""])
    ws.append(["B-2", "photos/bag.jpg", "white", "=1+1", ""])
    for cell in ws["A"][1:]:
        cell.data_type = "s"
    ws["A1"].font = Font(bold=True)
    ws.column_dimensions["B"].width = 33
    dv = DataValidation(type="list", formula1='"white,card"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("C2:C100")
    other = wb.create_sheet("Prices")
    other.append(["SKU", "Price", "VAT"])
    other.append(["00123", 10, "=B2*1.2"])
    wb.save(path)
    return path


def test_read_keeps_cells_as_typed_and_maps_russian_headers(tmp_path, settings):
    cat = open_catalog(str(rich_catalog(tmp_path / "c.xlsx")), settings)
    sheet = cat.read()
    assert [r.sku for r in sheet.rows] == ["00123", '=HYPERLINK("http://x")', "B-2"]
    assert sheet.rows[0].get("source") == "photos/mug.jpg" and sheet.rows[0].number == 2
    assert set(sheet.columns) >= {"sku", "source", "mode", "status"}


def test_write_back_appends_missing_columns_and_touches_nothing_else(tmp_path, settings):
    path = rich_catalog(tmp_path / "c.xlsx")
    cat = open_catalog(str(path), settings)
    report = cat.write_back(
        [
            RowUpdate("00123", {"status": "needs_review", "qa": "=cmd|' /C calc'!A0"}),
            RowUpdate('=HYPERLINK("http://x")', {"message": "+1 & @SUM"}),
        ]
    )
    assert sorted(report.written) == sorted(["00123", '=HYPERLINK("http://x")'])
    assert "Result" in report.appended_columns and "Decision" in report.appended_columns
    assert "Status" not in report.appended_columns  # it existed under its Russian name
    wb = load_workbook(path)
    ws = wb["Catalog"]
    headers = [c.value for c in ws[1]]
    assert headers[:5] == ["Артикул", "Фото", "Режим", "Notes", "Статус"]
    assert headers[5:] == [
        "Result",
        "AI version",
        "QA",
        "Audit",
        "Fingerprint",
        "Message",
        "Updated",
        "Decision fingerprint",
        "Seed",
        "Decision",
        "Approver",
        "Review date",
        "Reject reason",
    ]
    assert ws["E2"].value == "needs_review"
    qa_col = headers.index("QA") + 1
    assert ws.cell(2, qa_col).value == "=cmd|' /C calc'!A0" and ws.cell(2, qa_col).data_type == "s"
    assert ws["A3"].data_type == "s" and ws["A3"].value == '=HYPERLINK("http://x")'
    assert ws["D2"].value == "keep me" and ws["D4"].value == "=1+1"  # people's formula kept as is
    assert ws["A1"].font.bold and ws.column_dimensions["B"].width == 33
    assert ws.data_validations.dataValidation[0].formula1 == '"white,card"'
    assert wb["Prices"]["C2"].value == "=B2*1.2"
    assert not list(tmp_path.glob(".vitrina-*"))  # no temp file left behind


def test_people_columns_are_never_written(tmp_path, settings):
    cat = open_catalog(str(rich_catalog(tmp_path / "c.xlsx")), settings)
    with pytest.raises(ValueError, match="people's columns"):
        cat.write_back([RowUpdate("00123", {"sku": "hacked"})])


def test_rows_moved_on_disk_are_refound_by_sku_and_vanished_skus_skipped(tmp_path, settings):
    path = write_catalog(
        tmp_path / "c.xlsx", [["A", "photos/mug.jpg"], ["B", "photos/bag.jpg"], ["C", "x.jpg"]]
    )
    cat = open_catalog(str(path), settings)
    cat.read()
    wb = load_workbook(path)  # a person inserts a row at the top, deletes C and sorts descending
    ws = wb.active
    ws.delete_rows(4)
    ws.insert_rows(2)
    ws["A2"], ws["B2"] = "NEW", "photos/ring.jpg"
    rows = sorted(
        ([c.value for c in r] for r in ws.iter_rows(min_row=2)), key=lambda r: r[0], reverse=True
    )
    for i, values in enumerate(rows, start=2):
        for j, v in enumerate(values, start=1):
            ws.cell(i, j, v)
    wb.save(path)
    report = cat.write_back([RowUpdate(s, {"status": f"done-{s}"}) for s in "ABC"])
    assert report.missing == ["C"]
    ws = load_workbook(path).active
    status = [c.value for c in ws[1]].index("Status") + 1
    got = {ws.cell(r, 1).value: ws.cell(r, status).value for r in range(2, ws.max_row + 1)}
    assert got == {"NEW": None, "B": "done-B", "A": "done-A"}


def test_guarded_update_is_refused_when_the_fingerprint_moved_on(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    cat = open_catalog(str(path), settings)
    cat.write_back([RowUpdate("A", {"fingerprint": "new"})])
    report = cat.write_back([RowUpdate("A", {"status": "needs_review"}, expect_fingerprint="old")])
    assert report.refused == ["A"] and not report.written


def test_excel_lock_file_waits_then_fails_clearly_and_writes_nothing(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    before = path.read_bytes()
    (tmp_path / "~$c.xlsx").write_bytes(b"lock")
    cat = open_catalog(str(path), settings)
    with pytest.raises(CatalogLocked, match="open in Excel"):
        cat.write_back([RowUpdate("A", {"status": "x"})])
    assert path.read_bytes() == before


def test_lock_released_during_retries_then_written_and_said(tmp_path, settings, monkeypatch):
    from vitrina_sync.catalog import xlsx

    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    lock = tmp_path / "~$c.xlsx"
    lock.write_bytes(b"lock")
    real_sleep = xlsx.time.sleep

    def excel_closes_while_we_wait(seconds):  # during the first wait (a timer raced a loaded box)
        lock.unlink(missing_ok=True)
        real_sleep(seconds)

    monkeypatch.setattr(xlsx.time, "sleep", excel_closes_while_we_wait)
    report = open_catalog(str(path), settings).write_back([RowUpdate("A", {"status": "x"})])
    assert report.written == ["A"] and report.retries >= 1
    assert any("re-read and re-applied" in n for n in report.notes)


def test_file_changed_during_save_is_reread_and_reapplied(tmp_path, settings, monkeypatch):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"], ["B", "photos/bag.jpg"]])
    cat = open_catalog(str(path), settings)
    real_save = cat._save_atomically
    calls = []

    def save_after_someone_edits(book, before):
        if not calls:  # the first time, a person saves an edit (a new row on top) while we write
            wb = load_workbook(path)
            wb.active.insert_rows(2)
            wb.active["A2"] = "INSERTED"
            wb.save(path)
            time.sleep(0.01)
        calls.append(1)
        return real_save(book, before)

    monkeypatch.setattr(cat, "_save_atomically", save_after_someone_edits)
    report = cat.write_back([RowUpdate("B", {"status": "mine"})])
    assert len(calls) == 2 and report.retries == 1
    ws = load_workbook(path).active
    status = [c.value for c in ws[1]].index("Status") + 1
    assert (
        ws["A2"].value == "INSERTED"
        and ws.cell(4, 1).value == "B"
        and ws.cell(4, status).value == "mine"
    )


def test_missing_file_and_missing_sku_column_are_catalog_errors(tmp_path, settings):
    with pytest.raises(CatalogError, match="not found"):
        open_catalog(str(tmp_path / "nope.xlsx"), settings).read()
    path = write_catalog(tmp_path / "c.xlsx", [["A", "b"]], headers=["Name", "Photo"])
    with pytest.raises(CatalogError, match="no SKU column"):
        open_catalog(str(path), settings).read()


def test_patch_and_openpyxl_paths_write_the_same_workbook_values(tmp_path, settings, monkeypatch):
    from vitrina_sync.catalog import xlsx as xlsx_mod

    monkeypatch.setattr(xlsx_mod, "USE_PATCH", True)
    updates = [
        RowUpdate(
            "00123", {"status": "needs_review", "qa": "=cmd|' /C calc'!A0", "message": "a\x00b"}
        ),
        RowUpdate('=HYPERLINK("http://x")', {"message": "+1 & @SUM"}),
        RowUpdate("B-2", {"status": "failed", "fingerprint": "fp"}),
    ]
    patched = rich_catalog(tmp_path / "p.xlsx")
    report_p = open_catalog(str(patched), settings).write_back(updates)
    assert any("write-back: patched" in n for n in report_p.notes), report_p.notes
    monkeypatch.setattr(xlsx_mod, "USE_PATCH", False)
    plain = rich_catalog(tmp_path / "o.xlsx")
    report_o = open_catalog(str(plain), settings).write_back(updates)
    assert any("write-back: openpyxl round trip" in n for n in report_o.notes), report_o.notes
    assert (report_p.written, report_p.appended_columns) == (
        report_o.written,
        report_o.appended_columns,
    )
    for name in ("Catalog", "Prices"):  # (an empty cell's type is whatever the writer left there)
        got = [
            [(c.value, c.value is not None and c.data_type) for c in r]
            for r in load_workbook(patched)[name].iter_rows()
        ]
        want = [
            [(c.value, c.value is not None and c.data_type) for c in r]
            for r in load_workbook(plain)[name].iter_rows()
        ]
        assert got == want
    ws = load_workbook(patched)["Catalog"]
    assert ws.data_validations.dataValidation[0].formula1 == '"white,card"'
    assert ws["A1"].font.bold and ws.column_dimensions["B"].width == 33


def test_lock_file_appearing_while_we_save_is_waited_out(tmp_path, settings, monkeypatch):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    cat = open_catalog(str(path), settings)
    real_save = cat._save_atomically
    lock = tmp_path / "~$c.xlsx"
    calls = []

    def save_while_excel_opens_it(book, before):
        # Excel opens the file while our first save runs and closes it before the retry (the
        # lock goes when that save returns: a 20 ms timer raced a save slowed by a loaded box)
        calls.append(1)
        if len(calls) > 1:
            return real_save(book, before)
        lock.write_bytes(b"lock")
        try:
            return real_save(book, before)
        finally:
            lock.unlink()

    monkeypatch.setattr(cat, "_save_atomically", save_while_excel_opens_it)
    report = cat.write_back([RowUpdate("A", {"status": "x"})])
    assert report.written == ["A"] and report.retries >= 1 and len(calls) >= 2
    ws = load_workbook(path).active
    assert ws.cell(2, [c.value for c in ws[1]].index("Status") + 1).value == "x"


def test_report_notes_say_which_write_back_path_ran(tmp_path, settings, write_path):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    report = open_catalog(str(path), settings).write_back([RowUpdate("A", {"status": "x"})])
    said = (
        "write-back: patched xl/worksheets/sheet1.xml"
        if write_path == "patch"
        else "write-back: openpyxl round trip"
    )
    path_notes = [n for n in report.notes if n.startswith("write-back:")]
    assert len(path_notes) == 1 and path_notes[0].startswith(said), report.notes
