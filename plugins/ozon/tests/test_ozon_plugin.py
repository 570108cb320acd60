"""The ozon plugin on its own: entry point, rules file, names and manifest shape."""

from __future__ import annotations

from importlib.metadata import entry_points

import vitrina_ozon as plugin

from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.rules import load_rules
from vitrina_sync.packs.testing import item


def market():
    m = plugin.vitrina_register_marketplaces()[0]
    rules = {
        "min_width": 90,
        "min_height": 120,
        "target_width": 90,
        "target_height": 120,
        "aspect": "3:4",
    }
    return m.configured({"marketplaces": {"ozon": rules}})


def test_entry_point_and_rules_file():
    (ep,) = [ep for ep in entry_points(group="vitrina_sync") if ep.name == "ozon"]
    assert ep.load() is plugin
    rules = load_rules(plugin.vitrina_register_marketplaces()[0].rules_path)
    assert all(r.source and r.date and r.note for r in rules.values())


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
