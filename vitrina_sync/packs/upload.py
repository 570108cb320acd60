"""HTTP client shared by the uploaders: auth headers, a rate limit, retries with backoff.

Retries on 429 and 5xx (and dropped connections), honouring Retry-After (seconds or HTTP date)
and the marketplaces' own headers (WB X-Ratelimit-Retry, Ozon Item-Retry-After). The clock and
sleep are injectable so tests run the real client against a local server without waiting.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import VitrinaError
from .base import Marketplace, dumps
from .build import write_atomic

if TYPE_CHECKING:
    import requests

RETRY_HEADERS = ("Retry-After", "X-Ratelimit-Retry", "Item-Retry-After")


def _requests():
    """requests, imported on first use: the marketplace plugins import this module in every
    process that loads plugins (workers too), and only uploads need HTTP (~45 ms of imports)."""
    import requests

    return requests


class UploadError(VitrinaError):
    """A request failed for good (retries spent, auth refused, a malformed answer)."""


@dataclass
class RetryPolicy:
    retries: int = 5
    backoff_s: float = 0.5  # first wait; doubles per retry
    max_wait_s: float = 60.0  # cap on any single wait, Retry-After included


def retry_after(resp: requests.Response) -> float | None:
    """Seconds the server asks us to wait, from any header it uses, or None."""
    for name in RETRY_HEADERS:
        raw = resp.headers.get(name)
        if not raw:
            continue
        try:
            return max(0.0, float(raw))
        except ValueError:
            when = email.utils.parsedate_to_datetime(raw) if raw else None
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    return None


class RateLimiter:
    """At most one request start per `interval` seconds (WB content: 600 ms, 100 req/min)."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if now < self._next:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


@dataclass
class ApiClient:
    base_url: str
    headers: dict[str, str]
    limiter: RateLimiter
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=lambda: _requests().Session())
    log: list[dict] = field(default_factory=list)  # one entry per attempt, for the report

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One logical request; retried on 429/5xx/connection errors, raised when spent."""
        url = self.base_url.rstrip("/") + path
        headers = {**self.headers, **kwargs.pop("headers", {})}
        for attempt in range(self.policy.retries + 1):
            self.limiter.wait()
            try:
                resp = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    **kwargs,
                )
            except _requests().ConnectionError as exc:
                self._note(method, path, attempt, None)
                if attempt == self.policy.retries:
                    raise UploadError(f"{method} {path}: connection failed ({exc})") from None
                self.sleep(self._backoff(attempt, None))
                continue
            self._note(method, path, attempt, resp.status_code)
            if resp.status_code != 429 and resp.status_code < 500:
                return resp
            if attempt == self.policy.retries:
                break
            self.sleep(self._backoff(attempt, retry_after(resp)))
        raise UploadError(
            f"{method} {path}: HTTP {resp.status_code} after "
            f"{self.policy.retries} retries: {resp.text[:200]}"
        )

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """request() that requires a 2xx JSON answer."""
        resp = self.request(method, path, **kwargs)
        if not 200 <= resp.status_code < 300:
            raise UploadError(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            return resp.json()
        except ValueError:
            raise UploadError(f"{method} {path}: answer is not JSON: {resp.text[:200]}") from None

    def _backoff(self, attempt: int, asked: float | None) -> float:
        wait = asked if asked is not None else self.policy.backoff_s * (2**attempt)
        return min(wait, self.policy.max_wait_s)

    def _note(self, method: str, path: str, attempt: int, status: int | None) -> None:
        self.log.append({"method": method, "path": path, "attempt": attempt, "status": status})


def client_for(market: Marketplace, headers: dict[str, str], **kwargs: Any) -> ApiClient:
    """A client with the marketplace's rate/retry rules and configured api_url."""
    rules = market.rules
    api_url = market.config.get("api_url") or rules.v("api_url")
    sleep = kwargs.pop("sleep", time.sleep)
    policy = RetryPolicy(
        int(rules.v("api_retries")),
        float(rules.v("api_backoff_s")),
        float(rules.v("api_max_wait_s")),
    )
    limiter = RateLimiter(float(rules.v("api_min_interval_s")), sleep=sleep)
    return ApiClient(api_url, headers, limiter, policy, sleep=sleep, **kwargs)


def require(market: Marketplace, *keys: str) -> list[str]:
    """Credentials from [marketplaces.<name>], or a clear error naming the missing keys."""
    missing = [k for k in keys if not market.config.get(k)]
    if missing:
        raise VitrinaError(
            f"upload to {market.name}: set {', '.join(missing)} in [marketplaces.{market.name}] "
            "of vitrina.toml"
        )
    return [str(market.config[k]) for k in keys]


@dataclass
class LoadedPack:
    path: Path
    report: dict
    files: dict[str, bytes]  # manifests (JSON/xlsx), not images

    def manifest(self, name: str) -> Any:
        try:
            return json.loads(self.files[name])
        except KeyError:
            raise UploadError(f"{self.path.name}: no {name} in the pack") from None


def load_pack(path: Path) -> LoadedPack:
    try:
        with zipfile.ZipFile(path) as zf:
            files = {n: zf.read(n) for n in zf.namelist() if n.endswith(".json")}
    except (OSError, zipfile.BadZipFile) as exc:
        raise UploadError(f"{path}: not a pack ({exc})") from None
    if "report.json" not in files:
        raise UploadError(f"{path}: not a pack (no report.json)")
    return LoadedPack(path, json.loads(files["report.json"]), files)


def upload_pack(path: Path, market: Marketplace, **client_kwargs: Any) -> list[dict]:
    """Upload a pack and add per-card results to its sidecar report (<name>.report.json)."""
    pack = load_pack(path)
    if pack.report.get("marketplace") != market.name:
        raise UploadError(
            f"{path.name} is a {pack.report.get('marketplace')} pack, not {market.name}"
        )
    results = market.upload(pack, client_kwargs)
    report = dict(pack.report)
    report["upload"] = sorted(results, key=lambda r: (r.get("sku", ""), r.get("card", "")))
    write_atomic(path.with_name(path.name.removesuffix(".zip") + ".report.json"), dumps(report))
    return report["upload"]
