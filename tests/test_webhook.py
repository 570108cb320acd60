"""POST /hooks/sheet through the Flask test client: signatures, rotation, clock skew, size, replay."""

from __future__ import annotations

import json
import time

import pytest
from conftest import write_catalog

from vitrina_sync.runner import SyncSession
from vitrina_sync.web import create_app
from vitrina_sync.web.hooks import MAX_BODY, SeenDeliveries, parse_header, sign, verify
from vitrina_sync.web.state import AppState

SECRET = "s3cret-current"


@pytest.fixture
def state(workspace, settings):
    catalog = write_catalog(workspace / "catalog.xlsx", [["A-1", "photos/mug.jpg"]])
    settings["webhook_secret"] = f"{SECRET}, s3cret-previous"
    session = SyncSession(str(catalog), settings)  # never connects: the webhook only wakes the loop
    return AppState(settings, {session.spec: session})


@pytest.fixture
def client(state):
    return create_app(state, {"TESTING": True}).test_client()


def woken(state) -> bool:
    return all(cs.wake.is_set() for cs in state.catalogs.values())


def post(client, body: bytes, header: str | None):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Vitrina-Signature"] = header
    return client.post("/hooks/sheet", data=body, headers=headers)


def signed(body: bytes, secret: str = SECRET, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    return f"t={t},v1={sign(secret, t, body)}"


def event(n: int = 1) -> bytes:
    return json.dumps({"event_id": f"ev-{n}", "spreadsheet_id": "x", "range": "B2"}).encode()


def test_good_signature_wakes_the_loop(client, state):
    response = post(client, event(), signed(event()))
    assert response.status_code == 202 and response.json["duplicate"] is False
    assert woken(state) and state.counters["webhooks"] == 1


@pytest.mark.parametrize("header", [None, "", "t=1", "v1=abc", "garbage", "t=abc,v1=00"])
def test_missing_or_malformed_signature_is_401(client, state, header):
    assert post(client, event(), header).status_code == 401
    assert not woken(state)


def test_wrong_secret_or_tampered_body_is_401(client, state):
    assert post(client, event(), signed(event(), "not-the-secret")).status_code == 401
    assert post(client, event(2), signed(event(1))).status_code == 401  # signature of another body
    assert not woken(state) and state.counters["webhooks_refused"] == 2


@pytest.mark.parametrize("skew", [-301, 301, -3600, 10**6])
def test_stale_or_future_timestamp_is_401(client, state, skew):
    body = event()
    assert post(client, body, signed(body, t=int(time.time()) + skew)).status_code == 401
    assert not woken(state)


def test_within_tolerance_both_ways_is_accepted(client):
    for n, skew in enumerate((-290, 290)):
        body = event(n)
        assert post(client, body, signed(body, t=int(time.time()) + skew)).status_code == 202


def test_rotated_secrets_and_several_v1(client):
    old = event(1)
    assert post(client, old, signed(old, "s3cret-previous")).status_code == 202
    body, t = event(2), int(time.time())
    header = f"t={t},v1={sign('retired', t, body)},v1={sign(SECRET, t, body)}"
    assert post(client, body, header).status_code == 202


def test_oversized_body_is_413_before_any_signature_work(client, state):
    body = b"{" + b" " * MAX_BODY + b"}"
    assert post(client, body, signed(body)).status_code == 413
    assert not woken(state)


def test_replay_is_acknowledged_but_syncs_once(client, state):
    body = event(7)
    header = signed(body)
    assert post(client, body, header).status_code == 202
    for cs in state.catalogs.values():
        cs.wake.clear()
    again = post(client, body, header)
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert not woken(state)
    # The same event re-signed later (Apps Script retrying) is the same delivery too.
    assert post(client, body, signed(body, t=int(time.time()) + 5)).json["duplicate"] is True
    # A body without an event id is deduplicated by its signature.
    plain = b"changed"
    header = signed(plain)
    assert post(client, plain, header).status_code == 202
    assert post(client, plain, header).json["duplicate"] is True
    assert state.counters["webhooks"] == 2 and state.counters["webhooks_duplicate"] == 3


def test_no_secret_configured_refuses_everything(state, monkeypatch):
    monkeypatch.delenv("VITRINA_WEBHOOK_SECRET", raising=False)
    state.settings["webhook_secret"] = ""
    client = create_app(state, {"TESTING": True}).test_client()
    assert post(client, event(), signed(event())).status_code == 503
    assert not woken(state)


def test_secret_from_the_environment(state, monkeypatch):
    state.settings["webhook_secret"] = ""
    monkeypatch.setenv("VITRINA_WEBHOOK_SECRET", "from-env")
    client = create_app(state, {"TESTING": True}).test_client()
    assert post(client, event(), signed(event(), "from-env")).status_code == 202


def test_csrf_does_not_block_the_webhook(state):
    # CSRF on (as in production): every other POST needs a token, this one only its signature.
    client = create_app(state, {"WTF_CSRF_ENABLED": True}).test_client()
    assert post(client, event(), signed(event())).status_code == 202


def test_header_parsing_and_verify_are_pure():
    assert parse_header("t=12, v1=AB ,v1=cd,v0=zz") == (12, ["ab", "cd"])
    body, t = b"x", 1_000_000
    good = f"t={t},v1={sign('k', t, body)}"
    assert verify(good, body, [b"k"], now=t + 300) == ""
    assert verify(good, body, [b"k"], now=t - 300) == ""
    assert "tolerance" in verify(good, body, [b"k"], now=t + 301)
    assert "match" in verify(good, body + b" ", [b"k"], now=t)


def test_seen_deliveries_expire_and_stay_bounded():
    seen = SeenDeliveries(ttl=10, cap=3)
    assert seen.first_time("a", now=0) and not seen.first_time("a", now=5)
    assert seen.first_time("a", now=11)  # outside the replay window the signature is stale anyway
    for key in "bcde":
        seen.first_time(key, now=12)
    assert len(seen.seen) <= 3


def test_a_spreadsheet_id_wakes_only_its_catalog(workspace, settings):
    settings["webhook_secret"] = SECRET
    sessions = {}
    for name in ("shop-a", "shop-b"):
        path = write_catalog(workspace / f"{name}.xlsx", [["A-1", "photos/mug.jpg"]])
        session = SyncSession(str(path), settings)
        sessions[session.spec] = session
    state = AppState(settings, sessions)
    client = create_app(state, {"TESTING": True}).test_client()
    body = json.dumps({"event_id": "one", "spreadsheet_id": "shop-b"}).encode()
    assert post(client, body, signed(body)).status_code == 202
    assert [cs.wake.is_set() for cs in state.catalogs.values()] == [False, True]
