"""The CLI's many-machines path: `sync` plans and queues on a shared Redis (Debian's redis-server),
`worker` processes elsewhere, the next `sync` writes the results back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import write_catalog
from openpyxl import load_workbook
from test_server_machines import REDIS_SERVER, redis_url  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(not REDIS_SERVER.exists(), reason="needs Debian's redis-server")


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vitrina_sync.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def statuses(path) -> dict[str, str]:
    ws = load_workbook(path).active
    head = [c.value for c in ws[1]]
    return {r[0]: r[head.index("Status")] for r in ws.iter_rows(min_row=2, values_only=True)}


def test_sync_queues_on_shared_redis_a_remote_worker_processes_next_sync_writes(
    workspace,
    redis_url,  # noqa: F811 - the fixture imported above
):
    catalog = write_catalog(
        workspace / "catalog.xlsx",
        [
            ["R-1", "photos/mug.jpg", "white", "", "", ""],
            ["R-2", "photos/bag.jpg", "white", "", "", ""],
        ],
    )
    env = {**os.environ, "REDIS_URL": redis_url}
    first = cli("sync", str(catalog), env=env)
    assert first.returncode == 0, first.stderr
    assert statuses(catalog) == {"R-1": "queued", "R-2": "queued"}
    assert "queue: redis://" in first.stdout and "'cpu': 2" in first.stdout
    again = cli("sync", str(catalog), env=env)  # queued twice? never: the job ids are the same
    assert "0 rows changed" in again.stdout and "'cpu': 2" in again.stdout
    worker = cli("worker", "--burst", "--queues", "cpu", env=env)
    assert worker.returncode == 0, worker.stderr
    done = cli("sync", str(catalog), env=env)
    assert done.returncode == 0 and "2 rows changed" in done.stdout
    assert statuses(catalog) == {"R-1": "needs_review", "R-2": "needs_review"}
    assert "0 rows changed" in cli("sync", str(catalog), env=env).stdout
