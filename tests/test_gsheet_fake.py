"""The local Sheets API answers gspread's own high-level calls the way Google does."""

from __future__ import annotations

import sys
from pathlib import Path

import gspread
import pytest
import requests
from gspread.utils import ValueInputOption, ValueRenderOption

from vitrina_sync.catalog.sheets_http import SheetsHttpClient

sys.path.insert(0, str(Path(__file__).parent))  # tests/fakes, whatever pytest's import mode
from fakes.sheets_api import FakeSheetsApi, Formula


@pytest.fixture
def sheet():
    with FakeSheetsApi() as api:
        api.add_sheet("book", "Sheet1", [["SKU", "Name"], ["00123", "shoe"]], rows=5, cols=4)

        def client(auth, session=None):
            return SheetsHttpClient(auth, session, api_url=api.url)

        gc = gspread.Client(None, session=requests.Session(), http_client=client)
        yield api, gc.open_by_key("book").worksheet("Sheet1")


def test_metadata_and_reads(sheet):
    _, ws = sheet
    assert (ws.title, ws.row_count, ws.col_count) == ("Sheet1", 5, 4)
    assert ws.get_all_values() == [["SKU", "Name"], ["00123", "shoe"]]
    got = ws.get("A1:D5")
    assert got.range == "Sheet1!A1:D5" and list(got) == [["SKU", "Name"], ["00123", "shoe"]]
    assert ws.get_all_records() == [{"SKU": 123, "Name": "shoe"}]  # why we never use it
    assert [list(v) for v in ws.batch_get(["A2", "B1:B2"])] == [[["00123"]], [["Name"], ["shoe"]]]


def test_raw_and_user_entered(sheet):
    api, ws = sheet
    ws.update([["=SUM(1,2)", "00042"]], "C1:D1")  # gspread's update defaults to RAW
    assert (
        api.cell("book", "Sheet1", "C1") == "=SUM(1,2)"
        and api.cell("book", "Sheet1", "D1") == "00042"
    )
    ws.update_acell("C2", '=HYPERLINK("http://x","label")')  # always USER_ENTERED
    ws.update([["00042", "'007"]], "A3:B3", value_input_option=ValueInputOption.user_entered)
    assert isinstance(api.cell("book", "Sheet1", "C2"), Formula)
    assert ws.acell("C2").value == "label"
    assert ws.acell("C2", value_render_option=ValueRenderOption.formula).value.startswith("=HYP")
    assert api.cell("book", "Sheet1", "A3") == 42 and api.cell("book", "Sheet1", "B3") == "007"


def test_errors_look_like_googles(sheet):
    api, ws = sheet
    with pytest.raises(gspread.exceptions.APIError) as info:
        ws.update([["x"]], "E1")
    assert info.value.code == 400 and "exceeds grid limits" in info.value.error["message"]
    assert info.value.error["status"] == "INVALID_ARGUMENT"
    api.fail(429, retry_after=3)
    with pytest.raises(gspread.exceptions.APIError) as info:
        ws.get_all_values()
    assert info.value.code == 429 and info.value.response.headers["Retry-After"] == "3"
    assert info.value.error["status"] == "RESOURCE_EXHAUSTED"
    with pytest.raises(gspread.exceptions.WorksheetNotFound):
        ws.spreadsheet.worksheet("Nope")


def test_append_resize_and_insert(sheet):
    api, ws = sheet
    ws.append_rows([["A9", "hat"], ["B9", "cap"]])
    assert api.values("book", "Sheet1")[2:] == [["A9", "hat"], ["B9", "cap"]]
    ws.add_cols(2)  # updateSheetProperties
    assert api.sheet("book", "Sheet1").cols == 6
    ws.insert_rows([["NEW", "row"]], row=2)  # insertDimension + values update
    assert [r[0] for r in api.values("book", "Sheet1")] == ["SKU", "NEW", "00123", "A9", "B9"]
    ws.batch_update([{"range": "F1", "values": [["end"]]}])
    assert api.values("book", "Sheet1")[0] == ["SKU", "Name", "", "", "", "end"]
