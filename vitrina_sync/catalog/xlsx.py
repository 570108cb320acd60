"""XLSX catalog: fast read with python-calamine, write-back by patching the sheet XML, saved atomically.

Write-back reads the file's bytes fresh, re-finds every row by SKU (catalog.locate) in a calamine read
of those same bytes, and patches only the rows it writes in the worksheet XML (xlsx_patch: machine
cells as inline strings, every other zip member byte-identical). Workbooks the patcher does not
understand (see xlsx_patch.PatchUnsupported) go through the older openpyxl load/save instead, and
WriteReport.notes says which path ran. Either way the result is saved to a temp file beside the
catalog, fsynced, and renamed over the original only if the original did not change meanwhile and
nobody holds it open (Excel's ~$ lock file); otherwise it re-reads, re-applies and retries. Nothing is
ever half-written.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import time
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from copy import copy
from pathlib import Path

from ..columns import APPENDED_KEYS, BY_KEY, column_key
from ..errors import CatalogChanged, CatalogError, CatalogLocked
from . import xlsx_patch
from .locate import locate
from .model import Row, RowUpdate, Sheet, WriteReport, cell_text

HEADER_SCAN_ROWS = 10
APPENDED_WIDTH = 14
# Write-back patches the worksheet XML; False forces the openpyxl round trip (bench, comparisons).
USE_PATCH = True


def file_state(path: Path) -> tuple[int, int, str]:
    st = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return st.st_size, st.st_mtime_ns, digest


def lock_files(path: Path) -> list[Path]:
    """Lock files Excel (~$name) and LibreOffice (.~lock.name#) leave beside an open workbook."""
    candidates = [path.with_name("~$" + path.name), path.with_name(".~lock." + path.name + "#")]
    if len(path.name) > 2:  # Excel replaces the first two characters of long names
        candidates.append(path.with_name("~$" + path.name[2:]))
    return [p for p in candidates if p.exists()]


def find_header_row(grid: list[list[object]]) -> int:
    """0-based index of the first row (of the first few) that has a SKU header."""
    for idx, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        if any(column_key(v) == "sku" for v in row if v not in (None, "")):
            return idx
    raise CatalogError("no SKU column: the header row needs a 'SKU' (or 'Артикул') cell")


def _filled(value: object) -> bool:
    """cell_text(value) != "" without formatting the value."""
    if value is None:
        return False
    if value.__class__ is str:
        return bool(value.strip())
    return bool(cell_text(value))


def locate_sheet(calamine_sheet, needed: set[str]) -> Sheet:
    """The Sheet catalog.locate needs, streamed from a calamine sheet without building the grid.

    Same header, columns and row numbers as Sheet.from_values over the full grid, and the same rows
    (a row counts when any known column has text); past the header scan only the `needed` keys'
    values are kept (SKU, Fingerprint and any `match` keys), which is all locate() reads.
    """
    lead = [""] * (calamine_sheet.start[1] if calamine_sheet.start else 0)
    rows = iter(calamine_sheet.iter_rows())
    head: list[list[object]] = []
    for raw in rows:
        head.append(lead + raw if lead else raw)
        if len(head) == HEADER_SCAN_ROWS:
            break
    header = find_header_row(head)
    sheet = Sheet.from_values(head[header:], header_row=header + 1)
    # SKU first: it decides most rows
    mapped = sorted(sheet.columns.items(), key=lambda kv: kv[0] != "sku")
    indexes = [idx for _, idx in mapped]
    wanted = [(key, idx) for key, idx in mapped if key in needed]
    for number, raw in enumerate(rows, start=len(head) + 1):
        if lead:
            raw = lead + raw
        width = len(raw)
        if any(idx < width and _filled(raw[idx]) for idx in indexes):
            sheet.rows.append(
                Row(
                    number, {key: cell_text(raw[idx]) if idx < width else "" for key, idx in wanted}
                )
            )
    return sheet


def verify_patch(
    data: bytes, title: str, writes: dict[tuple[int, int], str], header_row: int
) -> None:
    """Read the patched workbook back with calamine before it replaces anything: every cell we wrote
    holds our text at the row and column catalog.locate chose (so the XML scan and calamine agree on
    row numbers), and the header row is still where it was."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(title)
    except CalamineError as exc:
        raise xlsx_patch.PatchUnsupported(f"the patched sheet does not read back ({exc})") from None
    lead = sheet.start[1] if sheet.start else 0
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (row, col), text in writes.items():
        by_row.setdefault(row, []).append((col, xlsx_patch.xml_text(text)))
    last = max(by_row)
    for number, raw in enumerate(sheet.iter_rows(), start=1):
        if number in by_row:
            for col, want in by_row[number]:
                idx = col - 1 - lead
                got = raw[idx] if 0 <= idx < len(raw) else ""
                if got != want:
                    raise xlsx_patch.PatchUnsupported(
                        f"read back {xlsx_patch.col_letter(col)}{number} as {got!r}, not {want!r}"
                    )
        if number == header_row and not any(
            column_key(v) == "sku" for v in raw if v not in (None, "")
        ):
            raise xlsx_patch.PatchUnsupported(f"the header is no longer on row {header_row}")
        if number >= last and number >= header_row:
            return
    raise xlsx_patch.PatchUnsupported("the patched sheet reads back shorter than the rows we wrote")


@contextmanager
def _patching():
    """Whatever trips the XML patcher (a malformed part, an odd attribute) sends us to openpyxl."""
    try:
        yield
    except xlsx_patch.PatchUnsupported:
        raise
    except (
        ValueError,
        KeyError,
        IndexError,
        AttributeError,
        TypeError,
        zipfile.BadZipFile,
        zlib.error,
        SyntaxError,
    ) as exc:
        raise xlsx_patch.PatchUnsupported(f"{type(exc).__name__}: {exc}") from exc


# openpyxl's ILLEGAL_CHARACTERS_RE (control characters XML 1.0 forbids), spelled out here:
# reading and the in-place XML patch never need openpyxl itself (~45 ms to import); the
# openpyxl fallback imports it when it runs. A test pins the two patterns together.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def plain_text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


class XlsxCatalog:
    def __init__(self, path: Path, sheet_name: str | None, settings):
        self.path = Path(path)
        self.sheet_name = sheet_name
        self.settings = settings
        self.spec = str(self.path) + (f"#{sheet_name}" if sheet_name else "")
        self.default_assets = str(self.path.parent)
        self.default_out = str(self.path.parent / "vitrina-out")
        self.requests = 0  # parity with remote adapters' counters

    # -- reading -------------------------------------------------------------------------------
    def _check_exists(self) -> None:
        if not self.path.exists():
            raise CatalogError(f"catalog not found: {self.path}")

    def read(self) -> Sheet:
        from python_calamine import CalamineError, CalamineWorkbook

        self._check_exists()
        try:
            book = CalamineWorkbook.from_path(str(self.path))
            name = self.sheet_name or book.sheet_names[0]
            if name not in book.sheet_names:
                raise CatalogError(f"{self.path.name} has no sheet {name!r}")
            grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except CalamineError as exc:
            raise CatalogError(f"cannot read {self.path.name}: {exc}") from None
        except (OSError, ValueError) as exc:
            raise CatalogError(f"cannot read {self.path.name}: {exc}") from None
        self.sheet_name = name
        return self._sheet(grid)

    def _sheet(self, grid: list[list[object]], version: str = "") -> Sheet:
        header = find_header_row(grid)
        return Sheet.from_values(grid[header:], header_row=header + 1, version=version)

    # -- writing -------------------------------------------------------------------------------
    def write_back(self, updates: list[RowUpdate], *, review: bool = False) -> WriteReport:
        retries = int(self.settings.get("lock_retries", 5))
        wait = float(self.settings.get("lock_wait", 2.0))
        self._check_exists()
        last = ""
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(wait)
            if lock_files(self.path):
                last = "locked"
                continue
            report, outcome = self._write_once(updates, review)
            if outcome == "ok":
                report.retries = attempt
                if attempt:
                    report.notes.append(
                        f"catalog was busy ({last}); re-read and re-applied {attempt}x"
                    )
                return report
            last = outcome
        if last == "locked":
            raise CatalogLocked(
                f"{self.path.name} is open in Excel/LibreOffice (lock file present); close it and re-run"
            )
        raise CatalogChanged(
            f"{self.path.name} kept changing while we wrote; nothing was written, re-run"
        )

    def _load(self):
        from openpyxl import load_workbook

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            book = load_workbook(
                self.path, keep_vba=self.path.suffix.lower() == ".xlsm", keep_links=True
            )
        notes = sorted(
            {
                str(w.message)
                for w in caught
                if "openpyxl" in (w.filename or "") or "will be" in str(w.message)
            }
        )
        return book, [f"openpyxl: {n}" for n in notes]

    def _write_once(self, updates: list[RowUpdate], review: bool) -> tuple[WriteReport, str]:
        if not USE_PATCH:
            return self._write_once_openpyxl(
                updates, review, "openpyxl round trip (patching is switched off)"
            )
        try:
            return self._write_once_patch(updates, review)
        except xlsx_patch.PatchUnsupported as exc:
            return self._write_once_openpyxl(
                updates, review, f"openpyxl round trip (the XML patch cannot: {exc})"
            )

    def _write_once_patch(self, updates: list[RowUpdate], review: bool) -> tuple[WriteReport, str]:
        from python_calamine import CalamineError, CalamineWorkbook

        st = self.path.stat()
        data = self.path.read_bytes()  # one read: the grid we locate in and the XML we patch agree
        before = (st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest())
        with _patching():
            zf = zipfile.ZipFile(io.BytesIO(data))
        with zf:
            with _patching():
                title, member = xlsx_patch.find_worksheet(zf.read, self.sheet_name)
                xlsx_patch.check_zip(zf, member)
                sheet_xml = zf.read(member)
                layout = xlsx_patch.scan_sheet(sheet_xml)
            needed = {"sku", "fingerprint"} | {k for u in updates for k in (u.match or {})}
            try:
                book = CalamineWorkbook.from_filelike(io.BytesIO(data))
                sheet = locate_sheet(book.get_sheet_by_name(title), needed)
                book.close()
            except (CalamineError, OSError, ValueError) as exc:
                raise CatalogError(f"cannot read {self.path.name}: {exc}") from None
            self.sheet_name = title
            header = sheet.header_row
            writes: dict[tuple[int, int], str] = {}
            styles: dict[tuple[int, int], bytes] = {}
            missing = [key for key in APPENDED_KEYS if key not in sheet.columns]
            new_columns = []
            if missing:
                with _patching():
                    # The used range per <dimension> also counts columns that only carry a style
                    # (openpyxl's max_column does too); a whole-row dimension (..XFD) is ignored.
                    dim_width = (
                        layout.width if layout.width + len(missing) <= xlsx_patch.MAX_COL else 0
                    )
                    last = max(len(sheet.headers), dim_width, xlsx_patch.row_width(layout, header))
                    model = xlsx_patch.cell_style(layout, header, max(1, len(sheet.headers)))
                    tables = xlsx_patch.table_ranges(zf.read, member, sheet_xml)
                sheet.headers.extend([""] * (last - len(sheet.headers)))
                for offset, key in enumerate(missing, start=1):
                    col = last + offset
                    if any(t[0] <= header <= t[2] and t[1] <= col <= t[3] for t in tables):
                        raise xlsx_patch.PatchUnsupported(
                            "an Excel table covers the columns we would append"
                        )
                    writes[(header, col)] = BY_KEY[key].header
                    if model is not None:
                        styles[(header, col)] = model
                    sheet.headers.append(BY_KEY[key].header)
                    sheet.columns[key] = col - 1
                    new_columns.append(col)
            cells, report = locate(updates, sheet, review=review)
            report.appended_columns = [BY_KEY[k].header for k in missing]
            if not cells and not missing:
                return report, "ok"
            for number, key, value in cells:
                writes[(number, sheet.columns[key] + 1)] = plain_text(str(value))
            with _patching():
                new_xml = xlsx_patch.patch_sheet_xml(
                    layout, writes, styles=styles, new_columns=new_columns, new_width=APPENDED_WIDTH
                )
            with _patching():
                patched = xlsx_patch.PatchedWorkbook(data, member, new_xml)
                patched.to_bytes()
            patched.new_xml = b""  # built into the zip; drop the big copies before reading it back
            del new_xml, layout, sheet_xml
        with _patching():
            verify_patch(patched.to_bytes(), title, writes, sheet.header_row)
        report.notes.append(
            f"write-back: patched {member} in place (inline strings); every other part unchanged"
        )
        return report, self._save_atomically(patched, before)

    def _write_once_openpyxl(
        self, updates: list[RowUpdate], review: bool, why: str
    ) -> tuple[WriteReport, str]:
        before = file_state(self.path)
        book, notes = self._load()
        ws = book[self.sheet_name] if self.sheet_name else book.worksheets[0]
        self.sheet_name = ws.title
        grid = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
        sheet = self._sheet(grid)
        appended = self._append_columns(ws, sheet)
        if appended:
            grid[sheet.header_row - 1] = [c.value for c in ws[sheet.header_row]]
            sheet = self._sheet(grid)
        cells, report = locate(updates, sheet, review=review)
        report.appended_columns = appended
        report.notes.append(f"write-back: {why}")
        report.notes.extend(notes)
        if not cells and not appended:
            return report, "ok"
        for number, key, value in cells:
            cell = ws.cell(row=number, column=sheet.columns[key] + 1)
            cell.value = plain_text(str(value))
            cell.data_type = "s"  # text, never a formula, whatever it starts with
        return report, self._save_atomically(book, before)

    def _append_columns(self, ws, sheet: Sheet) -> list[str]:
        from openpyxl.utils import get_column_letter

        missing = [key for key in APPENDED_KEYS if key not in sheet.columns]
        if not missing:
            return []
        last = max(ws.max_column, len(sheet.headers))
        model = ws.cell(row=sheet.header_row, column=max(1, len(sheet.headers)))
        for offset, key in enumerate(missing, start=1):
            cell = ws.cell(row=sheet.header_row, column=last + offset, value=BY_KEY[key].header)
            if model.has_style:
                cell._style = copy(model._style)
            width = ws.column_dimensions[get_column_letter(last + offset)]
            width.width = max(width.width or 0, APPENDED_WIDTH)
        return [BY_KEY[k].header for k in missing]

    def _save_atomically(self, book, before) -> str:
        """book: an openpyxl Workbook or an xlsx_patch.PatchedWorkbook (anything with save(path))."""
        fd, tmp_name = tempfile.mkstemp(
            prefix=".vitrina-", suffix=self.path.suffix, dir=self.path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            book.save(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            if lock_files(self.path):
                return "locked"
            if file_state(self.path) != before:
                return "changed on disk"
            os.chmod(tmp, self.path.stat().st_mode & 0o777)
            os.replace(tmp, self.path)
            return "ok"
        finally:
            tmp.unlink(missing_ok=True)
