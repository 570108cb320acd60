"""`vitrina-sync run` on an XLSX catalog whose Source cells are Google Drive links, end to end:
the real CLI, real workers, real u2netp, the real Drive client (with a service-account key whose
token_uri is the local Drive server, so google-auth's JWT grant runs too) over real HTTP."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import pytest
from conftest import write_catalog
from fakes.drive_api import FakeDriveApi
from openpyxl import load_workbook

EMAIL = "vitrina-photos@demo-project.iam.gserviceaccount.com"


def sheet_rows(path):
    ws = load_workbook(path).active
    headers = [c.value for c in ws[1]]
    return {str(r[0]): dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def drive(workspace):
    with FakeDriveApi() as api:
        api.service_account_file(workspace / "service-account.json", EMAIL)
        yield api


def run_cli(workspace, api, catalog):
    env = {
        **os.environ,
        "VITRINA_GOOGLE_CREDENTIALS": str(workspace / "service-account.json"),
        "VITRINA_GOOGLE_DRIVE_URL": api.url,
        "VITRINA_GOOGLE_RETRY_BASE": "0.05",
        "VITRINA_MAX_SOURCE_BYTES": "600000",
    }
    cmd = [sys.executable, "-m", "vitrina_sync.cli", "run", str(catalog), "--no-progress"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)


def drive_calls(api, kind=None, file_id=None) -> int:
    return sum(
        1
        for r in api.requests
        if (kind is None or r["kind"] == kind) and (file_id is None or r["path"].endswith(file_id))
    )


def test_drive_sourced_catalog_runs_reports_every_fault_and_resyncs_cheaply(workspace, drive):
    photos = workspace / "photos"
    api = drive
    ids = {
        name: api.add_file(f"{name}.jpg", (photos / f"{name}.jpg").read_bytes())
        for name in ("mug", "bag", "coffee", "ring", "chelsea")
    }
    bad = {
        "hidden": api.add_file("hidden.jpg", (photos / "mug.jpg").read_bytes(), shared=False),
        "gone": api.add_file("gone.jpg", (photos / "mug.jpg").read_bytes()),
        "binned": api.add_file("binned.jpg", (photos / "mug.jpg").read_bytes()),
        "doc": api.add_doc("Product notes"),
        "folder": api.add_folder("Photos 2026"),
        "shortcut": api.add_shortcut("mug (shortcut)", ids["mug"]),
        "big": api.add_file("big.jpg", b"\xff\xd8" + b"0" * 700_000),
    }
    api.delete(bad["gone"])
    api.trash(bad["binned"])
    rows = [
        ["D-VIEW", f"https://drive.google.com/file/d/{ids['mug']}/view?usp=sharing", "white"],
        ["D-OPEN", f"https://drive.google.com/open?id={ids['bag']}", "white"],
        ["D-UC", f"https://drive.google.com/uc?id={ids['coffee']}&export=download", "white"],
        ["D-DOCS", f"https://docs.google.com/uc?id={ids['ring']}&export=download", "white"],
        ["D-SCHEME", f"gdrive://{ids['chelsea']}", "white"],
        ["HIDDEN", f"gdrive://{bad['hidden']}", "white"],
        ["GONE", f"https://drive.google.com/file/d/{bad['gone']}/view", "white"],
        ["BINNED", f"gdrive://{bad['binned']}", "white"],
        ["DOC", f"gdrive://{bad['doc']}", "white"],
        ["FOLDER", f"https://drive.google.com/open?id={bad['folder']}", "white"],
        ["SHORTCUT", f"gdrive://{bad['shortcut']}", "white"],
        ["BIG", f"gdrive://{bad['big']}", "white"],
        ["FOLDER-LINK", f"https://drive.google.com/drive/folders/{bad['folder']}", "white"],
    ]
    catalog = write_catalog(workspace / "catalog.xlsx", rows)
    api.fail(403, times=2, kind="files.download")  # userRateLimitExceeded on the first downloads
    api.fail(429, times=1, kind="batch", retry_after=0.1)

    first = run_cli(workspace, api, catalog)
    assert first.returncode == 0, first.stderr
    got = sheet_rows(catalog)
    for sku, name in zip(("D-VIEW", "D-OPEN", "D-UC", "D-DOCS", "D-SCHEME"), ids):
        row = got[sku]
        assert row["Status"] == "needs_review", (sku, row["Message"])
        folder = workspace / row["Result"]
        assert folder.parent.joinpath("source.jpg").read_bytes() == api.files[ids[name]].data
        assert folder.is_file()
    share = f"share it with {EMAIL}"
    expected = {
        "HIDDEN": share,
        "GONE": share,
        "BINNED": "in the trash",
        "DOC": "a Google Doc",
        "FOLDER": "Google Drive folder",
        "SHORTCUT": f"shortcut .*gdrive://{ids['mug']}",
        "BIG": "700002 bytes, over max_source_bytes",
        "FOLDER-LINK": "a Drive folder, not a photo",
    }
    for sku, says in expected.items():
        assert got[sku]["Status"] == "error", sku
        assert re.search(says, got[sku]["Message"] or ""), (sku, got[sku]["Message"])
    downloaded = {
        r["path"].rsplit("/", 1)[-1] for r in api.requests if r["kind"] == "files.download"
    }
    assert downloaded == set(ids.values())  # nothing over the cap, no Doc/folder/shortcut
    assert drive_calls(api, "files.download") == 5 + 2  # two quota 403s, retried
    assert drive_calls(api, "batch") >= 2  # the 429 on the first batch was retried
    assert drive_calls(api, "oauth.token") >= 1 and all(
        "drive.readonly" in c["scope"] for c in api.tokens.values()
    )

    api.reset_counts()
    second = run_cli(workspace, api, catalog)
    assert second.returncode == 0, second.stderr
    assert "queued 0" in second.stdout and "0 rows changed" in second.stdout
    assert sheet_rows(catalog) == got
    assert drive_calls(api, "files.download") == 0 and drive_calls(api, "files.get") == 0
    assert drive_calls(api, "changes.list") == 1
    # O(1): one changes.list, plus one batch asking again after the rows that are still errors
    # (not shared / deleted), so that sharing a file is picked up without anyone touching the row
    assert drive_calls(api, "batch") <= 1
    assert (
        len([r for r in api.requests if r["kind"] not in ("oauth.token",)])
        - drive_calls(api, "batch.files.get")
        <= 2
    )

    new_bytes = (photos / "bottle.jpg").read_bytes()
    api.edit(ids["bag"], new_bytes)
    api.reset_counts()
    third = run_cli(workspace, api, catalog)
    assert third.returncode == 0, third.stderr
    assert "queued 1" in third.stdout
    after = sheet_rows(catalog)
    assert after["D-OPEN"]["Fingerprint"] != got["D-OPEN"]["Fingerprint"]
    assert {s: r for s, r in after.items() if s != "D-OPEN"} == {
        s: r for s, r in got.items() if s != "D-OPEN"
    }
    source = (workspace / after["D-OPEN"]["Result"]).parent / "source.jpg"
    assert hashlib.md5(source.read_bytes()).hexdigest() == hashlib.md5(new_bytes).hexdigest()
    assert drive_calls(api, "files.download") == 1 and drive_calls(api, "changes.list") == 1


def test_serve_keeps_drive_rows_in_step_at_one_request_a_cycle(workspace, settings, drive):
    from test_server import sheet_rows as rows_of

    from vitrina_sync.web import create_app
    from vitrina_sync.web.auth import add_user
    from vitrina_sync.web.commands import build_state, shutdown
    from vitrina_sync.web.sync import cycle

    api, photos = drive, workspace / "photos"
    mug = api.add_file("mug.jpg", (photos / "mug.jpg").read_bytes())
    catalog = write_catalog(workspace / "catalog.xlsx", [["D-1", f"gdrive://{mug}", "white"]])
    key = str(workspace / "service-account.json")
    settings.update(google_credentials=key, google_drive_url=api.url, poll_interval=3600)
    state, embedded = build_state([str(catalog)], settings, None, None, None)
    cs = next(iter(state.catalogs.values()))
    try:
        cycle(state, cs)
        first = rows_of(catalog)["D-1"]
        assert first["Status"] == "queued" and first["Fingerprint"]
        api.reset_counts()
        for _ in range(3):
            cycle(state, cs)
        assert api.count("changes.list") == 3 and api.http_requests() == 3  # token kept in memory
        assert rows_of(catalog)["D-1"] == first

        api.edit(mug, (photos / "bag.jpg").read_bytes())
        cycle(state, cs)
        assert rows_of(catalog)["D-1"]["Fingerprint"] != first["Fingerprint"]

        app = create_app(state, {"TESTING": True, "USERS_FILE": str(workspace / "users.json")})
        add_user(workspace / "users.json", "ann", "pw")
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["user"] = "ann"
        (snap,) = client.get("/api/status").json["catalogs"].values()
        assert snap["drive_api"]["requests"] >= 6 and snap["drive_api"]["files_known"] == 1
        metrics = client.get("/metrics").get_data(as_text=True)
        assert f'vitrina_drive_api_requests_total{{catalog="{cs.session.spec}"}}' in metrics
    finally:
        shutdown(state, [], embedded)
