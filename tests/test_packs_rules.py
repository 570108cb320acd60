"""Rules as data: every rule has value/source/date/note, stricter defaults, config overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from vitrina_sync import plugins
from vitrina_sync.errors import ConfigError
from vitrina_sync.packs.rules import apply_overrides, load_rules

MARKETS = ("wildberries", "ozon", "kaspi")
COMMON = (
    "formats",
    "output_format",
    "min_width",
    "min_height",
    "target_width",
    "target_height",
    "max_side",
    "aspect",
    "max_bytes",
    "quality_floor",
    "quality_start",
    "max_images",
    "colour_space",
    "main_background",
    "file_name_forbidden",
    "roles",
    "api_url",
)


@pytest.fixture(scope="module")
def registry():
    return plugins.marketplaces(plugins.build_plugin_manager())


@pytest.mark.parametrize("name", MARKETS)
def test_every_rule_carries_source_date_and_note(registry, name):
    rules = load_rules(registry[name].rules_path)
    assert set(COMMON) <= set(rules)
    for rule in rules.values():
        assert rule.source.strip() and rule.note.strip(), rule.name
        dt.date.fromisoformat(rule.date)


def test_stricter_defaults_where_sources_disagree(registry):
    wb, ozon, kaspi = (registry[n].rules for n in MARKETS)
    assert wb.aspect() == (3, 4) and ozon.aspect() == (3, 4)
    assert (wb.v("min_width"), wb.v("min_height")) == (900, 1200)  # guides over the API's 700x900
    assert all(r.v("max_bytes") <= 10_000_000 for r in (wb, ozon, kaspi))  # not WB API's 32 MB
    assert wb.v("quality_floor") == 65
    assert "disagree" in wb["min_width"].note and "disagree" in wb["max_bytes"].note
    assert ozon.v("file_name_forbidden") == "_/"
    assert all("not official" in r.note for r in kaspi.values() if r.source.startswith("3rd"))


def test_config_overrides_a_rule_and_says_so(registry):
    m = registry["wildberries"].configured(
        {
            "marketplaces": {
                "wildberries": {
                    "min_width": 1200,
                    "min_height": 1600,
                    "target_width": 1200,
                    "target_height": 1600,
                    "token": "t",
                }
            }
        }
    )
    assert m.rules.v("min_width") == 1200 and m.rules["min_width"].overridden
    assert "shipped: 900" in m.rules["min_width"].note
    assert m.config == {"token": "t"}
    assert registry["wildberries"].rules.v("min_width") == 900  # the shipped object is untouched


@pytest.mark.parametrize(
    "section, message",
    [
        ({"min_widht": 1000}, "unknown rule 'min_widht'"),
        ({"min_width": "900px"}, "must be like 900"),
        ({"social_frame": 1}, "must be like False"),
        ({"target_width": 1000}, "is not aspect 3:4"),
        ({"aspect": "wide"}, "not like '3:4'"),
        ({"quality_floor": 95}, "quality_floor is above"),
    ],
)
def test_bad_overrides_fail_at_start_up(registry, section, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(registry["wildberries"].rules, section, "[marketplaces.wildberries]")


def test_rule_without_source_is_refused(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[rules.min_width]\nvalue = 1\ndate = "2026-01-01"\nnote = "x"\n')
    with pytest.raises(ConfigError, match="lacks source"):
        load_rules(path)
