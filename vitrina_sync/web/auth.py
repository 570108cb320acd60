"""Reviewer accounts, the login form, sessions, roles and CSRF for every form post.

Users live in a JSON file (setting `users_file`; default `users.json` beside the vitrina.toml in
use, else in the platform's data folder for the app: see default_users_file):
{"users": {"NAME": {"hash": "<werkzeug hash>", "role": "reviewer" | "admin"}}}. The file is
re-read when it changes, so `vitrina-sync users add` works on a running server and removing a
user ends their sessions at the next request.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import click
import platformdirs
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("reviewer", "admin")
WEBHOOK_ENDPOINT = "hooks.sheet"  # signed with HMAC instead (web/hooks.py)


@functools.cache
def _dummy_hash() -> str:
    """A fixed hash checked when the name is unknown, so a wrong name costs as long as a wrong
    password. Made when the app starts (init_app), not at import: hashing costs ~80 ms, which
    every CLI command paid before."""
    return generate_password_hash("not-a-real-password")


bp = Blueprint("auth", __name__)
csrf = CSRFProtect()


# -- the users file ----------------------------------------------------------------------------
def default_users_file(settings, config: Path | None = None) -> Path:
    """users_file, else users.json beside the vitrina.toml in use (--config, or ./vitrina.toml),
    else in the platform's data folder for the app (platformdirs). Needs no catalog, so
    `users add` and `serve` agree on it wherever they are started from the same folder."""
    configured = (settings or {}).get("users_file")
    if configured:
        return Path(configured).expanduser().resolve()
    if config is None and Path("vitrina.toml").is_file():
        config = Path("vitrina.toml")
    if config is not None:
        return Path(config).resolve().parent / "users.json"
    return Path(platformdirs.user_data_dir("vitrina-sync")) / "users.json"


def catalog_users_file(out_root: Path) -> Path:
    """A catalog's own users file (`users add --catalog`; every default before issue 14)."""
    return Path(out_root) / ".vitrina" / "users.json"


def serve_users_file(settings, config: Path | None, out_root: Path | None) -> Path:
    """The file serve reads: the default, or the catalog's own file when only that one exists."""
    path = default_users_file(settings, config)
    if (settings or {}).get("users_file") or path.exists() or out_root is None:
        return path
    legacy = catalog_users_file(out_root)
    return legacy if legacy.exists() else path


def read_users(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    users = data.get("users", {}) if isinstance(data, dict) else {}
    return {str(k): v for k, v in users.items() if isinstance(v, dict) and v.get("hash")}


def write_users(path: Path, users: dict[str, dict]) -> None:
    """Atomic and private: the file holds password hashes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"users": users}, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)


def add_user(path: Path, name: str, password: str, role: str = "reviewer") -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip() or any(c in name for c in "\r\n\t\0"):
        raise ValueError("user name must be non-empty text on one line")
    users = read_users(path)
    users[name] = {"hash": generate_password_hash(password), "role": role}
    write_users(path, users)


class UserStore:
    """The users file as the app sees it: re-read when its mtime changes."""

    def __init__(self, path: Path):
        self.path = path
        self._stamp: float | None = None
        self._users: dict[str, dict] = {}

    def users(self) -> dict[str, dict]:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._users, self._stamp = read_users(self.path), stamp
        return self._users

    def check(self, name: str, password: str) -> dict | None:
        user = self.users().get(name)
        ok = check_password_hash(user["hash"] if user else _dummy_hash(), password)
        return user if ok and user else None


# -- wiring ------------------------------------------------------------------------------------
def _state_paths(app) -> tuple[object, Path | None, Path | None]:
    state = app.extensions.get("vitrina")
    settings = getattr(state, "settings", None) or {}
    out_root = None
    for c in getattr(state, "catalogs", {}).values():
        out_root = c.session.out_root
        break
    work = getattr(state, "work_dir", None) or (out_root / ".vitrina" if out_root else None)
    return settings, out_root, work


def secret_key(settings, work: Path | None) -> str:
    """settings secret_key, else one generated once per work folder and kept (sessions survive restarts)."""
    if (settings or {}).get("secret_key"):
        return settings["secret_key"]
    if work is None:
        return secrets.token_hex(32)  # no work folder (bare test app): sessions last one process
    path = Path(work) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass  # another process made it first: use theirs
    return path.read_text().strip()


def init_app(app) -> None:
    _dummy_hash()
    settings, out_root, work = _state_paths(app)
    if not app.config.get("SECRET_KEY"):
        app.secret_key = secret_key(settings, work)
    users_file = app.config.get("USERS_FILE")
    if not users_file and ((settings or {}).get("users_file") or out_root):
        config = getattr(app.extensions.get("vitrina"), "config_file", None)
        users_file = serve_users_file(settings, config, out_root)
    app.extensions["vitrina_throttle"] = Throttle()
    app.extensions["vitrina_users"] = UserStore(
        Path(users_file) if users_file else Path(os.devnull)
    )
    # Our own check instead of CSRFProtect's default one, so the webhook is exempt whatever order
    # the components register their views in.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(_protect)
    app.before_request(_load_user)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_blueprint(bp)


def _protect():
    if current_app.config.get("WTF_CSRF_ENABLED", True) and request.endpoint != WEBHOOK_ENDPOINT:
        csrf.protect()


def _load_user():
    g.user = None
    name = session.get("user")
    if name:
        user = current_app.extensions["vitrina_users"].users().get(name)
        if user is None:  # removed from the users file: the session ends here
            session.clear()
        else:
            g.user = {"name": name, "role": user.get("role", "reviewer")}


def _csrf_failed(exc: CSRFError):
    if request.is_json:  # a script's request (the touch-up brush): an answer a script can read
        return {
            "ok": False,
            "error": f"CSRF check failed ({exc.description}); reload the page.",
        }, 400
    return render_template(
        "error.html",
        title="Form expired",
        message=(
            "The form was not accepted (" + exc.description + "). Reload the page and try again."
        ),
    ), 400


# -- decorators for other components -------------------------------------------------------------
def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def role_required(role: str):
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if g.user["role"] != role:
                return render_template(
                    "error.html", title="Not allowed", message=f"This page needs the {role} role."
                ), 403
            return view(*args, **kwargs)

        return wrapped

    return decorate


# -- views ---------------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our login page."""
    parsed = urlparse(target or "")
    if (
        not target
        or parsed.scheme
        or parsed.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return url_for("review.dashboard")
    return target


class Throttle:
    """Failed logins per user name and per client address in a sliding window: a password cannot
    be guessed at request speed. In memory, per process (serve is one process)."""

    def __init__(self, limit: int = 5, window: float = 300.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        for key in keys:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window]
            if recent:
                self._failures[key] = recent
            else:  # forget quiet keys, so guessed names do not pile up in memory
                self._failures.pop(key, None)
            if len(recent) >= self.limit:
                return True
        return False

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._failures.setdefault(key, []).append(time.monotonic())


def _plain_http_warning() -> str:
    """Session cookies are Secure: over plain HTTP (other than localhost) browsers drop them."""
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    if request.is_secure or host in ("localhost", "127.0.0.1", "::1"):
        return ""
    return (
        "This page was reached over plain HTTP: browsers drop the server's Secure session "
        "cookie, so logging in cannot work. Serve it behind HTTPS."
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    warning = _plain_http_warning()
    if request.method == "GET":
        return render_template("login.html", username="", warning=warning)
    name = request.form.get("username", "").strip()
    throttle = current_app.extensions["vitrina_throttle"]
    keys = (f"user:{name}", f"addr:{request.remote_addr}")
    if throttle.blocked(*keys):
        flash("Too many failed logins; wait a few minutes and try again.", "error")
        return render_template("login.html", username=name, warning=warning), 429
    user = current_app.extensions["vitrina_users"].check(name, request.form.get("password", ""))
    if user is not None:
        session.clear()  # a fresh session on login: no fixation
        session["user"] = name
        return redirect(_safe_next(request.args.get("next")))
    throttle.failed(*keys)
    flash("Wrong user name or password.", "error")
    return render_template("login.html", username=name, warning=warning), 401


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


# -- the `users` command group -------------------------------------------------------------------
def _users_path(file, catalog, config) -> Path:
    if file:
        return Path(file)
    from ..cli import load_for
    from ..settings import load_settings

    if catalog:
        settings = load_for(catalog, config)
        if settings.get("users_file"):
            return default_users_file(settings)
        from ..catalog import open_catalog

        return catalog_users_file(
            Path(settings.get("out") or open_catalog(catalog, settings).default_out)
        )
    settings = load_settings(Path(config or "vitrina.toml"))
    return default_users_file(settings, Path(config) if config else None)


_where = [
    click.option(
        "--file",
        "file",
        type=click.Path(dir_okay=False),
        help="Users file (default: users_file setting, else users.json beside vitrina.toml, "
        "else in the app's data folder).",
    ),
    click.option("--catalog", help="Use this catalog's own file: <out>/.vitrina/users.json."),
    click.option(
        "--config",
        type=click.Path(dir_okay=False),
        help="vitrina.toml to read users_file / out from.",
    ),
]


def where(func):
    for option in reversed(_where):
        func = option(func)
    return func


@click.group()
def users():
    """Reviewer accounts for the review page (`serve`)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="reviewer", show_default=True)
@where
def users_add(name, role, file, catalog, config):
    """Add NAME or change their password/role; the password comes from VITRINA_PASSWORD or stdin."""
    password = os.environ.get("VITRINA_PASSWORD")
    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise click.ClickException("password too short (8 characters at least)")
    path = _users_path(file, catalog, config)
    try:
        add_user(path, name, password, role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name} ({role}) saved in {path}")


@users.command("list")
@where
def users_list(file, catalog, config):
    """List user names and roles."""
    for name, user in sorted(read_users(_users_path(file, catalog, config)).items()):
        click.echo(f"{name}\t{user.get('role', 'reviewer')}")


@users.command("remove")
@click.argument("name")
@where
def users_remove(name, file, catalog, config):
    """Remove NAME (their open sessions end at their next request)."""
    path = _users_path(file, catalog, config)
    current = read_users(path)
    if current.pop(name, None) is None:
        raise click.ClickException(f"no user {name!r} in {path}")
    write_users(path, current)
    click.echo(f"user {name} removed from {path}")
