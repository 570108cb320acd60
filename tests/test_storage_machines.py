"""Many machines sharing only Redis and a bucket: `vitrina-sync sync` in the catalog's folder, a
`vitrina-sync worker` in a different, empty folder with its own HOME (its models where
`vitrina-sync models fetch` put them), a real redis-server, sources in the bucket, outputs only in
the bucket, Results that are public URLs of real objects, and a published pack whose every
manifest URL is an object.

BUCKET_SOURCES are rows whose Source is a key under the bucket's asset root; DRIVE_SOURCES are
rows whose Source is a Google Drive link, served by the local Drive v3 server (tests/fakes/drive_api)
with a real service-account key whose token_uri is that server, so google-auth's JWT grant runs.

How the remote worker reaches Drive (the path this test exercises): the task carries the
catalog's `google_drive_url` and `google_credentials` (plan.WORK_SETTINGS), but the credentials
setting is a path on the server's disk, which a worker on another machine does not have. So the
worker host keeps its own key and names it in its own environment (VITRINA_GOOGLE_CREDENTIALS),
which drive.sources.fetch_source prefers to the task's path; the Drive address comes from the
task. Here the worker's key is a different service account from the server's, and the fake Drive
server records which account made each call, so the test shows the photo was downloaded with the
worker's own key and never with the server's.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from conftest import write_catalog
from fakes.drive_api import FakeDriveApi
from local_net import wait_until
from openpyxl import load_workbook
from PIL import Image
from storage_flow import BIG_PRESETS, PEOPLE, approve, manifest_urls

from vitrina_sync.queue import catalog_key, results_key

REDIS_SERVER = Path("/usr/bin/redis-server")
BASE = "https://media.example.test/shop"
BUCKET_SOURCES = {"MUG-1": "mug.jpg", "BAG-2": "bag.jpg"}  # SKU -> Source cell (keys under assets)
DRIVE_SOURCES = {"CUP-3": "coffee.jpg"}  # SKU -> the photo put into Drive (Source: its link)
SOURCES = {**BUCKET_SOURCES, **DRIVE_SOURCES}
SERVER_ACCOUNT = "vitrina-sheets@demo-project.iam.gserviceaccount.com"
WORKER_ACCOUNT = "vitrina-gpu-host@demo-project.iam.gserviceaccount.com"

pytestmark = pytest.mark.skipif(not REDIS_SERVER.exists(), reason="needs Debian's redis-server")


@pytest.fixture
def shared_redis():
    from local_net import free_port

    port = free_port()
    proc = subprocess.Popen(
        [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conn = redis.Redis(port=port)

    def pings() -> bool:
        try:
            return bool(conn.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(pings, 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0", conn
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def drive():
    with FakeDriveApi() as api:
        yield api


def drive_calls(api: FakeDriveApi, kind: str, file_id: str = "") -> list[dict]:
    return [r for r in api.requests if r["kind"] == kind and r["path"].endswith(file_id)]


def cli(args: list[str], cwd: Path, env: dict, timeout: float = 180) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vitrina_sync.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def results(catalog: Path) -> dict[str, dict]:
    ws = load_workbook(catalog).active
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h or "").lower() for h in rows[0]]
    return {str(r[0]): dict(zip(head, ("" if v is None else str(v) for v in r))) for r in rows[1:]}


def files_under(folder: Path, names: set[str]) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.name in names]


def test_sync_here_worker_elsewhere_sharing_only_redis_and_the_bucket(
    workspace, s3, shared_redis, drive, tmp_path_factory
):
    url, conn = shared_redis
    s3.put_folder(workspace / "photos", "photos")
    server_key = drive.service_account_file(workspace / "service-account.json", SERVER_ACCOUNT)
    drive_ids = {
        sku: drive.add_file(name, (workspace / "photos" / name).read_bytes())
        for sku, name in DRIVE_SOURCES.items()
    }
    (workspace / "big.toml").write_text(BIG_PRESETS)
    (workspace / "vitrina.toml").write_text(
        f'presets = "{workspace / "big.toml"}"\nassets = "{s3.url("photos")}"\n'
        f'storage = "{s3.url("out")}"\npublic_base_url = "{BASE}"\n'
        f'google_credentials = "{server_key}"\ngoogle_drive_url = "{drive.url}"\n'
    )
    cells = {
        **BUCKET_SOURCES,
        **{
            sku: f"https://drive.google.com/file/d/{i}/view?usp=sharing"
            for sku, i in drive_ids.items()
        },
    }
    rows = [[sku, src, "white", "", "kaspi", "", "", ""] for sku, src in cells.items()]
    catalog = write_catalog(workspace / "catalog.xlsx", rows, PEOPLE)
    mine = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_GOOGLE_")}
    server_env = {**mine, "REDIS_URL": url}

    elsewhere = tmp_path_factory.mktemp("worker-machine")  # empty: no catalog, photos, config
    home = elsewhere / "home"
    home.mkdir()
    # the worker host's own key: another service account, granted by the same (fake) Google
    worker_key = drive.service_account_file(home / "gpu-host-key.json", WORKER_ACCOUNT)
    worker_env = {
        **mine,  # AWS_* and VITRINA_S3_ENDPOINT_URL: that machine's own configuration
        "REDIS_URL": url,
        "HOME": str(home),
        "U2NET_HOME": str(Path.home() / ".u2net"),  # where `vitrina-sync models fetch` put them
        "VITRINA_STORAGE": s3.url("out"),
        "VITRINA_GOOGLE_CREDENTIALS": str(worker_key),  # google_drive_url comes with the task
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "vitrina_sync.cli", "worker", "--queues", "cpu", "--name", "far"],
        cwd=elsewhere,
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        cli(["sync", str(catalog)], workspace, server_env)  # plans and queues; no local workers
        key = results_key(catalog_key(str(catalog)))
        wait_until(lambda: conn.hlen(key) == len(SOURCES), 180, "the remote worker's results")
        cli(["sync", str(catalog)], workspace, server_env)  # writes the finished results back
        got = results(catalog)
        for sku in SOURCES:
            assert got[sku]["status"] == "needs_review", got[sku]
            link = got[sku]["result"]
            assert link.startswith(f"{BASE}/out/{sku}/") and link.endswith("/main.jpg")
            image = Image.open(io.BytesIO(s3.get(link[len(BASE) + 1 :])))
            assert image.format == "JPEG" and image.size == (1000, 1000)
        for sku, file_id in drive_ids.items():  # the bytes the worker stored came from Drive
            stored = s3.get(got[sku]["result"][len(BASE) + 1 :].replace("main.jpg", "source.jpg"))
            assert stored == drive.files[file_id].data
        approve(catalog, set(SOURCES))
        cli(["sync", str(catalog)], workspace, server_env)  # binds the decisions
        assert {r["status"] for r in results(catalog).values()} == {"approved"}
        out = cli(["pack", str(catalog), "-m", "kaspi", "--publish"], workspace, server_env)
        assert f"{len(SOURCES)} card(s)" in out
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    urls = manifest_urls(workspace / "vitrina-out" / "packs" / "kaspi.zip")
    assert len(urls) >= len(SOURCES)
    for sku in SOURCES:  # the Drive row's card too: its picture is an object in the bucket
        assert any(link.endswith(f"/{sku}-1.jpg") for link in urls), (sku, urls)
    for link in urls:
        assert link.startswith(BASE + "/")
        assert Image.open(io.BytesIO(s3.get(link[len(BASE) + 1 :]))).format == "JPEG"
    outputs = {"main.jpg", "mask.png", "qa.json", "result.json", "source.jpg"}
    assert files_under(elsewhere, outputs) == [], err  # the worker kept nothing on its disk
    # nor did the server: only the pack renderer's cache of the pictures it read
    cache = workspace / "vitrina-out" / ".vitrina" / "cache"
    kept = files_under(workspace / "vitrina-out", outputs)
    assert all(p.is_relative_to(cache) and p.name in ("main.jpg", "mask.png") for p in kept)
    for sku in SOURCES:
        assert not list(workspace.glob(f"vitrina-out/{sku}*"))

    for file_id in drive_ids.values():  # the worker downloaded each Drive photo once, itself
        (download,) = drive_calls(drive, "files.download", file_id)
        assert download["account"] == WORKER_ACCOUNT
    assert {r["account"] for r in drive.requests if r["kind"] != "oauth.token"} == {
        SERVER_ACCOUNT,  # planning: changes.list and batched metadata
        WORKER_ACCOUNT,  # the job: metadata again, then the bytes
    }

    drive.reset_counts()  # nothing changed in Drive, the bucket or the sheet
    before = results(catalog)
    out = cli(["sync", str(catalog)], workspace, server_env)
    assert "0 rows changed" in out and "queued 0" in out, out
    assert results(catalog) == before
    assert drive_calls(drive, "files.download") == [] and drive_calls(drive, "files.get") == []
    assert drive_calls(drive, "batch.files.get") == []  # nothing asked per file
    assert len(drive_calls(drive, "changes.list")) == 1
    assert drive.http_requests() - len(drive_calls(drive, "oauth.token")) == 1
