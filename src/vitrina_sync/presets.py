"""Named presets per mode: shipped defaults (data/presets.toml) merged with a deployment's file."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, RowError


@lru_cache(maxsize=8)
def _load(extra: str) -> dict[str, dict[str, dict[str, Any]]]:
    shipped = tomllib.loads(resources.files("vitrina_sync").joinpath("data/presets.toml").read_text("utf-8"))
    if extra:
        path = Path(extra)
        try:
            override = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"presets file {path}: {exc}") from exc
        for mode, named in override.items():
            for name, params in named.items():
                base = shipped.get(mode, {}).get(name) or shipped.get(mode, {}).get("default", {})
                shipped.setdefault(mode, {})[name] = {**base, **params}
    return shipped


def all_presets(settings) -> dict[str, dict[str, dict[str, Any]]]:
    return _load(str(settings.get("presets", "") or ""))


def resolve(mode: str, name: str, settings) -> dict[str, Any]:
    """The parameters of preset `name` (empty = "default") for `mode`; RowError if unknown."""
    named = all_presets(settings).get(mode)
    if named is None:
        raise RowError(f"mode {mode!r} has no presets")
    key = (name or "default").strip().lower()
    if key not in named:
        known = ", ".join(sorted(named))
        raise RowError(f"unknown preset {name!r} for mode {mode} (known: {known})")
    return dict(named[key])
