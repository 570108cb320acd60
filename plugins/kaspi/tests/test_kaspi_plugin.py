"""The kaspi plugin on its own: entry point, rules file, names and manifest shape."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import vitrina_kaspi as plugin

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
    return m.configured({"marketplaces": {"kaspi": rules}})


def test_entry_point_and_rules_file():
    (ep,) = [ep for ep in entry_points(group="vitrina_sync") if ep.name == "kaspi"]
    assert ep.load() is plugin
    rules = load_rules(plugin.vitrina_register_marketplaces()[0].rules_path)
    assert all(r.source and r.date and r.note for r in rules.values())


def test_products_import_entries(tmp_path):
    items = [item(tmp_path, "K 1", ids={"kaspi_sku": "KS1"}, size=(150, 200))]
    result = build_pack(items, market(), tmp_path / "o", "https://cdn.example.kz")
    files = result.cards[0].files
    assert [f.name for f in files] == ["kaspi/KS1-1.jpg"]
    assert json.loads(_entry(result, "kaspi/products_import.json")) == [
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


def _entry(result, name):
    import zipfile

    return zipfile.ZipFile(result.zip_path).read(name)
