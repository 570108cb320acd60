"""Session cookies over http and https, and the proxy in front.

A cookie is marked Secure when the request came over https, so a reviewer on a LAN
(`http://192.168.1.20:8000`) can still log in: a browser drops a Secure cookie set over plain
http, which used to send them back to the login page without a word. `X-Forwarded-Proto` (and
-For, -Host) is believed only when the `proxy_fix` setting says how many proxies stand in front
(werkzeug's ProxyFix): anyone could send that header straight to the server otherwise.
`secure_cookies` forces Secure whatever the request says (for a proxy that cannot tell us).
"""

from __future__ import annotations

import ipaddress

from flask import request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


class RequestAwareSessionInterface(SecureCookieSessionInterface):
    """Secure when forced (SESSION_COOKIE_SECURE) or when this request is https."""

    def get_cookie_secure(self, app) -> bool:
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return bool(request) and request.is_secure


def init_app(app) -> None:
    settings = getattr(app.extensions.get("vitrina"), "settings", None) or {}
    proxies = int(app.config.get("PROXY_FIX", settings.get("proxy_fix") or 0))
    if proxies > 0:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    if settings.get("secure_cookies"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.session_interface = RequestAwareSessionInterface()


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def connection_unencrypted() -> bool:
    """Plain http from another machine: the password crosses the network readable by anyone on it."""
    return not request.is_secure and not is_loopback(request.remote_addr)
