"""Login over plain http on a LAN (issue 14, point 4): session cookies are Secure only when the
request is https (or `secure_cookies` forces it); X-Forwarded-Proto counts only behind a
configured proxy (`proxy_fix`, werkzeug's ProxyFix); the login page warns when the connection is
not encrypted and not loopback. Flask's test client against the real app."""

from __future__ import annotations

import pytest
import test_web_review
from test_web_review import PASSWORD

site = test_web_review.site
LAN = "192.168.1.20"
WARNING = 'id="plain-http"'


def app_with(site, **settings):
    from vitrina_sync.web import create_app
    from vitrina_sync.web.state import AppState

    current = site["app"].extensions["vitrina"].settings
    state = AppState(type(current)({**current, **settings}), {"main": site["session"]})
    users = site["ws"] / "users.json"
    return create_app(state, {"TESTING": True, "USERS_FILE": str(users)})


def client_at(app, address: str):
    """A test client whose requests come from `address` (REMOTE_ADDR)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in(client, base_url: str, headers: dict | None = None, public: str = ""):
    """GET the form and POST it the way a browser at `public` (default `base_url`) would, through
    whatever reaches `base_url`; (the login page, the login response)."""
    headers = {"Referer": (public or base_url) + "/login", **(headers or {})}
    page = client.get("/login", base_url=base_url, headers=headers).get_data(as_text=True)
    token = test_web_review.re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        base_url=base_url,
        headers=headers,
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    return page, response


def session_cookie(response) -> str:
    return next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")
    )


def test_plain_http_from_a_lan_address_logs_in_with_a_cookie_that_is_not_secure(site):
    client = client_at(site["app"], LAN)
    page, response = log_in(client, "http://192.168.1.10:8000")
    assert WARNING in page and "not encrypted" in page  # visible warning, not loopback
    assert response.status_code == 302
    cookie = session_cookie(response)
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # the browser keeps a non-Secure cookie over http: the next page is the dashboard, not /login
    assert client.get("/review", base_url="http://192.168.1.10:8000").status_code == 200


def test_https_marks_the_cookie_secure_and_shows_no_warning(site):
    client = client_at(site["app"], LAN)
    page, response = log_in(client, "https://review.example.com")
    assert WARNING not in page
    assert "Secure" in session_cookie(response)


def test_loopback_over_http_shows_no_warning(site):
    for address in ("127.0.0.1", "::1"):
        client = client_at(site["app"], address)
        assert WARNING not in client.get("/login").get_data(as_text=True)


def test_forwarded_proto_is_ignored_without_proxy_fix(site):
    client = client_at(site["app"], LAN)
    page, response = log_in(client, "http://192.168.1.10:8000", {"X-Forwarded-Proto": "https"})
    assert WARNING in page  # anyone can send that header: it proves nothing
    assert "Secure" not in session_cookie(response)


@pytest.mark.parametrize("proxies", [1, 2])
def test_forwarded_proto_is_honoured_behind_a_configured_proxy(site, proxies):
    app = app_with(site, proxy_fix=proxies)
    client = client_at(app, "127.0.0.1")
    forwarded = {
        "X-Forwarded-Proto": ", ".join(["https"] * proxies),
        "X-Forwarded-For": ", ".join(["203.0.113.7"] * proxies),
        "X-Forwarded-Host": ", ".join(["review.example.com"] * proxies),
    }
    page, response = log_in(
        client, "http://review.example.com", forwarded, public="https://review.example.com"
    )
    assert WARNING not in page
    assert "Secure" in session_cookie(response)
    # the same proxy forwarding plain http from a LAN client: the warning is back, no Secure
    plain = {**forwarded, "X-Forwarded-Proto": ", ".join(["http"] * proxies)}
    client = client_at(app, "127.0.0.1")
    page, response = log_in(client, "http://review.example.com", plain)
    assert response.status_code == 302, response.get_data(as_text=True)[-600:]
    assert WARNING in page  # the client is 203.0.113.7 (X-Forwarded-For), not loopback
    assert "Secure" not in session_cookie(response)


def test_secure_cookies_setting_forces_secure_over_http(site):
    app = app_with(site, secure_cookies=True)
    client = client_at(app, LAN)
    _, response = log_in(client, "http://192.168.1.10:8000")
    assert response.status_code == 302 and "Secure" in session_cookie(response)


def test_settings_are_documented_and_typed():
    from vitrina_sync.settings import load_settings

    settings = load_settings(None, env={"VITRINA_PROXY_FIX": "1", "VITRINA_SECURE_COOKIES": "yes"})
    assert settings["proxy_fix"] == 1 and settings["secure_cookies"] is True
