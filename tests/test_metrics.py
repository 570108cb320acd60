"""GET /metrics is a valid Prometheus exposition: prometheus_client's own parser reads every family
once, with its type, and every name the dashboards use is still there.

Issue 14: four families printed their HELP/TYPE lines in one place and their samples after other
families, so the parser read them as untyped duplicates and Prometheus rejected the scrape.
"""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import write_catalog
from prometheus_client.parser import text_string_to_metric_families

from vitrina_sync.web import create_app
from vitrina_sync.web.commands import build_state, shutdown
from vitrina_sync.web.sync import cycle

# Every family /metrics had before it moved to prometheus_client, with its type.
FAMILIES = {
    "vitrina_rows": "gauge",
    "vitrina_sync_seconds": "summary",
    "vitrina_sync_last_seconds": "gauge",
    "vitrina_sync_errors": "counter",
    "vitrina_sync_last_timestamp_seconds": "gauge",
    "vitrina_writeback_backlog": "gauge",
    "vitrina_sheets_api_requests": "counter",
    "vitrina_sheets_api_retries": "counter",
    "vitrina_sheets_api_failures": "counter",
    "vitrina_sheets_api_throttled_seconds": "counter",
    "vitrina_drive_api_requests": "counter",
    "vitrina_drive_api_retries": "counter",
    "vitrina_drive_api_failures": "counter",
    "vitrina_jobs": "counter",
    "vitrina_webhooks": "counter",
    "vitrina_queue_depth": "gauge",
    "vitrina_workers": "gauge",
    "vitrina_redis_up": "gauge",
    # added with the supervised sync loop
    "vitrina_sync_loop_restarts": "counter",
    "vitrina_sync_loop_failing": "gauge",
    # added with object storage (issue 15)
    "vitrina_storage_failures": "counter",
}


@pytest.fixture
def two_catalogs(workspace, settings):
    """Two catalogs on one embedded Redis, each synced once: one good, one locked (a failed cycle)."""
    first = write_catalog(workspace / "a.xlsx", [["MUG-1", "photos/mug.jpg", "", "", "kaspi"]])
    second = write_catalog(workspace / "b.xlsx", [["BAG-2", "photos/bag.jpg", "", "", "ozon"]])
    state, embedded = build_state([str(first), str(second)], settings, None, None, None)
    (workspace / "~$b.xlsx").write_text("x")  # b.xlsx is open in Excel: its write-back fails
    try:
        for cs in state.catalogs.values():
            cycle(state, cs)
        yield state
    finally:
        shutdown(state, [], embedded)


def scrape(state) -> str:
    response = create_app(state, {"TESTING": True}).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.get_data(as_text=True)


def test_metrics_parse_once_each_with_its_type(two_catalogs):
    text = scrape(two_catalogs)
    families = list(text_string_to_metric_families(text))
    names = Counter(f.name for f in families)
    assert [n for n, count in names.items() if count > 1] == []  # no family twice
    assert [f.name for f in families if f.type in ("unknown", "untyped")] == []
    assert {f.name: f.type for f in families} == FAMILIES

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples
    }
    a, b = (cs.session.spec for cs in two_catalogs.catalogs.values())
    assert samples[("vitrina_rows", (("catalog", a), ("status", "queued")))] == 1
    assert samples[("vitrina_sync_errors_total", (("catalog", a),))] == 0
    assert samples[("vitrina_sync_errors_total", (("catalog", b),))] == 1
    assert samples[("vitrina_sync_seconds_count", (("catalog", b),))] == 1
    assert samples[("vitrina_sync_last_timestamp_seconds", (("catalog", b),))] == 0
    assert samples[("vitrina_sync_last_timestamp_seconds", (("catalog", a),))] > 0
    # both queued: b.xlsx plans and queues before its write-back finds the lock
    assert samples[("vitrina_queue_depth", (("queue", "cpu"),))] == 2
    assert samples[("vitrina_redis_up", ())] == 1
    assert samples[("vitrina_sync_loop_restarts_total", (("catalog", a),))] == 0
    # A family's samples follow its own TYPE line, never another family's.
    current = None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            current = line.split()[2]
        elif line and not line.startswith("#"):
            assert line.split("{")[0].split(" ")[0].startswith(current), line


def test_a_bare_app_still_scrapes(tmp_path):
    """No state (an app built for a page test): every family, no samples, still valid."""
    text = create_app(None, {"TESTING": True}).test_client().get("/metrics").get_data(as_text=True)
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert families == FAMILIES
