"""The ozon plugin on its own: entry point, rules file, names and manifest shape."""

from __future__ import annotations

import vitrina_ozon as plugin

from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.testing import check_entry_point_and_rules, item, small_market


def market():
    return small_market(plugin)


def test_entry_point_and_rules_file():
    check_entry_point_and_rules(plugin, "ozon")


def test_names_without_underscore_and_sheet_is_deterministic(tmp_path):
    from vitrina_ozon.sheet import photo_sheet

    items = [item(tmp_path, "OF_1", size=(150, 200))]
    result = build_pack(items, market(), tmp_path / "o", "https://cdn.example.ru")
    name = result.cards[0].files[0].name
    assert name.startswith("ozon/OF-1-") and "_" not in name.split("/")[1]
    rows = [("=1+1", "https://x/1.jpg", ["https://x/2.jpg"])]
    assert photo_sheet(rows) == photo_sheet(rows)
    from io import BytesIO

    from openpyxl import load_workbook

    cell = load_workbook(BytesIO(photo_sheet(rows))).active["A2"]
    assert cell.value == "=1+1" and cell.data_type == "s"  # text, never a formula


def test_sheet_bytes_do_not_depend_on_the_clock(monkeypatch):
    """openpyxl's save() writes the current time into docProps/core.xml: a pack built a second
    later must still be byte-identical (found as a rare failure of the rebuild test)."""
    import datetime as dt
    import types

    from openpyxl.writer import excel
    from vitrina_ozon.sheet import photo_sheet

    rows = [("OF-1", "https://x/1.jpg", ["https://x/2.jpg"])]
    first = photo_sheet(rows)

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=tz)

    monkeypatch.setattr(
        excel, "datetime", types.SimpleNamespace(datetime=Later, timezone=dt.timezone)
    )
    assert photo_sheet(rows) == first
    import io
    import zipfile

    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml")
    assert b"2000-01-01T00:00:00Z</dcterms:modified>" in core
