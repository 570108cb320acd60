"""Which Source cells are Google Drive files, and their file ids (pure: no network).

A Drive link is never fetched as a web page: any URL on drive.google.com / docs.google.com either
names a file id here or is a row error saying what it is, so it can never fall through to the
https-URL path (and never needs allow_urls).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from ..errors import RowError

SCHEME = "gdrive://"
# drive.usercontent.google.com: where Drive's download links land since 2024 (/download?id=...)
DRIVE_HOSTS = {"drive.google.com", "docs.google.com", "drive.usercontent.google.com"}
_ID = re.compile(r"[A-Za-z0-9_-]{10,128}")
_FILE_PATH = re.compile(r"^(?:/u/\d+)?/file/d/([^/?#]+)(?:/[^?#]*)?$")
_QUERY_PATHS = re.compile(r"^(?:/u/\d+)?/(?:open|uc|download)/?$")
# Links people paste that name something in Drive that is not a photo file.
_NOT_A_FILE = (
    (
        re.compile(r"/drive/(?:u/\d+/)?folders/"),
        "a Drive folder, not a photo: link each photo file",
    ),
    (re.compile(r"^/document/"), "a Google Doc, not a photo"),
    (re.compile(r"^/spreadsheets/"), "a Google Sheet, not a photo"),
    (re.compile(r"^/presentation/"), "a Google Slides file, not a photo"),
    (re.compile(r"^/forms/"), "a Google Form, not a photo"),
)


def drive_file_id(text: str) -> str | None:
    """The file id a Source cell names in Drive, None when it is no Drive link; RowError when it
    is a Drive link that names no photo file (a folder, a Doc, a link without an id)."""
    value = text.strip()
    if value[: len(SCHEME)].lower() == SCHEME:
        return _checked_id(value[len(SCHEME) :], value)
    if not value.lower().startswith(("http://", "https://")):
        return None
    parts = urlsplit(value)
    if (parts.hostname or "").lower() not in DRIVE_HOSTS:
        return None
    return _id_from_url(parts, value)


def _id_from_url(parts, value: str) -> str:
    path = parts.path
    found = _FILE_PATH.match(path)
    if found:
        return _checked_id(found.group(1), value)
    if _QUERY_PATHS.match(path):
        ids = parse_qs(parts.query).get("id")
        if ids:
            return _checked_id(ids[0], value)
    for pattern, what in _NOT_A_FILE:
        if pattern.search(path):
            raise RowError(f"Source is {what}: {value}")
    raise RowError(
        f"Source is a Google Drive link that names no file: {value} (use the file's share link, "
        f"https://drive.google.com/file/d/<id>/view, or gdrive://<id>)"
    )


def _checked_id(candidate: str, value: str) -> str:
    if not _ID.fullmatch(candidate):
        raise RowError(f"Source names no valid Google Drive file id: {value}")
    return candidate


def drive_source(file_id: str) -> str:
    """The canonical form a job carries: gdrive://<id>."""
    return SCHEME + file_id


def is_drive_source(source: str) -> bool:
    return source.startswith(SCHEME)


def source_id(source: str) -> str:
    return source[len(SCHEME) :]
