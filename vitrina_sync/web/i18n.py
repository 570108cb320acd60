"""The review pages' language: Flask-Babel, catalogs in vitrina_sync/translations/<lang>/.

The language is the reviewer's own choice (kept with them in the users file; before login, in
the session), else the browser's Accept-Language, else the `language` setting. Texts that live
in plain-data modules (review_data.py: QA figures, reasons, checklists, statuses) are marked
there with `N_` (extraction only) and translated here, per request, by `tr`. Configured reasons
and checklist items may give their own text per language: a table {en = "...", ru = "...",
kk = "..."} in vitrina.toml.

Update the catalogs after changing a text: `make translations` (DEVELOPERS.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale, gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

LANGUAGES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"

bp = Blueprint("i18n", __name__)
MACHINE_BLUEPRINTS = ("api", "hooks")
HTTP_ERRORS = {  # code -> (title, what it means), for werkzeug's own English descriptions
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("You may not open this page.")),
    404: (_l("Not found"), _l("There is nothing at this address.")),
    405: (_l("Method not allowed"), _l("This address does not take that kind of request.")),
    413: (_l("Too large"), _l("What was sent is too large.")),
    429: (_l("Too many requests"), _l("Too many requests; wait a little and try again.")),
    500: (_l("Server error"), _l("Something went wrong on the server; it is in its log.")),
    503: (_l("Unavailable"), _l("The server cannot answer this now; try again in a moment.")),
}


def init_app(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        languages=LANGUAGES,
        current_language=current_language,
        tr=tr,
        fmt_number=fmt_number,
        fmt_time=fmt_time,
        fmt_when=fmt_when,
    )
    app.register_error_handler(HTTPException, error_page)
    app.register_blueprint(bp)


def error_page(exc: HTTPException):
    """HTTP errors in the reader's language (our own descriptions are translated where raised)."""
    if exc.code is None or exc.code < 400 or request.blueprint in MACHINE_BLUEPRINTS:
        return exc  # machines read these: werkzeug's plain answer
    title, meaning = HTTP_ERRORS.get(exc.code, (exc.name, exc.description))
    own = exc.description and exc.description != type(exc).description
    message = exc.description if own else meaning
    return render_template("error.html", title=title, message=message), exc.code


def configured_language() -> str:
    settings = getattr(current_app.extensions.get("vitrina"), "settings", None) or {}
    language = str(settings.get("language") or "en").strip().lower()
    return language if language in LANGUAGES else "en"


def select_locale() -> str:
    """The reviewer's choice, then the browser's, then the server's `language` setting."""
    user = g.get("user") or {}
    for chosen in (user.get("language"), session.get("language")):
        if chosen in LANGUAGES:
            return chosen
    return request.accept_languages.best_match(LANGUAGES) or configured_language()


def current_language() -> str:
    return str(get_locale() or "en")


def tr(text) -> str:
    """A shipped text in the reader's language; a configured {en=..., ru=..., kk=...} table by
    language (English, then its first entry, where the reader's language is missing)."""
    if isinstance(text, dict):
        table = {str(k).lower(): str(v) for k, v in text.items()}
        return table.get(current_language()) or table.get("en") or next(iter(table.values()), "")
    return gettext(str(text)) if text else ""


def fmt_number(value, pattern: str = "#,##0.######") -> str:
    """A number in the reader's locale (decimal comma in ru and kk); a fraction to 4 significant
    digits, as the QA table always showed them; counts exact."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return format_decimal(
        value if isinstance(value, int) else float(f"{value:.4g}"), format=pattern
    )


def fmt_time(ts: float) -> str:
    if not ts:
        return gettext("never")
    moment = dt.datetime.fromtimestamp(ts, dt.UTC)
    return format_datetime(moment, "medium") + " UTC"


def fmt_when(text: str) -> str:
    """A date or time the files and the sheet hold as text (`2026-12-02`, `2026-12-02 14:05 UTC`,
    ISO 8601) in the reader's locale; any other text as it is."""
    value = str(text or "").strip()
    try:
        if len(value) == 10:
            return format_date(dt.date.fromisoformat(value), "medium")
        moment = dt.datetime.fromisoformat(value.removesuffix(" UTC"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return format_datetime(moment, "medium") + " UTC"


@bp.route("/language", methods=["POST"])
def choose():
    """The header's language switch (a form post: CSRF-checked like every other)."""
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session["language"] = language
        user = g.get("user")
        if user:
            from .auth import set_user_language

            set_user_language(current_app.extensions["vitrina_users"].path, user["name"], language)
    return redirect(_back_to(request.form.get("next")))


def _back_to(target: str | None) -> str:
    from .auth import safe_next

    return safe_next(target) if target else url_for("review.dashboard")
