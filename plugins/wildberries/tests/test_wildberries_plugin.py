"""The wildberries plugin on its own: entry point, rules file, names and manifest shape."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import vitrina_wildberries as plugin

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
    return m.configured({"marketplaces": {"wildberries": rules}})


def test_entry_point_and_rules_file():
    (ep,) = [ep for ep in entry_points(group="vitrina_sync") if ep.name == "wildberries"]
    assert ep.load() is plugin
    rules = load_rules(plugin.vitrina_register_marketplaces()[0].rules_path)
    assert all(r.source and r.date and r.note for r in rules.values())


def test_media_save_body_per_nmid(tmp_path):
    items = [item(tmp_path, "V1", ids={"wb_nmid": "987"}, size=(150, 200))]
    result = build_pack(items, market(), tmp_path / "o", "https://cdn.example.ru/")
    import zipfile

    body = json.loads(zipfile.ZipFile(result.zip_path).read("wildberries/media_save.json"))
    assert body == [{"nmId": 987, "data": ["https://cdn.example.ru/wildberries/987/1.jpg"]}]
