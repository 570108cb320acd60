"""Google Sheets adapter against a local Sheets API v4 server, through the real gspread client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vitrina_sync.catalog import RowUpdate, open_catalog
from vitrina_sync.catalog.gsheet import GoogleSheetCatalog, parse_spec
from vitrina_sync.catalog.sheets_http import SheetsForbidden, SheetsUnavailable
from vitrina_sync.columns import APPENDED_KEYS
from vitrina_sync.errors import CatalogError, ConfigError
from vitrina_sync.settings import load_settings

sys.path.insert(0, str(Path(__file__).parent))  # tests/fakes, whatever pytest's import mode
from fakes.sheets_api import FakeSheetsApi, Formula

BOOK = "1AbC-book_id"
HEADER = ["SKU", "Source", "Mode", "Status", "Result", "QA", "Fingerprint", "Message", "Decision"]


def settings_for(api: FakeSheetsApi, **extra):
    settings = load_settings(
        env={}, overrides={"google_credentials": "none", "google_api_url": api.url}
    )
    # Fast, unthrottled tests; the budget and back-off have their own tests.
    settings.update(
        {
            "google_retry_base": 0.001,
            "google_reads_per_minute": 1e6,
            "google_writes_per_minute": 1e6,
        },
        **extra,
    )
    return settings


def catalog_for(api: FakeSheetsApi, title: str = "Sheet1", **extra) -> GoogleSheetCatalog:
    return open_catalog(f"gsheet://{BOOK}/{title}", settings_for(api, **extra))


def grid(n: int) -> list[list[object]]:
    return [HEADER] + [[f"SKU{i:05d}", f"p/{i}.jpg", "white"] for i in range(n)]


@pytest.fixture
def api():
    with FakeSheetsApi() as fake:
        yield fake


def test_spec_forms():
    assert parse_spec("gsheet://abc/My%20Sheet") == ("abc", "My Sheet", None)
    url = "https://docs.google.com/spreadsheets/d/1AbC-x_y/edit#gid=42"
    assert parse_spec(url) == ("1AbC-x_y", None, 42)
    with pytest.raises(ConfigError):
        parse_spec("gsheet:///x")


def test_credentials_none_only_on_loopback(api):
    settings = settings_for(api)
    settings["google_api_url"] = "https://sheets.example.com"
    with pytest.raises(ConfigError, match="loopback"):
        open_catalog(f"gsheet://{BOOK}/Sheet1", settings)
    settings["google_credentials"] = ""
    with pytest.raises(ConfigError, match="service-account"):
        open_catalog(f"gsheet://{BOOK}/Sheet1", settings)
    for url in ("http://localhost:1", "http://127.8.0.1:1", "http://[::1]:1"):
        settings.update(google_credentials="none", google_api_url=url)
        assert open_catalog(f"gsheet://{BOOK}/Sheet1", settings).key == BOOK


def test_read_keeps_cells_as_typed(api):
    api.add_sheet(
        BOOK,
        "Sheet1",
        [
            [],
            HEADER,
            ["00123", "a.jpg", "", "", "", "", "", ""],
            [],
            ["1e5", "b.jpg", "card"],
            [123, "c.jpg"],
        ],
    )
    sheet = catalog_for(api).read()
    assert sheet.header_row == 2
    assert [(r.number, r.sku) for r in sheet.rows] == [(3, "00123"), (5, "1e5"), (6, "123")]
    assert sheet.rows[1].get("mode") == "card" and sheet.columns["decision"] == 8
    assert api.count() == 1 and api.count("values.get") == 1


def test_missing_worksheet_and_spreadsheet_are_clear(api):
    api.add_sheet(BOOK, "Sheet1", grid(1))
    with pytest.raises(CatalogError, match="worksheet 'Nope' not found"):
        catalog_for(api, "Nope").read()
    with pytest.raises(CatalogError, match="spreadsheet not found"):
        open_catalog("gsheet://other/Sheet1", settings_for(api)).read()


def test_url_spec_finds_the_sheet_by_gid(api):
    api.add_sheet(BOOK, "First", grid(1))
    second = api.add_sheet(BOOK, "Second", [HEADER, ["X1"]])
    url = f"https://docs.google.com/spreadsheets/d/{BOOK}/edit#gid={second.sheet_id}"
    catalog = open_catalog(url, settings_for(api))
    assert [r.sku for r in catalog.read().rows] == ["X1"]
    catalog.read()
    assert api.count("metadata") == 1  # fetched once, then cached
    first = open_catalog(f"gsheet://{BOOK}", settings_for(api))  # no title: the first sheet
    assert first.read().rows[0].sku == "SKU00000" and first.title == "First"


def test_three_requests_per_cycle_on_10k_rows(api):
    api.add_sheet(BOOK, "Sheet1", grid(10_000), rows=10_001)
    catalog = catalog_for(api)
    for cycle in range(2):
        api.reset_counts()
        sheet = catalog.read()
        done = sheet.rows[cycle * 100 : cycle * 100 + 50]
        updates = [
            RowUpdate(
                r.sku, {"status": "needs_review", "result": f"out/{r.sku}.jpg", "qa": "dE 0.4 | ok"}
            )
            for r in done
        ]
        report = catalog.write_back(updates)
        assert len(report.written) == 50 and not report.missing
        assert api.count() == 3, [r["kind"] for r in api.requests]
        assert [r["kind"] for r in api.requests] == [
            "values.get",
            "values.batchGet",
            "values.batchUpdate",
        ]
    metrics = catalog.metrics()
    assert metrics["requests"] == 6 and metrics["reads"] == 4 and metrics["writes"] == 2
    assert metrics["retries"] == 0 and metrics["last_ok_at"] > 0 and not metrics["last_error"]
    values = api.values(BOOK, "Sheet1")
    assert values[101][3:6] == ["needs_review", "out/SKU00100.jpg", "dE 0.4 | ok"]


def test_writes_are_raw_text(api):
    api.add_sheet(BOOK, "Sheet1", grid(3))
    catalog = catalog_for(api)
    catalog.read()
    evil = '=HYPERLINK("http://x","click")'
    catalog.write_back(
        [
            RowUpdate("SKU00000", {"message": evil, "result": "00123", "qa": "1e5"}),
            RowUpdate("SKU00001", {"message": "line\x00one\r\nline\ttwo\x1b"}),
        ]
    )
    assert api.cell(BOOK, "Sheet1", "H2") == evil  # a str, not a Formula
    assert not isinstance(api.cell(BOOK, "Sheet1", "H2"), Formula)
    assert api.cell(BOOK, "Sheet1", "E2") == "00123" and api.cell(BOOK, "Sheet1", "F2") == "1e5"
    assert api.cell(BOOK, "Sheet1", "H3") == "lineone\nlinetwo"
    sent = api.requests[-1]
    assert sent["kind"] == "values.batchUpdate" and sent["body"]["valueInputOption"] == "RAW"


def test_people_columns_are_refused_unless_review(api):
    api.add_sheet(BOOK, "Sheet1", grid(2))
    catalog = catalog_for(api)
    catalog.read()
    with pytest.raises(ValueError, match="people's columns"):
        catalog.write_back([RowUpdate("SKU00000", {"source": "x.jpg"})])
    with pytest.raises(ValueError, match="people's columns"):
        catalog.write_back([RowUpdate("SKU00000", {"decision": "approved"})])
    report = catalog.write_back([RowUpdate("SKU00000", {"decision": "approved"})], review=True)
    assert report.written == ["SKU00000"] and api.cell(BOOK, "Sheet1", "I2") == "approved"


def test_missing_columns_appended_without_moving_anything(api):
    people = [["SKU", "Source", "Notes"], ["A1", "a.jpg", "keep"], ["B2", "b.jpg", "", "stray"]]
    ws = api.add_sheet(BOOK, "Sheet1", people, cols=6)
    catalog = catalog_for(api)
    catalog.read()
    api.reset_counts()
    report = catalog.write_back([RowUpdate("B2", {"status": "queued", "message": "hi"})])
    assert report.appended_columns[:2] == ["Status", "Result"] and len(
        report.appended_columns
    ) == len(APPENDED_KEYS)
    values = api.values(BOOK, "Sheet1")
    assert values[0][:4] == ["SKU", "Source", "Notes", ""]  # D holds a stray value: start after it
    assert values[0][4:7] == ["Status", "Result", "AI version"]
    assert values[1] == ["A1", "a.jpg", "keep"]
    assert values[2][:4] == ["B2", "b.jpg", "", "stray"] and values[2][4] == "queued"
    assert ws.cols == 4 + len(APPENDED_KEYS)
    kinds = [r["kind"] for r in api.requests]
    assert kinds == ["values.batchGet", "metadata", "batchUpdate", "values.batchUpdate"]
    # The next cycle finds the columns: back to 3 requests.
    api.reset_counts()
    catalog.read()
    catalog.write_back([RowUpdate("A1", {"status": "queued"})])
    assert api.count() == 3 and api.values(BOOK, "Sheet1")[1][4] == "queued"


def test_rows_moved_between_read_and_write_land_on_their_sku(api):
    api.add_sheet(BOOK, "Sheet1", grid(6))
    catalog = catalog_for(api)
    catalog.read()
    api.insert_rows(BOOK, "Sheet1", 2, [["NEW1", "n.jpg"], ["NEW2"]])
    api.delete_rows(BOOK, "Sheet1", 5)  # SKU00001
    api.sort_rows(BOOK, "Sheet1", 1, reverse=True)
    report = catalog.write_back([RowUpdate(f"SKU{i:05d}", {"status": f"s{i}"}) for i in range(6)])
    assert report.missing == ["SKU00001"] and len(report.written) == 5
    for row in api.values(BOOK, "Sheet1")[1:]:
        expected = f"s{int(row[0][3:])}" if row[0].startswith("SKU") else None
        assert (row[3] if len(row) > 3 else None) == expected, row


def test_moved_columns_fall_back_to_a_full_read(api):
    api.add_sheet(BOOK, "Sheet1", grid(3))
    catalog = catalog_for(api)
    catalog.read()
    ws = api.sheet(BOOK, "Sheet1")
    for row in ws.data:  # a person inserts a column before SKU
        row.insert(0, None)
    ws.data[0][0] = "Photo notes"
    api.reset_counts()
    report = catalog.write_back([RowUpdate("SKU00002", {"status": "queued"})])
    assert report.written == ["SKU00002"] and "columns moved" in report.notes[0]
    assert api.values(BOOK, "Sheet1")[3][:5] == ["", "SKU00002", "p/2.jpg", "white", "queued"]
    assert api.count() == 3 + 0 and api.count("values.get") == 1


def test_fingerprint_guard_and_duplicates(api):
    rows = [
        HEADER,
        ["A", "", "", "", "", "", "fp1"],
        ["B", "", "", "", "", "", "fp2"],
        ["D"],
        ["D"],
    ]
    api.add_sheet(BOOK, "Sheet1", rows)
    catalog = catalog_for(api)
    catalog.read()
    report = catalog.write_back(
        [
            RowUpdate("A", {"decision": "approved"}, expect_fingerprint="fp1"),
            RowUpdate("B", {"decision": "approved"}, expect_fingerprint="old"),
            RowUpdate("D", {"message": "duplicate SKU"}),
            RowUpdate("D", {"message": "SKU D appears twice"}, all_duplicates=True),
        ],
        review=True,
    )
    assert report.written == ["A", "D"] and report.refused == ["B"] and report.missing == ["D"]
    values = api.values(BOOK, "Sheet1")
    assert values[1][8] == "approved" and len(values[2]) == 7
    assert values[3][7] == values[4][7] == "SKU D appears twice"


def test_retries_then_success(api):
    api.add_sheet(BOOK, "Sheet1", grid(3))
    catalog = catalog_for(api)
    api.fail(429, times=2, kind="values.get", retry_after=0.01)
    api.fail(503, times=1, kind="values.batchUpdate")
    catalog.read()
    report = catalog.write_back([RowUpdate("SKU00000", {"status": "queued"})])
    assert report.retries == 1 and catalog.metrics()["retries"] == 3
    assert "503" in catalog.metrics()["last_error"]
    assert api.count("values.batchUpdate") == 2 and api.values(BOOK, "Sheet1")[1][3] == "queued"
    first, second = (r["body"] for r in api.requests if r["kind"] == "values.batchUpdate")
    assert first == second and first["data"][-1]["range"] == "'Sheet1'!D2:D2"  # not re-prefixed


def test_forbidden_fails_at_once(api):
    api.add_sheet(BOOK, "Sheet1", grid(1))
    api.fail(403, times=5)
    catalog = catalog_for(api)
    with pytest.raises(SheetsForbidden, match="Share the spreadsheet"):
        catalog.read()
    assert api.count() == 1 and catalog.metrics()["failures"] == 1


def test_retries_exhausted_is_clear_and_writes_nothing(api):
    api.add_sheet(BOOK, "Sheet1", grid(3))
    catalog = catalog_for(api, google_retry_attempts=3)
    catalog.read()
    before = api.values(BOOK, "Sheet1")
    api.fail(503, times=10, kind="values.batchUpdate")
    with pytest.raises(
        SheetsUnavailable, match="gave up after 3 attempt.*nothing was written unless"
    ):
        catalog.write_back([RowUpdate("SKU00000", {"status": "queued"})])
    assert api.count("values.batchUpdate") == 3 and api.values(BOOK, "Sheet1") == before
    assert catalog.metrics()["failures"] == 1


def test_timeout_is_retried(api):
    api.add_sheet(BOOK, "Sheet1", grid(1))
    catalog = catalog_for(api)
    catalog.http.set_timeout((1, 0.2))
    api.fail(0, times=1, kind="values.get", delay=0.6)
    assert [r.sku for r in catalog.read().rows] == ["SKU00000"]
    assert catalog.metrics()["retries"] == 1 and "Timeout" in catalog.metrics()["last_error"]


def test_catalogs_of_one_account_share_the_quota_budget(api):
    settings = settings_for(api, google_reads_per_minute=60, google_writes_per_minute=60)
    one = open_catalog(f"gsheet://{BOOK}/Sheet1", settings)
    two = open_catalog(f"gsheet://{BOOK}/Other", settings)
    assert one.http.budget is two.http.budget and one.counters is not two.counters
    assert one.http.budget.reads.capacity == 60 and one.http.timeout == (10.0, 60.0)
