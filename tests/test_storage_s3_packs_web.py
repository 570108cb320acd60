"""Published packs and review images with outputs in a bucket (loopback moto server)."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from conftest import write_catalog
from PIL import Image
from storage_flow import BIG_PRESETS, PEOPLE, approve, manifest_urls

from vitrina_sync.runner import SyncSession, run

BASE = "https://cdn.example.test/shop"


@pytest.fixture
def on_bucket(workspace, s3):
    """The workspace's vitrina.toml pointing assets and storage at the bucket."""
    s3.put_folder(workspace / "photos", "photos")
    (workspace / "big.toml").write_text(BIG_PRESETS)
    (workspace / "vitrina.toml").write_text(
        f'presets = "{workspace / "big.toml"}"\nworkers = 1\n'
        f'assets = "{s3.url("photos")}"\nstorage = "{s3.url("out")}"\n'
    )
    return s3


def settings_of(workspace, **extra):
    from vitrina_sync.settings import settings_for_catalog

    return settings_for_catalog(workspace, **extra)


def test_pack_publish_puts_images_in_the_bucket_and_every_manifest_url_is_an_object(
    workspace, on_bucket, monkeypatch
):
    s3 = on_bucket
    rows = [["MUG-1", "mug.jpg", "white", "", "kaspi", "", "", ""]]
    rows.append(["BAG-2", "bag.jpg", "white", "", "kaspi", "", "", ""])
    catalog = write_catalog(workspace / "catalog.xlsx", rows, PEOPLE)
    run(str(catalog), settings_of(workspace), workers=1, progress=False)
    approve(catalog, {"MUG-1", "BAG-2"})
    run(str(catalog), settings_of(workspace), workers=1, progress=False)  # binds the decisions
    from vitrina_sync.cli import main

    refused = CliRunner().invoke(main, ["pack", str(catalog), "-m", "kaspi", "--publish"])
    assert refused.exit_code == 1 and "--publish needs public_base_url" in refused.output
    monkeypatch.setenv("VITRINA_PUBLIC_BASE_URL", BASE)
    done = CliRunner().invoke(main, ["pack", str(catalog), "-m", "kaspi", "--publish"])
    assert done.exit_code == 0, done.output
    assert "2 card(s)" in done.output and "published" in done.output
    urls = manifest_urls(workspace / "vitrina-out" / "packs" / "kaspi.zip")
    assert len(urls) >= 2
    for url in urls:
        assert url.startswith(BASE + "/")
        key = url[len(BASE) + 1 :]
        assert key.startswith("out/packs/kaspi/")
        assert Image.open(io.BytesIO(s3.get(key))).size == (1000, 1000)


@pytest.fixture
def review_site(workspace, on_bucket):
    from vitrina_sync.web import create_app
    from vitrina_sync.web.auth import add_user
    from vitrina_sync.web.state import AppState

    catalog = write_catalog(
        workspace / "catalog.xlsx", [["MUG-1", "mug.jpg", "white", "", "", "", "", ""]], PEOPLE
    )
    settings = settings_of(workspace)
    run(str(catalog), settings, workers=1, progress=False)
    session = SyncSession(str(catalog), settings)
    users = workspace / "users.json"
    add_user(users, "alice", "correct horse")
    app = create_app(
        AppState(settings, {"main": session}), {"TESTING": True, "USERS_FILE": str(users)}
    )
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/login", data={"username": "alice", "password": "correct horse", "csrf_token": token}
    )
    return client, on_bucket, session


def test_review_pages_stream_images_from_the_bucket(review_site, workspace):
    client, s3, session = review_site
    (key,) = [k for k in s3.keys("out/MUG-1/") if k.endswith("/main.jpg")]
    fp12 = key.split("/")[2]
    page = client.get("/review/MUG-1?c=main").get_data(as_text=True)
    assert f"/img/out/MUG-1/{fp12}/main.jpg" in page  # the compare page found the bucket output
    full = client.get(f"/img/out/MUG-1/{fp12}/main.jpg?c=main")
    assert full.status_code == 200 and full.data == s3.get(key)
    thumb = client.get(f"/img/out/MUG-1/{fp12}/main.jpg?c=main&v=thumb")
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.data)).size) == 160
    overlay = client.get(f"/img/out/MUG-1/{fp12}/mask.png?c=main&v=overlay-edge")
    assert overlay.status_code == 200 and overlay.mimetype == "image/png"
    source = client.get("/img/assets/mug.jpg?c=main")
    assert source.status_code == 200 and source.data == (workspace / "photos/mug.jpg").read_bytes()
    for bad in ("/img/out/../out/MUG-1/x.jpg", "/img/out/MUG-1/.hidden.jpg", "/img/out/nope.jpg"):
        assert client.get(bad + "?c=main").status_code == 404
    for response in (full, thumb, source):  # served by us: no credentials, no signed URL
        text = str(response.headers) + response.data[:0].decode()
        assert "testing" not in text and "Signature" not in text and response.status_code == 200
    thumbs = list((session.out_root / ".vitrina" / "thumbs").rglob("*.jpg"))
    assert thumbs  # cached locally for the next request


def test_storage_failures_show_in_api_status(review_site):
    from vitrina_sync.queue import count_storage_failure

    client, _, session = review_site
    try:
        count_storage_failure(session.connect().conn, session.key)
        count_storage_failure(session.connect().conn, session.key)
        status = client.get("/api/status").get_json()
        assert status["storage_failures"] == {session.key: 2}
        metrics = client.get("/metrics").get_data(as_text=True)
        assert f'vitrina_storage_failures_total{{catalog="{session.key}"}} 2.0' in metrics
    finally:
        session.close()


@pytest.mark.parametrize("outputs", ["folder", "bucket"])
def test_a_touch_up_of_a_bucket_sourced_row_reaches_the_next_plan(workspace, s3, outputs):
    """Planning keys a bucket source by its ETag, not by hashing bytes: the review page saves the
    strokes under that same key (qa.json's source_version), so the next plan re-queues the row."""
    import json

    from vitrina_sync.web import create_app
    from vitrina_sync.web.auth import add_user
    from vitrina_sync.web.state import AppState

    s3.put_folder(workspace / "photos", "photos")
    with (workspace / "vitrina.toml").open("a") as toml:
        toml.write(f'assets = "{s3.url("photos")}"\n')
        if outputs == "bucket":  # the page draws on a local copy of the stored source
            toml.write(f'storage = "{s3.url("out")}"\n')
    catalog = write_catalog(
        workspace / "catalog.xlsx", [["MUG-1", "mug.jpg", "white", "", "", "", "", ""]], PEOPLE
    )
    settings = settings_of(workspace)
    run(str(catalog), settings, workers=1, progress=False)
    session = SyncSession(str(catalog), settings)
    users = workspace / "users.json"
    add_user(users, "alice", "correct horse")
    app = create_app(
        AppState(settings, {"main": session}), {"TESTING": True, "USERS_FILE": str(users)}
    )
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/login", data={"username": "alice", "password": "correct horse", "csrf_token": csrf}
    )
    (plan,) = session.plan()
    assert plan.action == "unchanged"
    page = client.get("/review/MUG-1").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    stroke = {"kind": "remove", "width": 40, "points": [[500, 700], [700, 700]]}
    sent = client.post(
        "/review/MUG-1/touch-up?c=main",
        data=json.dumps({"fingerprint": plan.fingerprint, "strokes": [stroke]}),
        headers={"X-CSRFToken": csrf},
        content_type="application/json",
    )
    assert sent.status_code == 202, sent.get_json()
    (again,) = session.plan()
    assert again.action == "enqueue" and len(again.task["strokes"]) == 1
    assert again.task["source_version"].startswith("s3:")
    overlay = client.get(f"/review/MUG-1/touch-up/cut.png?c=main&fp={plan.fingerprint}")
    assert overlay.status_code == 200 and overlay.mimetype == "image/png"  # the brush's backdrop
