"""Accounts, login, sessions, roles and CSRF of the web app (Flask test client + click runner)."""

from __future__ import annotations

import json
import os
import stat

import pytest
import test_web_review
from click.testing import CliRunner
from test_web_review import PASSWORD, login, token

site = test_web_review.site  # the same fixture: an XLSX catalog waiting for review, an app, users


def cookie_header(response) -> str:
    return next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")
    )


# -- the users file and `vitrina-sync users` ------------------------------------------------------
def test_users_add_from_env_and_stdin_stores_hashes_privately(tmp_path):
    from vitrina_sync.cli import main

    path = tmp_path / "conf" / "users.json"
    runner = CliRunner()
    result = runner.invoke(
        main, ["users", "add", "alice", "--file", str(path)], env={"VITRINA_PASSWORD": PASSWORD}
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        ["users", "add", "root", "--role", "admin", "--file", str(path)],
        input="another secret\n",
        env={"VITRINA_PASSWORD": None},
    )
    assert result.exit_code == 0, result.output
    users = json.loads(path.read_text())["users"]
    assert users["alice"]["role"] == "reviewer" and users["root"]["role"] == "admin"
    assert PASSWORD not in path.read_text() and "another secret" not in path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    listed = runner.invoke(main, ["users", "list", "--file", str(path)]).output
    assert "alice\treviewer" in listed and "root\tadmin" in listed
    assert runner.invoke(main, ["users", "remove", "alice", "--file", str(path)]).exit_code == 0
    assert "alice" not in json.loads(path.read_text())["users"]


def test_users_add_refuses_short_password_and_bad_role(tmp_path):
    from vitrina_sync.cli import main

    path = tmp_path / "users.json"
    short = CliRunner().invoke(
        main, ["users", "add", "a", "--file", str(path)], env={"VITRINA_PASSWORD": "short"}
    )
    assert short.exit_code != 0 and "too short" in short.output and not path.exists()
    role = CliRunner().invoke(
        main,
        ["users", "add", "a", "--role", "god", "--file", str(path)],
        env={"VITRINA_PASSWORD": PASSWORD},
    )
    assert role.exit_code != 0


def test_users_file_defaults_to_the_catalogs_work_folder(workspace):
    from conftest import write_catalog

    from vitrina_sync.cli import main

    catalog = write_catalog(workspace / "catalog.xlsx", [["A", "photos/mug.jpg"]])
    result = CliRunner().invoke(
        main,
        ["users", "add", "alice", "--catalog", str(catalog)],
        env={"VITRINA_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert (workspace / "vitrina-out" / ".vitrina" / "users.json").exists()


# -- login / logout / sessions --------------------------------------------------------------------
def test_login_sets_a_secure_httponly_lax_cookie_and_redirects_to_next(site):
    client = site["app"].test_client()
    response = client.post(
        "/login?next=/review",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token(client)},
        base_url="https://localhost",  # over plain http it is not Secure: test_web_cookies.py
        headers={"Referer": "https://localhost/login"},  # Flask-WTF's https referrer check
    )
    assert response.status_code == 302 and response.headers["Location"] == "/review"
    cookie = cookie_header(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/review").status_code == 200


def test_wrong_password_or_unknown_user_is_refused(site):
    client = site["app"].test_client()
    for name, password in (("alice", "wrong password"), ("mallory", PASSWORD), ("", "")):
        response = client.post(
            "/login", data={"username": name, "password": password, "csrf_token": token(client)}
        )
        assert response.status_code == 401 and "Wrong user name or password" in response.get_data(
            as_text=True
        )
    assert client.get("/review").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_login_never_redirects_off_site(site, target):
    client = site["app"].test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "alice", "password": PASSWORD, "csrf_token": token(client)},
    )
    assert response.headers["Location"] == "/"


def test_login_without_csrf_token_is_refused(site):
    response = (
        site["app"].test_client().post("/login", data={"username": "alice", "password": PASSWORD})
    )
    assert response.status_code == 400


def test_logout_needs_post_with_token_and_ends_the_session(site):
    client = login(site["app"].test_client())
    assert client.get("/logout").status_code == 405  # a link elsewhere cannot log people out
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": token(client, "/review")}).status_code == 302
    assert client.get("/review").status_code == 302


def test_removing_a_user_ends_their_session(site, workspace):
    from vitrina_sync.web.auth import read_users, write_users

    client = login(site["app"].test_client())
    path = workspace / "users.json"
    users = read_users(path)
    users.pop("alice")
    write_users(path, users)
    os.utime(path, ns=(1, 1))  # mtime changes even within the filesystem's time granularity
    assert client.get("/review").status_code == 302


def test_reviewer_cannot_open_admin_pages_admin_can(site):
    assert login(site["app"].test_client()).get("/packs").status_code == 403
    assert login(site["app"].test_client(), "root").get("/packs").status_code == 200


def test_secret_key_generated_once_per_work_folder_and_kept(site, workspace, settings):
    from vitrina_sync.runner import SyncSession
    from vitrina_sync.web import create_app
    from vitrina_sync.web.state import AppState

    key_file = workspace / "vitrina-out" / ".vitrina" / "secret_key"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = create_app(AppState(settings, {"main": SyncSession(str(site["catalog"]), settings)}))
    assert again.secret_key == site["app"].secret_key == key_file.read_text().strip()
    configured = type(settings)({**settings, "secret_key": "from-settings"})
    app = create_app(AppState(configured, {"main": SyncSession(str(site["catalog"]), configured)}))
    assert app.secret_key == "from-settings"


def test_webhook_is_the_only_post_without_csrf(site):
    """hooks.sheet authenticates with its HMAC signature; CSRF must not stand in its way."""
    app = site["app"]
    client = app.test_client()
    if "hooks.sheet" not in app.view_functions:
        pytest.skip("web/hooks.py not present")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "hooks.sheet")
    response = client.post(rule.rule, data=b"{}", content_type="application/json")
    assert response.status_code != 400 or b"not accepted" not in response.data
    assert response.status_code in (401, 403, 400, 413, 202, 200, 503)
    assert b"The form was not accepted" not in response.data


def test_failed_logins_are_throttled_per_name_and_address(site):
    client = site["app"].test_client()
    for _ in range(5):
        wrong = {"username": "alice", "password": "guess", "csrf_token": token(client)}
        assert client.post("/login", data=wrong).status_code == 401
    right = {"username": "alice", "password": PASSWORD, "csrf_token": token(client)}
    response = client.post("/login", data=right)
    assert response.status_code == 429 and "Too many failed logins" in response.get_data(
        as_text=True
    )
    other = site["app"].test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert (
        other.post("/login", data={**right, "csrf_token": token(other)}).status_code == 429
    )  # per name too
