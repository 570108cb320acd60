"""XML-patch write-back: only the rows we write change, everything else in the package stays byte-identical."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree as ET

import pytest
from conftest import write_catalog
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineWorkbook

from vitrina_sync.catalog import RowUpdate, Sheet, open_catalog
from vitrina_sync.catalog import xlsx as xlsx_mod
from vitrina_sync.catalog.xlsx_patch import (
    PatchedWorkbook,
    PatchUnsupported,
    col_letter,
    col_number,
    inline_cell,
    parse_range,
    patch_sheet_xml,
    scan_sheet,
)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET1 = "xl/worksheets/sheet1.xml"
# A conditional-formatting extension (x14 data bar) as Excel writes it: openpyxl drops it on save.
X14_EXT = (
    '<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    "<x14:conditionalFormattings><x14:conditionalFormatting "
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:cfRule type="dataBar" '
    'id="{00000000-000E-0000-0000-000001000000}"><x14:dataBar minLength="0" maxLength="100" gradient="0">'
    '<x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/><x14:negativeFillColor rgb="FFFF0000"/>'
    '<x14:axisColor rgb="FF000000"/></x14:dataBar></x14:cfRule><xm:sqref>B2:B4</xm:sqref>'
    "</x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>"
)


# -- helpers -------------------------------------------------------------------------------------
def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rewrite_member(path, name: str, fn) -> None:
    """Replace one member's bytes (as a person's other tool would), keeping the rest as they are."""
    with zipfile.ZipFile(path) as zf:
        items = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info, fn(data) if info.filename == name else data)


def add_member(path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)


def assert_valid_sheet(xml: bytes) -> None:
    """What Excel insists on: rows ascending and unique, cells ascending and unique within the row."""
    root = ET.fromstring(xml)
    ns = {"m": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
    rows = root.findall("m:sheetData/m:row", ns) if ns else root.findall("sheetData/row")
    numbers = [int(r.get("r")) for r in rows if r.get("r")]
    assert numbers == sorted(set(numbers)), numbers
    for row in rows:
        refs = [c.get("r") for c in row if c.tag.endswith("}c") or c.tag == "c"]
        cols = [col_number(re.match(r"[A-Z]+", ref).group()) for ref in refs if ref]
        assert cols == sorted(set(cols)), (row.get("r"), refs)
        assert all(re.sub(r"[A-Z]+", "", ref) == row.get("r") for ref in refs if ref)
        for cell in row:
            if cell.get("t") == "inlineStr":  # text: never a formula
                assert cell.find("{*}f") is None


def calamine_grid(path, sheet=None) -> list[list]:
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(sheet or book.sheet_names[0]).to_python(skip_empty_area=False)


def catalog_with_extension(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(["SKU", "Source", "Notes", "Status", "Message"])
    ws.append(["A", "photos/mug.jpg", "n1", "old", ""])
    ws.append(["B", "photos/bag.jpg", "", "", ""])
    ws.append(["C", "photos/ring.jpg", "=1+1", "", ""])
    ws["D2"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["A1"].font = Font(bold=True)
    wb.create_sheet("Prices").append(["SKU", "Price"])
    wb.save(path)
    rewrite_member(
        path, SHEET1, lambda x: x.replace(b"</worksheet>", X14_EXT.encode() + b"</worksheet>")
    )
    return path


# -- the package stays as it was -----------------------------------------------------------------
def test_only_the_sheet_changes_and_x14_extension_survives(tmp_path, settings):
    path = catalog_with_extension(tmp_path / "c.xlsx")
    before = members(path)
    report = open_catalog(str(path), settings).write_back(
        [
            RowUpdate("B", {"status": "needs_review", "qa": "=cmd|' /C calc'!A0"}),
            RowUpdate("A", {"status": "done", "message": "x\x07y"}),
        ]
    )
    assert sorted(report.written) == ["A", "B"] and "QA" in report.appended_columns
    assert any("patched xl/worksheets/sheet1.xml" in n for n in report.notes), report.notes
    after = members(path)
    assert list(after) == list(before)  # same members, same order
    assert {k: v for k, v in after.items() if k != SHEET1} == {
        k: v for k, v in before.items() if k != SHEET1
    }
    xml = after[SHEET1]
    assert X14_EXT.encode() in xml
    assert_valid_sheet(xml)
    # Row 4 (C) was not written: its XML is byte-identical, people's formula included.
    row4 = re.search(rb'<row r="4".*?</row>', before[SHEET1], re.DOTALL).group()
    assert row4 in xml
    # Whatever follows </sheetData> is byte-identical.
    assert xml.split(b"</sheetData>")[1] == before[SHEET1].split(b"</sheetData>")[1]
    with pytest.warns(
        UserWarning, match="Conditional Formatting extension"
    ):  # openpyxl can't model it
        ws = load_workbook(path)["Catalog"]
    headers = [c.value for c in ws[1]]
    assert headers[:5] == ["SKU", "Source", "Notes", "Status", "Message"]
    qa = headers.index("QA") + 1
    assert ws.cell(3, qa).value == "=cmd|' /C calc'!A0" and ws.cell(3, qa).data_type == "s"
    assert ws["D2"].value == "done" and ws["D2"].fill.fgColor.rgb == "00FFFF00"  # style kept
    assert ws["E2"].value == "xy" and ws["C4"].value == "=1+1" and ws["A1"].font.bold
    widths = [
        (int(lo), int(hi), w)
        for lo, hi, w in re.findall(rb'<col min="(\d+)" max="(\d+)" width="([^"]+)"', xml)
    ]
    assert any(lo <= qa <= hi and w == b"14" for lo, hi, w in widths), (
        widths
    )  # appended columns get width 14
    grid = calamine_grid(path)
    assert (
        grid[2][3] == "needs_review"
        and grid[1][4] == "xy"
        and grid[2][qa - 1] == "=cmd|' /C calc'!A0"
    )
    dim = re.search(rb'<dimension ref="([^"]+)"', xml).group(1).decode()
    assert parse_range(dim)[3] == len(headers)


def test_openpyxl_path_drops_the_extension_the_patch_keeps(tmp_path, settings, monkeypatch):
    path = catalog_with_extension(tmp_path / "c.xlsx")
    monkeypatch.setattr(xlsx_mod, "USE_PATCH", False)
    report = open_catalog(str(path), settings).write_back([RowUpdate("B", {"status": "x"})])
    assert any("openpyxl round trip" in n for n in report.notes), report.notes
    assert b"x14:conditionalFormatting" not in members(path)[SHEET1]  # why the patcher exists


def test_second_sheet_by_name_and_xlsm_parts_kept(tmp_path, settings):
    path = tmp_path / "c.xlsm"
    wb = Workbook()
    wb.active.title = "Intro"
    wb.active["A1"] = "read me"
    ws = wb.create_sheet("Catalog")
    ws.append(["Артикул", "Фото", "Статус"])
    ws.append(["S1", "photos/mug.jpg", ""])
    wb.save(path)
    add_member(path, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not really VBA" * 50)
    before = members(path)
    report = open_catalog(f"{path}#Catalog", settings).write_back(
        [RowUpdate("S1", {"status": "ok"})]
    )
    assert any("patched xl/worksheets/sheet2.xml" in n for n in report.notes), report.notes
    after = members(path)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert {k: v for k, v in after.items() if k != "xl/worksheets/sheet2.xml"} == {
        k: v for k, v in before.items() if k != "xl/worksheets/sheet2.xml"
    }
    assert calamine_grid(path, "Catalog")[1][2] == "ok"
    book = load_workbook(path, keep_vba=True)
    assert book["Catalog"]["C2"].value == "ok" and book.vba_archive is not None
    book.vba_archive.close()


def test_rewrite_keeps_atomic_save_and_retry_contract(tmp_path, settings, monkeypatch):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    cat = open_catalog(str(path), settings)
    seen = []
    real = cat._save_atomically

    def spy(book, before):
        seen.append(type(book))
        return real(book, before)

    monkeypatch.setattr(cat, "_save_atomically", spy)
    cat.write_back([RowUpdate("A", {"status": "x"})])
    assert seen == [PatchedWorkbook] and not list(tmp_path.glob(".vitrina-*"))


def test_nothing_to_write_leaves_the_file_alone(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    cat = open_catalog(str(path), settings)
    cat.write_back([RowUpdate("A", {"status": "x"})])  # appends the machine columns once
    data = path.read_bytes()
    report = cat.write_back([RowUpdate("GONE", {"status": "x"})])
    assert report.missing == ["GONE"] and not report.changed and path.read_bytes() == data


def test_empty_value_clears_the_cell_and_whitespace_survives(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "photos/mug.jpg"]])
    cat = open_catalog(str(path), settings)
    cat.write_back([RowUpdate("A", {"status": "x", "message": "  two\nlines <&> "})])
    grid = calamine_grid(path)
    message = grid[0].index("Message")
    assert grid[1][message] == "  two\nlines <&> "
    cat.write_back([RowUpdate("A", {"message": ""})])
    ws = load_workbook(path).active
    assert (
        ws.cell(2, message + 1).value is None
        and ws.cell(2, grid[0].index("Status") + 1).value == "x"
    )


# -- what the patcher refuses goes through openpyxl ------------------------------------------------
def test_formula_in_a_cell_we_write_falls_back_to_openpyxl(tmp_path, settings):
    path = write_catalog(
        tmp_path / "c.xlsx",
        [["A", "photos/mug.jpg", "", "", "", "", "=1+2"]],
        headers=["SKU", "Source", "Mode", "Preset", "Marketplaces", "Category", "Status"],
    )
    report = open_catalog(str(path), settings).write_back([RowUpdate("A", {"status": "done"})])
    assert any("openpyxl round trip" in n and "formula" in n for n in report.notes), report.notes
    assert load_workbook(path).active["G2"].value == "done"


def test_shared_formula_spanning_a_written_row_falls_back(tmp_path, settings):
    path = write_catalog(
        tmp_path / "c.xlsx",
        [["A", "a.jpg", 1], ["B", "b.jpg", 2]],
        headers=["SKU", "Source", "Status"],
    )

    def shared(xml: bytes) -> bytes:  # C2:C3 become one shared formula, as Excel writes a fill-down
        xml = re.sub(
            rb'<c r="C2"[^>]*>.*?</c>',
            b'<c r="C2"><f t="shared" ref="C2:C3" si="0">B2</f><v>1</v></c>',
            xml,
        )
        return re.sub(
            rb'<c r="C3"[^>]*>.*?</c>', b'<c r="C3"><f t="shared" si="0"/><v>2</v></c>', xml
        )

    rewrite_member(path, SHEET1, shared)
    report = open_catalog(str(path), settings).write_back([RowUpdate("B", {"status": "done"})])
    assert any("openpyxl round trip" in n and "shared/array formula" in n for n in report.notes), (
        report.notes
    )
    assert load_workbook(path).active["C3"].value == "done"


def test_doctype_in_the_sheet_falls_back(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"]])
    rewrite_member(
        path,
        SHEET1,
        lambda x: re.sub(
            rb"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + b"<!DOCTYPE worksheet>", x
        ),
    )
    with pytest.raises(PatchUnsupported, match="DOCTYPE"):
        scan_sheet(members(path)[SHEET1])


# -- worksheet XML written by other tools ----------------------------------------------------------
def prefixed(xml: bytes) -> bytes:
    """The same sheet with an x: namespace prefix on every element (OpenXML SDK style)."""
    xml = xml.replace(f'xmlns="{MAIN}"'.encode(), f'xmlns:x="{MAIN}"'.encode())
    return re.sub(rb"<(/?)([A-Za-z]+)(?=[\s/>])", rb"<\1x:\2", xml)


def strip_refs(xml: bytes) -> bytes:
    """The same sheet with no r (or spans) attributes on rows and cells: positions are implicit."""
    head, rest = xml.split(b"<sheetData>", 1)
    body, tail = rest.split(b"</sheetData>", 1)
    return (
        head + b"<sheetData>" + re.sub(rb'\s(r|spans)="[^"]*"', b"", body) + b"</sheetData>" + tail
    )


def test_prefixed_namespace_sheet_is_patched(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"], ["B", "b.jpg"]])
    rewrite_member(path, SHEET1, prefixed)
    assert calamine_grid(path)[2][0] == "B"
    report = open_catalog(str(path), settings).write_back([RowUpdate("B", {"status": "done"})])
    assert any("patched" in n for n in report.notes), report.notes
    xml = members(path)[SHEET1]
    assert b"<x:c " in xml and b"<c r=" not in xml
    assert_valid_sheet(xml)
    ws = load_workbook(path).active
    status = [c.value for c in ws[1]].index("Status") + 1
    assert ws.cell(3, status).value == "done" and calamine_grid(path)[2][status - 1] == "done"


def test_rows_and_cells_without_r_attributes(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"], ["B", "b.jpg"]])
    rewrite_member(path, SHEET1, strip_refs)
    assert b' r="' not in members(path)[SHEET1].split(b"<sheetData>")[1].split(b"</sheetData>")[0]
    report = open_catalog(str(path), settings).write_back([RowUpdate("B", {"status": "done"})])
    assert any("patched" in n for n in report.notes), report.notes
    ws = load_workbook(path).active
    status = [c.value for c in ws[1]].index("Status") + 1
    assert [ws.cell(r, 1).value for r in (1, 2, 3)] == ["SKU", "A", "B"] and ws.cell(
        3, status
    ).value == "done"
    assert calamine_grid(path)[2][status - 1] == "done"


def test_patch_sheet_xml_units():
    xml = (
        f'<worksheet xmlns="{MAIN}"><dimension ref="A1:B3"/><sheetData>'
        '<row r="1" spans="1:2"><c r="A1" t="s"><v>0</v></c><c r="B1" s="4"/></row>'
        '<row r="3" spans="1:2"/><row r="5"><c r="B5" s="2" t="n"><v>7</v></c></row>'
        '</sheetData><mergeCells count="1"><mergeCell ref="D7:E8"/></mergeCells></worksheet>'
    ).encode()
    layout = scan_sheet(xml)
    assert sorted(layout.rows) == [1, 3, 5] and layout.dimension == (1, 1, 3, 2)
    out = patch_sheet_xml(
        layout,
        {(1, 4): "New", (3, 3): "x", (5, 2): "over", (5, 1): "first"},
        styles={(1, 4): b"4"},
        new_columns=[4],
    )
    assert_valid_sheet(out)
    assert b'<row r="1" spans="1:4"><c r="A1" t="s"><v>0</v></c><c r="B1" s="4"/>' in out
    assert b'<c r="D1" s="4" t="inlineStr"><is><t>New</t></is></c>' in out
    assert b'<row r="3" spans="1:3"><c r="C3" t="inlineStr"><is><t>x</t></is></c></row>' in out
    assert b'<c r="A5" t="inlineStr"><is><t>first</t></is></c><c r="B5" s="2" t="inlineStr">' in out
    assert b'<dimension ref="A1:D5"/>' in out
    assert b'<cols><col min="4" max="4" width="14" customWidth="1"/></cols><sheetData>' in out
    with pytest.raises(PatchUnsupported, match="merged"):
        patch_sheet_xml(layout, {(8, 5): "x"})
    with pytest.raises(PatchUnsupported, match="not in the worksheet"):
        patch_sheet_xml(layout, {(4, 1): "x"})
    with pytest.raises(PatchUnsupported, match="out of order"):
        scan_sheet(xml.replace(b'<row r="3"', b'<row r="1"'))
    assert inline_cell(b"", "A1", None, "") == b'<c r="A1"/>'
    assert col_letter(16384) == "XFD" and col_number("XFD") == 16384 and col_letter(27) == "AA"


# -- same cells as the openpyxl path, on random sheets ----------------------------------------------
SKUS = st.sampled_from(["A", "B", "C", "D", "00123", " E ", "=1+1"])
# People's cells: what openpyxl accepts. Our values: control characters too (both paths strip them);
# no CR (openpyxl writes it raw and XML readers turn it into LF; we keep it as &#13;) and no U+FFFE/FFFF.
PEOPLE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12
)
TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r\ufffe\uffff"
    ),
    max_size=12,
)


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(SKUS, PEOPLE_TEXT, st.one_of(st.none(), PEOPLE_TEXT, st.integers(-5, 5))),
        min_size=1,
        max_size=6,
    ),
    header_at=st.integers(1, 3),
    with_status=st.booleans(),
    updates=st.lists(
        st.tuples(SKUS, st.sampled_from(["status", "qa", "message", "seed"]), TEXT), max_size=6
    ),
    variant=st.sampled_from(["openpyxl", "prefixed", "no refs"]),
)
def test_patch_and_openpyxl_write_the_same_values(
    tmp_path_factory, settings, rows, header_at, with_status, updates, variant
):
    folder = tmp_path_factory.mktemp("prop")
    wb = Workbook()
    ws = wb.active
    for _ in range(header_at - 1):
        ws.append(["title line"])
    ws.append(["SKU", "Photo", "Statusx" if not with_status else "Status"])
    for sku, photo, status in rows:
        ws.append([sku, photo, status])
        ws.cell(ws.max_row, 1).data_type = "s"
        if isinstance(status, str):
            ws.cell(ws.max_row, 3).data_type = "s"
    for name in ("p.xlsx", "o.xlsx"):
        wb.save(folder / name)
        if variant != "openpyxl":  # the sheet XML as other writers lay it out
            rewrite_member(folder / name, SHEET1, prefixed if variant == "prefixed" else strip_refs)
    by_sku: dict[str, dict[str, str]] = {}
    for sku, key, value in updates:
        by_sku.setdefault(sku, {})[key] = value
    ups = [RowUpdate(s, v, all_duplicates=True) for s, v in by_sku.items()]
    rep_p = open_catalog(str(folder / "p.xlsx"), settings).write_back(ups)
    assert any("patched" in n for n in rep_p.notes), rep_p.notes
    xlsx_mod.USE_PATCH = False
    try:
        rep_o = open_catalog(str(folder / "o.xlsx"), settings).write_back(ups)
    finally:
        xlsx_mod.USE_PATCH = True
    assert (rep_p.written, rep_p.missing, rep_p.appended_columns) == (
        rep_o.written,
        rep_o.missing,
        rep_o.appended_columns,
    )
    assert_valid_sheet(members(folder / "p.xlsx")[SHEET1])

    # openpyxl writes whitespace-only text without xml:space="preserve" (calamine then reads ""); we
    # keep it. Apart from that, the two files read the same.
    def blank(grid):
        return [
            [v if not (isinstance(v, str) and not v.strip()) else "" for v in row] for row in grid
        ]

    assert blank(calamine_grid(folder / "p.xlsx")) == blank(calamine_grid(folder / "o.xlsx"))
    got = [[c.value for c in r] for r in load_workbook(folder / "p.xlsx").active.iter_rows()]
    want = [[c.value for c in r] for r in load_workbook(folder / "o.xlsx").active.iter_rows()]
    assert got == want


def test_streamed_locate_sheet_matches_the_full_grid(tmp_path):
    path = tmp_path / "g.xlsx"
    wb = Workbook()
    ws = wb.active
    ws["C2"] = "Артикул"
    ws["D2"] = "Fingerprint"
    ws["E2"] = "Notes"
    ws["C3"], ws["D3"] = "A", "fp"
    ws["E5"] = "only notes"
    ws["D7"] = 3.0
    ws["C9"] = "   "
    wb.save(path)
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_name(book.sheet_names[0])
    grid = sheet.to_python(skip_empty_area=False)
    full = Sheet.from_values(grid[1:], header_row=2)
    streamed = xlsx_mod.locate_sheet(sheet, {"sku", "fingerprint"})
    assert streamed.headers == full.headers and streamed.columns == full.columns
    assert [(r.number, r.sku, r.get("fingerprint")) for r in streamed.rows] == [
        (r.number, r.sku, r.get("fingerprint")) for r in full.rows
    ]


def test_patched_workbook_save_keeps_member_order_and_dates(tmp_path):
    src = io.BytesIO()
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("a.xml", (2001, 2, 3, 4, 5, 6)), b"<a/>")
        zf.writestr(zipfile.ZipInfo("b.bin", (2002, 2, 3, 4, 5, 6)), b"\x00" * 10)
    PatchedWorkbook(src.getvalue(), "a.xml", b"<b/>").save(tmp_path / "o.zip")
    with zipfile.ZipFile(tmp_path / "o.zip") as zf:
        assert [(i.filename, i.date_time) for i in zf.infolist()] == [
            ("a.xml", (2001, 2, 3, 4, 5, 6)),
            ("b.bin", (2002, 2, 3, 4, 5, 6)),
        ]
        assert zf.read("a.xml") == b"<b/>" and zf.read("b.bin") == b"\x00" * 10


# -- a package laid out the way Excel writes it (shared strings, spans, x14ac, mc:Ignorable) --------
EXCEL_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Товары" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<styleSheet xmlns="{MAIN}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
    "xl/sharedStrings.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<sst xmlns="{MAIN}" count="8" uniqueCount="8"><si><t>Артикул</t></si><si><t>Фото</t></si>'
        "<si><t>Статус</t></si><si><t>A-1</t></si><si><t>a.jpg</t></si><si><t>B-2</t></si><si><t>b.jpg</t></si>"
        "<si><t>old</t></si></sst>"
    ),
    "xl/worksheets/sheet1.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'<worksheet xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr" '
        'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
        'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" xr:uid="{00000000-0001-0000-0000-000000000000}">'
        '<dimension ref="A1:C3"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><cols><col min="2" max="2" width="30" customWidth="1"/></cols>'
        '<sheetData><row r="1" spans="1:3" x14ac:dyDescent="0.25"><c r="A1" s="1" t="s"><v>0</v></c>'
        '<c r="B1" s="1" t="s"><v>1</v></c><c r="C1" s="1" t="s"><v>2</v></c></row>'
        '<row r="2" spans="1:3" x14ac:dyDescent="0.25"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c>'
        '<c r="C2" s="1" t="s"><v>7</v></c></row>'
        '<row r="3" spans="1:3" x14ac:dyDescent="0.25"><c r="A3" t="s"><v>5</v></c><c r="B3" t="s"><v>6</v></c></row>'
        '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        + X14_EXT
        + "</worksheet>"
    ),
}


def test_excel_style_package_with_shared_strings(tmp_path, settings):
    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in EXCEL_PARTS.items():
            zf.writestr(name, text.encode())
    before = members(path)
    report = open_catalog(str(path), settings).write_back(
        [RowUpdate("A-1", {"status": "done", "qa": "ok"}), RowUpdate("B-2", {"status": "=SUM(1)"})]
    )
    assert any("patched xl/worksheets/sheet1.xml" in n for n in report.notes), report.notes
    after = members(path)
    assert {k: v for k, v in after.items() if k != SHEET1} == {
        k: v for k, v in before.items() if k != SHEET1
    }
    xml = after[SHEET1]
    assert_valid_sheet(xml)
    assert X14_EXT.encode() in xml and b'xr:uid="{00000000-0001-0000-0000-000000000000}"' in xml
    assert (
        b'<c r="C2" s="1" t="inlineStr"><is><t>done</t></is></c>' in xml
    )  # the cell keeps its style
    assert b'<row r="2" spans="1:' in xml and b'x14ac:dyDescent="0.25"' in xml
    grid = calamine_grid(path)
    qa = grid[0].index("QA")
    assert (
        grid[0][:3] == ["Артикул", "Фото", "Статус"]
        and grid[1][2] == "done"
        and grid[1][qa] == "ok"
    )
    assert grid[2][2] == "=SUM(1)"
    dim = parse_range(re.search(rb'<dimension ref="([^"]+)"', xml).group(1).decode())
    assert dim == (1, 1, 3, len(grid[0]))
    with pytest.warns(UserWarning):
        ws = load_workbook(path).active
    assert (
        ws["C2"].value == "done"
        and ws["C2"].font.b
        and ws["C3"].value == "=SUM(1)"
        and ws["C3"].data_type == "s"
    )
    assert ws.column_dimensions["B"].width == 30
    assert (
        ws.cell(1, qa + 1).value == "QA" and ws.cell(1, qa + 1).font.b
    )  # appended headers look like the last one


def test_patch_that_reads_back_wrong_is_never_saved(tmp_path, settings, monkeypatch):
    """If the XML scan and calamine ever disagreed on row numbers, the read-back check catches it."""
    from vitrina_sync.catalog import xlsx_patch

    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"], ["B", "b.jpg"], ["C", "c.jpg"]])
    real_patch = xlsx_patch.patch_sheet_xml

    def off_by_one(layout, writes, **kw):  # a row-numbering bug: data rows land one row too low
        return real_patch(
            layout, {(r + 1 if r > 1 else r, c): v for (r, c), v in writes.items()}, **kw
        )

    monkeypatch.setattr(xlsx_patch, "patch_sheet_xml", off_by_one)
    report = open_catalog(str(path), settings).write_back([RowUpdate("B", {"status": "mine"})])
    assert any("openpyxl round trip" in n and "read back" in n for n in report.notes), report.notes
    ws = load_workbook(path).active
    status = [c.value for c in ws[1]].index("Status") + 1
    assert [ws.cell(r, status).value for r in (2, 3, 4)] == [None, "mine", None]


def test_carriage_return_and_odd_characters_read_back(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"]])
    text = "line1\r\nline2\ttab \ufffe\x1f end\U0001f600"
    report = open_catalog(str(path), settings).write_back([RowUpdate("A", {"message": text})])
    assert any("write-back: patched" in n for n in report.notes), report.notes
    grid = calamine_grid(path)
    assert grid[1][grid[0].index("Message")] == "line1\r\nline2\ttab  end\U0001f600"


def test_excel_table_over_the_appended_columns_falls_back(tmp_path, settings):
    from openpyxl.worksheet.table import Table

    path = tmp_path / "t.xlsx"
    wb = Workbook()
    ws = wb.active
    for row in (["SKU", "Source", "Status"], ["A", "a.jpg", ""], ["B", "b.jpg", ""]):
        ws.append(row)
    ws.add_table(Table(displayName="Goods", ref="A1:E3"))  # two empty columns inside the table
    with pytest.warns(UserWarning, match="column headings"):
        wb.save(path)
    # Our headers would land in the table's own header cells (its column names live in the table
    # part): the patcher leaves that to openpyxl.
    report = open_catalog(str(path), settings).write_back([RowUpdate("A", {"status": "x"})])
    assert any("openpyxl round trip" in n and "table" in n for n in report.notes), report.notes
    assert load_workbook(path).active["C2"].value == "x"


def test_excel_table_beside_the_appended_columns_is_patched(tmp_path, settings):
    from openpyxl.worksheet.table import Table

    path = tmp_path / "t.xlsx"
    wb = Workbook()
    ws = wb.active
    for row in (["SKU", "Source", "Status"], ["A", "a.jpg", ""], ["B", "b.jpg", ""]):
        ws.append(row)
    ws.add_table(Table(displayName="Goods", ref="A1:C3"))
    wb.save(path)
    before = members(path)
    report = open_catalog(str(path), settings).write_back(
        [RowUpdate("B", {"status": "x", "qa": "ok"})]
    )
    assert any("write-back: patched" in n for n in report.notes), report.notes
    after = members(path)
    assert after["xl/tables/table1.xml"] == before["xl/tables/table1.xml"]
    ws = load_workbook(path).active
    assert ws["C3"].value == "x" and ws.tables["Goods"].ref == "A1:C3"


def test_header_lost_in_the_patch_is_caught_by_the_read_back(tmp_path, settings, monkeypatch):
    from vitrina_sync.catalog import xlsx_patch

    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"]])
    real_patch = xlsx_patch.patch_sheet_xml

    def clobber_sku_header(layout, writes, **kw):
        return real_patch(layout, {**writes, (1, 1): "not a key"}, **kw)

    monkeypatch.setattr(xlsx_patch, "patch_sheet_xml", clobber_sku_header)
    report = open_catalog(str(path), settings).write_back([RowUpdate("A", {"status": "x"})])
    assert any("openpyxl round trip" in n and "header is no longer" in n for n in report.notes), (
        report.notes
    )
    ws = load_workbook(path).active
    assert (
        ws["A1"].value == "SKU"
        and ws.cell(2, [c.value for c in ws[1]].index("Status") + 1).value == "x"
    )


def test_literal_ooxml_escape_sequence_is_kept_literal(tmp_path, settings):
    """Excel and calamine read _xHHHH_ as a character; text that contains one is written escaped
    (_x005F_xHHHH_), so the cell shows what we wrote. (openpyxl's round trip writes it raw and the
    cell then reads 'lit A end'.)"""
    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"]])
    report = open_catalog(str(path), settings).write_back(
        [RowUpdate("A", {"message": "lit _x0041_ end"})]
    )
    assert any("write-back: patched" in n for n in report.notes), report.notes
    grid = calamine_grid(path)
    assert grid[1][grid[0].index("Message")] == "lit _x0041_ end"
    assert b"lit _x005F_x0041_ end" in members(path)[SHEET1]


def test_text_longer_than_an_excel_cell_is_cut_at_the_limit(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"]])
    report = open_catalog(str(path), settings).write_back(
        [RowUpdate("A", {"message": "x" * 40_000})]
    )
    assert any("write-back: patched" in n for n in report.notes), report.notes
    grid = calamine_grid(path)
    assert grid[1][grid[0].index("Message")] == "x" * 32_767


def test_whole_row_dimension_does_not_push_appended_columns_off_the_sheet(tmp_path, settings):
    path = write_catalog(tmp_path / "c.xlsx", [["A", "a.jpg"]])
    rewrite_member(
        path, SHEET1, lambda x: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD2"', x)
    )
    report = open_catalog(str(path), settings).write_back([RowUpdate("A", {"status": "x"})])
    assert any("write-back: patched" in n for n in report.notes), report.notes
    grid = calamine_grid(path)
    assert grid[0][6] == "Status" and grid[1][6] == "x"  # right after the six people's columns
