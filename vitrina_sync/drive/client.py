"""Google Drive API v3 over plain HTTP (requests): files.get, alt=media, changes, batch.

Requests go to `<google_drive_url>/drive/v3/...` and `<google_drive_url>/batch/drive/v3`, exactly
Google's REST paths, so a test points the setting at a local server and the production path stays
this one. Every call is retried as google_api.retry_loop does for Sheets (408/429/5xx, plus Drive's
403 userRateLimitExceeded / rateLimitExceeded, Retry-After honoured); other answers become a
DriveError that says what to do. Requests are counted in `counters` (a batch is one request).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import quote

import requests

from ..errors import ConfigError, DriveError
from ..google_api import (
    ApiCounters,
    RetryPolicy,
    google_account,
    retry_after_value,
    retry_loop,
    retryable,
)

DRIVE_URL = "https://www.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/drive.readonly"
META_FIELDS = "id,name,mimeType,size,md5Checksum,modifiedTime,trashed,shortcutDetails"
CHANGE_FIELDS = f"nextPageToken,newStartPageToken,changes(fileId,removed,file({META_FIELDS}))"
BATCH_LIMIT = 100  # Google's limit of calls in one batch request
RATE_REASONS = {"userRateLimitExceeded", "rateLimitExceeded"}
_ALL_DRIVES = {"supportsAllDrives": "true"}


class DriveClient:
    """One service account's view of Drive. `email` is whom to share files with (for messages)."""

    def __init__(
        self,
        base_url: str,
        session: requests.Session,
        email: str,
        policy: RetryPolicy | None = None,
        counters: ApiCounters | None = None,
        sleep=time.sleep,
    ):
        self.base = base_url.rstrip("/")
        self.session, self.email = session, email
        self.policy = policy or RetryPolicy()
        self.counters = counters or ApiCounters()
        self.sleep = sleep

    @classmethod
    def from_settings(cls, settings) -> DriveClient:
        """The client for the configured endpoint and service account (ConfigError if unusable)."""
        base = str(settings.get("google_drive_url") or DRIVE_URL).rstrip("/")
        credentials, account = google_account(settings, base, "google_drive_url", "Google Drive")
        email = "the service account" if credentials == "none" else account
        try:
            session = _session(credentials)
        except (ValueError, OSError) as exc:  # a key file that is not a usable service-account key
            raise ConfigError(f"google_credentials {credentials}: {exc}") from None
        return cls(base, session, email, RetryPolicy.from_settings(settings))

    # -- calls --------------------------------------------------------------------------------------
    def get(self, file_id: str) -> dict:
        """files.get metadata (META_FIELDS); DriveError for an answer other than 200."""
        params = {"fields": META_FIELDS, **_ALL_DRIVES}
        url = f"{self.base}/drive/v3/files/{quote(file_id)}"
        return self._call(lambda: self._get(url, params, file_id)).json()

    def download(self, file_id: str, max_bytes: int) -> bytes:
        """alt=media: the file's bytes, refused past `max_bytes` without reading the rest."""
        url = f"{self.base}/drive/v3/files/{quote(file_id)}"
        params = {"alt": "media", **_ALL_DRIVES}
        return self._call(lambda: self._read_capped(url, params, file_id, max_bytes))

    def start_page_token(self) -> str:
        url = f"{self.base}/drive/v3/changes/startPageToken"
        return str(
            self._call(lambda: self._get(url, dict(_ALL_DRIVES), "")).json()["startPageToken"]
        )

    def changes(self, token: str) -> tuple[list[dict], str]:
        """Every change since `token` (all pages) and the token to start from next time."""
        url = f"{self.base}/drive/v3/changes"
        found: list[dict] = []
        while True:
            params = {
                "pageToken": token,
                "pageSize": "1000",
                "fields": CHANGE_FIELDS,
                "includeItemsFromAllDrives": "true",
                **_ALL_DRIVES,
            }
            page = self._call(lambda p=params: self._get(url, p, "")).json()
            found.extend(page.get("changes") or [])
            if page.get("newStartPageToken"):
                return found, str(page["newStartPageToken"])
            token = str(page["nextPageToken"])

    def batch_get(self, ids: Iterable[str]) -> dict[str, dict | DriveError]:
        """Metadata of many files, BATCH_LIMIT per request; per-file rate limits retried."""
        ids = list(dict.fromkeys(ids))
        results: dict[str, dict | DriveError] = {}
        for start in range(0, len(ids), BATCH_LIMIT):
            results.update(self._batch_chunk(ids[start : start + BATCH_LIMIT]))
        return results

    # -- plumbing -----------------------------------------------------------------------------------
    def _batch_chunk(self, chunk: list[str]) -> dict[str, dict | DriveError]:
        results: dict[str, dict | DriveError] = {}
        pending = chunk
        for number in range(self.policy.attempts):
            answers = self._call(lambda ids=pending: self._send_batch(ids))
            again: list[DriveError] = []
            for file_id in pending:
                code, headers, body = answers.get(file_id, (503, {}, {}))  # a lost part: ask again
                if code == 200:
                    results[file_id] = body
                    continue
                failure = self._failure(code, body, file_id, headers.get("retry-after"))
                results[file_id] = failure
                if failure.retry:
                    again.append(failure)
            pending = [f.file_id for f in again]
            if not pending or number == self.policy.attempts - 1:
                break
            self.counters.retries += 1
            waits = [f.wait for f in again if f.wait is not None]
            self.sleep(max(waits) if waits else self.policy.backoff(number))
        for file_id in pending:  # still refused after every attempt: the next sync asks again
            results[file_id] = _give_up(results[file_id], self.policy.attempts)
        return results

    def _send_batch(self, ids: list[str]) -> dict[str, tuple[int, dict, dict]]:
        boundary = "batch_" + uuid.uuid4().hex
        query = f"fields={quote(META_FIELDS, safe=',()')}&supportsAllDrives=true"
        parts = [
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item-{file_id}>\r\n\r\n"
            f"GET /drive/v3/files/{quote(file_id)}?{query} HTTP/1.1\r\n\r\n"
            for file_id in ids
        ]
        body = "".join(parts) + f"--{boundary}--\r\n"
        response = self._send(
            "POST",
            f"{self.base}/batch/drive/v3",
            "",
            data=body.encode(),
            headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
        )
        return parse_batch(response.headers.get("Content-Type", ""), response.content)

    def _get(self, url: str, params: dict, file_id: str) -> requests.Response:
        return self._send("GET", url, file_id, params=params)

    def _read_capped(self, url: str, params: dict, file_id: str, max_bytes: int) -> bytes:
        with self._send("GET", url, file_id, params=params, stream=True) as response:
            if int(response.headers.get("Content-Length") or 0) > max_bytes:
                raise _too_big(file_id, max_bytes)
            data = bytearray()
            for chunk in response.iter_content(1 << 16):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise _too_big(file_id, max_bytes)
            return bytes(data)

    def _send(self, method: str, url: str, file_id: str, **kwargs) -> requests.Response:
        self.counters.requests += 1
        self.counters.reads += 1
        response = self.session.request(method, url, timeout=self.policy.timeout, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            failure = self._failure(
                response.status_code, body, file_id, response.headers.get("Retry-After")
            )
            response.close()
            self.counters.note_error(f"{failure.code} {failure.reason}")
            raise failure
        self.counters.last_ok_at = time.time()
        return response

    def _failure(self, code: int, body: dict, file_id: str, wait: str | None) -> DriveError:
        failure = drive_failure(code, body, file_id, self.email)
        failure.wait = retry_after_value(wait, self.policy)
        return failure

    def _call(self, attempt: Callable):
        return retry_loop(
            attempt,
            classify=_classify,
            give_up=_give_up,
            policy=self.policy,
            counters=self.counters,
            sleep=self.sleep,
        )


def drive_failure(code: int, body: dict, file_id: str, email: str) -> DriveError:
    """Google's JSON error body as a DriveError a person can act on."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    reasons = [e.get("reason", "") for e in error.get("errors") or [] if isinstance(e, dict)]
    reason = reasons[0] if reasons else str(error.get("status", ""))
    message = str(error.get("message", ""))
    what = f"Google Drive file {file_id}" if file_id else "Google Drive"
    failure = _drive_failure(code, reason, message, what, email)
    failure.file_id = file_id
    return failure


def _drive_failure(code: int, reason: str, message: str, what: str, email: str) -> DriveError:
    if code == 404:
        return DriveError(
            f"{what} not found: it was deleted, or it is not shared with the service account - "
            f"share it with {email}",
            code,
            reason or "notFound",
        )
    if retryable(code) or (code == 403 and reason in RATE_REASONS):
        return DriveError(
            f"{what}: Drive is busy or over quota ({code} {reason})",
            code,
            reason,
            retry=True,
        )
    if code == 403 and reason == "fileNotDownloadable":
        return DriveError(
            f"{what} is a Google Docs editors file with no bytes to download", code, reason
        )
    if code == 403:
        return DriveError(
            f"{what}: access refused ({reason}: {message}); share it with {email} and check that "
            f"the Drive API is enabled for the service account's project",
            code,
            reason,
        )
    return DriveError(f"{what}: Drive answered {code} ({reason}: {message})", code, reason)


def _too_big(file_id: str, max_bytes: int) -> DriveError:
    return DriveError(
        f"Google Drive file {file_id} is larger than max_source_bytes ({max_bytes} bytes)"
    )


def _classify(exc: BaseException):
    if isinstance(exc, DriveError):
        return exc, exc.wait, exc.retry
    auth = _auth_failure(exc)
    if auth is not None:
        return auth, None, auth.retry
    if isinstance(
        exc, (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        return (
            DriveError(f"no answer from Google Drive ({type(exc).__name__})", retry=True),
            None,
            True,
        )
    if isinstance(exc, requests.RequestException):  # a bad URL, too many redirects...
        return DriveError(f"cannot reach Google Drive: {type(exc).__name__}: {exc}"), None, False
    return None


def _auth_failure(exc: BaseException) -> DriveError | None:
    """google-auth's sign-in failures (the JWT grant at the key's token_uri) as DriveErrors."""
    from google.auth import exceptions

    if isinstance(exc, exceptions.TransportError):
        return DriveError(f"no answer from Google sign-in ({exc})", retry=True)
    if isinstance(exc, exceptions.GoogleAuthError):
        return DriveError(
            f"the service account could not sign in to Google ({exc}): check the key in "
            f"google_credentials and that it is not disabled or deleted"
        )
    return None


def _give_up(failure: DriveError, tries: int) -> DriveError:
    given_up = DriveError(
        f"{failure} - gave up after {tries} attempt(s); the next sync tries again",
        failure.code,
        failure.reason,
        retry=True,
    )
    given_up.file_id = failure.file_id
    return given_up


@lru_cache(maxsize=4)
def _session(credentials: str) -> requests.Session:
    """A session for the service account (drive.readonly), reused for the process's life."""
    if credentials == "none":
        return requests.Session()
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2.service_account import Credentials

    return AuthorizedSession(Credentials.from_service_account_file(credentials, scopes=[SCOPE]))


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


def parse_batch(content_type: str, body: bytes) -> dict[str, tuple[int, dict, dict]]:
    """A multipart/mixed batch answer: {file id: (status, lower-case headers, JSON body)}.

    Content-IDs come back as <response-item-ID> for the <item-ID> we sent.
    """
    found = _BOUNDARY.search(content_type)
    if not found:
        raise DriveError("Google Drive batch answer is not multipart/mixed", retry=True)
    answers = {}
    for part in body.split(b"--" + found.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        outer, inner = _split_head(part.lstrip(b"\r\n"))
        content_id = outer.get("content-id", "").strip("<>")
        file_id = content_id.removeprefix("response-").removeprefix("item-")
        status_and_headers, payload = _split_head(inner, status=True)
        code = int(status_and_headers.pop(":status", "0"))
        try:
            answers[file_id] = (code, status_and_headers, json.loads(payload or b"{}"))
        except ValueError:
            answers[file_id] = (code, status_and_headers, {})
    return answers


def _split_head(data: bytes, status: bool = False) -> tuple[dict, bytes]:
    """(headers, rest) of a block of header lines, a blank line and a body (CRLF or LF)."""
    cut = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    end = min(cut) if cut else len(data)
    head, rest = data[:end], data[end:].lstrip(b"\r\n")
    lines = head.decode("latin-1").splitlines()
    headers = {}
    if status and lines:
        first = lines.pop(0).split()
        headers[":status"] = first[1] if len(first) > 1 else "0"
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, rest
