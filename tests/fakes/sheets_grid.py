"""The cells of the local Sheets API: A1 notation, one worksheet's grid, RAW vs USER_ENTERED.

Kept apart from the HTTP server (sheets_api.py) so each stays small; nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
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
    def __init__(self, code: int, message: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.code, self.message = code, message or MESSAGES.get(code, "error")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Formula:
    text: str

    def value(self) -> str:
        # Only what tests need: HYPERLINK shows its label; anything else is an error cell.
        link = re.match(r'=HYPERLINK\("[^"]*"\s*[,;]\s*"([^"]*)"\)$', self.text, re.IGNORECASE)
        return link.group(1) if link else "#NAME?"


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
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+", title
    ):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_range(text: str) -> tuple[str, str]:
    """ "'My ''s'!A1:B2" -> ("My 's", "A1:B2"); "Sheet1" -> ("Sheet1", "")."""
    if text.startswith("'"):
        end = 1
        while True:
            end = text.index("'", end)
            if text[end + 1 : end + 2] == "'":
                end += 2
                continue
            break
        title, rest = text[1:end].replace("''", "'"), text[end + 1 :]
        return title, rest.removeprefix("!")
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
            raise ApiError(
                400,
                f"Range ({text}) exceeds grid limits. Max rows: {self.rows}, "
                f"max columns: {self.cols}",
            )

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
