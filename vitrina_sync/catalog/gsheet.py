"""Google Sheets catalog adapter (gspread 6.2.1), at most 3 API requests per sync cycle.

read()        one values.get of the whole worksheet (FORMATTED_VALUE: the text people see, so
              '00123' typed as text stays '00123'; nothing is numericised).
write_back()  one values.batchGet of the header row and the key columns right before writing
              (rows move while jobs run), catalog.locate to find each SKU there, then one
              values.batchUpdate (RAW: text stays text, '=...' is never a formula) with only the
              machine cells to change, plus the headers of machine columns that were missing.
Rare extra requests, each counted: spreadsheet metadata (once per catalog object, only for a
URL/gid spec or when the grid must grow; the grid's width is otherwise read off the ranges
Google echoes), spreadsheets.batchUpdate appendDimension (once in a
sheet's life, when appended columns do not fit the grid), and a full re-read when people moved
the key columns since the last read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote

import gspread
import requests
from gspread.utils import a1_to_rowcol, absolute_range_name, rowcol_to_a1

from ..columns import APPENDED_KEYS, BY_KEY, map_headers
from ..errors import CatalogError, ConfigError
from ..google_api import google_account
from .locate import Cell, locate
from .model import Row, RowUpdate, Sheet, WriteReport
from .sheets_http import (
    GOOGLE_API_URL,
    ApiCounters,
    RetryPolicy,
    SheetsApiError,
    SheetsHttpClient,
    call_with_retries,
    shared_budget,
)

CELL_LIMIT = 50_000  # Google refuses longer cell text
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # every control character but '\n'
_URL_ID = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_URL_GID = re.compile(r"[#?&]gid=(\d+)")
_ECHO_END = re.compile(r":([A-Z]+)\d*$")  # the last column of an echoed range "Sheet1!A1:Z1000"


def parse_spec(spec: str) -> tuple[str, str | None, int | None]:
    """(spreadsheet id, worksheet title or None, gid or None) from gsheet://id/title or a URL."""
    if spec.startswith("gsheet://"):
        key, _, title = spec[len("gsheet://") :].partition("/")
        if not key:
            raise ConfigError(f"{spec}: expected gsheet://<spreadsheet id>/<worksheet title>")
        return key, unquote(title) or None, None
    found = _URL_ID.search(spec)
    if not found:
        raise ConfigError(
            f"{spec}: not a Google Sheets URL (docs.google.com/spreadsheets/d/<id>/...)"
        )
    gid = _URL_GID.search(spec)
    return found.group(1), None, int(gid.group(1)) if gid else None


def clean_text(value: object) -> str:
    """Cell text we write: no control characters (newlines kept), within Google's cell limit."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)[:CELL_LIMIT]


def open_client(
    settings, counters: ApiCounters, policy: RetryPolicy
) -> tuple[SheetsHttpClient, str]:
    """gspread's client for the configured endpoint and credentials; (http client, account)."""
    api_url = str(settings.get("google_api_url") or GOOGLE_API_URL)
    credentials, account = google_account(settings, api_url, "google_api_url", "Google Sheets")
    budget = shared_budget(
        account,
        float(settings.get("google_reads_per_minute", 60)),
        float(settings.get("google_writes_per_minute", 60)),
    )

    def factory(auth, session=None):
        return SheetsHttpClient(auth, session, api_url=api_url, budget=budget, counters=counters)

    if credentials.lower() == "none":
        client = gspread.Client(None, session=requests.Session(), http_client=factory)
    else:
        client = gspread.service_account(filename=credentials, http_client=factory)
    client.set_timeout(policy.timeout)  # gspread's default is no timeout at all
    return client.http_client, account


class GoogleSheetCatalog:
    """A worksheet of a Google spreadsheet as a catalog. One object per sync loop; thread-safe."""

    def __init__(
        self,
        spec: str,
        settings,
        *,
        http: SheetsHttpClient,
        account: str,
        counters: ApiCounters,
        policy: RetryPolicy,
        sleep=None,
    ):
        self.spec = spec
        self.key, self._title, self._gid = parse_spec(spec)
        self.account = account
        self.http, self.counters, self.policy = http, counters, policy
        self.default_assets = str(settings.get("assets") or os.getcwd())
        self.default_out = str(settings.get("out") or Path(self.default_assets) / "vitrina-out")
        self._sleep = sleep
        self._lock = threading.RLock()  # the sync loop and the review page share one object
        self._meta: dict | None = None  # this worksheet's properties, fetched at most once
        self._last: Sheet | None = None  # the last full read: where the key columns were
        self._width = 0  # last used column of the last full read (appended columns go after it)
        self._grid_columns = 0  # grid width, from the range Google echoes (clipped to the grid)

    @classmethod
    def from_spec(cls, spec: str, settings) -> GoogleSheetCatalog:
        counters, policy = ApiCounters(), RetryPolicy.from_settings(settings)
        http, account = open_client(settings, counters, policy)
        return cls(spec, settings, http=http, account=account, counters=counters, policy=policy)

    # ----- plumbing -----
    def _call(self, what: str, attempt):
        kwargs = {"sleep": self._sleep} if self._sleep else {}
        try:
            return call_with_retries(
                attempt,
                what=f"{what} {self.spec}",
                policy=self.policy,
                counters=self.counters,
                **kwargs,
            )
        except SheetsApiError as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: SheetsApiError) -> SheetsApiError:
        if exc.code == 400 and "Unable to parse range" in exc.api_message:
            exc.args = (f"{self.spec}: worksheet {self.title!r} not found in the spreadsheet",)
        elif exc.code == 404:
            shared = f"check the id and that it is shared with {self.account}"
            exc.args = (f"{self.spec}: spreadsheet not found ({shared})",)
        elif exc.code == 403:
            exc.args = (f"{exc.args[0]} [account: {self.account}]",)
        elif exc.code == 400 and "exceeds grid limits" in exc.api_message:
            self._meta, self._grid_columns = None, 0  # someone shrank the grid: ask again next time
        return exc

    def _properties(self) -> dict:
        """This worksheet's properties (sheetId, title, grid size), fetched once and cached."""
        if self._meta is None:
            meta = self._call(
                "reading metadata of",
                lambda: self.http.fetch_sheet_metadata(
                    self.key, params={"includeGridData": "false", "fields": "sheets.properties"}
                ),
            )
            sheets = [s["properties"] for s in meta.get("sheets", [])]
            found = [
                p
                for p in sheets
                if (self._title is None or p["title"] == self._title)
                and (self._gid is None or p["sheetId"] == self._gid)
            ]
            if not found:
                raise CatalogError(f"{self.spec}: no such worksheet in the spreadsheet")
            self._meta = found[0]
        return self._meta

    @property
    def title(self) -> str:
        if self._title is None:  # a URL or bare id names the sheet by gid (or not at all)
            self._title = self._properties()["title"]
        return self._title

    def _range(self, a1: str | None = None) -> str:
        return absolute_range_name(self.title, a1)

    def metrics(self) -> dict:
        """Counters for /metrics: requests, reads, writes, retries, failures, last error."""
        return self.counters.as_dict()

    # ----- read -----
    def read(self) -> Sheet:
        with self._lock:
            return self._read()

    def _read(self) -> Sheet:
        sheet_range = self._range()
        response = self._call(
            "reading",
            lambda: self.http.values_get(
                self.key,
                sheet_range,
                params={"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
            ),
        )
        values = response.get("values", [])
        self._note_grid(response)
        skip = next((i for i, row in enumerate(values) if any(row)), len(values))
        version = hashlib.blake2b(json.dumps(values).encode(), digest_size=12).hexdigest()
        sheet = Sheet.from_values(values[skip:], header_row=skip + 1, version=version)
        if not values:
            sheet.problems.append(f"{self.spec}: the worksheet is empty")
        self._last, self._width = sheet, max((len(r) for r in values), default=0)
        return sheet

    # ----- write-back -----
    def write_back(self, updates: list[RowUpdate], *, review: bool = False) -> WriteReport:
        if not updates:
            return WriteReport()
        with self._lock:
            retries = self.counters.retries
            report = self._write_back(updates, review)
            report.retries = self.counters.retries - retries
            return report

    def _write_back(self, updates: list[RowUpdate], review: bool) -> WriteReport:
        fresh, note = self._fresh_keys(updates)
        cells, report = locate(updates, fresh, review=review)
        if note:
            report.notes.append(note)
        if not cells:
            return report
        columns = dict(fresh.columns)
        appended = self._appended(fresh, columns)
        data = _header_ranges(fresh.header_row, appended) + _cell_ranges(cells, columns)
        if appended:
            self._fit_grid(max(columns.values()) + 1, report)
        body_ranges = [(self._range(a1), values) for a1, values in data]
        self._call(
            "writing to",
            lambda: self.http.values_batch_update(
                self.key,
                body={
                    "valueInputOption": "RAW",  # never USER_ENTERED: no formulas, no numericising
                    "data": [
                        {"range": r, "majorDimension": "ROWS", "values": v} for r, v in body_ranges
                    ],
                },
            ),
        )  # the body is rebuilt on each attempt: nothing gspread mutated is ever resent
        report.appended_columns = [BY_KEY[key].header for key, _ in appended]
        self._width = max(self._width, max(columns.values()) + 1)
        return report

    def _fresh_keys(self, updates: list[RowUpdate]) -> tuple[Sheet, str]:
        """The header and the key columns as they are now (one batchGet), as a Sheet for locate."""
        last = self._last
        keys = ["sku"] + (["fingerprint"] if any(u.expect_fingerprint for u in updates) else [])
        keys += sorted({k for u in updates for k in (u.match or {})} - set(keys))
        if last is None or "sku" not in last.columns:
            return self._read(), ""  # nothing read yet (or no SKU column): the full read is fresh
        keys = [k for k in keys if k in last.columns]
        hr = last.header_row
        ranges = [self._range(f"{hr}:{hr}")] + [
            self._range(_column_a1(last.columns[k], hr)) for k in keys
        ]
        response = self._call(
            "re-reading keys of",
            lambda: self.http.values_batch_get(
                self.key,
                list(ranges),
                params={"majorDimension": "COLUMNS", "valueRenderOption": "FORMATTED_VALUE"},
            ),
        )
        value_ranges = response.get("valueRanges", [])
        self._note_grid(value_ranges[0])
        headers = [col[0] if col else "" for col in value_ranges[0].get("values", [])]
        columns, problems = map_headers(headers)
        if any(columns.get(k) != last.columns[k] for k in keys):
            return self._read(), "columns moved since the last read: re-read the whole sheet"
        fresh = Sheet(headers, columns, [], hr, problems, version="keys")
        fresh.rows = _key_rows(keys, value_ranges[1:], hr)
        return fresh, ""

    def _note_grid(self, value_range: dict) -> None:
        """A whole-row or whole-sheet read echoes the grid's width: no metadata request needed."""
        found = _ECHO_END.search(value_range.get("range", ""))
        if found:
            self._grid_columns = a1_to_rowcol(f"{found.group(1)}1")[1]

    def _appended(self, fresh: Sheet, columns: dict[str, int]) -> list[tuple[str, int]]:
        """Missing machine/review columns, placed after the last used column; adds them to columns."""
        start = max(len(fresh.headers), self._width)
        appended = []
        for key in APPENDED_KEYS:
            if key not in columns:
                columns[key] = start + len(appended)
                appended.append((key, columns[key]))
        return appended

    def _fit_grid(self, width: int, report: WriteReport) -> None:
        """Grow the grid to `width` columns by appending at its end: nothing existing moves."""
        if self._grid_columns >= width:
            return
        props = self._properties()
        have = props["gridProperties"]["columnCount"]
        if have >= width:
            self._grid_columns = have
            return
        sheet_id = props["sheetId"]
        # Not idempotent: a retry after a lost answer may add a few more empty columns at the
        # grid's end. Harmless (nothing moves), unlike setting columnCount from a stale size,
        # which could cut off columns a person added meanwhile.
        self._call(
            "adding columns to",
            lambda: self.http.batch_update(
                self.key,
                {
                    "requests": [
                        {
                            "appendDimension": {
                                "sheetId": sheet_id,
                                "dimension": "COLUMNS",
                                "length": width - have,
                            }
                        }
                    ]
                },
            ),
        )
        props["gridProperties"]["columnCount"] = self._grid_columns = width
        report.notes.append(f"grid widened from {have} to {width} columns (appendDimension)")


def _column_a1(index: int, header_row: int) -> str:
    letters = rowcol_to_a1(1, index + 1)[:-1]
    return f"{letters}{header_row}:{letters}"


def _key_rows(keys: list[str], value_ranges: list[dict], header_row: int) -> list[Row]:
    """Rows (header excluded) from columns read with majorDimension=COLUMNS."""
    columns = [(vr.get("values") or [[]])[0] for vr in value_ranges]
    height = max((len(c) for c in columns), default=0)
    rows = []
    for i in range(1, height):
        values = {k: str(col[i]).strip() if i < len(col) else "" for k, col in zip(keys, columns)}
        rows.append(Row(header_row + i, values))
    return rows


def _header_ranges(header_row: int, appended: list[tuple[str, int]]) -> list[tuple[str, list]]:
    if not appended:
        return []
    first, last = appended[0][1], appended[-1][1]
    a1 = f"{rowcol_to_a1(header_row, first + 1)}:{rowcol_to_a1(header_row, last + 1)}"
    return [(a1, [[BY_KEY[key].header for key, _ in appended]])]


def _cell_ranges(cells: list[Cell], columns: dict[str, int]) -> list[tuple[str, list]]:
    """One range per run of adjacent cells in a row: few ranges, only the cells to change."""
    placed = sorted({(row, columns[key]): clean_text(value) for row, key, value in cells}.items())
    ranges: list[tuple[str, list]] = []
    run: list = []
    for (row, col), text in placed:
        if run and (row, col) != (run[-1][0], run[-1][1] + 1):
            ranges.append(_run_range(run))
            run = []
        run.append((row, col, text))
    if run:
        ranges.append(_run_range(run))
    return ranges


def _run_range(run: list) -> tuple[str, list]:
    (row, first, _), last = run[0], run[-1][1]
    a1 = f"{rowcol_to_a1(row, first + 1)}:{rowcol_to_a1(row, last + 1)}"
    return a1, [[text for _, _, text in run]]
