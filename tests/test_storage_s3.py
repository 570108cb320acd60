"""Sources in a bucket, outputs in a bucket (a real S3 endpoint on loopback: moto server), Result
links, re-runs, half-written outputs, start-up errors, published packs, review images."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

import pytest
from conftest import write_catalog
from openpyxl import load_workbook
from PIL import Image

from vitrina_sync.errors import ConfigError, StorageError
from vitrina_sync.runner import SyncSession, run
from vitrina_sync.store import safe_name

OUTPUT_FILES = {"source.jpg", "main.jpg", "mask.png", "qa.json", "result.json"}


def cells(path) -> dict[str, dict]:
    ws = load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h or "").strip().lower() for h in rows[0]]
    return {
        str(r[0]): {h: ("" if v is None else str(v)) for h, v in zip(head, r)} for r in rows[1:]
    }


def on_s3(settings, s3, **extra):
    return type(settings)(
        {**settings, "storage": s3.url("out"), "assets": s3.url("photos"), **extra}
    )


def folder_keys(s3, sku: str) -> dict[str, set[str]]:
    """fp12 -> file names of the SKU's output folders in the bucket."""
    found: dict[str, set[str]] = {}
    for key in s3.keys(f"out/{safe_name(sku)}/"):
        _, _, fp12, name = key.split("/", 3)
        found.setdefault(fp12, set()).add(name)
    return found


@pytest.fixture
def bucket_photos(workspace, s3):
    s3.put_folder(workspace / "photos", "photos")
    return s3


def test_run_reads_sources_from_the_bucket_and_writes_outputs_only_there(
    workspace, settings, bucket_photos
):
    s3 = bucket_photos
    catalog = write_catalog(
        workspace / "catalog.xlsx",
        [
            ["MUG-1", "mug.jpg", "white"],
            ["BAG-2", "bag.jpg", "white"],
            ["UP", "../photos/mug.jpg", "white"],
            ["DOT", "./mug.jpg", "white"],
            ["DBL", "sub//mug.jpg", "white"],
            ["MISS", "nope.jpg", "white"],
        ],
    )
    summary = run(str(catalog), on_s3(settings, s3), workers=1, progress=False)
    got = cells(catalog)
    assert summary.processed == 2
    for sku in ("MUG-1", "BAG-2"):
        row = got[sku]
        assert row["status"] == "needs_review", row
        (fp12, names), *_ = folder_keys(s3, sku).items()
        assert names == OUTPUT_FILES
        assert row["result"] == f"s3://{s3.bucket}/out/{sku}/{fp12}/main.jpg"
        assert row["fingerprint"].startswith(fp12)
        assert Image.open(io.BytesIO(s3.get(f"out/{sku}/{fp12}/main.jpg"))).format == "JPEG"
    assert (
        s3.get(f"out/MUG-1/{next(iter(folder_keys(s3, 'MUG-1')))}/source.jpg")
        == (workspace / "photos" / "mug.jpg").read_bytes()
    )
    assert "leaves the asset folder" in got["UP"]["message"]
    assert got["DOT"]["status"] == got["DBL"]["status"] == "error"
    assert "not a clean key" in got["DBL"]["message"]
    assert got["MISS"]["message"] == "source file not found: nope.jpg"
    local = workspace / "vitrina-out"
    assert not (local / "MUG-1").exists() and not (local / "BAG-2").exists()


def test_result_is_the_public_url_of_the_main_image(workspace, settings, bucket_photos):
    s3 = bucket_photos
    catalog = write_catalog(workspace / "catalog.xlsx", [["MUG-1", "mug.jpg", "white"]])
    base = "https://cdn.example.test/shop"
    run(str(catalog), on_s3(settings, s3, public_base_url=base), workers=1, progress=False)
    result = cells(catalog)["MUG-1"]["result"]
    (fp12, _), *_ = folder_keys(s3, "MUG-1").items()
    assert result == f"{base}/out/MUG-1/{fp12}/main.jpg"
    key = result[len(base) + 1 :]
    assert Image.open(io.BytesIO(s3.get(key))).format == "JPEG"  # the URL names a real object


def test_rerun_reuses_complete_outputs_and_redoes_a_half_written_one(
    workspace, settings, bucket_photos
):
    s3 = bucket_photos
    rows = [["MUG-1", "mug.jpg", "white"], ["BAG-2", "bag.jpg", "white"]]
    catalog = write_catalog(workspace / "catalog.xlsx", rows)
    conf = on_s3(settings, s3)
    run(str(catalog), conf, workers=1, progress=False)
    first = cells(catalog)
    # a crash between the files and the marker: everything there but result.json
    (bag_fp12, _), *_ = folder_keys(s3, "BAG-2").items()
    s3.client.delete_object(Bucket=s3.bucket, Key=f"out/BAG-2/{bag_fp12}/result.json")
    write_catalog(catalog, rows)  # a fresh sheet (no Status/Fingerprint): both rows queue again
    summary = run(str(catalog), conf, workers=1, progress=False)
    assert summary.processed == 2 and summary.reused == 1
    assert folder_keys(s3, "BAG-2")[bag_fp12] == OUTPUT_FILES
    assert cells(catalog)["MUG-1"]["result"] == first["MUG-1"]["result"]
    # nothing changed: nothing queued, no photo read (the ETag stands for the content)
    assert run(str(catalog), conf, workers=1, progress=False).queued == 0
    # a replaced object (new ETag) re-queues exactly its row
    s3.client.put_object(
        Bucket=s3.bucket, Key="photos/mug.jpg", Body=(workspace / "photos/bottle.jpg").read_bytes()
    )
    again = run(str(catalog), conf, workers=1, progress=False)
    assert again.queued == 1 and len(folder_keys(s3, "MUG-1")) == 2


def test_caps_are_checked_from_metadata_and_header(workspace, settings, bucket_photos):
    s3 = bucket_photos
    catalog = write_catalog(
        workspace / "catalog.xlsx", [["BAG-2", "bag.jpg", "white"], ["MUG-1", "mug.jpg", "white"]]
    )
    conf = on_s3(settings, s3, max_source_bytes=400_000, max_pixels=1_000_000)
    run(str(catalog), conf, workers=1, progress=False)
    got = cells(catalog)
    assert got["BAG-2"]["message"].startswith("source file too large: 494891 bytes > 400000")
    # mug.jpg is 335 KB: its header (first 256 KiB) says 1200x1600 before the body is fetched
    assert "pixel cap" in got["MUG-1"]["message"] and "(1200x1600)" in got["MUG-1"]["message"]


def test_missing_bucket_is_one_clear_error_at_start(workspace, settings, s3):
    catalog = write_catalog(workspace / "catalog.xlsx", [["MUG-1", "photos/mug.jpg", "white"]])
    bad = type(settings)({**settings, "storage": "s3://no-such-bucket-here/out"})
    with pytest.raises(ConfigError, match="bucket 'no-such-bucket-here' does not exist"):
        SyncSession(str(catalog), bad)
    env = {**os.environ, "VITRINA_STORAGE": "s3://no-such-bucket-here/out"}
    cli = subprocess.run(
        [sys.executable, "-m", "vitrina_sync.cli", "run", str(catalog), "--no-progress"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert cli.returncode == 1
    assert "Error: storage s3://no-such-bucket-here/out: bucket" in cli.stderr
    assert "Traceback" not in cli.stderr
    serve = subprocess.run(
        [sys.executable, "-m", "vitrina_sync.cli", "serve", "--catalog", str(catalog)]
        + ["--port", "0", "--workers", "0"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert serve.returncode == 1 and "bucket 'no-such-bucket-here' does not exist" in serve.stderr
    assert "Traceback" not in serve.stderr
    worker = subprocess.run(
        [sys.executable, "-m", "vitrina_sync.worker", "--url", "redis://127.0.0.1:1", "--burst"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert worker.returncode == 2 and "does not exist" in worker.stderr
    assert "Traceback" not in worker.stderr


@pytest.fixture
def strict_s3(s3):
    """A second moto server that checks credentials (any key it does not know is refused)."""
    from local_net import free_port

    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    proc = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "moto_server"),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_wrong_credentials_are_one_clear_error_at_start(workspace, settings, strict_s3):
    catalog = write_catalog(workspace / "catalog.xlsx", [["MUG-1", "photos/mug.jpg", "white"]])
    bad = type(settings)(
        {**settings, "storage": "s3://any-bucket/out", "s3_endpoint_url": strict_s3}
    )
    with pytest.raises(ConfigError, match="access denied.*AWS_ACCESS_KEY_ID"):
        SyncSession(str(catalog), bad)


def test_unreachable_storage_mid_run_is_a_retried_job_not_a_row_error(
    s3, redis_url, tmp_path, monkeypatch
):
    """The job raises (RQ retries it, then on_job_failure marks it transient: the next sync plans the
    row again), and the failure is counted where /api/status reads it."""
    from rq import Queue, SimpleWorker

    from vitrina_sync.queue import Broker, connect, storage_failures

    # botocore's own retries of a refused connection (5 tries, with back-off: ~10 s per request)
    # are not what is tested: the standard AWS setting turns them off, RQ's retry stays
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    conn = connect(redis_url)
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (64, 64), "red").save(photo)
    task = {
        "sku": "X-1",
        "fingerprint": "f" * 64,
        "source": str(photo),
        "mode": "white",
        "preset_name": "default",
        "preset": {"canvas": [64, 64]},
        "category": "",
        "out_root": "s3://vitrina-down/out",
        "catalog_key": "cat",
        "queue": "cpu",
        "settings": {"s3_endpoint_url": "http://127.0.0.1:9", "job_retries": 1},
    }
    Broker(conn, {"job_retries": 1}).enqueue(task)
    SimpleWorker([Queue("cpu", connection=conn)], connection=conn).work(burst=True)
    assert storage_failures(conn) == {"cat": 2}  # the first try and its one retry
    from vitrina_sync.queue import Broker as _B

    result = _B(conn).pending_results("cat")["X-1"]
    assert result["transient"] is True and result["status"] == "error"


def test_storage_errors_are_transient_kinds():
    assert not issubclass(StorageError, __import__("vitrina_sync.errors").errors.RowError)


def test_assets_option_takes_a_bucket_url(workspace, bucket_photos):
    from click.testing import CliRunner

    from vitrina_sync.cli import main

    catalog = write_catalog(
        workspace / "catalog.xlsx", [["MUG-1", "mug.jpg", "white"], ["UP", "../x.jpg", "white"]]
    )
    out = (
        CliRunner()
        .invoke(main, ["check", str(catalog), "--assets", bucket_photos.url("photos")])
        .output
    )
    assert "MUG-1" in out and "queue (white)" in out
    assert "UP" in out and "leaves the asset folder" in out


def test_nothing_over_the_caps_is_downloaded(workspace, bucket_photos, caplog):
    """The loopback server's own request log: a refused photo gets a HEAD (size) or a 256 KiB
    range (header) and never a whole-body GET; an accepted one gets its body once."""
    import logging

    from vitrina_sync import sources
    from vitrina_sync.errors import ImageError
    from vitrina_sync.settings import load_settings

    s3 = bucket_photos
    caplog.set_level(logging.INFO, logger="werkzeug")
    tight = load_settings(overrides={"max_source_bytes": 400_000, "max_pixels": 1_000_000})
    for name, why in (("bag.jpg", "too large"), ("mug.jpg", "pixel cap")):
        with pytest.raises(ImageError, match=why):
            sources.load(s3.url(f"photos/{name}"), tight)
    loose = load_settings()
    loaded, _, data = sources.load(s3.url("photos/coffee.jpg"), loose)
    assert loaded.image.size[0] > 0 and data == (workspace / "photos/coffee.jpg").read_bytes()
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", r.getMessage()) for r in caplog.records]
    gets = [line for line in lines if '"GET /' in line]  # werkzeug colours some status codes
    whole = [g for g in gets if '" 200' in g and "list-type" not in g]
    assert all("coffee.jpg" in g for g in whole) and len(whole) == 1, gets
    assert any("mug.jpg" in g and '" 206' in g for g in gets)  # the header range only
    assert not any("bag.jpg" in g for g in gets)  # metadata only
