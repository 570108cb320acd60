"""POST /review/<sku>/touch-up through Flask's test client on a real XLSX catalog: CSRF, roles,
strict validation, stale pictures refused, strokes saved and logged, the next plan re-queues the
row with the strokes in its fingerprint; the compare page offers the brush (no inline script)."""

from __future__ import annotations

import json
import math
import re

import pytest
from test_web_review import fp_of, login, sheet, site, token  # noqa: F401 - `site` is a fixture

from vitrina_sync import touchup
from vitrina_sync.web.auth import read_users, write_users

SKU = "MUG-1"
URL = f"/review/{SKU}/touch-up?c=main"
STROKE = {"kind": "remove", "width": 40, "points": [[500, 700], [700, 700]]}  # mug.jpg: 1200 x 1600


def post(client, body, csrf=True, fp=None, raw=None, content_type="application/json"):
    headers = {"X-CSRFToken": token(client, f"/review/{SKU}")} if csrf else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(URL, data=data, headers=headers, content_type=content_type)


def body(*strokes, fp=None):
    return {"fingerprint": fp or fp_of(SKU), "strokes": list(strokes) or [STROKE]}


@pytest.fixture
def alice(site):  # noqa: F811
    return login(site["app"].test_client())


def test_the_compare_page_offers_the_brush_without_inline_script(alice):
    page = alice.get(f"/review/{SKU}").get_data(as_text=True)
    panel = re.search(r'<section class="card touchup" id="touchup"[^>]*>', page).group(0)
    assert 'data-width="1200" data-height="1600"' in panel
    assert f'data-fp="{fp_of(SKU)}"' in panel and "data-csrf=" in panel
    assert "touchup.js" in page and "touchup.css" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # CSP: script-src 'self', nothing inline
    for word in ("Remove", "Keep", "Undo", "Clear"):
        assert f">{word}<" in page


def test_without_csrf_token_it_is_refused_as_json(site, alice):  # noqa: F811
    response = post(alice, body(), csrf=False)
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]
    assert not touchup.folder(site["out"], SKU).exists()


def test_signed_out_is_401_and_a_role_without_review_rights_is_403(site):  # noqa: F811
    client = site["app"].test_client()
    response = client.post(URL, json=body(), headers={"X-CSRFToken": token(client, "/login")})
    assert response.status_code == 401
    users_file = site["app"].extensions["vitrina_users"].path
    users = read_users(users_file)
    users["alice"]["role"] = "viewer"  # not a role the review pages know
    write_users(users_file, users)
    client = login(site["app"].test_client())
    assert post(client, body()).status_code == 403
    assert not touchup.folder(site["out"], SKU).exists()


@pytest.mark.parametrize(
    "raw, says",
    [
        ("not json", "Send JSON"),
        ('["a list"]', "Send JSON"),
        (json.dumps({"strokes": [STROKE]}), "Send JSON"),
        (json.dumps({**body(), "extra": 1}), "Send JSON"),
        (json.dumps(body({**STROKE, "kind": "erase"})), "kind"),
        (json.dumps(body({**STROKE, "width": 0})), "width"),
        (json.dumps(body({**STROKE, "points": [[1201, 5]]})), "outside the source"),
        (json.dumps(body({**STROKE, "points": [[math.nan, 1]]})), "finite"),  # NaN in JSON
        (json.dumps(body(*[STROKE] * 201)), "too many strokes"),
        (json.dumps({"fingerprint": 5, "strokes": [STROKE]}), "fingerprint"),
    ],
)
def test_bad_bodies_are_400_with_a_reason(site, alice, raw, says):  # noqa: F811
    response = post(alice, None, raw=raw)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert says in response.get_json()["error"]
    assert not touchup.folder(site["out"], SKU).exists()


def test_form_encoded_body_is_400(alice):
    response = post(
        alice, None, raw="fingerprint=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_oversized_body_is_413(alice):
    huge = body({**STROKE, "points": [[1.123456789, 2.123456789]] * 30000})
    response = post(alice, huge)
    assert response.status_code == 413 and "KiB" in response.get_json()["error"]


def test_a_stale_fingerprint_is_409_and_nothing_is_saved(site, alice):  # noqa: F811
    response = post(alice, body(fp=fp_of(SKU, "old")))
    assert response.status_code == 409
    assert "changed since this page was opened" in response.get_json()["error"]
    assert not touchup.folder(site["out"], SKU).exists()


def test_unknown_sku_is_404(alice):
    client = alice
    headers = {"X-CSRFToken": token(client, f"/review/{SKU}")}
    response = client.post("/review/NOPE/touch-up?c=main", json=body(), headers=headers)
    assert response.status_code == 404


def test_touch_up_is_saved_logged_and_the_next_plan_requeues_the_row(site, alice):  # noqa: F811
    from vitrina_sync.plan import plan_row

    before = sheet(site["catalog"])
    keep = {"kind": "keep", "width": 10.5, "points": [[600, 300]]}
    response = post(alice, body(STROKE, keep))
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["strokes"] == 2
    again = post(alice, body(STROKE, keep))  # the same strokes once more: nothing new
    assert again.status_code == 200 and "already sent" in again.get_json()["message"]
    assert sheet(site["catalog"]) == before  # nothing written into the sheet by the page itself
    saved = list(touchup.folder(site["out"], SKU).glob("*.json"))
    assert len(saved) == 1
    entry = json.loads(saved[0].read_text())
    assert entry["by"] == "alice" and [s["kind"] for s in entry["strokes"]] == ["remove", "keep"]
    session = site["session"]
    row = next(r for r in session.catalog.read().rows if r.sku == SKU)
    plan = plan_row(row, session.ctx)
    assert plan.action == "enqueue" and plan.fingerprint != fp_of(SKU)
    assert plan.task["strokes"] == entry["strokes"]
    # the history on the compare page says who touched it up, when and how many strokes
    page = alice.get(f"/review/{SKU}").get_data(as_text=True)
    assert re.search(r"touch-up: 2 strokes by alice at \d{4}-\d\d-\d\dT", page)
    # and the brush shows the strokes drawn so far (replaced, not added to, by the next touch-up)
    panel = re.search(r"data-strokes='([^']*)'", page).group(1)
    assert json.loads(panel) == entry["strokes"]


def test_other_rows_plan_as_before(site, alice):  # noqa: F811
    from vitrina_sync.plan import plan_row

    post(alice, body())
    session = site["session"]
    for row in session.catalog.read().rows:
        if row.sku not in (SKU, "ERR-5"):
            assert "strokes" not in (plan_row(row, session.ctx).task or {})


def test_touching_up_an_approved_row_reopens_its_review(site, alice):  # noqa: F811
    from test_web_review import decide

    from vitrina_sync.plan import plan_row

    decide(alice, SKU, "approve")
    assert sheet(site["catalog"])[SKU]["Status"] == "approved"
    assert post(alice, body()).status_code == 202
    session = site["session"]
    row = next(r for r in session.catalog.read().rows if r.sku == SKU)
    plan = plan_row(row, session.ctx)
    assert plan.action == "enqueue" and plan.update.values["status"] == "queued"
    assert plan.message.startswith("source or touch-up changed after approved by alice")
    assert plan.message.endswith("review again")


def test_a_mode_that_takes_no_strokes_gets_no_brush_and_a_409(site, alice):  # noqa: F811
    from vitrina_sync.store import output_dir

    result = output_dir(site["out"], SKU, fp_of(SKU)) / "result.json"
    result.write_text(json.dumps({**json.loads(result.read_text()), "mode": "scene"}))
    page = alice.get(f"/review/{SKU}").get_data(as_text=True)
    assert 'id="touchup"' not in page
    response = post(alice, body())
    assert response.status_code == 409 and "scene mode" in response.get_json()["error"]


def test_the_panel_renders_under_flask_babel_too(site):  # noqa: F811
    """Flask-Babel (the i18n branch) replaces the identity `_`: the strings still render."""
    from flask_babel import Babel

    from vitrina_sync.web.review_touchup import _identity

    Babel(site["app"])
    assert site["app"].jinja_env.globals["_"] is not _identity
    client = login(site["app"].test_client())
    page = client.get(f"/review/{SKU}").get_data(as_text=True)
    assert 'data-msg-count="{n} strokes"' in page and ">Remove<" in page
    assert post(client, body()).status_code == 202
    page = client.get(f"/review/{SKU}").get_data(as_text=True)
    assert "touch-up: 1 strokes by alice at" in page


def test_the_cut_overlay_needs_login_and_a_real_output(site, alice):  # noqa: F811
    url = f"/review/{SKU}/touch-up/cut.png?c=main&fp="
    anonymous = site["app"].test_client().get(url + fp_of(SKU))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert alice.get(url + "../../users").status_code == 404
    assert alice.get(url + fp_of(SKU, "other")).status_code == 404  # no such output
    assert alice.get(url + fp_of(SKU)).status_code == 404  # an output without its geometry
