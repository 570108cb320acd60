"""A local Google Drive API v3 server: the subset vitrina-sync uses, with Google's shapes.

Runs on 127.0.0.1 in a thread so tests drive the real client (vitrina_sync.drive.client) over real
HTTP. Speaks: files.get metadata (`fields` honoured at the top level), files.get alt=media,
changes.getStartPageToken, changes.list (pageToken / nextPageToken / newStartPageToken, pageSize),
and POST /batch/drive/v3 (multipart/mixed of application/http parts, at most 100, answered with
<response-item-...> Content-IDs). Errors are Google's JSON bodies: 404 notFound for files the
service account cannot see (never shared, deleted), 403 fileNotDownloadable for alt=media on Docs
editors files and folders, 403 userRateLimitExceeded / 429 rateLimitExceeded from the fault
switchboard. Tests act as the people: add, edit, trash, delete and unshare files; every request
(and every part of a batch) is recorded.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from .loopback import LoopbackServer

APPS = "application/vnd.google-apps."
BATCH_LIMIT = 100
STATUS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}
REASONS = {
    403: ("usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded"),
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("global", "backendError", "Backend Error"),
    503: ("global", "backendError", "Backend Error"),
}


class DriveApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, domain: str = "global"):
        super().__init__(message)
        self.code, self.reason, self.message, self.domain = code, reason, message, domain
        self.retry_after: float | None = None

    def body(self) -> dict:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"domain": self.domain, "reason": self.reason, "message": self.message}],
            }
        }


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    data: bytes = b""
    trashed: bool = False
    shared: bool = True  # False: the service account cannot see it (404, as Google answers)
    target: str = ""  # a shortcut's targetId
    modified: str = field(default_factory=lambda: _now())

    def meta(self) -> dict:
        meta = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "modifiedTime": self.modified,
            "trashed": self.trashed,
        }
        if not self.mime_type.startswith(APPS):  # size and md5 exist only for binary files
            meta["size"] = str(len(self.data))
            meta["md5Checksum"] = hashlib.md5(self.data).hexdigest()
        if self.target:
            meta["shortcutDetails"] = {"targetId": self.target, "targetMimeType": "image/jpeg"}
        return meta


@dataclass
class Fault:
    status: int
    times: float = 1
    kind: str | None = None  # "files.get", "files.download", "changes.list", "batch"... None = any
    retry_after: float | None = None


class FakeDriveApi(LoopbackServer):
    """The server's state, the people's edits and the fault switchboard. Use as a context manager."""

    def __init__(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self.changes: list[dict] = []  # change n has pageToken str(n + 1)
        self.requests: list[dict] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self._ids = 0
        self.tokens: dict[str, dict] = {}  # access token -> the JWT claims it was granted for
        self.require_auth = False  # True: API calls need a Bearer token from POST /token
        self.refuse_grants = False  # True: the token endpoint answers invalid_grant (key revoked)

    # -- the people ---------------------------------------------------------------------------------
    def add_file(self, name: str, data: bytes = b"", mime: str = "image/jpeg", **kw) -> str:
        with self.lock:
            self._ids += 1
            file_id = kw.pop("file_id", None) or f"1Fake{self._ids:06d}" + "x" * 20
            self.files[file_id] = DriveFile(file_id, name, mime, data, **kw)
            self._changed(file_id)
            return file_id

    def add_doc(self, name: str, kind: str = "document") -> str:
        return self.add_file(name, mime=APPS + kind)

    def add_folder(self, name: str) -> str:
        return self.add_file(name, mime=APPS + "folder")

    def add_shortcut(self, name: str, target: str) -> str:
        return self.add_file(name, mime=APPS + "shortcut", target=target)

    def edit(self, file_id: str, data: bytes) -> None:
        """New bytes: a new md5Checksum and modifiedTime, and a change entry."""
        with self.lock:
            self.files[file_id].data = data
            self.files[file_id].modified = _now()
            self._changed(file_id)

    def trash(self, file_id: str) -> None:
        with self.lock:
            self.files[file_id].trashed = True
            self._changed(file_id)

    def delete(self, file_id: str) -> None:
        with self.lock:
            del self.files[file_id]
            self._changed(file_id, removed=True)

    def share(self, file_id: str, shared: bool = True) -> None:
        with self.lock:
            self.files[file_id].shared = shared
            self._changed(file_id, removed=not shared)

    def _changed(self, file_id: str, removed: bool = False) -> None:
        self.changes.append({"fileId": file_id, "removed": removed})

    # -- counting and faults ------------------------------------------------------------------------
    def fail(
        self, status: int, times: float = 1, kind: str | None = None, retry_after=None
    ) -> None:
        """The next `times` matching requests (or batch parts) answer `status` with Google's body."""
        with self.lock:
            self.faults.append(Fault(status, times, kind, retry_after))

    def count(self, kind: str | None = None) -> int:
        """HTTP requests of a kind; batch parts are counted apart as "batch.<kind>"."""
        return sum(1 for r in self.requests if kind is None or r["kind"] == kind)

    def http_requests(self) -> int:
        return sum(1 for r in self.requests if not r["kind"].startswith("batch."))

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()

    def _take_fault(self, kind: str, prefix: str = "") -> DriveApiError | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind in (None, kind, prefix + kind) and fault.times > 0:
                    fault.times -= 1
                    domain, reason, message = REASONS.get(fault.status, ("global", "x", "Error"))
                    error = DriveApiError(fault.status, reason, message, domain)
                    error.retry_after = fault.retry_after
                    return error
        return None

    def _record(self, kind: str, path: str, query: dict, account: str = "") -> None:
        with self.lock:
            self.requests.append(
                {
                    "kind": kind,
                    "path": path,
                    "query": query,
                    "at": time.monotonic(),
                    "account": account,  # the service account whose token made the call
                }
            )

    # -- OAuth: the service-account JWT grant (RFC 7523), as oauth2.googleapis.com/token answers --
    def service_account_file(
        self, path, email: str = "vitrina@demo-project.iam.gserviceaccount.com"
    ):
        """A service-account key file whose token_uri is this server; API calls then need its token."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "demo-project",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": email,
            "client_id": "1",
            "token_uri": f"{self.url}/token",
        }
        path.write_text(json.dumps(info), "utf-8")
        self.require_auth = True
        return path

    def grant(self, form: dict) -> dict:
        self._record("oauth.token", "/token", {})
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            raise DriveApiError(400, "unsupported_grant_type", "Invalid grant_type")
        payload = form["assertion"][0].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        token = "ya29.fake-" + hashlib.sha256(payload.encode()).hexdigest()[:16]
        with self.lock:
            self.tokens[token] = claims
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def account_of(self, header: str | None) -> str:
        """The client_email (JWT iss) a Bearer token was granted to; '' without one."""
        claims = self.tokens.get((header or "").removeprefix("Bearer ")) or {}
        return str(claims.get("iss") or "")

    def authorised(self, header: str | None) -> bool:
        if not self.require_auth:
            return True
        claims = self.tokens.get((header or "").removeprefix("Bearer "))
        return bool(claims) and "drive.readonly" in claims.get("scope", "")

    # -- the API ------------------------------------------------------------------------------------
    def answer(
        self, method: str, path: str, query: dict, prefix: str = "", account: str = ""
    ) -> tuple[int, object]:
        """(status, JSON body or bytes) for one call; batch parts come here too."""
        kind, file_id = _route(method, path)
        if kind == "files.get" and query.get("alt") == ["media"]:
            kind = "files.download"
        self._record(prefix + kind, path, query, account)
        try:
            fault = self._take_fault(kind, prefix)
            if fault:
                raise fault
            return 200, self._dispatch(kind, file_id, query)
        except DriveApiError as exc:
            return exc.code, exc

    def _dispatch(self, kind: str, file_id: str, query: dict):
        if kind == "changes.getStartPageToken":
            return {"kind": "drive#startPageToken", "startPageToken": str(len(self.changes) + 1)}
        if kind == "changes.list":
            return self._changes_page(query)
        file = self._visible(file_id)
        if kind == "files.download":
            if file.mime_type.startswith(APPS):
                raise DriveApiError(
                    403,
                    "fileNotDownloadable",
                    "Only files with binary content can be downloaded. Use Export with Docs "
                    "Editors files.",
                )
            return file.data
        return _fields(file.meta(), (query.get("fields") or [""])[0])

    def _visible(self, file_id: str) -> DriveFile:
        file = self.files.get(file_id)
        if file is None or not file.shared:
            raise DriveApiError(404, "notFound", f"File not found: {file_id}.")
        return file

    def _changes_page(self, query: dict) -> dict:
        try:
            start = int(query["pageToken"][0])
        except (KeyError, ValueError):
            raise DriveApiError(400, "invalid", "Invalid Value") from None
        if not 1 <= start <= len(self.changes) + 1:
            raise DriveApiError(400, "invalid", "Invalid Value")
        size = int((query.get("pageSize") or ["100"])[0])
        window = self.changes[start - 1 : start - 1 + size]
        page: dict = {"kind": "drive#changeList", "changes": [self._change(c) for c in window]}
        if start - 1 + size < len(self.changes):
            page["nextPageToken"] = str(start + size)
        else:
            page["newStartPageToken"] = str(len(self.changes) + 1)
        return page

    def _change(self, change: dict) -> dict:
        entry = {"kind": "drive#change", "changeType": "file", **change}
        file = self.files.get(change["fileId"])
        if not change["removed"] and file is not None and file.shared:
            entry["file"] = file.meta()
        return entry


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _route(method: str, path: str) -> tuple[str, str]:
    if method == "GET" and path == "/drive/v3/changes/startPageToken":
        return "changes.getStartPageToken", ""
    if method == "GET" and path == "/drive/v3/changes":
        return "changes.list", ""
    found = re.fullmatch(r"/drive/v3/files/([^/]+)", path)
    if method == "GET" and found:
        return "files.get", unquote(found.group(1))
    return "unknown", ""


def _fields(meta: dict, fields: str) -> dict:
    """Top-level `fields` selection, as the real API applies it (nested selectors kept whole)."""
    if not fields or fields == "*":
        return meta
    names = {re.split(r"[(/]", part.strip())[0] for part in _top_level(fields)}
    return {k: v for k, v in meta.items() if k in names}


def _top_level(fields: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in fields:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake: FakeDriveApi

    def log_message(self, *args) -> None:
        pass

    def _refused(self) -> bool:
        if self.fake.authorised(self.headers.get("Authorization")):
            return False
        message = "Request had invalid authentication credentials."
        self._json(401, DriveApiError(401, "authError", message))
        return True

    def do_GET(self) -> None:
        if self._refused():
            return
        parts = urlsplit(self.path)
        account = self.fake.account_of(self.headers.get("Authorization"))
        status, body = self.fake.answer("GET", parts.path, parse_qs(parts.query), account=account)
        if isinstance(body, bytes):
            return self._reply(status, body, "application/octet-stream")
        self._json(status, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if urlsplit(self.path).path == "/token":
            if self.fake.refuse_grants:  # OAuth's own error shape, not the APIs' one
                refused = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
                return self._json(400, refused)
            try:
                return self._json(200, self.fake.grant(parse_qs(raw.decode())))
            except DriveApiError as exc:
                return self._json(400, exc)
        if self._refused():
            return
        if urlsplit(self.path).path != "/batch/drive/v3":
            return self._json(404, DriveApiError(404, "notFound", "Not Found"))
        account = self.fake.account_of(self.headers.get("Authorization"))
        self.fake._record("batch", "/batch/drive/v3", {}, account)
        fault = self.fake._take_fault("batch")
        if fault:
            return self._json(fault.code, fault)
        try:
            calls = _batch_calls(self.headers.get("Content-Type", ""), raw)
        except ValueError as exc:
            return self._json(400, DriveApiError(400, "badRequest", str(exc)))
        boundary = "batch_fake_" + hashlib.md5(raw).hexdigest()[:12]
        out = []
        for content_id, method, target in calls:
            parts = urlsplit(target)
            query = parse_qs(parts.query)
            status, body = self.fake.answer(method, parts.path, query, "batch.", account)
            payload = json.dumps(body.body() if isinstance(body, DriveApiError) else body)
            wait = getattr(body, "retry_after", None)
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: <response-{content_id}>\r\n\r\n"
                f"HTTP/1.1 {status} {STATUS.get(status, 'OK')}\r\n"
                + (f"Retry-After: {wait:g}\r\n" if wait is not None else "")
                + "Content-Type: application/json; charset=UTF-8\r\n"
                f"Content-Length: {len(payload.encode())}\r\n\r\n{payload}\r\n"
            )
        data = ("".join(out) + f"--{boundary}--\r\n").encode()
        self._reply(200, data, f"multipart/mixed; boundary={boundary}")

    def _json(self, status: int, body) -> None:
        headers = {}
        if isinstance(body, DriveApiError):
            if body.retry_after is not None:
                headers["Retry-After"] = f"{body.retry_after:g}"
            body = body.body()
        self._reply(status, json.dumps(body).encode(), "application/json; charset=UTF-8", headers)

    def _reply(self, code: int, data: bytes, kind: str, headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _batch_calls(content_type: str, raw: bytes) -> list[tuple[str, str, str]]:
    """(Content-ID, method, path?query) of each application/http part; ValueError if malformed."""
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/mixed") or not found:
        raise ValueError("batch requests must be multipart/mixed with a boundary")
    calls = []
    for part in raw.decode().split("--" + found.group(1))[1:]:
        if part.startswith("--"):
            break
        head, _, inner = part.lstrip("\r\n").partition("\r\n\r\n")
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (h.partition(":") for h in head.splitlines())
        }
        if headers.get("content-type") != "application/http":
            raise ValueError("each batch part must be Content-Type: application/http")
        request_line = inner.strip().splitlines()[0].split()
        calls.append((headers.get("content-id", "").strip("<>"), request_line[0], request_line[1]))
    if not calls or len(calls) > BATCH_LIMIT:
        raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} calls, not {len(calls)}")
    return calls


FakeDriveApi.handler = _Handler  # defined after the fake: it reads the fake's state
