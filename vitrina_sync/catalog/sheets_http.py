"""Talking to the Sheets API within Google's quotas: base URL, budget, bounded retries, counters.

gspread 6.2.1's own BackOffHTTPClient never gives up and has no timeout, so gspread's plain
HTTPClient is subclassed here only to (1) send requests to the configured endpoint, (2) take a
token from the per-service-account budget before each request and (3) count requests. Retries
live one level up, in `call_with_retries`, around a callable that rebuilds its payload on every
attempt (gspread rewrites batch_update's "range" keys in place, so a resent dict would be wrong).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from ..errors import CatalogError
from ..google_api import ApiCounters, RetryPolicy, retry_after, retry_loop, retryable

__all__ = ["ApiCounters", "RetryPolicy", "retryable"]  # shared with Drive; imported from here too

GOOGLE_API_URL = "https://sheets.googleapis.com"

T = TypeVar("T")


class SheetsApiError(CatalogError):
    """The Sheets API refused a request; `code` is the HTTP status (0 = no answer)."""

    def __init__(self, message: str, code: int = 0, api_message: str = ""):
        super().__init__(message)
        self.code = code
        self.api_message = api_message


class SheetsForbidden(SheetsApiError):
    """403: the service account may not open (or edit) this spreadsheet. Retrying cannot help."""


class SheetsUnavailable(SheetsApiError):
    """Retries ran out (quota, Google down, timeouts). Nothing was written; try next cycle."""


class TokenBucket:
    """`per_minute` requests a minute, up to a full minute's worth in a burst; thread-safe."""

    def __init__(self, per_minute: float, clock=time.monotonic, sleep=time.sleep):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.tokens = float(per_minute)
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()
        self.lock = threading.Lock()

    def take(self) -> float:
        """Take one token, sleeping until one is there; returns the seconds waited."""
        with self.lock:  # one waiter at a time keeps the order fair and the arithmetic simple
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            wait = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate
            if wait:
                self.sleep(wait)
                self.tokens, self.stamp = 1.0, self.clock()
            self.tokens -= 1
            return wait


class QuotaBudget:
    """Google's per-user quota, per service account: reads and writes are counted apart."""

    def __init__(self, reads_per_minute: float = 60, writes_per_minute: float = 60, **clock):
        self.reads = TokenBucket(reads_per_minute, **clock)
        self.writes = TokenBucket(writes_per_minute, **clock)

    def take(self, method: str) -> float:
        return (self.reads if method.upper() == "GET" else self.writes).take()


_BUDGETS: dict[tuple, QuotaBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def shared_budget(account: str, reads_per_minute: float, writes_per_minute: float) -> QuotaBudget:
    """One budget per service account in this process: every catalog it opens shares the quota."""
    key = (account, reads_per_minute, writes_per_minute)
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = QuotaBudget(reads_per_minute, writes_per_minute)
        return _BUDGETS[key]


class SheetsHttpClient(HTTPClient):
    """gspread's HTTPClient, sent to `api_url`, held to a budget and counted.

    With the default api_url nothing is rewritten: production requests are gspread's own.
    """

    def __init__(
        self,
        auth,
        session=None,
        *,
        api_url: str = GOOGLE_API_URL,
        budget: QuotaBudget | None = None,
        counters: ApiCounters | None = None,
    ):
        super().__init__(auth, session)
        self.api_url = api_url.rstrip("/")
        self.budget = budget or QuotaBudget()
        self.counters = counters or ApiCounters()

    def rebase(self, endpoint: str) -> str:
        if self.api_url != GOOGLE_API_URL and endpoint.startswith(GOOGLE_API_URL + "/"):
            return self.api_url + endpoint[len(GOOGLE_API_URL) :]
        return endpoint

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.counters.throttled_seconds += self.budget.take(method)
        self.counters.requests += 1
        if method.upper() == "GET":
            self.counters.reads += 1
        else:
            self.counters.writes += 1
        try:
            response = super().request(method, self.rebase(endpoint), *args, **kwargs)
        except APIError as exc:
            self.counters.note_error(
                f"{exc.code} {exc.error.get('status', '')}: {exc.error.get('message', '')}"
            )
            raise
        except requests.RequestException as exc:
            self.counters.note_error(f"{type(exc).__name__}: {exc}")
            raise
        self.counters.last_ok_at = time.time()
        return response


def call_with_retries(
    attempt: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    counters: ApiCounters,
    sleep=time.sleep,
    rng=random.random,
    clock=time.monotonic,
) -> T:
    """Run `attempt` (which must build its request afresh each time) with bounded retries.

    408/429/5xx and timeouts/connection errors are retried with back-off (Retry-After honoured);
    403 and other 4xx fail at once. Raises SheetsForbidden, SheetsUnavailable or SheetsApiError.
    """

    def classify(exc: BaseException):
        if isinstance(exc, APIError):
            failure = _api_failure(exc, what)
            return (
                failure,
                retry_after(exc.response, policy),
                isinstance(failure, SheetsUnavailable),
            )
        if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
            message = f"{what}: no answer from the Sheets API ({type(exc).__name__})"
            return SheetsUnavailable(message), None, True
        return None

    def give_up(failure: SheetsApiError, tries: int) -> SheetsUnavailable:
        # A write whose answer was lost may have landed; writing the same RAW cells again next
        # cycle is harmless, so pending results simply stay pending.
        return SheetsUnavailable(
            f"{failure} - gave up after {tries} attempt(s); nothing was written unless the last "
            f"answer was lost on the way, and writing the same results again next cycle is safe",
            failure.code,
            failure.api_message,
        )

    return retry_loop(
        attempt,
        classify=classify,
        give_up=give_up,
        policy=policy,
        counters=counters,
        sleep=sleep,
        rng=rng,
        clock=clock,
    )


def _api_failure(exc: APIError, what: str) -> SheetsApiError:
    code = int(exc.code) if isinstance(exc.code, int) else 0
    if code <= 0 and exc.response is not None:
        code = exc.response.status_code
    message = str(exc.error.get("message", ""))
    if retryable(code):
        return SheetsUnavailable(f"{what}: Sheets API answered {code} ({message})", code, message)
    if code == 403:
        return SheetsForbidden(
            f"{what}: 403 forbidden ({message}). Share the spreadsheet with the "
            f"service account's e-mail as Editor, and check that the Sheets "
            f"API is enabled for its project",
            code,
            message,
        )
    return SheetsApiError(f"{what}: Sheets API answered {code} ({message})", code, message)
