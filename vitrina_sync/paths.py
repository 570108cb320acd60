"""Source values from cells are untrusted: resolve them safely or refuse with a row error."""

from __future__ import annotations

import ipaddress
import re
import socket
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from .errors import RowError

_DRIVE = re.compile(r"^[A-Za-z]:")


def resolve_source(value: str, asset_root: Path) -> Path:
    """The file a Source cell names, which must resolve (symlinks followed) inside asset_root."""
    text = check_relative(value)
    root = _resolved(str(asset_root))
    candidate = root / text
    try:
        resolved = candidate.resolve(strict=True)
    except FileNotFoundError:
        raise RowError(f"source file not found: {text}") from None
    except (OSError, RuntimeError) as exc:
        raise RowError(f"source file unreadable: {text} ({exc})") from None
    if not resolved.is_relative_to(root):
        raise RowError(f"Source points outside the asset folder (symlink?): {text!r}")
    if not resolved.is_file():
        raise RowError(f"Source is not a file: {text}")
    return resolved


def check_relative(value: str) -> str:
    """The cell as a relative path that cannot leave its root (no '..', absolute, NUL, backslash);
    the same rules for a folder and for the keys under an `s3://` asset root."""
    text = value.strip()
    if not text:
        raise RowError("Source is empty")
    if "\x00" in text:
        raise RowError("Source contains a NUL character")
    if text.startswith(("/", "~", "\\\\")) or _DRIVE.match(text):
        raise RowError(f"Source must be a path relative to the asset folder, not {text!r}")
    if "\\" in text:
        raise RowError(f"Source uses backslashes: {text!r} (use '/')")
    if ".." in Path(text).parts:
        raise RowError(f"Source leaves the asset folder: {text!r}")
    return text


@lru_cache(maxsize=16)
def _resolved(root: str) -> Path:
    """The asset root, resolved once: planning resolves a path per row, and this was the second."""
    return Path(root).resolve()


def is_url(value: str) -> bool:
    return value.strip().lower().startswith(("http://", "https://"))


def check_url(value: str, allowlist: str = "") -> str:
    """An https URL whose host is allowed and resolves only to global addresses; RowError otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme != "https":
        raise RowError("Source URLs must use https")
    host = (parts.hostname or "").lower()
    allowed = {h.strip().lower() for h in allowlist.split(",") if h.strip()}
    if not host or (allowed and host not in allowed):
        raise RowError(f"Source URL host {host!r} is not allowed")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise RowError(f"Source URL host {host!r} does not resolve") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        if not addr.is_global:
            raise RowError(f"Source URL host {host!r} resolves to a non-public address")
    return value.strip()
