"""Where a row's touch-up strokes live between the review page and the next sync.

<out>/.vitrina/touch-up/<key of the SKU>/<key of the source sha>.json holds the strokes a reviewer
drew on one source (by its content hash), who drew them and when. Planning reads the file of the
row's CURRENT source: a changed source has another hash, finds no file, and starts fresh (saving
new strokes for a SKU removes the files of its other sources). The strokes also go into the
output folder (strokes.json) and into the fingerprint, so a re-run reproduces the picture.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path


def _key(text: str) -> str:  # any SKU or "url:..." source hash as a portable file name
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def folder(out_root: Path | str, sku: str) -> Path:
    return Path(out_root) / ".vitrina" / "touch-up" / _key(sku)


def path_for(out_root: Path | str, sku: str, source_sha: str) -> Path:
    return folder(out_root, sku) / f"{_key(source_sha)}.json"


def digest(strokes: list[dict]) -> str:
    """sha256 of canonical strokes (imaging.strokes.validate): the fingerprint's touch-up input."""
    text = json.dumps(strokes, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def drawn(out_root: Path | str) -> frozenset[str]:
    """The keys of the SKUs that have strokes: planning lists them once per sync instead of
    trying to open a file for every row (45 us a row, 0.45 s a cycle on a 10k-row sheet)."""
    root = Path(out_root) / ".vitrina" / "touch-up"
    try:
        return frozenset(p.name for p in root.iterdir())
    except OSError:
        return frozenset()


def load(
    out_root: Path | str, sku: str, source_sha: str, listed: frozenset[str] | None = None
) -> list[dict]:
    """The strokes drawn on this source of this SKU; [] when none (or the file is unreadable).
    listed: drawn(out_root) taken at the start of a sync, or None to look at the file itself."""
    if listed is not None and _key(sku) not in listed:
        return []
    try:
        entry = json.loads(path_for(out_root, sku, source_sha).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if entry.get("sku") != sku or entry.get("source_sha") != source_sha:
        return []
    strokes = entry.get("strokes")
    return strokes if isinstance(strokes, list) else []


def save(out_root: Path | str, sku: str, source_sha: str, strokes: list[dict], by: str) -> Path:
    """Atomically; the strokes of the SKU's other sources are dropped."""
    target = path_for(out_root, sku, source_sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "sku": sku,
        "source_sha": source_sha,
        "strokes": strokes,
        "by": by,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(entry, sort_keys=True), "utf-8")
    os.replace(tmp, target)
    for other in target.parent.glob("*.json"):
        if other != target:
            other.unlink(missing_ok=True)
    return target
