"""The kaspi plugin on its own: entry point, rules file, names and manifest shape."""

from __future__ import annotations

import json

import vitrina_kaspi as plugin

from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.testing import check_entry_point_and_rules, item, small_market, zip_entry


def market():
    return small_market(plugin)


def test_entry_point_and_rules_file():
    check_entry_point_and_rules(plugin, "kaspi")


def test_products_import_entries(tmp_path):
    items = [item(tmp_path, "K 1", ids={"kaspi_sku": "KS1"}, size=(150, 200))]
    result = build_pack(items, market(), tmp_path / "o", "https://cdn.example.kz")
    files = result.cards[0].files
    assert [f.name for f in files] == ["kaspi/KS1-1.jpg"]
    assert json.loads(zip_entry(result, "kaspi/products_import.json")) == [
        {"sku": "KS1", "images": [{"url": "https://cdn.example.kz/kaspi/KS1-1.jpg"}]}
    ]


def test_long_kaspi_sku_is_a_row_error(tmp_path):
    result = build_pack(
        [item(tmp_path, "K" * 65, size=(150, 200))],
        market(),
        tmp_path / "o",
        "https://cdn.example.kz",
    )
    assert not result.cards and "over 64 chars" in result.skipped[0]["reason"]
