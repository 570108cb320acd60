"""sheets_http: budget, back-off, retry classification, endpoint rewriting, production client."""

from __future__ import annotations

import json

import pytest
import requests
from gspread.exceptions import APIError

from vitrina_sync.catalog.gsheet import open_client
from vitrina_sync.catalog.sheets_http import (
    GOOGLE_API_URL,
    ApiCounters,
    QuotaBudget,
    RetryPolicy,
    SheetsApiError,
    SheetsForbidden,
    SheetsHttpClient,
    SheetsUnavailable,
    TokenBucket,
    call_with_retries,
    shared_budget,
)
from vitrina_sync.errors import ConfigError


class Clock:
    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def api_error(code: int, retry_after: str | None = None) -> APIError:
    response = requests.Response()
    response.status_code = code
    response._content = json.dumps(
        {"error": {"code": code, "message": "m", "status": "S"}}
    ).encode()
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return APIError(response)


def failing(errors: list, result="ok"):
    calls = []

    def attempt():
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return attempt, calls


def test_token_bucket_allows_a_burst_then_paces():
    clock = Clock()
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)
    assert sum(bucket.take() for _ in range(60)) == 0  # a minute's worth at once
    assert bucket.take() == pytest.approx(1.0)  # then one a second
    clock.now += 30
    assert sum(bucket.take() for _ in range(30)) == pytest.approx(0)
    assert bucket.take() == pytest.approx(1.0)


def test_budget_counts_reads_and_writes_apart_and_is_shared_per_account():
    clock = Clock()
    budget = QuotaBudget(2, 2, clock=clock, sleep=clock.sleep)
    assert budget.take("GET") + budget.take("get") == 0
    assert budget.take("post") == 0 and budget.take("PUT") == 0
    assert budget.take("GET") == pytest.approx(30.0)
    assert shared_budget("sa@x", 60, 60) is shared_budget("sa@x", 60, 60)
    assert shared_budget("sa@x", 60, 60) is not shared_budget("sb@x", 60, 60)


def test_backoff_is_exponential_jittered_and_truncated():
    policy = RetryPolicy(base=1.0, cap=32.0)
    assert [policy.backoff(n, rng=lambda: 0.0) for n in range(7)] == [1, 2, 4, 8, 16, 32, 32]
    assert policy.backoff(0, rng=lambda: 0.5) == 1.5


def test_retryable_codes_then_success():
    clock, counters = Clock(), ApiCounters()
    attempt, calls = failing(
        [api_error(429), api_error(500), api_error(408), requests.ConnectTimeout("slow")]
    )
    result = call_with_retries(
        attempt,
        what="reading",
        policy=RetryPolicy(),
        counters=counters,
        sleep=clock.sleep,
        rng=lambda: 0.0,
    )
    assert result == "ok" and len(calls) == 5 and counters.retries == 4
    assert clock.slept == [1, 2, 4, 8]


def test_retry_after_is_honoured_and_capped():
    clock = Clock()
    attempt, _ = failing([api_error(429, "7"), api_error(503, "9999")])
    call_with_retries(
        attempt,
        what="x",
        policy=RetryPolicy(),
        counters=ApiCounters(),
        sleep=clock.sleep,
        rng=lambda: 0.0,
    )
    assert clock.slept == [7.0, 64.0]


@pytest.mark.parametrize("code", [400, 401, 403, 404])
def test_client_errors_fail_at_once(code):
    attempt, calls = failing([api_error(code)])
    counters = ApiCounters()
    kind = SheetsForbidden if code == 403 else SheetsApiError
    with pytest.raises(kind) as info:
        call_with_retries(attempt, what="x", policy=RetryPolicy(), counters=counters, sleep=None)
    assert len(calls) == 1 and info.value.code == code and counters.failures == 1
    assert not isinstance(info.value, SheetsUnavailable)


def test_attempts_and_deadline_bound_the_retries():
    clock = Clock()
    attempt, calls = failing([api_error(503)] * 10)
    with pytest.raises(SheetsUnavailable, match="gave up after 3 attempt"):
        call_with_retries(
            attempt,
            what="x",
            policy=RetryPolicy(attempts=3),
            counters=ApiCounters(),
            sleep=clock.sleep,
            rng=lambda: 0.0,
        )
    assert len(calls) == 3 and clock.slept == [1, 2]
    attempt, calls = failing([api_error(429, "60")] * 10)
    clock = Clock()
    with pytest.raises(SheetsUnavailable):
        call_with_retries(
            attempt,
            what="x",
            policy=RetryPolicy(attempts=9, deadline=100),
            counters=ApiCounters(),
            sleep=clock.sleep,
            clock=clock,
        )
    assert len(calls) == 2  # a third wait of 60 s would end past the 100 s deadline


def test_endpoint_rewritten_only_when_not_googles():
    url = GOOGLE_API_URL + "/v4/spreadsheets/abc/values/A1"
    assert SheetsHttpClient(None, requests.Session()).rebase(url) == url
    local = SheetsHttpClient(None, requests.Session(), api_url="http://127.0.0.1:9/")
    assert local.rebase(url) == "http://127.0.0.1:9/v4/spreadsheets/abc/values/A1"
    assert (
        local.rebase("https://www.googleapis.com/drive/v3/files")
        == "https://www.googleapis.com/drive/v3/files"
    )


def test_production_client_is_gspread_service_account(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "sa.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "k",
                "private_key": pem,
                "client_email": "vitrina@p.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    settings = {"google_credentials": str(path), "google_api_url": GOOGLE_API_URL}
    http, account = open_client(settings, ApiCounters(), RetryPolicy())
    assert isinstance(http, SheetsHttpClient) and account == "vitrina@p.iam.gserviceaccount.com"
    assert http.timeout == (10.0, 60.0) and http.api_url == GOOGLE_API_URL
    assert http.auth.service_account_email == account
    (tmp_path / "bad.json").write_text('{"type": "authorized_user"}')
    with pytest.raises(ConfigError, match="not a service-account key"):
        open_client(
            {"google_credentials": str(tmp_path / "bad.json")}, ApiCounters(), RetryPolicy()
        )
    with pytest.raises(ConfigError, match="not a readable"):
        open_client(
            {"google_credentials": str(tmp_path / "nope.json")}, ApiCounters(), RetryPolicy()
        )
