"""Build the plugin manager: built-ins first, then the `vitrina_sync` entry-point group.

VITRINA_PLUGINS (comma list of distribution or plugin names) limits which external plugins load;
unset means all installed ones. VITRINA_PLUGIN_MODULES (comma list of importable modules) registers
plugins that are not installed distributions, e.g. a deployment's own module or a test plugin. Duplicate contributions and hook implementations without a spec
fail here, at start-up, with a clear message.
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache

import pluggy

from . import hookspecs
from .errors import ConfigError

DEFAULT_PLUGINS = (
    "vitrina_sync.modes.white",
    "vitrina_sync.modes.card",
    "vitrina_sync.modes.generative",
)
ENTRY_POINT_GROUP = "vitrina_sync"


def _allowlist() -> set[str] | None:
    raw = os.environ.get("VITRINA_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def build_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("vitrina_sync")
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("vitrina_sync"):
                continue  # a built-in mode not shipped in this build
            raise
        pm.register(module, name=module_name)
    for module_name in filter(
        None, (m.strip() for m in os.environ.get("VITRINA_PLUGIN_MODULES", "").split(","))
    ):
        try:
            pm.register(importlib.import_module(module_name), name=module_name)
        except ImportError as exc:
            raise ConfigError(
                f"plugin module {module_name!r} (VITRINA_PLUGIN_MODULES) failed to import: {exc}"
            ) from exc
    if load_entry_points:
        allow = _allowlist()
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else ""
            if allow is not None and ep.name not in allow and dist not in allow:
                continue
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must say which one at start-up
                raise ConfigError(f"plugin {ep.name!r} ({dist}) failed to load: {exc}") from exc
            pm.register(plugin, name=ep.name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"plugin error: {exc}") from exc
    return pm


def _unique(kind: str, contributions: list[list]) -> dict:
    found: dict = {}
    for items in contributions:
        for item in items or []:
            if item.name in found:
                raise ConfigError(f"two plugins register the {kind} {item.name!r}")
            found[item.name] = item
    return found


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    return build_plugin_manager()


def modes(pm: pluggy.PluginManager | None = None) -> dict:
    """Mode name -> Mode, from every plugin."""
    pm = pm or plugin_manager()
    return _unique("mode", pm.hook.vitrina_register_modes())


def marketplaces(pm: pluggy.PluginManager | None = None) -> dict:
    """Marketplace name -> Marketplace, from every plugin."""
    pm = pm or plugin_manager()
    return _unique("marketplace", pm.hook.vitrina_register_marketplaces())
