"""What every Google API client here shares: service-account identity, the loopback rule, retries.

Sheets (catalog/sheets_http.py, through gspread) and Drive (drive/client.py, through requests) use
the same service account, the same `google_credentials` setting ('none' only against a loopback
endpoint, i.e. a local test server), and the same bounded, jittered exponential back-off that
honours Retry-After. Each API says in its own `classify` which failures are worth a retry.
"""

from __future__ import annotations

import ipaddress
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from .errors import ConfigError

T = TypeVar("T")


def retryable(code: int) -> bool:
    """408, 429 and every 5xx: Google asks for exponential back-off on these."""
    return code in (408, 429) or 500 <= code < 600


@dataclass
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base: float = 1.0  # first back-off in seconds; doubles per attempt (Google's advice)
    cap: float = 32.0  # longest single back-off
    retry_after_cap: float = 64.0  # longest wait a Retry-After header may ask of us
    deadline: float = 150.0  # give up rather than start a wait that ends after this many seconds
    timeout: tuple[float, float] = (10.0, 60.0)  # (connect, read) per request

    @classmethod
    def from_settings(cls, settings) -> RetryPolicy:
        get = getattr(settings, "get", lambda _k, d=None: d)
        return cls(
            attempts=int(get("google_retry_attempts", 5)), base=float(get("google_retry_base", 1.0))
        )

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Truncated exponential back-off with jitter: min(base * 2^n + jitter, cap)."""
        return min(self.base * 2**attempt + rng() * self.base, self.cap)


@dataclass
class ApiCounters:
    """What /metrics shows for one Google API client: requests, retries, time held back, last error."""

    requests: int = 0
    reads: int = 0
    writes: int = 0
    retries: int = 0
    failures: int = 0  # calls that gave up
    throttled_seconds: float = 0.0  # waited on the client-side budget
    last_error: str = ""
    last_error_at: float = 0.0  # unix time
    last_ok_at: float = 0.0  # unix time of the last answered request (healthz: "reachable")

    def note_error(self, text: str) -> None:
        self.last_error = text
        self.last_error_at = time.time()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# classify(exc) -> (the error to raise, Retry-After seconds or None, worth another try), or None
# for an exception that is not the API's answer (a bug): it propagates untouched.
Classify = Callable[[BaseException], tuple[Exception, float | None, bool] | None]


def retry_loop(
    attempt: Callable[[], T],
    *,
    classify: Classify,
    give_up: Callable[[Exception, int], Exception],
    policy: RetryPolicy,
    counters: ApiCounters,
    sleep=time.sleep,
    rng=random.random,
    clock=time.monotonic,
) -> T:
    """Run `attempt` (which builds its request afresh each time) with bounded retries.

    A failure `classify` calls final is raised at once; retryable ones back off (Retry-After
    honoured) until attempts or the deadline run out, then `give_up(last error, tries)` is raised.
    """
    started = clock()
    for number in range(policy.attempts):
        try:
            return attempt()
        except Exception as exc:  # classify decides; what it does not know re-raises
            verdict = classify(exc)
            if verdict is None:
                raise
            cause, (failure, wait, again) = exc, verdict
        if not again:
            counters.failures += 1
            raise failure from cause
        wait = policy.backoff(number, rng) if wait is None else wait
        if number == policy.attempts - 1 or clock() - started + wait > policy.deadline:
            break
        counters.retries += 1
        sleep(wait)
    counters.failures += 1
    raise give_up(failure, number + 1) from cause


def retry_after(response: requests.Response | None, policy: RetryPolicy) -> float | None:
    """Seconds from a Retry-After header (seconds form; an HTTP date counts as absent)."""
    value = response.headers.get("Retry-After") if response is not None else None
    return retry_after_value(value, policy)


def retry_after_value(value: str | None, policy: RetryPolicy) -> float | None:
    """A Retry-After header's seconds, capped; None when absent or an HTTP date."""
    try:
        return min(max(float(value), 0.0), policy.retry_after_cap) if value else None
    except ValueError:
        return None


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def google_account(settings, api_url: str, setting: str, service: str) -> tuple[str, str]:
    """(credentials file or 'none', account name) for a Google API at `api_url`.

    'none' (no authentication) is refused unless the endpoint is loopback: it exists for local
    test servers only. `setting` names the endpoint setting in the message.
    """
    credentials = str(settings.get("google_credentials") or "").strip()
    if credentials.lower() == "none":
        if not is_loopback(api_url):
            raise ConfigError(
                f"google_credentials 'none' is allowed only with a loopback {setting} "
                f"(127.0.0.0/8, ::1, localhost), not {api_url}: set VITRINA_GOOGLE_CREDENTIALS "
                f"to a service-account JSON file"
            )
        return "none", f"none@{api_url}"
    if not credentials:
        raise ConfigError(
            f"{service} needs google_credentials (VITRINA_GOOGLE_CREDENTIALS): "
            "the path of a service-account JSON file"
        )
    return credentials, service_account_email(Path(credentials))


def service_account_email(path: Path) -> str:
    try:
        info = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"google_credentials {path}: not a readable service-account JSON file ({exc})"
        )
    if info.get("type") != "service_account" or "client_email" not in info:
        raise ConfigError(
            f"google_credentials {path}: not a service-account key (type service_account)"
        )
    return info["client_email"]
