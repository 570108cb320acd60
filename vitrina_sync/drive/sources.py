"""Drive sources for planning and for jobs: metadata first, bytes second.

Planning never downloads bytes: a Drive row's fingerprint input is the file's md5Checksum, and
the file's type and size are checked from its metadata. Keeping that metadata current costs O(1)
Drive requests per sync whatever the row count: the first sync takes a changes start page token
(before reading any metadata, so an edit made while we read shows up next time) and reads every
file's metadata in batches of 100; later syncs make one changes.list from the saved token and ask
again only for files it names and files never seen. Cache and token live in the work folder
(drive.json), so a restarted server keeps them. Jobs read metadata again, then the bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, DriveError, RowError
from ..sources import caps
from .links import drive_file_id

if TYPE_CHECKING:
    from .client import DriveClient

GOOGLE_APPS = "application/vnd.google-apps."
APPS_KINDS = {
    "document": "a Google Doc",
    "spreadsheet": "a Google Sheet",
    "presentation": "a Google Slides presentation",
    "form": "a Google Form",
    "drawing": "a Google Drawing",
}
KEPT = ("id", "name", "mimeType", "size", "md5Checksum", "modifiedTime", "trashed")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def drive_ids(texts: Iterable[str]) -> list[str]:
    """File ids of the Source cells that are Drive links (bad ones are left to the row's parser)."""
    ids = []
    for text in texts:
        try:
            file_id = drive_file_id(text)
        except RowError:
            continue
        if file_id:
            ids.append(file_id)
    return list(dict.fromkeys(ids))


def checked_meta(meta: dict, max_bytes: int, file_id: str) -> dict:
    """`meta` when it is a photo file we may download; DriveError saying what it is otherwise."""
    name, kind = meta.get("name", ""), str(meta.get("mimeType", ""))
    label = f"{name!r} ({file_id})"
    if kind == GOOGLE_APPS + "folder":
        raise DriveError(f"Source is a Google Drive folder {label}, not a photo: link each photo")
    if kind == GOOGLE_APPS + "shortcut":
        target = (meta.get("shortcutDetails") or {}).get("targetId", "?")
        raise DriveError(
            f"Source is a Google Drive shortcut {label}, not the photo itself: link the file it "
            f"points to (gdrive://{target})"
        )
    if kind.startswith(GOOGLE_APPS):
        what = APPS_KINDS.get(kind[len(GOOGLE_APPS) :], f"a Google file of type {kind}")
        raise DriveError(
            f"Source is {what} {label}, not a photo: it has no image bytes; link a JPEG, PNG or "
            f"WEBP file"
        )
    if meta.get("trashed"):
        raise DriveError(f"Google Drive file {label} is in the trash: restore it or link another")
    size = int(meta.get("size") or 0)
    if size > max_bytes:
        raise DriveError(
            f"Google Drive file {label} is {size} bytes, over max_source_bytes ({max_bytes}): "
            f"not downloaded"
        )
    return meta


def source_fingerprint(meta: dict) -> str:
    """What stands for the bytes in the row's fingerprint: Drive's md5 of the content."""
    if meta.get("md5Checksum"):
        return "gdrive-md5:" + str(meta["md5Checksum"])
    # md5Checksum exists for every binary file; without it, the revision's time and size stand in.
    return f"gdrive:{meta.get('id')}:{meta.get('modifiedTime')}:{meta.get('size')}"


class DriveSources:
    """Metadata of the Drive files a catalog names, kept in step with Drive between syncs."""

    def __init__(self, settings, store: Path | None = None, client_factory=None):
        self.settings, self.store = settings, store
        self.client_factory = client_factory or _open_client
        self.key = [str(settings.get("google_drive_url")), str(settings.get("google_credentials"))]
        self.max_bytes = caps(settings)[1]
        self.token: str | None = None
        self.read_at = 0.0  # unix time of the last full read (a new token + every file's metadata)
        self.recheck = float(settings.get("drive_recheck_hours") or 0) * 3600
        self.files: dict[str, dict] = {}
        self.errors: dict[str, DriveError] = {}  # this sync's failures; never kept
        self.broken: str = ""  # why Drive cannot be used at all (credentials, endpoint)
        self.wanted: set[str] = set()
        self._client: DriveClient | None = None
        self.dirty = False
        self._load()

    @property
    def client(self) -> DriveClient:
        if self._client is None:
            self._client = self.client_factory(self.settings)
        return self._client

    def refresh(self, ids: Iterable[str]) -> None:
        """Bring the metadata of `ids` up to date (one changes.list; batches for files not known)."""
        ids = list(dict.fromkeys(ids))
        self.errors, self.wanted, self.broken = {}, set(ids), ""
        if not ids:
            return
        try:
            client = self.client
        except ConfigError as exc:
            self.broken = f"Google Drive cannot be used: {exc}"
            return
        self._catch_up(client)
        missing = [i for i in ids if i not in self.files]
        if missing:
            self._read(client, missing)

    def fingerprint_of(self, file_id: str) -> str:
        """The row's source fingerprint input, or a DriveError/RowError that says what is wrong."""
        if self.broken:
            raise RowError(self.broken)
        meta = self.files.get(file_id)
        if meta is None:
            if file_id in self.errors:
                raise self.errors[file_id]
            meta = self._lookup(file_id)  # not refreshed (pack time): one files.get
        return source_fingerprint(checked_meta(meta, self.max_bytes, file_id))

    def metrics(self) -> dict:
        """The Drive client's counters for /api/status and /metrics; {} before any Drive row."""
        if self._client is None:
            return {}
        return self._client.counters.as_dict() | {"files_known": len(self.files)}

    def save(self) -> None:
        if self.store is None or not self.dirty:
            return
        files = {i: m for i, m in self.files.items() if not self.wanted or i in self.wanted}
        payload = {"key": self.key, "token": self.token, "read_at": self.read_at, "files": files}
        self.store.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.store.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload), "utf-8")
        os.replace(tmp, self.store)
        self.dirty = False

    # -- internals ----------------------------------------------------------------------------------
    def _catch_up(self, client: DriveClient) -> None:
        if self.recheck and time.time() - self.read_at > self.recheck:
            self.token = None  # a safety net: read everything again now and then (setting)
        if self.token is not None:
            try:
                changes, token = client.changes(self.token)
            except DriveError as exc:
                if exc.retry:
                    # Drive busy or away: last sync's metadata stands and the token is kept, so
                    # the next sync sees every change made since.
                    return
                self.token = None  # the token was refused: start over
            else:
                return self._apply(changes, token)
        self.files, self.dirty = {}, True  # without a token nothing cached can be trusted
        self.read_at = time.time()
        try:
            self.token = client.start_page_token()
        except DriveError:
            self.token = None  # every file is read below; the next sync tries for a token again

    def _apply(self, changes: list[dict], token: str) -> None:
        for change in changes:
            file_id = change.get("fileId")
            if file_id in self.files:
                file = change.get("file")
                if change.get("removed") or not file or "mimeType" not in file:
                    del self.files[file_id]  # asked for again: a deleted file answers 404
                else:
                    self.files[file_id] = _kept(file)
        self.token, self.dirty = token, True

    def _read(self, client: DriveClient, missing: list[str]) -> None:
        try:
            answers = client.batch_get(missing)
        except DriveError as exc:
            answers = dict.fromkeys(missing, exc)
        for file_id in missing:
            answer = answers.get(file_id) or DriveError(
                f"Google Drive did not answer for {file_id}"
            )
            if isinstance(answer, DriveError):
                self.errors[file_id] = answer
            else:
                self.files[file_id], self.dirty = _kept(answer), True

    def _lookup(self, file_id: str) -> dict:
        try:
            meta = _kept(self.client.get(file_id))
        except ConfigError as exc:
            raise RowError(f"Google Drive cannot be used: {exc}") from None
        self.files[file_id] = meta
        return meta

    def _load(self) -> None:
        if self.store is None or not self.store.exists():
            return
        try:
            saved = json.loads(self.store.read_text("utf-8"))
        except (OSError, ValueError):
            return
        if saved.get("key") == self.key:  # another endpoint or account sees other files
            self.token, self.files = saved.get("token"), dict(saved.get("files") or {})
            self.read_at = float(saved.get("read_at") or 0)


def _open_client(settings) -> DriveClient:
    from .client import DriveClient  # requests and the HTTP stack only once a row links to Drive

    return DriveClient.from_settings(settings)


def _kept(meta: dict) -> dict:
    kept = {k: meta[k] for k in KEPT if k in meta}
    if "shortcutDetails" in meta:
        kept["shortcutDetails"] = {"targetId": meta["shortcutDetails"].get("targetId")}
    return kept


def fetch_source(file_id: str, settings, max_pixels: int, max_bytes: int):
    """A job's Drive source: (decoded image, a name to store the source under, its bytes).

    Metadata again first (the file may have changed since planning): nothing over the byte cap,
    and nothing that is not a binary file, is ever downloaded.
    """
    from ..imaging.load import decode_image

    own_key = os.environ.get("VITRINA_GOOGLE_CREDENTIALS")  # a worker host's own copy of the key
    if own_key:
        settings = {**settings, "google_credentials": own_key}
    try:
        client = _open_client(settings)
    except ConfigError as exc:
        raise RowError(f"Google Drive cannot be used: {exc}") from None
    meta = checked_meta(client.get(file_id), max_bytes, file_id)
    data = client.download(file_id, max_bytes)
    if meta.get("md5Checksum") and hashlib.md5(data).hexdigest() != meta["md5Checksum"]:
        raise DriveError(
            f"Google Drive file {file_id} changed while it was downloaded; the next sync tries again",
            retry=True,
        )
    name = str(meta.get("name") or file_id)
    suffix = _SUFFIX.search(name)
    stored = Path("source" + (suffix.group(0).lower() if suffix else ".bin"))
    return decode_image(data, name, max_pixels), stored, data
