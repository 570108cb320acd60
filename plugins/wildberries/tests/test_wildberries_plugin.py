"""The wildberries plugin on its own: entry point, rules file, names and manifest shape."""

from __future__ import annotations

import json

import vitrina_wildberries as plugin

from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.testing import check_entry_point_and_rules, item, small_market, zip_entry


def market():
    return small_market(plugin)


def test_entry_point_and_rules_file():
    check_entry_point_and_rules(plugin, "wildberries")


def test_media_save_body_per_nmid(tmp_path):
    items = [item(tmp_path, "V1", ids={"wb_nmid": "987"}, size=(150, 200))]
    result = build_pack(items, market(), tmp_path / "o", "https://cdn.example.ru/")
    body = json.loads(zip_entry(result, "wildberries/media_save.json"))
    assert body == [{"nmId": 987, "data": ["https://cdn.example.ru/wildberries/987/1.jpg"]}]
