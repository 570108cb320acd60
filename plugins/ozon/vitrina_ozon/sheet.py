"""The photo-link columns of Ozon's XLS template, as a deterministic .xlsx.

openpyxl stamps the current time into docProps/core.xml (save() overwrites `modified` with now,
whatever the workbook says) and into every zip entry; both are fixed here so an unchanged pack
stays byte-identical. Cells are written as strings (never formulas).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

COLUMNS = (
    "Артикул",
    "Ссылка на главное фото*",
    "Ссылки на дополнительные фото",
    "Ссылки на фото 360",
    "Артикул фото",
)
FIXED = dt.datetime(2000, 1, 1)
_STAMP = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
_MODIFIED = re.compile(rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)")


def photo_sheet(rows: list[tuple[str, str, list[str]]]) -> bytes:
    """rows: (offer_id, main url, extra urls) -> .xlsx bytes; extra links one per line."""
    from openpyxl import Workbook  # here: the plugin registers in every worker, which never packs

    wb = Workbook()
    ws = wb.active
    ws.title = "Фото"
    ws.append(COLUMNS)
    for offer_id, main, extras in rows:
        ws.append([offer_id, main, "\n".join(extras), "", ""])
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # an offer_id like "=1+1" stays text
    wb.properties.created = wb.properties.modified = FIXED
    buf = io.BytesIO()
    wb.save(buf)
    return rezip_fixed(buf.getvalue())


def rezip_fixed(data: bytes) -> bytes:
    """The same zip with fixed timestamps, so the bytes depend on the contents only."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            fixed.create_system = 3
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + _STAMP + rb"\g<2>", data)
            dst.writestr(fixed, data)
    return out.getvalue()
