"""The Drive client and the planning metadata cache against the local Drive v3 server (real HTTP)."""

from __future__ import annotations

import pytest
import requests
from conftest import EXAMPLES
from fakes.drive_api import FakeDriveApi

from vitrina_sync.drive.client import DriveClient
from vitrina_sync.drive.sources import DriveSources
from vitrina_sync.errors import ConfigError, DriveError, RowError
from vitrina_sync.google_api import RetryPolicy
from vitrina_sync.settings import load_settings


@pytest.fixture
def api():
    with FakeDriveApi() as fake:
        yield fake


def client_for(api, slept=None, **policy) -> DriveClient:
    policy = RetryPolicy(**{"base": 0.01, **policy})
    sleep = slept.append if slept is not None else (lambda _s: None)
    return DriveClient(
        api.url, requests.Session(), "sa@p.iam.gserviceaccount.com", policy, sleep=sleep
    )


def settings_for(api, **extra):
    env = {"VITRINA_GOOGLE_CREDENTIALS": "none", "VITRINA_GOOGLE_DRIVE_URL": api.url}
    return load_settings(env={**env, "VITRINA_GOOGLE_RETRY_BASE": "0.01", **extra})


def test_batches_carry_at_most_100_calls_and_answer_each_file(api):
    ids = [api.add_file(f"p{i}.jpg", b"x%d" % i) for i in range(250)]
    answers = client_for(api).batch_get(ids)
    assert api.count("batch") == 3 and api.count("batch.files.get") == 250
    assert {i: a["md5Checksum"] for i, a in answers.items()} == {
        i: api.files[i].meta()["md5Checksum"] for i in ids
    }
    assert all(
        set(a) <= {"id", "name", "mimeType", "size", "md5Checksum", "modifiedTime", "trashed"}
        for a in answers.values()
    )


def test_rate_limits_are_retried_with_backoff_and_retry_after_honoured(api):
    file_id = api.add_file("mug.jpg", b"abc")
    api.fail(403, times=2, kind="files.get")  # userRateLimitExceeded, Drive's 403 that is a quota
    api.fail(429, times=1, kind="files.get", retry_after=0.25)
    slept: list[float] = []
    client = client_for(api, slept)
    assert client.get(file_id)["name"] == "mug.jpg"
    assert api.count("files.get") == 4 and client.counters.retries == 3
    assert 0.25 in slept and all(s <= 0.01 * 2**n + 0.01 for n, s in enumerate(slept[:2]))


def test_a_drive_that_stays_unavailable_gives_up_after_the_bounded_attempts(api):
    file_id = api.add_file("mug.jpg", b"abc")
    api.fail(503, times=99)
    with pytest.raises(DriveError, match="gave up after 3 attempt") as caught:
        client_for(api, attempts=3).get(file_id)
    assert caught.value.retry and api.count("files.get") == 3


def test_rate_limited_parts_of_a_batch_are_asked_again(api):
    ids = [api.add_file(f"p{i}.jpg", b"%d" % i) for i in range(5)]
    api.fail(403, times=3, kind="batch.files.get")
    answers = client_for(api).batch_get(ids)
    assert all(isinstance(a, dict) for a in answers.values())
    assert api.count("batch") == 2 and api.count("batch.files.get") == 8


def test_batch_parts_that_stay_rate_limited_wait_as_told_then_give_up(api):
    ids = [api.add_file(f"p{i}.jpg", b"%d" % i) for i in range(3)]
    api.fail(429, times=99, kind="batch.files.get", retry_after=0.2)
    slept: list[float] = []
    answers = client_for(api, slept, attempts=2).batch_get(ids)
    assert slept == [0.2] and api.count("batch") == 2
    for answer in answers.values():
        assert isinstance(answer, DriveError) and answer.retry
        assert "over quota (429 rateLimitExceeded) - gave up after 2 attempt" in str(answer)


def test_failures_say_what_to_do_and_nothing_over_the_cap_is_read(api):
    client = client_for(api)
    hidden = api.add_file("secret.jpg", b"abc", shared=False)
    with pytest.raises(DriveError, match="share it with sa@p.iam.gserviceaccount.com"):
        client.get(hidden)
    doc = api.add_doc("notes")
    with pytest.raises(DriveError, match="Google Docs editors file") as caught:
        client.download(doc, 1000)
    assert caught.value.reason == "fileNotDownloadable" and not caught.value.retry
    big = api.add_file("big.jpg", b"x" * 5000)
    with pytest.raises(DriveError, match="larger than max_source_bytes"):
        client.download(big, 4999)
    assert client.download(big, 5000) == b"x" * 5000


def test_changes_follow_next_page_token_to_the_new_start_token(api):
    client = client_for(api)
    token = client.start_page_token()
    ids = [api.add_file(f"p{i}.jpg", b"%d" % i) for i in range(2500)]
    changes, new = client.changes(token)
    assert [c["fileId"] for c in changes] == ids and api.count("changes.list") == 3
    assert client.changes(new) == ([], new)


def test_planning_metadata_costs_one_request_per_sync_when_nothing_changed(api, tmp_path):
    ids = [api.add_file(f"p{i}.jpg", b"%d" % i) for i in range(250)]
    store = tmp_path / "drive.json"
    first = DriveSources(settings_for(api), store)
    first.refresh(ids)
    prints = {i: first.fingerprint_of(i) for i in ids}
    first.save()
    assert api.count("changes.getStartPageToken") == 1 and api.count("batch") == 3
    api.reset_counts()

    again = DriveSources(settings_for(api), store)  # a new process: the cache comes from the file
    again.refresh(ids)
    assert {i: again.fingerprint_of(i) for i in ids} == prints
    assert api.http_requests() == 1 and api.count("changes.list") == 1
    assert again.metrics()["requests"] == 1 and again.metrics()["files_known"] == 250
    again.save()
    api.reset_counts()

    api.edit(ids[7], b"new bytes")
    api.add_file("unrelated.jpg", b"u")  # someone else's change in the same Drive
    third = DriveSources(settings_for(api), store)
    third.refresh(ids)
    now = {i: third.fingerprint_of(i) for i in ids}
    assert [i for i in ids if now[i] != prints[i]] == [ids[7]]
    assert api.http_requests() == 1  # the change carries the new metadata: no files.get at all


def test_deleted_trashed_and_unshared_files_are_row_errors_and_a_new_share_is_seen(api, tmp_path):
    ids = [api.add_file(f"p{i}.jpg", b"%d" % i) for i in range(3)]
    sources = DriveSources(settings_for(api), tmp_path / "drive.json")
    sources.refresh(ids)
    api.delete(ids[0])
    api.trash(ids[1])
    api.share(ids[2], False)
    sources.refresh(ids)
    with pytest.raises(DriveError, match="not found.*share it with the service account"):
        sources.fingerprint_of(ids[0])
    with pytest.raises(DriveError, match="in the trash"):
        sources.fingerprint_of(ids[1])
    with pytest.raises(DriveError, match="share it with"):
        sources.fingerprint_of(ids[2])
    api.share(ids[2])
    sources.refresh(ids)
    assert sources.fingerprint_of(ids[2]).startswith("gdrive-md5:")


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda api: api.add_doc("Price list", "spreadsheet"), "a Google Sheet"),
        (lambda api: api.add_doc("Notes"), "a Google Doc"),
        (lambda api: api.add_folder("Photos"), "folder"),
        (lambda api: api.add_shortcut("mug", "1TargetTargetTarget"), "shortcut.*gdrive://1Target"),
        (lambda api: api.add_file("huge.jpg", b"x" * 2001), "2001 bytes, over max_source_bytes"),
    ],
)
def test_files_that_are_not_photos_or_too_big_say_what_they_are(api, make, says):
    file_id = make(api)
    sources = DriveSources(settings_for(api, VITRINA_MAX_SOURCE_BYTES="2000"))
    sources.refresh([file_id])
    with pytest.raises(DriveError, match=says):
        sources.fingerprint_of(file_id)
    assert api.count("files.download") == 0


def test_a_refused_change_token_starts_over_and_an_unavailable_drive_keeps_the_cache(api, tmp_path):
    file_id = api.add_file("a.jpg", b"a")
    sources = DriveSources(
        settings_for(api, VITRINA_GOOGLE_RETRY_ATTEMPTS="2"), tmp_path / "d.json"
    )
    sources.refresh([file_id])
    before = sources.fingerprint_of(file_id)
    api.fail(503, times=2, kind="changes.list")
    sources.refresh([file_id])  # Drive away: last sync's metadata stands, the token is kept
    assert sources.fingerprint_of(file_id) == before
    sources.token = "999999"  # a token Drive no longer knows
    sources.refresh([file_id])
    assert sources.token != "999999" and sources.fingerprint_of(file_id) == before


def test_credentials_none_only_on_loopback_and_a_broken_setup_is_every_drive_rows_error():
    settings = load_settings(env={"VITRINA_GOOGLE_CREDENTIALS": "none"})
    with pytest.raises(ConfigError, match="loopback google_drive_url"):
        DriveClient.from_settings(settings)
    sources = DriveSources(settings)
    sources.refresh(["1AbCdEfGhIjKlMnOp"])
    with pytest.raises(RowError, match="Google Drive cannot be used.*loopback"):
        sources.fingerprint_of("1AbCdEfGhIjKlMnOp")
    missing = load_settings(env={})
    with pytest.raises(ConfigError, match="Google Drive needs google_credentials"):
        DriveClient.from_settings(missing)


def test_a_pack_takes_drive_rows_approved_for_the_photo_as_it_is_now(api, tmp_path):
    from test_packs_select import approved

    from vitrina_sync.catalog.model import Row
    from vitrina_sync.packs.select import plan_check, select_items

    settings = settings_for(api)
    ids = [api.add_file(f"p{i}.jpg", b"%d" % i) for i in range(150)]
    out_root = tmp_path / "out"
    first = plan_check(settings, tmp_path, out_root)
    rows = []
    for n, file_id in enumerate(ids):
        row = Row(n + 2, {"sku": f"S{n}", "source": f"gdrive://{file_id}"})
        rows.append(approved(row, first(row)[2]))
    api.edit(ids[3], b"retouched after approval")
    api.reset_counts()
    items, skipped = select_items(rows, "kaspi", plan_check(settings, tmp_path, out_root), out_root)
    assert len(items) == 149 and [(s["sku"], "stale" in s["reason"]) for s in skipped] == [
        ("S3", True)
    ]
    assert api.count("batch") == 2 and api.count("files.get") == 0  # 150 rows: two batches


def test_a_job_whose_download_keeps_failing_is_transient_so_the_next_sync_retries(api, tmp_path):
    from vitrina_sync.jobs import process_row

    file_id = api.add_file("mug.jpg", b"\xff\xd8 not really a jpeg")
    doc = api.add_doc("Notes")
    api.fail(503, times=99, kind="files.download")
    settings = {
        "google_credentials": "none",
        "google_drive_url": api.url,
        "google_retry_attempts": 2,
        "google_retry_base": 0.01,
    }

    def task(source):
        return {
            "sku": "S1",
            "fingerprint": "f" * 64,
            "source": source,
            "mode": "white",
            "preset_name": "default",
            "preset": {},
            "out_root": str(tmp_path),
            "settings": settings,
        }

    result = process_row(task(f"gdrive://{file_id}"))
    assert result["status"] == "error" and result["transient"], result
    assert "gave up after 2 attempt" in result["message"] and api.count("files.download") == 2
    refused = process_row(task(f"gdrive://{doc}"))  # the worker checks metadata again first
    assert "a Google Doc" in refused["message"] and not refused["transient"]
    assert api.count("files.download") == 2


def test_the_whole_cache_is_read_again_after_drive_recheck_hours(api, tmp_path):
    ids = [api.add_file(f"p{i}.jpg", b"%d" % i) for i in range(3)]
    store = tmp_path / "drive.json"
    sources = DriveSources(settings_for(api), store)
    sources.refresh(ids)
    sources.read_at -= 25 * 3600  # a day and an hour ago
    sources.save()
    api.reset_counts()
    again = DriveSources(settings_for(api), store)
    again.refresh(ids)
    assert api.count("changes.getStartPageToken") == 1 and api.count("batch.files.get") == 3
    api.reset_counts()
    again.refresh(ids)
    assert api.http_requests() == 1 and api.count("changes.list") == 1


def test_a_worker_host_uses_its_own_key_when_it_has_one(api, monkeypatch, tmp_path):
    from vitrina_sync.drive.sources import fetch_source
    from vitrina_sync.errors import RowError

    photo = (EXAMPLES / "mug.jpg").read_bytes()
    file_id = api.add_file("Mug Photo.JPG", photo)
    planner = {"google_credentials": str(tmp_path / "only-on-the-planner.json")}
    planner["google_drive_url"] = api.url
    monkeypatch.delenv("VITRINA_GOOGLE_CREDENTIALS", raising=False)
    with pytest.raises(RowError, match="only-on-the-planner.json"):
        fetch_source(file_id, planner, 50_000_000, 10_000_000)
    monkeypatch.setenv("VITRINA_GOOGLE_CREDENTIALS", "none")  # this host's own (loopback) setup
    loaded, stored, data = fetch_source(file_id, planner, 50_000_000, 10_000_000)
    assert data == photo and stored.name == "source.jpg" and loaded.image.size[0] > 0
    with pytest.raises(RowError, match="over the pixel cap"):  # checked after the download
        fetch_source(file_id, planner, 1000, 10_000_000)


def test_a_revoked_or_broken_key_is_every_drive_rows_clear_error(api, tmp_path):
    key = api.service_account_file(tmp_path / "key.json", "bot@p.iam.gserviceaccount.com")
    file_id = api.add_file("a.jpg", b"a")
    settings = load_settings(
        env={"VITRINA_GOOGLE_CREDENTIALS": str(key), "VITRINA_GOOGLE_DRIVE_URL": api.url}
    )
    api.refuse_grants = True
    sources = DriveSources(settings)
    sources.refresh([file_id])
    with pytest.raises(DriveError, match="could not sign in.*invalid_grant"):
        sources.fingerprint_of(file_id)
    api.refuse_grants = False
    sources.refresh([file_id])
    assert sources.fingerprint_of(file_id).startswith("gdrive-md5:")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "service_account", "client_email": "x@y", "private_key": "nope"}')
    broken = DriveSources(load_settings(env={"VITRINA_GOOGLE_CREDENTIALS": str(bad)}))
    broken.refresh([file_id])
    with pytest.raises(RowError, match="Google Drive cannot be used: google_credentials"):
        broken.fingerprint_of(file_id)
