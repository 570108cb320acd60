"""Every hook vitrina-sync calls, with its contract. Markers and specs only.

Families: register_* hooks return lists of things (modes, marketplaces) and are collected from
every plugin; startup is a lifecycle hook. Built-in behaviour is registered through these same
hooks (see plugins.DEFAULT_PLUGINS), so a third-party plugin is a peer of the built-ins.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("vitrina_sync")
hookimpl = pluggy.HookimplMarker("vitrina_sync")


@hookspec
def vitrina_register_modes():
    """Return a list of Mode objects (see modes.base.Mode); names must be unique across plugins."""


@hookspec
def vitrina_register_marketplaces():
    """Return a list of Marketplace objects (see packs.base.Marketplace); names must be unique."""


@hookspec
def vitrina_startup(settings):
    """Called once after settings load and plugins register; raise ConfigError to refuse start-up."""
