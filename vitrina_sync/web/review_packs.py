"""Admin pages. /packs: build a marketplace's pack from the catalog's approved rows, show its
report, download the zip (the same steps as `vitrina-sync pack`, packs/commands.py).
/settings: the settings the server runs with, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from .auth import role_required
from .current import catalog

bp = Blueprint("packs", __name__)


def init_app(app) -> None:
    app.register_blueprint(bp)
    init_jinja(app)


def _catalog():
    return catalog()


def packs_dir(session) -> Path:
    return session.out_root / "packs"


def installed() -> dict:
    from .. import plugins

    try:
        return plugins.marketplaces()
    except Exception as exc:  # noqa: BLE001 -- a broken plugin: the page says so instead of a 500
        flash(_("marketplace plugins failed to load: %(why)s", why=exc), "error")
        return {}


def read_report(folder: Path, market: str) -> dict | None:
    try:
        return json.loads((folder / f"{market}.report.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


@bp.route("/packs")
@role_required("admin")
def index():
    name, cstate = _catalog()
    folder = packs_dir(cstate.session)
    markets = []
    for market_name, market in sorted(installed().items()):
        zip_path = folder / f"{market_name}.zip"
        markets.append(
            {
                "name": market_name,
                "title": getattr(market, "title", market_name),
                "base_url": market.configured(cstate.session.settings).config.get("base_url", ""),
                "zip": zip_path.exists(),
                "report": read_report(folder, market_name),
            }
        )
    return render_template(
        "packs.html", c=name, markets=markets, default_base=request.url_root + "packs/files/"
    )


@bp.route("/packs/build", methods=["POST"])
@role_required("admin")
def build():
    from ..errors import VitrinaError
    from ..packs.build import build_pack
    from ..packs.commands import get_marketplace
    from ..packs.publish import output_dirs
    from ..packs.select import plan_check, select_items

    name, cstate = _catalog()
    session = cstate.session
    market_name = request.form.get("marketplace", "")
    try:
        market = get_marketplace(market_name, session.settings)
        base = request.form.get("base_url", "").strip() or market.config.get("base_url", "")
        sheet = session.catalog.read()
        check = plan_check(session.settings, session.asset_root, session.out_root, session.storage)
        out_dirs = output_dirs(session.storage, session.out_root / ".vitrina" / "cache")
        items, skipped = select_items(sheet.rows, market.name, check, session.storage, out_dirs)
        result = build_pack(items, market, packs_dir(session), base, skipped)
    except VitrinaError as exc:
        flash(_("Pack not built: %(why)s", why=exc), "error")
        return redirect(url_for("packs.index", c=name))
    counts = result.report["counts"]
    flash(f"{market.name}: {pack_counts(counts)}", "ok" if result.cards else "error")
    return redirect(url_for("packs.index", c=name))


def pack_counts(counts: dict) -> str:
    """A pack report's counts in words, with each language's plural forms."""
    cards, files, skipped = (int(counts.get(k) or 0) for k in ("cards", "files", "skipped"))
    return " ".join(
        (
            ngettext("%(num)d card,", "%(num)d cards,", cards),
            ngettext("%(num)d file,", "%(num)d files,", files),
            ngettext("%(num)d row skipped.", "%(num)d rows skipped.", skipped),
        )
    )


def check_counts(counts: dict) -> str:
    checks, failed = int(counts.get("checks") or 0), int(counts.get("failed_checks") or 0)
    return (
        ngettext("%(num)d check", "%(num)d checks", checks)
        + " "
        + _("(%(failed)d failed)", failed=failed)
    )


def init_jinja(app) -> None:
    app.jinja_env.globals.update(pack_counts=pack_counts, check_counts=check_counts)


@bp.route("/packs/download/<market>.zip")
@role_required("admin")
def download(market: str):
    _, cstate = _catalog()
    if market not in installed():
        abort(404)
    path = packs_dir(cstate.session) / f"{market}.zip"
    if not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=f"{market}.zip", max_age=0)


SECRET_WORDS = ("secret", "token", "password", "api_key", "apikey", "credential", "key")


def masked(name: str, value):
    """Secrets are shown as set / not set: the page must not hand them to a shoulder-surfer."""
    if isinstance(value, dict):
        return {k: masked(k, v) for k, v in value.items()}
    if any(w in name.lower() for w in SECRET_WORDS) and value not in ("", None):
        return "(set)"
    return value


@bp.route("/settings")
@role_required("admin")
def settings_page():
    from ..settings import SETTINGS

    name, cstate = _catalog()
    values = cstate.session.settings
    known = [(s.name, masked(s.name, values.get(s.name)), s.help) for s in SETTINGS]
    names = {s.name for s in SETTINGS}
    extra = [(k, masked(k, v)) for k, v in sorted(values.items()) if k not in names]
    return render_template(
        "settings.html",
        c=name,
        known=known,
        extra=extra,
        spec=cstate.session.spec,
        out=cstate.session.out_root,
        assets=cstate.session.asset_root,
    )
