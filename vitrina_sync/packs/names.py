"""Zip entry names built only from a sanitised id + a fixed suffix (no zip-slip, no hidden files).

A name that had to change keeps a short hash of the original, so two SKUs that differ only in
characters we drop ("A/1", "A_1" for Ozon) can never end up as the same file.
"""

from __future__ import annotations

import hashlib
import re

MAX_STEM = 80
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(text: str, forbidden: str = "") -> str:
    """`text` as a file-name stem: ASCII letters, digits, '.', '-', '_' minus `forbidden`."""
    stem = _SAFE.sub("-", text)
    for ch in forbidden:
        stem = stem.replace(ch, "-")
    stem = re.sub(r"-{2,}", "-", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip(".-_")  # no '..', no leading '.' or '-'
    if stem != text or len(stem) > MAX_STEM or not stem:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        stem = f"{stem[: MAX_STEM - 9]}-{digest}" if stem else f"sku-{digest}"
    return stem


def check_arcname(name: str) -> str | None:
    """Why `name` is not a safe zip entry name, or None when it is."""
    if not name or name.startswith(("/", ".")) or "\\" in name or "\x00" in name:
        return f"unsafe entry name {name!r}"
    parts = name.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return f"unsafe entry name {name!r}"
    if re.match(r"^[A-Za-z]:", name):
        return f"drive letter in entry name {name!r}"
    return None
