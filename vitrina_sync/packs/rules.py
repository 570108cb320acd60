"""Marketplace rules as data: every rule has a value, a source, a date and a note.

A plugin ships its rules in a TOML file (one [rules.<name>] table per rule); a deployment overrides
any value in its [marketplaces.<name>] settings section. Overrides keep the rule's type, so a typo
("min_width = '900px'") fails at start-up instead of halfway through a pack.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError

# Keys of a [marketplaces.<name>] section that are deployment settings, not rules.
SETTING_KEYS = ("token", "client_id", "api_key", "api_url", "base_url")
REQUIRED_FIELDS = ("value", "source", "date", "note")


@dataclass(frozen=True)
class Rule:
    name: str
    value: Any
    source: str
    date: str
    note: str
    overridden: bool = False


class Rules(dict):
    """Rule name -> Rule, with `rules.v("min_width")` for the value."""

    def v(self, name: str) -> Any:
        try:
            return self[name].value
        except KeyError:
            raise ConfigError(f"rule {name!r} is not defined for this marketplace") from None

    def aspect(self) -> tuple[int, int]:
        """The aspect rule ("3:4") as (width, height) parts."""
        text = str(self.v("aspect"))
        try:
            w, h = (int(p) for p in text.split(":"))
        except ValueError:
            raise ConfigError(f"rule aspect: {text!r} is not like '3:4'") from None
        if w <= 0 or h <= 0:
            raise ConfigError(f"rule aspect: {text!r} must be positive")
        return w, h

    def as_table(self) -> list[dict[str, Any]]:
        """Plain rows for reports and `vitrina-sync plugins`, sorted by name."""
        return [
            {
                "rule": r.name,
                "value": r.value,
                "source": r.source,
                "date": r.date,
                "note": r.note,
                "overridden": r.overridden,
            }
            for r in sorted(self.values(), key=lambda r: r.name)
        ]


def load_rules(path: Path) -> Rules:
    """Read a plugin's rules file; a rule missing value/source/date/note is a ConfigError."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"rules file {path}: {exc}") from exc
    rules = Rules()
    for name, table in (data.get("rules") or {}).items():
        missing = [f for f in REQUIRED_FIELDS if f not in table]
        if missing:
            raise ConfigError(f"rules file {path}: rule {name!r} lacks {', '.join(missing)}")
        rules[name] = Rule(
            name, table["value"], str(table["source"]), str(table["date"]), str(table["note"])
        )
    check_consistent(rules, str(path))
    return rules


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def apply_overrides(
    rules: Rules, section: Mapping[str, Any], where: str, settings: tuple[str, ...] = ()
) -> Rules:
    """A copy of `rules` with the rule values a [marketplaces.<name>] section sets; keys in
    SETTING_KEYS or the plugin's own `settings` are not rules and are left to the caller."""
    out = Rules(rules)
    for key, value in (section or {}).items():
        if key in SETTING_KEYS or key in settings:
            continue
        if key not in rules:
            known = ", ".join(sorted(rules))
            raise ConfigError(f"{where}: unknown rule {key!r} (rules: {known})")
        if not _same_kind(rules[key].value, value):
            raise ConfigError(
                f"{where}: rule {key!r} must be like {rules[key].value!r}, got {value!r}"
            )
        out[key] = replace(
            rules[key],
            value=value,
            overridden=True,
            note=f"overridden by config ({where}); shipped: {rules[key].value!r}",
        )
    check_consistent(out, where)
    return out


def check_consistent(rules: Rules, where: str) -> None:
    """Rules that contradict each other fail at load, not on the first row."""
    if not {"aspect", "target_width", "target_height"} <= rules.keys():
        return
    aw, ah = rules.aspect()
    tw, th = rules.v("target_width"), rules.v("target_height")
    if tw * ah != th * aw:
        raise ConfigError(f"{where}: target {tw}x{th} is not aspect {aw}:{ah}")
    if tw < rules.v("min_width") or th < rules.v("min_height"):
        raise ConfigError(f"{where}: target {tw}x{th} is below the minimum size")
    if rules.v("quality_floor") > rules.v("quality_start"):
        raise ConfigError(f"{where}: quality_floor is above quality_start")
