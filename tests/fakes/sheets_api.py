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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED", 429: "RESOURCE_EXHAUSTED",
          500: "INTERNAL", 503: "UNAVAILABLE"}
MESSAGES = {
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
         "per user' of service 'sheets.googleapis.com' for consumer 'project_number:0'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class ApiError(Exception):
    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.code, self.message = code, message or MESSAGES.get(code, "error")


@dataclass(frozen=True)
class Formula:
    text: str

    def value(self) -> str:
        # Only what tests need: HYPERLINK shows its label; anything else is an error cell.
        link = re.match(r'=HYPERLINK\("[^"]*"\s*[,;]\s*"([^"]*)"\)$', self.text, re.I)
        return link.group(1) if link else "#NAME?"


# ---------- A1 notation ----------

def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def quote_title(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_range(text: str) -> tuple[str, str]:
    """"'My ''s'!A1:B2" -> ("My 's", "A1:B2"); "Sheet1" -> ("Sheet1", "")."""
    if text.startswith("'"):
        end = 1
        while True:
            end = text.index("'", end)
            if text[end + 1 : end + 2] == "'":
                end += 2
                continue
            break
        title, rest = text[1:end].replace("''", "'"), text[end + 1 :]
        return title, rest[1:] if rest.startswith("!") else rest
    title, _, cells = text.partition("!")
    return title, cells


_END = re.compile(r"^([A-Za-z]*)(\d*)$")


def parse_cells(cells: str, rows: int, cols: int) -> tuple[int, int, int, int]:
    """A1 part -> 1-based inclusive (r1, c1, r2, c2), open ends clipped to the grid."""
    if not cells:
        return 1, 1, rows, cols
    first, _, last = cells.partition(":")
    m1, m2 = _END.match(first), _END.match(last or first)
    single_cell = bool(m1 and m1.group(1) and m1.group(2))
    if not m1 or not m2 or not first or not (last or single_cell):
        raise ApiError(400, f"Unable to parse range: {cells}")
    c1 = col_index(m1.group(1)) if m1.group(1) else 1
    r1 = int(m1.group(2)) if m1.group(2) else 1
    c2 = col_index(m2.group(1)) if m2.group(1) else cols
    r2 = int(m2.group(2)) if m2.group(2) else rows
    if not last:
        r2, c2 = r1, c1
    return r1, c1, r2, c2


# ---------- the spreadsheet model ----------

@dataclass
class Worksheet:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    data: list[list[object]] = field(default_factory=list)  # None = empty cell

    def get(self, r: int, c: int) -> object:
        row = self.data[r - 1] if r <= len(self.data) else []
        return row[c - 1] if c <= len(row) else None

    def put(self, r: int, c: int, value: object) -> None:
        while len(self.data) < r:
            self.data.append([])
        row = self.data[r - 1]
        if c > len(row):
            row.extend([None] * (c - len(row)))
        row[c - 1] = value

    def check_grid(self, r2: int, c2: int, text: str) -> None:
        if r2 > self.rows or c2 > self.cols:
            raise ApiError(400, f"Range ({text}) exceeds grid limits. Max rows: {self.rows}, "
                                f"max columns: {self.cols}")

    def a1(self, r1: int, c1: int, r2: int, c2: int) -> str:
        return f"{quote_title(self.title)}!{col_letters(c1)}{r1}:{col_letters(c2)}{r2}"


def typed(value: object, user_entered: bool) -> object:
    """A written JSON value as the cell Google stores."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not user_entered:
        return value
    if value.startswith("="):
        return Formula(value)
    if value.startswith("'"):
        return value[1:]
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    if _NUMBER.match(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() and "e" not in value.lower() else number
    return value


def rendered(value: object, option: str) -> object:
    if value is None:
        return ""
    if isinstance(value, Formula):
        return value.text if option == "FORMULA" else value.value()
    if option != "FORMATTED_VALUE":
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def trimmed(grid: list[list[object]]) -> list[list[object]]:
    out = []
    for row in grid:
        while row and row[-1] == "":
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


@dataclass
class Fault:
    status: int
    times: float = 1
    kind: str | None = None  # only requests of this kind ("values.batchGet"...), None = any
    retry_after: float | None = None
    delay: float = 0.0


class FakeSheetsApi:
    """The server's state, the people's edits and the fault switchboard. Use as a context manager."""

    def __init__(self) -> None:
        self.books: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # ----- lifecycle -----
    def __enter__(self) -> "FakeSheetsApi":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> str:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ----- set-up and people's edits -----
    def add_sheet(self, book: str, title: str, values: list[list[object]] = (),
                  rows: int | None = None, cols: int = 26) -> Worksheet:
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

    def sort_rows(self, book: str, title: str, col: int, first: int = 2, reverse: bool = False) -> None:
        """Sort rows first..end by column `col` (1-based), blanks last, like Data > Sort range."""
        with self.lock:
            ws = self.sheet(book, title)
            body = ws.data[first - 1 :]
            body.sort(key=lambda r: str(rendered(r[col - 1] if col <= len(r) else None,
                                                 "FORMATTED_VALUE")), reverse=reverse)
            ws.data[first - 1 :] = body

    def fail(self, status: int, times: float = 1, kind: str | None = None,
             retry_after: float | None = None, delay: float = 0.0) -> None:
        """The next `times` matching requests answer `status` (0 = answer normally after delay)."""
        with self.lock:
            self.faults.append(Fault(status, times, kind, retry_after, delay))

    def count(self, kind: str | None = None) -> int:
        return sum(1 for r in self.requests if kind is None or r["kind"] == kind)

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()

    # ----- request handling (called from the HTTP thread) -----
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
        book_id, rest = match.group(1), match.group(2)
        route = _route(method, rest)
        if route is None:
            raise ApiError(404, f"Method not found: {method} {rest}")
        kind, arg = route
        return kind, arg, book_id

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
        grid = [[rendered(ws.get(r, c), option) for c in range(c1, c2 + 1)]
                for r in range(r1, min(r2, max(len(ws.data), r1 - 1)) + 1)]
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
        sheets = [{"properties": {"sheetId": ws.sheet_id, "title": ws.title, "index": i,
                                  "sheetType": "GRID",
                                  "gridProperties": {"rowCount": ws.rows, "columnCount": ws.cols}}}
                  for i, ws in enumerate(book["sheets"])]
        return {"spreadsheetId": book_id,
                "properties": {"title": book["title"], "locale": "en_US", "timeZone": "Etc/GMT",
                               "autoRecalc": "ON_CHANGE"},
                "sheets": sheets,
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book_id}/edit"}

    def _values_get(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        return self._read(book_id, arg, query)

    def _values_batchGet(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        ranges = [self._read(book_id, r, query) for r in query.get("ranges", [])]
        return {"spreadsheetId": book_id, "valueRanges": ranges}

    def _write(self, book_id: str, text: str, values: list, user_entered: bool,
               dimension: str = "ROWS") -> dict:
        ws, (r1, c1, r2, c2) = self._resolve(book_id, text)
        if dimension == "COLUMNS":
            width = max([len(v) for v in values] + [0])
            values = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
        height, width = len(values), max([len(v) for v in values] + [0])
        if r1 + height - 1 > r2 or c1 + width - 1 > c2:
            raise ApiError(400, f"Requested writing within range [{text}], but tried writing "
                                f"to row [{r1 + height - 1}] column [{col_letters(c1 + width - 1)}]")
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is not None:  # null leaves the cell as it is
                    ws.put(r1 + i, c1 + j, typed(value, user_entered))
        return {"spreadsheetId": book_id, "updatedRange": ws.a1(r1, c1, r1 + height - 1, c1 + width - 1),
                "updatedRows": height, "updatedColumns": width,
                "updatedCells": sum(len(r) for r in values)}

    def _values_update(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        option = _input_option(query.get("valueInputOption", [None])[0])
        return self._write(book_id, arg, body.get("values", []), option == "USER_ENTERED",
                           body.get("majorDimension", "ROWS"))

    def _values_batchUpdate(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        option = _input_option(body.get("valueInputOption"))
        for item in body.get("data", []):  # validate every range first: the batch is atomic
            self._resolve(book_id, item["range"])
        replies = [self._write(book_id, d["range"], d.get("values", []), option == "USER_ENTERED",
                               d.get("majorDimension", "ROWS")) for d in body.get("data", [])]
        return {"spreadsheetId": book_id, "totalUpdatedRows": sum(r["updatedRows"] for r in replies),
                "totalUpdatedColumns": sum(r["updatedColumns"] for r in replies),
                "totalUpdatedCells": sum(r["updatedCells"] for r in replies),
                "totalUpdatedSheets": 1 if replies else 0, "responses": replies}

    def _values_append(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        option = _input_option(query.get("valueInputOption", [None])[0])
        ws, (r1, c1, _, _) = self._resolve(book_id, arg)
        values = body.get("values", [])
        start = len(trimmed([[rendered(v, "FORMULA") for v in row] for row in ws.data])) + 1
        if start + len(values) - 1 > ws.rows:
            ws.rows = start + len(values) - 1  # append grows the grid, as Google does
        width = max([len(v) for v in values] + [0])
        ws.cols = max(ws.cols, c1 + width - 1)
        target = f"{quote_title(ws.title)}!{col_letters(c1)}{start}"
        update = self._write(book_id, target + f":{col_letters(c1 + max(width, 1) - 1)}"
                             f"{start + max(len(values), 1) - 1}", values, option == "USER_ENTERED")
        return {"spreadsheetId": book_id, "tableRange": ws.a1(1, c1, max(start - 1, 1), ws.cols),
                "updates": update}

    def _batchUpdate(self, book_id: str, arg: str, query: dict, body: dict) -> dict:
        replies = []
        for request in body.get("requests", []):
            (name, spec), = request.items()
            ws = self._by_id(book_id, spec.get("sheetId", spec.get("range", {}).get("sheetId",
                                               spec.get("properties", {}).get("sheetId"))))
            if name == "appendDimension":
                attr = "rows" if spec["dimension"] == "ROWS" else "cols"
                setattr(ws, attr, getattr(ws, attr) + int(spec["length"]))
            elif name == "insertDimension" and spec["range"]["dimension"] == "ROWS":
                start, end = spec["range"]["startIndex"], spec["range"]["endIndex"]
                ws.data[start:start] = [[] for _ in range(end - start)]
                ws.rows += end - start
            elif name == "insertDimension":
                start, end = spec["range"]["startIndex"], spec["range"]["endIndex"]
                for row in ws.data:
                    if len(row) > start:
                        row[start:start] = [None] * (end - start)
                ws.cols += end - start
            elif name == "updateSheetProperties":
                grid = spec["properties"].get("gridProperties", {})
                ws.rows = grid.get("rowCount", ws.rows)
                ws.cols = grid.get("columnCount", ws.cols)
                ws.title = spec["properties"].get("title", ws.title)
            else:
                raise ApiError(400, f"Invalid requests[0]: unsupported request {name}")
            replies.append({})
        return {"spreadsheetId": book_id, "replies": replies}

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
    fake: FakeSheetsApi

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = "unknown"
        try:
            body = json.loads(raw) if raw else {}
            kind, arg, book_id = self.fake.route(self.command, parts.path)
            with self.fake.lock:
                self.fake.requests.append({"method": self.command, "kind": kind, "path": parts.path,
                                           "query": parse_qs(parts.query), "at": time.monotonic()})
            fault = self.fake.take_fault(kind)
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status:
                raise ApiError(fault.status, "") if fault.retry_after is None else \
                    _RetryAfter(fault.status, fault.retry_after)
            self._reply(200, self.fake.dispatch(kind, arg, book_id, parse_qs(parts.query), body))
        except _RetryAfter as exc:
            self._reply(exc.code, _error_body(exc), {"Retry-After": f"{exc.retry_after:g}"})
        except ApiError as exc:
            self._reply(exc.code, _error_body(exc))
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
        self.wfile.write(data)


class _RetryAfter(ApiError):
    def __init__(self, code: int, retry_after: float):
        super().__init__(code)
        self.retry_after = retry_after


def _error_body(exc: ApiError) -> dict:
    return {"error": {"code": exc.code, "message": exc.message, "status": STATUS.get(exc.code, "UNKNOWN")}}
