"""A real spreadsheet application opens what the write-back wrote: LibreOffice Calc, headless.

`make system-deps` installs it (Debian: `libreoffice-calc-nogui`); the test skips only where
`soffice` is missing. Every catalog shape the XML patcher accepts is written back through our
code (and must take the patch path, not the openpyxl fallback), then LibreOffice opens the file
and saves it as its own XLSX, which openpyxl reads twice (formulas, and the values LibreOffice
computed). Every cell of every sheet must read the same as in the file we wrote; every machine cell
holds exactly the text we wrote (text that looks like a formula or a number stays text); every
formula is still a formula and computes what it should. Each run has its own LibreOffice profile
(-env:UserInstallation), so parallel runs do not collide.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from test_xlsx_patch import EXCEL_PARTS

from vitrina_sync.catalog import RowUpdate, open_catalog
from vitrina_sync.columns import map_headers

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# Machine texts a spreadsheet could mistake for something else: they must stay text.
TRICKY = ["=1+1 | ok", "00123", "1e5", "TRUE", "+7 700 000", "-5", "@user", "'quoted", "ünïcode ✓"]
TRICKY += ["  leading and trailing  ", "line one\nline two", "Фото не найдено: photos/x.jpg"]


def russian_catalog(path, rows: int = 36):
    """Russian headers, inline strings (openpyxl writes them), a formula column, a second sheet
    whose formulas read the catalog sheet; the machine columns but Статус are missing (appended)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Каталог"
    ws.append(["Артикул", "Исходный файл", "Режим", "Маркетплейсы", "Цена", "С НДС", "Статус"])
    for n in range(2, rows + 2):
        sku = f"{n:05d}" if n % 3 else f"АРТ-{n}"
        ws.append([sku, f"photos/p{n}.jpg", "белый", "kaspi, wb", n * 10, f"=E{n}*1.2", None])
        ws.cell(n, 1).data_type = "s"
    ws.cell(rows + 2, 1, "Итого")
    ws.cell(rows + 2, 5, f"=SUM(E2:E{rows + 1})")
    ws.cell(rows + 2, 2, dt.date(2026, 11, 30))
    prices = wb.create_sheet("Цены")
    prices.append(["Артикул", "Цена", "Надпись"])
    for n in range(2, 6):
        prices.append([f"=Каталог!A{n}", f"=Каталог!E{n}", f'=Каталог!A{n}&" / "&Каталог!C{n}'])
    wb.save(path)
    return path


def to_shared_strings(path) -> None:
    """Every sheet's text cells go into xl/sharedStrings.xml (as Excel and LibreOffice write them;
    openpyxl writes inline strings)."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    table: dict[str, int] = {}

    def shared(m: re.Match) -> bytes:
        text = html.unescape(m.group(3).decode())
        index = table.setdefault(text, len(table))
        return b"<c " + m.group(1) + b't="s"' + m.group(2) + b"><v>%d</v></c>" % index

    inline = re.compile(
        rb'<c ([^>]*?)t="inlineStr"([^>]*)><is><t[^>]*>(.*?)</t></is></c>', re.DOTALL
    )
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        parts[name] = inline.sub(shared, parts[name])
        assert b"inlineStr" not in parts[name]
    items = "".join(
        f'<si><t xml:space="preserve">{html.escape(t, quote=False)}</t></si>' for t in table
    )
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN_NS}" '
        f'count="{len(table)}" uniqueCount="{len(table)}">{items}</sst>'
    ).encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def excel_package(path):
    """A package laid out as Excel writes it: shared strings, spans, x14ac, an x14 extension."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in EXCEL_PARTS.items():
            zf.writestr(name, text.encode())
    return path


def updates_for(skus: list[str]) -> dict[str, dict[str, str]]:
    """Status, Result, QA, Message, Fingerprint for every row; the tricky texts go round them."""
    out = {}
    for i, sku in enumerate(skus):
        out[sku] = {
            "status": ("needs_review", "error", "queued")[i % 3],
            "result": f"vitrina-out/{sku}/abc123/main.jpg",
            "qa": TRICKY[i % len(TRICKY)],
            "message": TRICKY[(i + 5) % len(TRICKY)],
            "fingerprint": f"{i:012x}",
        }
    return out


def libreoffice_xlsx(path, tmp_path):
    """LibreOffice opens `path` and saves it as its own XLSX (formulas recalculated)."""
    out = tmp_path / "lo"
    run = subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    converted = out / path.name
    assert run.returncode == 0 and converted.exists(), run.stdout + run.stderr
    return converted


def grid(book, sheet) -> dict[str, object]:
    return {
        c.coordinate: c.value for row in book[sheet].iter_rows() for c in row if c.value is not None
    }


def same_formula(a: str, b: str) -> bool:
    """LibreOffice may quote sheet names and drop or add `$`: the same formula otherwise."""
    return re.sub(r"[\s'$]", "", a).casefold() == re.sub(r"[\s'$]", "", b).casefold()


# openpyxl writes inline strings; Excel and LibreOffice write shared strings; the Excel package
# also has spans, x14ac attributes and an x14 extension openpyxl would drop.
SHAPES = ["russian_inline_strings", "russian_shared_strings", "excel_package"]


@pytest.mark.filterwarnings("ignore:Conditional Formatting extension")  # openpyxl reading it
@pytest.mark.parametrize("shape", SHAPES)
def test_libreoffice_reads_every_written_cell_and_formula(shape, tmp_path, settings):
    path = tmp_path / f"{shape}.xlsx"
    if shape == "excel_package":
        excel_package(path)
    else:
        russian_catalog(path)
        if shape == "russian_shared_strings":
            to_shared_strings(path)
    catalog = open_catalog(str(path), settings)
    skus = [row.sku for row in catalog.read().rows if row.sku and row.sku != "Итого"]
    wanted = updates_for(skus)
    report = catalog.write_back([RowUpdate(s, v) for s, v in wanted.items()])
    assert any("patched" in n for n in report.notes), report.notes  # the XML patcher, no fallback
    assert sorted(report.written) == sorted(skus)

    with zipfile.ZipFile(path) as zf:  # the people's cells kept their own kind of string
        kept = b't="s"' if shape != "russian_inline_strings" else b't="inlineStr"'
        assert kept in zf.read("xl/worksheets/sheet1.xml")
    ours = load_workbook(path)  # the file as we wrote it
    lo_path = libreoffice_xlsx(path, tmp_path)
    theirs, computed = load_workbook(lo_path), load_workbook(lo_path, data_only=True)
    assert theirs.sheetnames == ours.sheetnames
    formulas = 0
    for sheet in ours.sheetnames:
        mine, lo = grid(ours, sheet), grid(theirs, sheet)
        assert mine.keys() == lo.keys(), (sheet, mine.keys() ^ lo.keys())
        for ref, value in mine.items():
            if (
                isinstance(value, str)
                and value.startswith("=")
                and ours[sheet][ref].data_type == "f"
            ):
                formulas += 1
                assert isinstance(lo[ref], str) and same_formula(value, lo[ref]), (ref, lo[ref])
            else:
                assert lo[ref] == value, (sheet, ref, value, lo[ref])

    catalog_sheet = ours.sheetnames[0]
    headers = [c.value for c in theirs[catalog_sheet][1]]
    columns, _ = map_headers([h or "" for h in headers])
    seen = {}
    for row in theirs[catalog_sheet].iter_rows(min_row=2, values_only=True):
        sku = row[columns["sku"]]
        if sku in wanted:
            seen[sku] = {k: row[columns[k]] for k in wanted[sku]}
    assert seen == wanted  # every machine cell exactly as written, as text

    if shape != "excel_package":
        assert formulas == 36 + 1 + 4 * 3
        values = computed[catalog_sheet]
        assert values["F2"].value == pytest.approx(24) and values["E38"].value == sum(
            n * 10 for n in range(2, 38)
        )
        assert computed["Цены"]["A2"].value == "00002" and computed["Цены"]["B3"].value == 30
        assert computed["Цены"]["C3"].value == "АРТ-3 / белый"
