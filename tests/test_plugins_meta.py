"""Plugin system: every hook tested and documented; duplicates, unknown hooks and the allowlist.

The plugins here are small real modules written to a temp folder and registered the way a
deployment would (VITRINA_PLUGIN_MODULES), or the installed marketplace distributions.
"""

from __future__ import annotations

import re
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from vitrina_sync import hookspecs, plugins
from vitrina_sync.errors import ConfigError
from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.commands import plugins as plugins_cmd
from vitrina_sync.packs.testing import item

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("vitrina_"))


def write_plugin(tmp_path, monkeypatch, name: str, body: str) -> None:
    """A real plugin module `name` on sys.path, registered through VITRINA_PLUGIN_MODULES."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    current = [m for m in (plugins.os.environ.get("VITRINA_PLUGIN_MODULES") or "").split(",") if m]
    monkeypatch.setenv("VITRINA_PLUGIN_MODULES", ",".join([*current, name]))


def test_hookspecs_exist():
    assert HOOKS == ["vitrina_register_marketplaces", "vitrina_register_modes", "vitrina_startup"]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    files = [*ROOT.glob("tests/**/test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py")]
    this = Path(__file__).resolve()
    users = [f for f in files if f.resolve() != this and hook in f.read_text("utf-8")]
    # this file tests each hook below (test_<hook>_...); other files count too
    assert users or re.search(rf"def test_{hook}_", this.read_text("utf-8")), hook


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    doc = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    assert re.search(rf"^### `{hook}\(", doc, re.MULTILINE), (
        f"docs/plugins.md lacks a ### `{hook}(...)` section"
    )


def test_vitrina_register_marketplaces_installed_distributions():
    found = plugins.marketplaces(plugins.build_plugin_manager())
    assert {"kaspi", "wildberries", "ozon"} <= set(found)
    eps = {ep.name: ep for ep in entry_points(group="vitrina_sync")}
    for name in ("kaspi", "wildberries", "ozon"):
        assert (
            eps[name].dist.name == f"vitrina-{name}"
            and found[name].version == eps[name].dist.version
        )


def test_vitrina_register_marketplaces_duplicate_name_fails(tmp_path, monkeypatch):
    write_plugin(
        tmp_path,
        monkeypatch,
        "dupe_kaspi",
        """
        from vitrina_sync.hookspecs import hookimpl
        from vitrina_kaspi import Kaspi

        @hookimpl
        def vitrina_register_marketplaces():
            return [Kaspi()]
    """,
    )
    pm = plugins.build_plugin_manager()
    with pytest.raises(ConfigError, match="two plugins register the marketplace 'kaspi'"):
        plugins.marketplaces(pm)


def test_vitrina_register_modes_duplicate_name_fails(tmp_path, monkeypatch):
    write_plugin(
        tmp_path,
        monkeypatch,
        "dupe_white",
        """
        from vitrina_sync.hookspecs import hookimpl
        from vitrina_sync.modes.white import WhiteMode

        @hookimpl
        def vitrina_register_modes():
            return [WhiteMode()]
    """,
    )
    with pytest.raises(ConfigError, match="two plugins register the mode 'white'"):
        plugins.modes(plugins.build_plugin_manager())


def test_hookimpl_without_a_spec_fails_at_start_up(tmp_path, monkeypatch):
    write_plugin(
        tmp_path,
        monkeypatch,
        "typo_hook",
        """
        from vitrina_sync.hookspecs import hookimpl

        @hookimpl
        def vitrina_register_marketplace():  # singular: no such hook
            return []
    """,
    )
    with pytest.raises(ConfigError, match="plugin error: .*vitrina_register_marketplace"):
        plugins.build_plugin_manager()


def test_vitrina_startup_can_refuse_start_up(tmp_path, monkeypatch):
    write_plugin(
        tmp_path,
        monkeypatch,
        "needs_token",
        """
        from vitrina_sync.errors import ConfigError
        from vitrina_sync.hookspecs import hookimpl

        @hookimpl
        def vitrina_startup(settings):
            if not settings.get("marketplaces", {}).get("etsy", {}).get("token"):
                raise ConfigError("etsy: set token in [marketplaces.etsy]")
    """,
    )
    pm = plugins.build_plugin_manager()
    with pytest.raises(ConfigError, match="etsy: set token"):
        pm.hook.vitrina_startup(settings={})
    pm.hook.vitrina_startup(settings={"marketplaces": {"etsy": {"token": "t"}}})


@pytest.mark.parametrize(
    "allow, expect",
    [
        ("kaspi", {"kaspi"}),  # entry-point name
        ("vitrina-ozon, wildberries", {"ozon", "wildberries"}),  # distribution name too
        ("", set()),
    ],
)
def test_allowlist_limits_external_plugins(monkeypatch, allow, expect):
    monkeypatch.setenv("VITRINA_PLUGINS", allow)
    found = plugins.marketplaces(plugins.build_plugin_manager())
    assert set(found) & {"kaspi", "wildberries", "ozon"} == expect
    assert "white" in plugins.modes(plugins.build_plugin_manager())  # built-ins always load


def test_a_third_party_marketplace_is_a_peer(tmp_path, monkeypatch):
    rules = (ROOT / "plugins/kaspi/vitrina_kaspi/rules.toml").read_text("utf-8")
    (tmp_path / "etsy_rules.toml").write_text(rules)
    write_plugin(
        tmp_path,
        monkeypatch,
        "etsy_plugin",
        f"""
        from pathlib import Path
        from vitrina_sync.hookspecs import hookimpl
        from vitrina_sync.packs.base import Marketplace

        class Etsy(Marketplace):
            name = "etsy"
            version = "0.0.1"
            rules_path = Path({str(tmp_path / "etsy_rules.toml")!r})

        @hookimpl
        def vitrina_register_marketplaces():
            return [Etsy()]
    """,
    )
    etsy = plugins.marketplaces(plugins.build_plugin_manager())["etsy"]
    etsy = etsy.configured(
        {
            "marketplaces": {
                "etsy": {
                    "min_width": 100,
                    "min_height": 100,
                    "target_width": 100,
                    "target_height": 100,
                }
            }
        }
    )
    result = build_pack(
        [item(tmp_path, "E1", size=(200, 200))], etsy, tmp_path / "o", "https://x.io"
    )
    assert [f.name for f in result.cards[0].files] == ["etsy/E1/1.jpg"]


def test_plugins_command_lists_versions_and_rules(monkeypatch):
    monkeypatch.setattr(plugins, "plugin_manager", plugins.build_plugin_manager)
    out = CliRunner().invoke(plugins_cmd, []).output
    assert "marketplace wildberries 0.1.0 (Wildberries)" in out
    assert (
        "plugin ozon (vitrina-ozon 0.1.0)" in out
        and "plugin vitrina_sync.modes.white (built-in)" in out
    )
    assert "min_width = 900  [official API 700x900 vs promopult" in out
    assert "marketplace kaspi" in out and "seller practice, not official" in out
