"""Many machines: a real redis-server, `vitrina-sync serve` and two `vitrina-sync worker` processes,
a Google Sheet served by the local Sheets API. People edit the sheet; the results land; SIGTERM to
serve loses nothing (what the workers finish meanwhile is written by the next serve).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).parent))
from fakes.sheets_api import FakeSheetsApi
from local_net import free_port, wait_until

from vitrina_sync.queue import catalog_key, results_key
from vitrina_sync.web.hooks import sign

REDIS_SERVER = Path("/usr/bin/redis-server")
BOOK, TITLE, SECRET = "1Many-machines_book", "Catalog", "hook-secret"
HEADER = ["SKU", "Source", "Mode", "Marketplaces"]

pytestmark = pytest.mark.skipif(
    not REDIS_SERVER.exists(), reason="needs Debian's redis-server (`make system-deps` installs it)"
)


@pytest.fixture
def redis_url():
    port = free_port()
    proc = subprocess.Popen(
        [
            str(REDIS_SERVER),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conn = redis.Redis(port=port)
    try:
        wait_until(lambda: _pings(conn), 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _pings(conn) -> bool:
    try:
        return conn.ping()
    except redis.ConnectionError:
        return False


class Serve:
    """`vitrina-sync serve` as a subprocess; stderr drained in a thread (it logs there)."""

    def __init__(self, args: list[str], env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vitrina_sync.cli", "serve", "--port", "0", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        wait_until(lambda: self.port or self.proc.poll() is not None, 30, "serve to listen")
        assert self.port, "serve did not start:\n" + "".join(self.lines)

    def _drain(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def port(self) -> int | None:
        for line in self.lines:
            if "listening on http://" in line:
                return int(line.split("listening on http://")[1].split()[0].rsplit(":", 1)[1])
        return None

    def get(self, path: str):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def hook(self, event: str) -> int:
        body = json.dumps({"event_id": event, "spreadsheet_id": BOOK}).encode()
        t = int(time.time())
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/hooks/sheet",
            data=body,
            method="POST",
            headers={"X-Vitrina-Signature": f"t={t},v1={sign(SECRET, t, body)}"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def poke_until(serve: Serve, predicate, timeout: float, what: str) -> None:
    """Results land on the next cycle; the poll interval is 30 s, so a webhook a second stands in."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        assert serve.hook(f"poke-{time.monotonic()}") == 202
        time.sleep(1)


def statuses(api: FakeSheetsApi) -> dict[str, str]:
    values = api.values(BOOK, TITLE)
    if "Status" not in values[0]:
        return {}  # the first write-back has not appended the machine columns yet
    col = values[0].index("Status")
    return {row[0]: row[col] if col < len(row) else "" for row in values[1:] if row}


@pytest.fixture
def machines(workspace, redis_url, tmp_path):
    with FakeSheetsApi() as api:
        api.add_sheet(
            BOOK,
            TITLE,
            [
                HEADER,
                ["MUG-1", "photos/mug.jpg", "white", "kaspi"],
                ["00123", "photos/coffee.jpg", "", "ozon"],
            ],
        )
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "VITRINA_GOOGLE_API_URL": api.url,
            "VITRINA_GOOGLE_CREDENTIALS": "none",
            "VITRINA_WEBHOOK_SECRET": SECRET,
            "VITRINA_POLL_INTERVAL": "30",
            "VITRINA_PRESETS": str(workspace / "presets.toml"),
        }
        logs = [(tmp_path / f"worker-{i}.log").open("w") for i in (1, 2)]
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "vitrina_sync.cli",
                    "worker",
                    "--queues",
                    "cpu",
                    "--name",
                    f"machine-{i}-{os.getpid()}",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,  # a stop that hangs says where it waits
            )
            for i, log in zip((1, 2), logs)
        ]
        args = [
            "--catalog",
            f"gsheet://{BOOK}/{TITLE}",
            "--assets",
            str(workspace),
            "--out",
            str(workspace / "out"),
        ]
        try:
            yield api, env, args, redis.Redis.from_url(redis_url)
        finally:
            for proc in workers:
                proc.terminate()
            hung = []
            for i, proc in zip((1, 2), workers):
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    hung.append(f"worker {i}:\n" + (tmp_path / f"worker-{i}.log").read_text())
            for log in logs:
                log.close()
            assert not hung, "not stopped 30 s after SIGTERM\n" + "\n".join(hung)


def test_serve_and_two_workers_on_a_shared_redis(machines):
    api, env, args, conn = machines
    serve = Serve(args, env)
    try:
        poke_until(
            serve, lambda: set(statuses(api).values()) == {"needs_review"}, 90, "the first two rows"
        )
        assert statuses(api)["00123"] == "needs_review"  # the SKU stays text
        status, body = serve.get("/healthz")
        assert status == 200, body
        assert json.loads(body)["checks"]["workers"]["alive"] == 2

        # A person adds a row: the webhook makes it land without waiting for the poll.
        api.insert_rows(BOOK, TITLE, 2, [["BAG-2", "photos/bag.jpg", "white", "ozon"]])
        assert serve.hook("add-bag") == 202
        # Well inside the 30 s poll: the webhook's cycle queued it. A worker may finish the photo
        # in well under a second and a cycle already asked for (an earlier poke) may write that
        # result at once, so `queued` can be gone before we look: any later state shows it too.
        landed = ("queued", "processing", "needs_review")
        wait_until(lambda: statuses(api).get("BAG-2") in landed, 10, "BAG-2 queued")
        poke_until(serve, lambda: statuses(api).get("BAG-2") == "needs_review", 60, "BAG-2 to land")
        status, text = serve.get("/metrics")
        assert status == 200 and "vitrina_sheets_api_requests_total{" in text

        # SIGTERM while a slow job runs on a remote worker: nothing is lost.
        api.insert_rows(BOOK, TITLE, 2, [["SLOW-4", "photos/bottle.jpg", "slow", ""]])
        assert serve.hook("add-slow") == 202
        wait_until(lambda: statuses(api).get("SLOW-4") == "queued", 10, "SLOW-4 queued")
        assert serve.stop() == 0
        assert any("stopped" in line for line in serve.lines)
    finally:
        if serve.proc.poll() is None:
            serve.proc.kill()
    # serve is gone; a remote worker finishes the job and its result waits in Redis for a writer.
    key = results_key(catalog_key(f"gsheet://{BOOK}/{TITLE}"))
    wait_until(lambda: conn.hexists(key, "SLOW-4"), 30, "the slow job's result in Redis")
    assert statuses(api)["SLOW-4"] == "queued"

    again = Serve(args, env)  # the next serve writes what finished while none ran
    try:
        wait_until(
            lambda: statuses(api).get("SLOW-4") == "needs_review",
            30,
            "SLOW-4 to land after restart",
        )
        assert set(statuses(api).values()) == {"needs_review"}
        assert not conn.hexists(key, "SLOW-4")
    finally:
        assert again.stop() == 0
