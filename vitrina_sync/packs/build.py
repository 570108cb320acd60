"""Build a pack: render + validate every item, then zip + manifests + report, atomically.

Deterministic by construction: items sorted by SKU, zip entries sorted with a fixed timestamp
and permissions, JSON with sorted keys and no clock values, so an unchanged input gives a
byte-identical zip. The zip is written to a temp name in the out folder and renamed at the end.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from ..errors import RowError
from .base import Card, Marketplace, PackError, PackItem, dumps
from .names import check_arcname
from .render import render_card
from .validate import Check, failures, validate_file

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class ItemResult:
    item: PackItem
    card: Card | None = None
    checks: list[Check] = field(default_factory=list)
    error: str = ""


@dataclass
class PackResult:
    zip_path: Path
    report_path: Path
    report: dict
    cards: list[Card]

    @property
    def skipped(self) -> list[dict]:
        return self.report["skipped"]


def process_item(item: PackItem, market: Marketplace) -> ItemResult:
    """Render and validate one item; any failure becomes the item's error, never a broken file."""
    try:
        card = render_card(item, market)
    except RowError as exc:
        return ItemResult(item, error=str(exc))
    checks = [c for f in card.files for c in validate_file(f, market.rules)]
    bad = failures(checks)
    if bad:
        return ItemResult(item, checks=checks, error="; ".join(bad))
    return ItemResult(item, card, checks)


def render_all(items: list[PackItem], market: Marketplace, workers: int) -> list[ItemResult]:
    """Pillow releases the GIL in decode/resize/encode, so threads use both cores without pickling."""
    ordered = sorted(items, key=lambda i: i.sku)
    if workers <= 1 or len(ordered) < 4:
        return [process_item(i, market) for i in ordered]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda i: process_item(i, market), ordered))


def check_base_url(base_url: str) -> str:
    parsed = urlparse(base_url or "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise PackError(
            f"--base-url {base_url!r}: need the http(s) address where the pack's files will be "
            "hosted (manifests hold their URLs): pass --base-url, set base_url in "
            "[marketplaces.<name>], or use --publish"
        )
    return base_url.rstrip("/")


def collect(results: list[ItemResult], skipped: list[dict]) -> tuple[list[Card], list[Check]]:
    """Cards that passed, with unique entry names; every other item joins `skipped`."""
    cards, checks, names, keys = [], [], set(), {}
    for res in results:
        checks.extend(res.checks)
        if res.card is None:
            skipped.append({"sku": res.item.sku, "row": res.item.row, "reason": res.error})
            continue
        clash = names & {f.name for f in res.card.files}
        if res.card.key in keys or clash:
            other = keys.get(res.card.key, "another row")
            skipped.append(
                {
                    "sku": res.item.sku,
                    "row": res.item.row,
                    "reason": f"card id {res.card.key!r} / file names clash with {other}",
                }
            )
            continue
        keys[res.card.key] = res.item.sku
        names.update(f.name for f in res.card.files)
        cards.append(res.card)
    return cards, checks


def card_report(card: Card) -> dict:
    return {
        "sku": card.item.sku,
        "row": card.item.row,
        "card": card.key,
        "fingerprint": card.item.fingerprint,
        "notes": card.notes,
        "files": [
            {
                "name": f.name,
                "role": f.role,
                "width": f.width,
                "height": f.height,
                "bytes": len(f.data),
                "format": f.format,
                "quality": f.quality,
            }
            for f in card.files
        ],
    }


def build_pack(
    items: list[PackItem],
    market: Marketplace,
    out_dir: Path,
    base_url: str,
    skipped: list[dict] | None = None,
    workers: int = 2,
) -> PackResult:
    """Write OUT/<marketplace>.zip and its report; `skipped` holds rows selection left out."""
    base_url = check_base_url(base_url)
    skipped = sorted(skipped or [], key=lambda s: (s["sku"], s.get("row", 0)))
    ensure_writable(out_dir)
    results = render_all(items, market, workers)
    cards, checks = collect(results, skipped)
    manifests, notes = market.manifests(cards, base_url)
    report = {
        "marketplace": market.name,
        "plugin_version": market.version,
        "base_url": base_url,
        "counts": {
            "cards": len(cards),
            "files": sum(len(c.files) for c in cards),
            "skipped": len(skipped),
            "checks": len(checks),
            "failed_checks": sum(not c.ok for c in checks),
        },
        "cards": [card_report(c) for c in cards],
        "skipped": skipped,
        "checks": [c.as_dict() for c in checks],
        "notes": notes,
        "rules": market.rules.as_table(),
    }
    entries = {f.name: f.data for c in cards for f in c.files}
    entries.update(manifests)
    entries["report.json"] = dumps(report)
    zip_path = out_dir / f"{market.name}.zip"
    write_zip_atomic(zip_path, entries)
    report_path = out_dir / f"{market.name}.report.json"
    write_atomic(report_path, dumps(report))
    return PackResult(zip_path, report_path, report, cards)


def ensure_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".vitrina-probe-"):
            pass
    except OSError as exc:
        raise PackError(f"cannot write packs to {out_dir}: {exc.strerror or exc}") from None


def zip_bytes_entries(zf: zipfile.ZipFile, entries: dict[str, bytes]) -> None:
    for name in sorted(entries):
        problem = check_arcname(name)
        if problem:
            raise PackError(problem)
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.create_system = 3
        info.external_attr = 0o644 << 16
        stored = name.endswith((".jpg", ".png", ".xlsx"))  # already compressed
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        zf.writestr(info, entries[name], compresslevel=6)


def write_zip_atomic(path: Path, entries: dict[str, bytes]) -> None:
    try:
        tmp = _temp_path(path)
    except OSError as exc:
        raise PackError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            zip_bytes_entries(zf, entries)
        os.replace(tmp, path)
    except OSError as exc:
        raise PackError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(path: Path, data: bytes) -> None:
    try:
        tmp = _temp_path(path)
    except OSError as exc:
        raise PackError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise PackError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _temp_path(path: Path) -> Path:
    """A unique hidden temp file beside `path` (two builds at once, e.g. web threads, never share)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the pack from the web server / uploader user
    os.close(fd)
    return Path(name)
