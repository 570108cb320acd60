"""Many machines sharing only Redis and a bucket: `vitrina-sync sync` in the catalog's folder, a
`vitrina-sync worker` in a different, empty folder with its own HOME (its models where
`vitrina-sync models fetch` put them), a real redis-server, sources in the bucket, outputs only in
the bucket, Results that are public URLs of real objects, and a published pack whose every
manifest URL is an object.

SOURCES lists the rows: one Source kind per row (a key under the bucket's asset root here; a
Drive-sourced row joins the same list with its own setup).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from conftest import write_catalog
from openpyxl import load_workbook
from PIL import Image
from storage_flow import BIG_PRESETS, PEOPLE, approve, manifest_urls

from vitrina_sync.queue import catalog_key, results_key

REDIS_SERVER = Path("/usr/bin/redis-server")
BASE = "https://media.example.test/shop"
SOURCES = {"MUG-1": "mug.jpg", "BAG-2": "bag.jpg"}  # SKU -> Source cell (keys under assets)

pytestmark = pytest.mark.skipif(not REDIS_SERVER.exists(), reason="needs Debian's redis-server")


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def shared_redis():
    from s3_fixture import free_port

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
    workspace, s3, shared_redis, tmp_path_factory
):
    url, conn = shared_redis
    s3.put_folder(workspace / "photos", "photos")
    (workspace / "big.toml").write_text(BIG_PRESETS)
    (workspace / "vitrina.toml").write_text(
        f'presets = "{workspace / "big.toml"}"\nassets = "{s3.url("photos")}"\n'
        f'storage = "{s3.url("out")}"\npublic_base_url = "{BASE}"\n'
    )
    rows = [[sku, src, "white", "", "kaspi", "", "", ""] for sku, src in SOURCES.items()]
    catalog = write_catalog(workspace / "catalog.xlsx", rows, PEOPLE)
    server_env = {**os.environ, "REDIS_URL": url}

    elsewhere = tmp_path_factory.mktemp("worker-machine")  # empty: no catalog, photos, config
    home = elsewhere / "home"
    home.mkdir()
    worker_env = {
        **os.environ,  # AWS_* and VITRINA_S3_ENDPOINT_URL: that machine's own configuration
        "REDIS_URL": url,
        "HOME": str(home),
        "U2NET_HOME": str(Path.home() / ".u2net"),  # where `vitrina-sync models fetch` put them
        "VITRINA_STORAGE": s3.url("out"),
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
    for link in urls:
        assert link.startswith(BASE + "/")
        assert Image.open(io.BytesIO(s3.get(link[len(BASE) + 1 :]))).format == "JPEG"
    outputs = {"main.jpg", "mask.png", "qa.json", "result.json", "source.jpg"}
    assert files_under(elsewhere, outputs) == [], err  # the worker kept nothing on its disk
    # nor did the server: only the pack renderer's cache of the pictures it read
    cache = workspace / "vitrina-out" / ".vitrina" / "cache"
    kept = files_under(workspace / "vitrina-out", outputs)
    assert all(p.is_relative_to(cache) and p.name in ("main.jpg", "mask.png") for p in kept)
    assert not list(workspace.glob("vitrina-out/MUG-1*"))
