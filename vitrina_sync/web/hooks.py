"""POST /hooks/sheet: the sheet's Apps Script says "something changed", the sync loop runs now.

Requests come from Google's shared addresses, so only the signature authenticates them:
header `X-Vitrina-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, hex = HMAC-SHA256(secret,
f"{t}.{raw body}"). Any configured secret (comma list, for rotation) matching any v1 passes. The
timestamp must be within 300 s of now either way, and a delivery seen before (same event id, or
same signature when the body has none) is acknowledged without a second sync, so a captured
request replayed inside the window does nothing. The view is CSRF-exempt (auth.py exempts
"hooks.sheet"): the signature is what a CSRF token would prove.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections import OrderedDict

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

HEADER = "X-Vitrina-Signature"
TOLERANCE = 300  # seconds, both ways
MAX_BODY = 64 * 1024  # an Apps Script event is ~200 bytes
SEEN_CAP = 10_000

bp = Blueprint("hooks", __name__)


def secrets_from(settings) -> list[bytes]:
    """webhook_secret (setting or VITRINA_WEBHOOK_SECRET), comma separated for rotation."""
    text = str(settings.get("webhook_secret") or os.environ.get("VITRINA_WEBHOOK_SECRET", ""))
    return [s.strip().encode() for s in text.split(",") if s.strip()]


def sign(secret: bytes | str, t: int | str, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def parse_header(value: str) -> tuple[int | None, list[str]]:
    """(t, [v1 hex...]) from 't=...,v1=...,v1=...'; t None when absent or not a number."""
    t, sigs = None, []
    for part in value.split(","):
        key, _, val = part.strip().partition("=")
        if key == "t" and val.isdigit():
            t = int(val)
        elif key == "v1" and val:
            sigs.append(val.strip().lower())
    return t, sigs


def verify(header: str, body: bytes, secrets: list[bytes], now: float | None = None) -> str:
    """'' when the signature is good, else why not (for the log, never for the caller)."""
    t, sigs = parse_header(header or "")
    if t is None or not sigs:
        return "missing signature"
    now = time.time() if now is None else now
    if abs(now - t) > TOLERANCE:
        return "timestamp outside the tolerance"
    expected = [sign(secret, t, body) for secret in secrets]
    # Every pair is compared (no early exit on a match) so timing says nothing about which failed.
    ok = [hmac.compare_digest(e, s) for e in expected for s in sigs]
    return "" if any(ok) else "signature does not match"


class SeenDeliveries:
    """Delivery keys seen within the replay window (a signed request is only valid that long)."""

    def __init__(self, ttl: float = 2 * TOLERANCE + 60, cap: int = SEEN_CAP):
        self.ttl, self.cap = ttl, cap
        self.seen: OrderedDict[str, float] = OrderedDict()
        self.lock = threading.Lock()

    def first_time(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            while self.seen and (
                next(iter(self.seen.values())) < now - self.ttl or len(self.seen) >= self.cap
            ):
                self.seen.popitem(last=False)
            if key in self.seen:
                return False
            self.seen[key] = now
            return True


def delivery_key(payload: dict | None, header: str) -> str:
    event = (payload or {}).get("event_id") or (payload or {}).get("id")
    if isinstance(event, (str, int)) and str(event):
        return f"event:{event}"
    return "sig:" + hashlib.sha256(header.encode()).hexdigest()


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def _read_body() -> bytes | None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    request.max_content_length = MAX_BODY  # also caps a chunked body with no Content-Length
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None


@bp.post("/hooks/sheet")
def sheet():
    state = current_app.extensions.get("vitrina")
    secrets = secrets_from(state.settings) if state is not None else []
    if not secrets:
        return _error(503, "webhook_secret is not configured on the server")
    body = _read_body()
    if body is None:
        return _error(413, f"body larger than {MAX_BODY} bytes")
    header = request.headers.get(HEADER, "")
    why = verify(header, body, secrets)
    if why:
        current_app.logger.warning("webhook refused: %s", why)
        state.count("webhooks_refused")
        return _error(401, "invalid or missing signature")
    payload = _json(body)
    if not current_app.extensions["vitrina_seen"].first_time(delivery_key(payload, header)):
        state.count("webhooks_duplicate")
        return jsonify({"ok": True, "duplicate": True})
    state.count("webhooks")
    woke = state.trigger_sync(str((payload or {}).get("spreadsheet_id") or "") or None)
    return jsonify({"ok": True, "duplicate": False, "syncing": woke}), 202


def _json(body: bytes) -> dict | None:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        return None  # a signed body need not be JSON; it is deduplicated by signature then
    return payload if isinstance(payload, dict) else None


def init_app(app) -> None:
    app.extensions["vitrina_seen"] = SeenDeliveries()
    app.register_blueprint(bp)
