"""Named presets per mode: shipped defaults (data/presets.toml) merged with a deployment's file."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, RowError, shown


@lru_cache(maxsize=8)
def _load(extra: str) -> dict[str, dict[str, dict[str, Any]]]:
    shipped = tomllib.loads(
        resources.files("vitrina_sync").joinpath("data/presets.toml").read_text("utf-8")
    )
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
        raise RowError(f"unknown preset {shown(name)} for mode {mode} (known: {known})")
    params = dict(named[key])
    problem = check(mode, params)
    if problem:
        raise RowError(f"preset {key!r} of mode {mode}: {problem}")
    return params


def check(mode: str, params: dict[str, Any]) -> str:
    """What is wrong with a preset's geometry, or "" (a bad value would crash or stretch later)."""
    canvas = params.get("canvas", (2000, 2000))
    if (
        not isinstance(canvas, (list, tuple))
        or len(canvas) != 2
        or not all(isinstance(v, int) and 16 <= v <= 10_000 for v in canvas)
    ):
        return f"canvas must be [width, height] in pixels (16..10000), not {canvas!r}"
    fill = params.get("fill", 0.85)
    if not isinstance(fill, (int, float)) or not 0.05 <= fill <= 1.0:
        return f"fill must be between 0.05 and 1.0, not {fill!r}"
    return ""
