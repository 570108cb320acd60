"""Write-back by patching one worksheet's XML inside the XLSX zip (no openpyxl round trip).

Every zip member except the target worksheet is copied through with identical bytes (same names,
order, dates, compression method). Inside the worksheet only the <row> elements that receive cells
are rebuilt (plus <dimension ref> when the sheet grows wider and <cols> widths for appended columns);
everything else in the XML - conditional formatting and data validation extensions (x14), sparklines,
slicers, drawings, hyperlinks, ... - stays byte for byte. Our text goes in as inline strings
(t="inlineStr"): it can never become a formula and sharedStrings.xml need not change. Each
rewritten cell keeps its style (s) attribute.

Everything here is a pure function over bytes except PatchedWorkbook.save. Anything the patcher does
not understand raises PatchUnsupported(reason); the caller then falls back to openpyxl.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET

# XML 1.0 cannot carry C0 controls other than tab/newline/CR, lone surrogates or U+FFFE/U+FFFF.
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

MAX_COL = 16_384  # XFD
_NAME = rb"[A-Za-z_][\w.\-]*"
_SHEETDATA = re.compile(rb"<(?:(" + _NAME + rb"):)?sheetData(?=[\s/>])[^>]*?(/?)>")
_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]+)$")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(["'])(.*?)\1""", re.DOTALL)
_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")


class PatchUnsupported(Exception):
    """The workbook has something the XML patcher does not handle; use the openpyxl path."""


# -- small helpers -------------------------------------------------------------------------------
def col_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def parse_ref(ref: str) -> tuple[int, int]:
    """'AB12' -> (row 12, column 28)."""
    m = _CELL_REF.match(ref.strip().upper())
    if not m:
        raise PatchUnsupported(f"cell reference {ref!r} not understood")
    return int(m.group(2)), col_number(m.group(1))


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A1:C3' (or 'B2') -> (min_row, min_col, max_row, max_col). Whole rows/columns are widened."""
    parts = ref.strip().split(":")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise PatchUnsupported(f"range {ref!r} not understood")
    ends = []
    for part in parts:
        part = part.replace("$", "").upper()
        if part.isdigit():  # a whole row: "1:3"
            ends.append((int(part), None))
        elif part.isalpha():  # a whole column: "A:C"
            ends.append((None, col_number(part)))
        else:
            ends.append(parse_ref(part))
    (r1, c1), (r2, c2) = ends
    return r1 or 1, c1 or 1, r2 or 1_048_576, c2 or MAX_COL


def _attr(attrs: bytes, name: bytes) -> bytes | None:
    m = re.search(rb"(?:^|\s)" + re.escape(name) + rb"""\s*=\s*(["'])(.*?)\1""", attrs, re.DOTALL)
    return m.group(2) if m else None


def _set_attr(attrs: bytes, name: bytes, value: bytes) -> bytes:
    pattern = re.compile(rb"((?:^|\s)" + re.escape(name) + rb"""\s*=\s*)(["'])(.*?)\2""", re.DOTALL)
    if pattern.search(attrs):
        return pattern.sub(lambda m: m.group(1) + b'"' + value + b'"', attrs, count=1)
    return attrs + b" " + name + b'="' + value + b'"'


def _drop_attr(attrs: bytes, name: bytes) -> bytes:
    return re.sub(
        rb"\s" + re.escape(name) + rb"""\s*=\s*(["']).*?\1""", b"", attrs, flags=re.DOTALL
    )


EXCEL_CELL_CHARS = 32_767  # Excel's limit on one cell's text; longer text makes it repair the file


def xml_text(value: str) -> str:
    """Text as a cell can carry it: control characters and the like stripped, cut at Excel's limit."""
    return INVALID_XML_CHARS.sub("", value)[:EXCEL_CELL_CHARS]


_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _escape(text: str) -> bytes:
    # Excel (and calamine) read _xHHHH_ as the character U+HHHH; a literal one is written _x005F_xHHHH_.
    text = _OOXML_ESCAPE.sub(r"_x005F_\1", text)
    text = (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )
    return text.encode("utf-8")


def inline_cell(
    prefix: bytes, ref: str, style: bytes | None, value: str, extra: bytes = b""
) -> bytes:
    """<c r=.. s=.. t="inlineStr"><is><t>value</t></is></c>; an empty value is an empty cell."""
    s = b' s="' + style + b'"' if style is not None else b""
    head = b"<" + prefix + b'c r="' + ref.encode() + b'"' + s + extra
    if value == "":
        return head + b"/>"
    space = (
        b' xml:space="preserve"'
        if value != value.strip() or "\n" in value or "\t" in value
        else b""
    )
    return (
        head
        + b' t="inlineStr"><'
        + prefix
        + b"is><"
        + prefix
        + b"t"
        + space
        + b">"
        + _escape(value)
        + b"</"
        + prefix
        + b"t></"
        + prefix
        + b"is></"
        + prefix
        + b"c>"
    )


# -- the worksheet XML ---------------------------------------------------------------------------
@dataclass
class SheetLayout:
    """Where things are in one worksheet XML (byte offsets), from one linear scan."""

    xml: bytes
    prefix: bytes  # b"" or b"x:" - the namespace prefix the sheet's elements use
    data_start: int  # just after <sheetData ...>
    data_end: int  # at </sheetData>
    rows: dict[int, tuple[int, int, bool]]  # row number -> (tag start, tag end, self-closing)
    dimension: tuple[int, int, int, int] | None  # min_row, min_col, max_row, max_col
    # shared/array formula refs
    formula_ranges: list[tuple[int, int, int, int]] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return self.dimension[3] if self.dimension else 0


def scan_sheet(xml: bytes) -> SheetLayout:
    """Check the worksheet is one we understand and index its rows. Raises PatchUnsupported."""
    if xml.startswith(b"\xef\xbb\xbf"):
        xml_body = xml[3:]
    elif xml[:2] in (b"\xff\xfe", b"\xfe\xff") or xml[:1] == b"\x00" or xml[1:2] == b"\x00":
        raise PatchUnsupported("worksheet XML is not UTF-8")
    else:
        xml_body = xml
    m = _ENCODING.match(xml_body.lstrip())
    if m and m.group(1).lower().replace(b"-", b"") not in (b"utf8",):
        raise PatchUnsupported(f"worksheet XML encoding {m.group(1).decode(errors='replace')}")
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise PatchUnsupported("worksheet XML has a DOCTYPE")
    sd = _SHEETDATA.search(xml)
    if not sd:
        raise PatchUnsupported("worksheet XML has no <sheetData>")
    if sd.group(2):
        raise PatchUnsupported("worksheet has no rows")
    prefix = (sd.group(1) + b":") if sd.group(1) else b""
    p = re.escape(prefix)
    close = xml.find(b"</" + prefix + b"sheetData>", sd.end())
    if close < 0:
        raise PatchUnsupported("worksheet XML has no </sheetData>")
    data_start, data_end = sd.end(), close
    if any(xml.find(mark, data_start, data_end) >= 0 for mark in (b"<!--", b"<![CDATA[", b"<?")):
        raise PatchUnsupported("comments, CDATA or processing instructions inside <sheetData>")
    rows: dict[int, tuple[int, int, bool]] = {}
    previous = 0
    row_tag = re.compile(rb"<" + p + rb"row(?=[\s/>])([^>]*?)(/?)>")
    for rm in row_tag.finditer(xml, data_start, data_end):
        ra = _R_ATTR.search(rm.group(1))
        r = ra.group(2) if ra else None
        number = (
            int(r) if r is not None and r.strip().isdigit() else previous + 1 if r is None else -1
        )
        if number <= previous:
            raise PatchUnsupported(
                f"rows out of order or duplicated (row {number} after {previous})"
            )
        rows[number] = (rm.start(), rm.end(), bool(rm.group(2)))
        previous = number
    head = xml[:data_start]
    dimension = None
    dm = re.search(rb"<" + p + rb"dimension(?=[\s/>])([^>]*?)/?>", head)
    if dm:
        ref = _attr(dm.group(1), b"ref")
        if ref:
            try:
                dimension = parse_range(ref.decode())
            except PatchUnsupported:
                dimension = None
    formula_ranges = []
    f_tag = re.compile(rb"<" + p + rb"f\s([^>]*?)/?>")
    for fm in f_tag.finditer(xml, data_start, data_end):
        ref = _attr(fm.group(1), b"ref")
        if ref:  # the master of a shared formula, an array formula or a data table
            for part in ref.decode().split():
                formula_ranges.append(parse_range(part))
    merged = []
    tail_tag = re.compile(rb"<" + p + rb"mergeCell\s([^>]*?)/?>")
    for mm in tail_tag.finditer(xml, data_end):
        ref = _attr(mm.group(1), b"ref")
        if ref:
            merged.append(parse_range(ref.decode()))
    return SheetLayout(xml, prefix, data_start, data_end, rows, dimension, formula_ranges, merged)


@dataclass
class _Cell:
    col: int
    raw: bytes  # the element as it was (or as we built it)
    attrs: bytes = b""
    inner: bytes = b""


def _row_cells(layout: SheetLayout, number: int) -> tuple[bytes, list[_Cell], bytes, int]:
    """(row start-tag attributes, cells, trailing bytes after the last cell, end offset)."""
    xml, prefix = layout.xml, layout.prefix
    p = re.escape(prefix)
    start, tag_end, self_closing = layout.rows[number]
    m = re.compile(rb"<" + p + rb"row(?=[\s/>])([^>]*?)/?>").match(xml, start)
    attrs = m.group(1)
    if self_closing:
        return attrs, [], b"", tag_end
    close = xml.find(b"</" + prefix + b"row>", tag_end, layout.data_end)
    if close < 0:
        raise PatchUnsupported(f"row {number} has no end tag")
    end = close + len(b"</" + prefix + b"row>")
    content = xml[tag_end:close]
    cell_tag = re.compile(rb"<" + p + rb"c(?=[\s/>])([^>]*?)(/?)>")
    cells: list[_Cell] = []
    pos, col = 0, 0
    while True:
        cm = cell_tag.search(content, pos)
        gap = content[pos : cm.start() if cm else len(content)]
        if cm is None:
            trailing = gap
            break
        if gap.strip():
            raise PatchUnsupported(f"row {number} holds something other than cells")
        cattrs = cm.group(1)
        if cm.group(2):
            inner, cend = b"", cm.end()
        else:
            cclose = content.find(b"</" + prefix + b"c>", cm.end())
            if cclose < 0:
                raise PatchUnsupported(f"a cell in row {number} has no end tag")
            inner, cend = content[cm.end() : cclose], cclose + len(b"</" + prefix + b"c>")
        ref = _attr(cattrs, b"r")
        if ref is None:
            this_col = col + 1
        else:
            row_no, this_col = parse_ref(ref.decode())
            if row_no != number:
                raise PatchUnsupported(f"cell {ref.decode()} sits in row {number}")
        if this_col <= col:
            raise PatchUnsupported(f"cells of row {number} out of order")
        cells.append(_Cell(this_col, content[cm.start() : cend], cattrs, inner))
        col, pos = this_col, cend
    stripped = trailing.strip()
    if stripped and not re.fullmatch(
        rb"<" + p + rb"extLst\b.*</" + p + rb"extLst>", stripped, re.DOTALL
    ):
        raise PatchUnsupported(f"row {number} holds something other than cells")
    return attrs, cells, trailing, end


def _inside(
    ranges: Iterable[tuple[int, int, int, int]], row: int, col: int
) -> tuple[int, int, int, int] | None:
    for rng in ranges:
        if rng[0] <= row <= rng[2] and rng[1] <= col <= rng[3]:
            return rng
    return None


def cell_style(layout: SheetLayout, row: int, col: int) -> bytes | None:
    if row not in layout.rows:
        return None
    for cell in _row_cells(layout, row)[1]:
        if cell.col == col:
            return _attr(cell.attrs, b"s")
    return None


def row_width(layout: SheetLayout, row: int) -> int:
    """The last column that has a <c> element (value or only a style) in `row`."""
    if row not in layout.rows:
        return 0
    cells = _row_cells(layout, row)[1]
    return cells[-1].col if cells else 0


def patch_sheet_xml(
    layout: SheetLayout,
    writes: Mapping[tuple[int, int], str],
    *,
    styles: Mapping[tuple[int, int], bytes] | None = None,
    new_columns: Iterable[int] = (),
    new_width: float = 14,
) -> bytes:
    """The worksheet XML with `writes` ((row, col) -> text, 1-based) applied.

    styles: (row, col) -> style index that replaces the cell's own (appended header cells take the
    style of the last header cell). new_columns get a <col> width where no <col> covers them.
    """
    styles = styles or {}
    prefix = layout.prefix
    by_row: dict[int, dict[int, str]] = {}
    for (row, col), value in writes.items():
        if row < 1 or col < 1 or col > MAX_COL:
            raise PatchUnsupported(f"cell ({row}, {col}) is outside a worksheet")
        by_row.setdefault(row, {})[col] = value
        rng = _inside(layout.formula_ranges, row, col)
        if rng:
            raise PatchUnsupported(
                f"a shared/array formula over {col_letter(rng[1])}{rng[0]}:"
                f"{col_letter(rng[3])}{rng[2]} covers {col_letter(col)}{row}, which we write"
            )
        rng = _inside(layout.merged, row, col)
        if rng and (row, col) != (rng[0], rng[1]):
            raise PatchUnsupported(f"{col_letter(col)}{row} is inside a merged range")
    missing = sorted(set(by_row) - set(layout.rows))
    if missing:
        raise PatchUnsupported(f"row {missing[0]} is not in the worksheet XML")
    xml = layout.xml
    view = memoryview(xml)  # slices without copies; joined once at the end
    pieces: list = []
    pos = 0
    max_col = 0
    for number in sorted(by_row, key=lambda n: layout.rows[n][0]):
        start = layout.rows[number][0]
        attrs, cells, trailing, end = _row_cells(layout, number)
        existing = {c.col: c for c in cells}
        # Positions become explicit in a row we rebuild (a reader never has to count cells).
        if _R_ATTR.search(attrs) is None:
            attrs = b' r="%d"' % number + attrs
        open_tag = b"<" + prefix + b"c"
        for cell in cells:
            if _R_ATTR.search(cell.attrs) is None:
                ref = f"{col_letter(cell.col)}{number}".encode()
                cell.raw = open_tag + b' r="' + ref + b'"' + cell.raw[len(open_tag) :]
                cell.attrs = b' r="' + ref + b'"' + cell.attrs
        for col, value in by_row[number].items():
            max_col = max(max_col, col)
            ref = f"{col_letter(col)}{number}"
            old = existing.get(col)
            style = styles.get((number, col))
            extra = b""
            if old is not None:
                if re.search(rb"<" + re.escape(prefix) + rb"f[\s/>]", old.inner):
                    raise PatchUnsupported(f"{ref} holds a formula (calcChain would go stale)")
                if style is None:
                    style = _attr(old.attrs, b"s")
                ph = _attr(old.attrs, b"ph")
                if ph is not None:
                    extra = b' ph="' + ph + b'"'
            existing[col] = _Cell(col, inline_cell(prefix, ref, style, xml_text(value), extra))
        ordered = [existing[c].raw for c in sorted(existing)]
        cols = sorted(existing)
        spans = _attr(attrs, b"spans")
        if spans is not None:
            try:
                bounds = [int(x) for part in spans.split() for x in part.split(b":")]
                lo, hi = min(bounds), max(bounds)
            except ValueError:
                lo, hi = cols[0], cols[-1]
            if cols[0] < lo or cols[-1] > hi:
                attrs = _set_attr(
                    attrs, b"spans", f"{min(lo, cols[0])}:{max(hi, cols[-1])}".encode()
                )
        pieces.append(view[pos:start])
        pieces.append(
            b"<"
            + prefix
            + b"row"
            + attrs
            + b">"
            + b"".join(ordered)
            + trailing
            + b"</"
            + prefix
            + b"row>"
        )
        pos = end
    pieces.append(view[pos:])
    # The sheet grew wider (or rows were written outside a stale dimension): widen <dimension ref>.
    head = xml[: layout.data_start]
    new_head = _widen_dimension(head, prefix, layout.dimension, by_row, max_col)
    new_head = _add_col_widths(new_head, prefix, sorted(set(new_columns)), new_width)
    # pieces[0] runs from the start of the XML, head included (the first row is after <sheetData>).
    return b"".join([new_head, pieces[0][len(head) :], *pieces[1:]])


def _widen_dimension(head: bytes, prefix: bytes, dim, by_row, max_col: int) -> bytes:
    if dim is None or not by_row:
        return head
    r1, c1, r2, c2 = dim
    nr1, nc1 = min(r1, min(by_row)), min(c1, min(min(c) for c in by_row.values()))
    nr2, nc2 = max(r2, max(by_row)), max(c2, max_col)
    if (nr1, nc1, nr2, nc2) == dim:
        return head
    ref = f"{col_letter(nc1)}{nr1}:{col_letter(nc2)}{nr2}".encode()
    p = re.escape(prefix)
    m = re.search(rb"<" + p + rb"dimension(?=[\s/>])([^>]*?)(/?)>", head)
    new_tag = b"<" + prefix + b"dimension" + _set_attr(m.group(1), b"ref", ref) + m.group(2) + b">"
    return head[: m.start()] + new_tag + head[m.end() :]


def _add_col_widths(head: bytes, prefix: bytes, columns: list[int], width: float) -> bytes:
    if not columns:
        return head
    p = re.escape(prefix)
    cols_m = re.search(rb"<" + p + rb"cols(?=[\s/>])[^>]*?(/?)>", head)
    existing: list[tuple[int, int, bytes]] = []
    if cols_m and not cols_m.group(1):
        close = head.find(b"</" + prefix + b"cols>", cols_m.end())
        if close < 0:
            raise PatchUnsupported("<cols> has no end tag")
        inner = head[cols_m.end() : close]
        for cm in re.finditer(rb"<" + p + rb"col(?=[\s/>])([^>]*?)/>", inner):
            lo, hi = _attr(cm.group(1), b"min"), _attr(cm.group(1), b"max")
            if lo is None or hi is None:
                raise PatchUnsupported("a <col> without min/max")
            existing.append((int(lo), int(hi), cm.group(0)))
        if re.sub(rb"<" + p + rb"col(?=[\s/>])[^>]*?/>", b"", inner).strip():
            raise PatchUnsupported("<cols> holds something other than <col/>")
        span = (cols_m.start(), close + len(b"</" + prefix + b"cols>"))
    else:
        span = None
    uncovered = [c for c in columns if not any(lo <= c <= hi for lo, hi, _ in existing)]
    if not uncovered:
        return head
    w = (f"{width:g}").encode()
    runs: list[list[int]] = []
    for c in uncovered:
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    added = [
        (
            lo,
            hi,
            b"<" + prefix + b'col min="%d" max="%d" width="%s" customWidth="1"/>' % (lo, hi, w),
        )
        for lo, hi in runs
    ]
    elements = sorted(existing + added, key=lambda t: t[0])
    block = b"<" + prefix + b"cols>" + b"".join(e[2] for e in elements) + b"</" + prefix + b"cols>"
    if span is not None:
        return head[: span[0]] + block + head[span[1] :]
    # No <cols> yet (or an empty <cols/>): it goes right before <sheetData>, where the schema wants it.
    if cols_m:  # an empty <cols/> element: replace it
        return head[: cols_m.start()] + block + head[cols_m.end() :]
    sd = head.rfind(b"<" + prefix + b"sheetData")
    return head[:sd] + block + head[sd:]


# -- the package ---------------------------------------------------------------------------------
def _children(root, local: str):
    return [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == local]


def _rel_targets(rels_xml: bytes, base_dir: str) -> dict[str, tuple[str, str, str]]:
    """rId -> (type suffix, resolved member name, target mode) of one .rels part."""
    root = SafeET.fromstring(rels_xml)
    out = {}
    for rel in _children(root, "Relationship"):
        target = rel.get("Target", "")
        mode = rel.get("TargetMode", "Internal")
        if target.startswith("/"):
            member = target.lstrip("/")
        else:
            member = posixpath.normpath(posixpath.join(base_dir, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], member, mode)
    return out


def _rels_name(member: str) -> str:
    folder, name = posixpath.split(member)
    return posixpath.join(folder, "_rels", name + ".rels")


def find_worksheet(read: Callable[[str], bytes], sheet_name: str | None) -> tuple[str, str]:
    """(sheet title, zip member of its worksheet XML); the first sheet when sheet_name is None."""
    try:
        root_rels = _rel_targets(read("_rels/.rels"), "")
        workbook = next(m for t, m, _ in root_rels.values() if t == "officeDocument")
        wb_root = SafeET.fromstring(read(workbook))
        wb_rels = _rel_targets(read(_rels_name(workbook)), posixpath.dirname(workbook))
    except (KeyError, StopIteration) as exc:
        raise PatchUnsupported(f"workbook parts not found ({exc})") from None
    except SafeET.ParseError as exc:
        raise PatchUnsupported(f"workbook XML not understood ({exc})") from None
    sheets = _children(wb_root, "sheet")
    if not sheets:
        raise PatchUnsupported("workbook lists no sheets")
    chosen = (
        sheets[0]
        if sheet_name is None
        else next((s for s in sheets if s.get("name") == sheet_name), None)
    )
    if chosen is None:
        raise PatchUnsupported(f"no sheet {sheet_name!r} in workbook.xml")
    rid = next((v for k, v in chosen.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
    kind, member, mode = wb_rels.get(rid, ("", "", ""))
    if kind != "worksheet" or mode != "Internal":
        raise PatchUnsupported(
            f"sheet {chosen.get('name')!r} is not a worksheet part ({kind or 'no relationship'})"
        )
    return chosen.get("name"), member


def table_ranges(
    read: Callable[[str], bytes], sheet_member: str, sheet_xml: bytes
) -> list[tuple[int, int, int, int]]:
    """Ranges of the Excel tables (ListObjects) on the worksheet."""
    if b"tablePart" not in sheet_xml:
        return []
    try:
        rels = _rel_targets(read(_rels_name(sheet_member)), posixpath.dirname(sheet_member))
    except KeyError:
        return []
    out = []
    for kind, member, _ in rels.values():
        if kind != "table":
            continue
        try:
            root = SafeET.fromstring(read(member))
        except (KeyError, SafeET.ParseError) as exc:
            raise PatchUnsupported(f"table part {member} not readable ({exc})") from None
        out.append(parse_range(root.get("ref", "A1")))
    return out


def check_zip(zf: zipfile.ZipFile, member: str) -> None:
    names = [i.filename for i in zf.infolist()]
    if len(set(names)) != len(names):
        raise PatchUnsupported("the zip has duplicate member names")
    if any(i.flag_bits & 0x1 for i in zf.infolist()):
        raise PatchUnsupported("the zip is encrypted")
    if member not in names:
        raise PatchUnsupported(f"{member} is not in the zip")


@dataclass
class PatchedWorkbook:
    """The source zip with one member replaced; save() writes it (the caller makes that atomic)."""

    source: bytes
    member: str
    new_xml: bytes
    _built: bytes | None = None

    def to_bytes(self) -> bytes:
        if self._built is None:
            buffer = io.BytesIO()
            self._write(buffer)
            self._built = buffer.getvalue()
        return self._built

    def save(self, path) -> None:
        with open(path, "wb") as fh:
            fh.write(self.to_bytes())

    def _write(self, target) -> None:
        with (
            zipfile.ZipFile(io.BytesIO(self.source)) as src,
            zipfile.ZipFile(target, "w", allowZip64=True) as out,
        ):
            for info in src.infolist():
                data = self.new_xml if info.filename == self.member else src.read(info)
                copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                copy.compress_type = info.compress_type
                copy.external_attr = info.external_attr
                copy.create_system = info.create_system
                copy.comment = info.comment
                out.writestr(copy, data)
            out.comment = src.comment
