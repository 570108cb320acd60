"""Fingerprint of a row's generation inputs: what must change for the picture to change.

= sha256 over the mode, preset name + parameters, the source file's bytes (by content hash), the
mode's version and the pipeline version, and a reviewer's touch-up strokes where there are any
(imaging.strokes.digest; a row without strokes keeps the fingerprint it always had). Marketplaces and category are not inputs of the picture
(packs and QA thresholds read them at their own time).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import PIPELINE_VERSION


class FileHashCache:
    """sha256 of files, remembered by (path, size, mtime_ns, inode) so a no-change sync reads no photo."""

    def __init__(self, store: Path | None = None):
        self.store = store
        self.entries: dict[str, list] = {}
        self.dirty = False
        if store is not None and store.exists():
            try:
                self.entries = json.loads(store.read_text("utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    def sha256(self, path: str) -> str:
        st = os.stat(path)
        key = [st.st_size, st.st_mtime_ns, st.st_ino]
        hit = self.entries.get(path)
        if hit is not None and hit[:3] == key:
            return hit[3]
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        self.entries[path] = [*key, digest.hexdigest()]
        self.dirty = True
        return digest.hexdigest()

    def save(self) -> None:
        if self.store is None or not self.dirty:
            return
        self.store.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.store.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries), "utf-8")
        os.replace(tmp, self.store)
        self.dirty = False


def fingerprint(
    mode: str,
    mode_version: str,
    preset_name: str,
    preset: dict,
    source_sha: str,
    touch_up: str = "",
) -> str:
    inputs = {
        "pipeline": PIPELINE_VERSION,
        "mode": mode,
        "mode_version": mode_version,
        "preset": preset_name,
        "params": preset,
        "source": source_sha,
    }
    if touch_up:
        inputs["touch_up"] = touch_up
    payload = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()
