"""The app state and the catalog a request is about: shared by the review and pack views."""

from __future__ import annotations

from flask import abort, current_app, request
from flask_babel import gettext as _


def app_state():
    state = current_app.extensions.get("vitrina")
    if state is None or not state.catalogs:
        abort(503, _("no catalog configured"))
    return state


def catalog(name: str | None = None):
    """(name, CatalogState) for `c` in the request (default: the first catalog)."""
    state = app_state()
    name = name or request.values.get("c") or next(iter(state.catalogs))
    if name not in state.catalogs:
        abort(404, _("no such catalog"))
    return name, state.catalogs[name]
