"""A local Google Sheets API v4 server: the subset gspread 6.2.1 uses, with Google's shapes.

Runs on 127.0.0.1 in a thread so tests drive the real gspread client over real HTTP. Shapes kept
from the real service: trailing empty cells and rows trimmed, leading empty rows as [], ranges
echoed clipped to the grid ("Sheet1!A1:Z1000", quoted only when the title needs it), errors as
{"error": {"code", "message", "status"}}, RAW keeps text while USER_ENTERED makes "=..." a formula
and numericises "00123" -> 123, writes past the grid are a 400 ("exceeds grid limits").
Tests also act as the people editing the sheet (insert/delete/sort rows, edit cells) and inject
429/503/403 faults; every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from .loopback import LoopbackServer
from .sheets_grid import (
    STATUS,
    ApiError,
    Formula,
    Worksheet,
    col_letters,
    parse_cells,
    rendered,
    split_range,
    trimmed,
    typed,
)

__all__ = ["ApiError", "FakeSheetsApi", "Formula", "Worksheet"]


@dataclass
class Fault:
    status: int
    times: float = 1
    kind: str | None = None  # only requests of this kind ("values.batchGet"...), None = any
    retry_after: float | None = None
    delay: float = 0.0


class FakeSheetsApi(LoopbackServer):
    """The server's state, the people's edits and the fault switchboard. Use as a context manager."""

    def __init__(self) -> None:
        self.books: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()

    def add_sheet(
        self,
        book: str,
        title: str,
        values: list[list[object]] = (),
        rows: int | None = None,
        cols: int = 26,
    ) -> Worksheet:
        with self.lock:
            sheets = self.books.setdefault(book, {"title": book, "sheets": []})["sheets"]
            data = [[None if v == "" else v for v in row] for row in values]
            width = max([cols] + [len(r) for r in data])
            ws = Worksheet(len(sheets) * 1000 + 7, title, max(rows or 1000, len(data)), width, data)
            sheets.append(ws)
            return ws

    def sheet(self, book: str, title: str) -> Worksheet:
        for ws in self.books.get(book, {}).get("sheets", []):
            if ws.title == title:
                return ws
        raise ApiError(400, f"Unable to parse range: {title}")

    def values(self, book: str, title: str) -> list[list[str]]:
        """The grid as a person sees it (formatted text), trailing blanks trimmed."""
        with self.lock:
            ws = self.sheet(book, title)
            return trimmed([[rendered(v, "FORMATTED_VALUE") for v in row] for row in ws.data])

    def cell(self, book: str, title: str, a1: str) -> object:
        with self.lock:
            ws = self.sheet(book, title)
            r, c, _, _ = parse_cells(a1, ws.rows, ws.cols)
            return ws.get(r, c)

    def set_cell(self, book: str, title: str, row: int, col: int, value: object) -> None:
        with self.lock:
            self.sheet(book, title).put(row, col, None if value == "" else value)

    def insert_rows(self, book: str, title: str, at: int, rows: list[list[object]]) -> None:
        """Insert rows so the first new one becomes row `at` (1-based), as a person does."""
        with self.lock:
            ws = self.sheet(book, title)
            while len(ws.data) < at - 1:
                ws.data.append([])
            ws.data[at - 1 : at - 1] = [list(r) for r in rows]
            ws.rows += len(rows)

    def delete_rows(self, book: str, title: str, at: int, count: int = 1) -> None:
        with self.lock:
            ws = self.sheet(book, title)
            del ws.data[at - 1 : at - 1 + count]
            ws.rows -= count

    def insert_column(self, book: str, title: str, at: int, header: str = "") -> None:
        """Insert an empty column so it becomes column `at` (1-based), headed `header`."""
        with self.lock:
            ws = self.sheet(book, title)
            for row in ws.data:
                if len(row) >= at:
                    row.insert(at - 1, None)
            ws.put(1, at, header or None)
            ws.cols += 1

    def sort_rows(
        self, book: str, title: str, col: int, first: int = 2, reverse: bool = False
    ) -> None:
        """Sort rows first..end by column `col` (1-based), blanks last, like Data > Sort range."""
        with self.lock:
            ws = self.sheet(book, title)
            body = ws.data[first - 1 :]
            body.sort(
                key=lambda r: str(
                    rendered(r[col - 1] if col <= len(r) else None, "FORMATTED_VALUE")
                ),
                reverse=reverse,
            )
            ws.data[first - 1 :] = body

    def fail(
        self,
        status: int,
        times: float = 1,
        kind: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` matching requests answer `status` (0 = answer normally after delay)."""
        with self.lock:
            self.faults.append(Fault(status, times, kind, retry_after, delay))

    def count(self, kind: str | None = None) -> int:
        return sum(1 for r in self.requests if kind is None or r["kind"] == kind)

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()

    def take_fault(self, kind: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind in (None, kind) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def route(self, method: str, path: str) -> tuple[str, str, str]:
        """(request kind, range argument, spreadsheet id) for a request line."""
        match = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
        if not match:
            raise ApiError(404, f"Unknown path {path}")
        route = _route(method, match.group(2))
        if route is None:
            raise ApiError(404, f"Method not found: {method} {match.group(2)}")
        return route[0], route[1], match.group(1)

    def dispatch(self, kind: str, arg: str, book_id: str, query: dict, body: dict) -> dict:
        with self.lock:
            if book_id not in self.books:
                raise ApiError(404)
            handler = getattr(self, "_" + kind.replace(".", "_"))
            return handler(book_id, arg, query, body)

    def _resolve(self, book_id: str, text: str) -> tuple[Worksheet, tuple[int, int, int, int]]:
        title, cells = split_range(text)
        try:
            ws = self.sheet(book_id, title)
        except ApiError:
            raise ApiError(400, f"Unable to parse range: {text}") from None
        box = parse_cells(cells, ws.rows, ws.cols)
        ws.check_grid(box[2], box[3], text)
        return ws, box

    def _read(self, book_id: str, text: str, query: dict) -> dict:
        ws, (r1, c1, r2, c2) = self._resolve(book_id, text)
        option = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
        grid = [
            [rendered(ws.get(r, c), option) for c in range(c1, c2 + 1)]
            for r in range(r1, min(r2, max(len(ws.data), r1 - 1)) + 1)
        ]
        dimension = query.get("majorDimension", ["ROWS"])[0]
        if dimension == "COLUMNS":
            grid = [list(col) for col in zip(*grid)] if grid else []
        out = {"range": ws.a1(r1, c1, r2, c2), "majorDimension": dimension}
        values = trimmed(grid)
        if values:
            out["values"] = values
        return out

    def _metadata(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        book = self.books[book_id]
        sheets = [
            {
                "properties": {
                    "sheetId": ws.sheet_id,
                    "title": ws.title,
                    "index": i,
                    "sheetType": "GRID",
                    "gridProperties": {"rowCount": ws.rows, "columnCount": ws.cols},
                }
            }
            for i, ws in enumerate(book["sheets"])
        ]
        return {
            "spreadsheetId": book_id,
            "sheets": sheets,
            "properties": {"title": book["title"], "locale": "en_US", "timeZone": "Etc/GMT"},
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book_id}/edit",
        }

    def _values_get(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        return self._read(book_id, arg, query)

    def _values_batchGet(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        ranges = [self._read(book_id, r, query) for r in query.get("ranges", [])]
        return {"spreadsheetId": book_id, "valueRanges": ranges}

    def _target(self, book_id: str, text: str, values: list, dimension: str = "ROWS"):
        """Where a write goes: (sheet, first row, first column, rows of values); 400 if too big."""
        ws, (r1, c1, r2, c2) = self._resolve(book_id, text)
        if dimension == "COLUMNS":
            width = max([len(v) for v in values] + [0])
            values = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
        height, width = len(values), max([len(v) for v in values] + [0])
        if r1 + height - 1 > r2 or c1 + width - 1 > c2:
            raise ApiError(
                400,
                f"Requested writing within range [{text}], but tried writing "
                f"to row [{r1 + height - 1}] column [{col_letters(c1 + width - 1)}]",
            )
        return ws, r1, c1, values

    def _write(self, target: tuple, user_entered: bool) -> dict:
        ws, r1, c1, values = target
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is not None:  # null leaves the cell as it is
                    ws.put(r1 + i, c1 + j, typed(value, user_entered))
        height, width = len(values), max([len(v) for v in values] + [0])
        return {
            "updatedRange": ws.a1(r1, c1, r1 + height - 1, c1 + width - 1),
            "updatedRows": height,
            "updatedColumns": width,
            "updatedCells": sum(len(r) for r in values),
        }

    def _values_update(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        option = _input_option(query.get("valueInputOption", [None])[0])
        target = self._target(
            book_id, arg, body.get("values", []), body.get("majorDimension", "ROWS")
        )
        return {"spreadsheetId": book_id, **self._write(target, option == "USER_ENTERED")}

    def _values_batchUpdate(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        option = _input_option(body.get("valueInputOption"))
        # Every range is checked before any is written: the batch is atomic, as Google's is.
        targets = [
            self._target(book_id, d["range"], d.get("values", []), d.get("majorDimension", "ROWS"))
            for d in body.get("data", [])
        ]
        replies = [
            {"spreadsheetId": book_id, **self._write(t, option == "USER_ENTERED")} for t in targets
        ]
        total = {
            f"totalUpdated{k}": sum(r[f"updated{k}"] for r in replies)
            for k in ("Rows", "Columns", "Cells")
        }
        return {
            "spreadsheetId": book_id,
            **total,
            "totalUpdatedSheets": 1 if replies else 0,
            "responses": replies,
        }

    def _values_append(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        option = _input_option(query.get("valueInputOption", [None])[0])
        ws, (r1, c1, _, _) = self._resolve(book_id, arg)
        values = body.get("values", [])
        start = r1  # the "table" is the run of non-empty rows from the range's first row down
        while any(v is not None for v in (ws.data[start - 1] if start <= len(ws.data) else [])):
            start += 1
        width = max([len(v) for v in values] + [1])
        ws.rows = max(ws.rows, start + len(values) - 1)  # append grows the grid, as Google does
        ws.cols = max(ws.cols, c1 + width - 1)
        update = self._write((ws, start, c1, values), option == "USER_ENTERED")
        return {
            "spreadsheetId": book_id,
            "tableRange": ws.a1(r1, c1, max(start - 1, r1), ws.cols),
            "updates": {"spreadsheetId": book_id, **update},
        }

    def _batchUpdate(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        replies = []
        for request in body.get("requests", []):
            ((name, spec),) = request.items()
            ws = self._by_id(
                book_id, (spec.get("range") or spec.get("properties") or spec)["sheetId"]
            )
            if name == "appendDimension":
                attr = "rows" if spec["dimension"] == "ROWS" else "cols"
                setattr(ws, attr, getattr(ws, attr) + int(spec["length"]))
            elif name == "insertDimension":
                self._insert_dimension(ws, spec["range"])
            elif name == "updateSheetProperties":
                grid = spec["properties"].get("gridProperties", {})
                ws.rows = grid.get("rowCount", ws.rows)
                ws.cols = grid.get("columnCount", ws.cols)
                ws.title = spec["properties"].get("title", ws.title)
            else:
                raise ApiError(400, f"Invalid requests[0]: unsupported request {name}")
            replies.append({})
        return {"spreadsheetId": book_id, "replies": replies}

    @staticmethod
    def _insert_dimension(ws: Worksheet, span: dict) -> None:
        start, end = span["startIndex"], span["endIndex"]
        if span["dimension"] == "ROWS":
            ws.data[start:start] = [[] for _ in range(end - start)]
            ws.rows += end - start
            return
        for row in ws.data:
            if len(row) > start:
                row[start:start] = [None] * (end - start)
        ws.cols += end - start

    def _by_id(self, book_id: str, sheet_id: object) -> Worksheet:
        for ws in self.books[book_id]["sheets"]:
            if ws.sheet_id == sheet_id:
                return ws
        raise ApiError(400, f"Invalid requests[0]: No grid with id: {sheet_id}")


def _input_option(option: str | None) -> str:
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
    return option


def _route(method: str, rest: str) -> tuple[str, str] | None:
    if method == "GET" and rest == "":
        return "metadata", ""
    if method == "POST" and rest == ":batchUpdate":
        return "batchUpdate", ""
    if rest == "/values:batchGet" and method == "GET":
        return "values.batchGet", ""
    if rest == "/values:batchUpdate" and method == "POST":
        return "values.batchUpdate", ""
    match = re.match(r"^/values/([^:/]+)(:append)?$", rest)
    if not match:
        return None
    arg = unquote(match.group(1))
    if match.group(2):
        return ("values.append", arg) if method == "POST" else None
    return {"GET": ("values.get", arg), "PUT": ("values.update", arg)}.get(method)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Google's front end does
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stalls
    fake: FakeSheetsApi

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
            kind, arg, book_id = self.fake.route(self.command, parts.path)
            with self.fake.lock:
                self.fake.requests.append(
                    {
                        "method": self.command,
                        "kind": kind,
                        "path": parts.path,
                        "query": parse_qs(parts.query),
                        "body": body,
                        "at": time.monotonic(),
                    }
                )
            fault = self.fake.take_fault(kind)
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status:
                raise ApiError(fault.status, retry_after=fault.retry_after)
            self._reply(200, self.fake.dispatch(kind, arg, book_id, parse_qs(parts.query), body))
        except ApiError as exc:
            retry = {} if exc.retry_after is None else {"Retry-After": f"{exc.retry_after:g}"}
            self._reply(exc.code, _error_body(exc), retry)
        except (KeyError, ValueError, TypeError) as exc:
            self._reply(400, _error_body(ApiError(400, f"Invalid JSON payload: {exc}")))

    do_GET = do_PUT = do_POST = _serve

    def _reply(self, code: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left (the timeout tests do this on purpose)


def _error_body(exc: ApiError) -> dict:
    return {
        "error": {
            "code": exc.code,
            "message": exc.message,
            "status": STATUS.get(exc.code, "UNKNOWN"),
        }
    }


FakeSheetsApi.handler = _Handler  # defined after the fake: it reads the fake's state
