"""The Flask app served by `vitrina-sync serve`. The factory only wires; components have init_app(app).

Components (each its own module):
  state.py   AppState: settings, the catalogs' SyncSessions, the broker, counters (set up by serve)
  sync.py    the sync loop per catalog + immediate sync on webhook, SIGTERM-safe write-back
  hooks.py   POST /hooks/sheet (HMAC-signed webhook)
  api.py     GET /healthz, /api/status, /metrics
  auth.py    users, /login, /logout, login_required, roles, CSRF
  review.py  /, /review, /review/<sku>, decisions, image serving
  review_packs.py  /packs
  review_touchup.py  POST /review/<sku>/touch-up (brush strokes -> a re-cut)
"""

from __future__ import annotations

import importlib

from flask import Flask

COMPONENTS = ("auth", "hooks", "api", "review", "review_packs", "review_touchup")


def create_app(state=None, test_config: dict | None = None) -> Flask:
    """state: a web.state.AppState (serve builds one; tests build small ones)."""
    app = Flask(__name__)
    app.config.from_mapping(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=True,
        MAX_CONTENT_LENGTH=1 << 20,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["vitrina"] = state
    for name in COMPONENTS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # a component not built yet
            raise
        module.init_app(app)
    return app
