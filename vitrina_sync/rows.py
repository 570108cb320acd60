"""Parse and validate one catalog row (pure): a RowSpec to process, or a RowError saying why not.

This is the ONE place people's cells are read (SKU, Source, Mode, Preset, Seed, Marketplaces,
Category, Decision, Approver, Review date): whatever a cell holds, the result is a RowSpec or a
RowError whose message becomes that row's Message. Cell text is quoted in messages through
`shown`, so a 100,000-character cell makes a short message, not a longer cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import presets
from .catalog.model import Row
from .decisions import Decision, parse_decision
from .errors import RowError, shown
from .sources import resolve as resolve_source

MODE_ALIASES = {
    "": "white",
    "white": "white",
    "белый": "white",
    "белый фон": "white",
    "card": "card",
    "карточка": "card",
    "scene": "scene",
    "сцена": "scene",
    "apparel": "apparel",
    "одежда": "apparel",
}
MARKETPLACE_ALIASES = {
    "kaspi": "kaspi",
    "kaspi.kz": "kaspi",
    "каспи": "kaspi",
    "wildberries": "wildberries",
    "wb": "wildberries",
    "вб": "wildberries",
    "вайлдберриз": "wildberries",
    "ozon": "ozon",
    "озон": "ozon",
}


@dataclass
class RowSpec:
    """A valid row: everything a job needs to make its picture."""

    sku: str
    source: str  # absolute path, gdrive://<file id>, s3:// URL of an object, or an https URL
    source_text: str  # the cell as typed
    mode: str
    preset_name: str
    preset: dict[str, Any]
    marketplaces: list[str] = field(default_factory=list)
    category: str = ""
    decision: Decision = field(default_factory=lambda: Decision(""))
    approver: str = ""
    review_date: str = ""
    # what the source's storage reports for its content (an S3 ETag); when set, the fingerprint
    # uses it instead of hashing the bytes (sources.resolve)
    source_version: str = ""


def parse_mode(text: str, known_modes) -> str:
    mode = MODE_ALIASES.get(text.strip().casefold(), text.strip().casefold())
    if mode not in known_modes:
        raise RowError(f"unknown mode {shown(text)} (known: {', '.join(sorted(known_modes))})")
    return mode


def parse_marketplaces(text: str, known: set[str]) -> list[str]:
    names = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().casefold()
        if not part:
            continue
        name = MARKETPLACE_ALIASES.get(part, part)
        if name not in known:
            raise RowError(f"unknown marketplace {shown(part)} (known: {', '.join(sorted(known))})")
        if name not in names:
            names.append(name)
    return names


MAX_SEED_OFFSET = 1_000_000


def seed_offset(text: str) -> int:
    """The Regenerate counter; anything that is not a small whole number counts as none."""
    try:
        value = int(str(text).strip() or 0)
    except ValueError:  # also a number longer than Python's 4300-digit limit
        return 0
    return value if abs(value) <= MAX_SEED_OFFSET else 0


def parse_row(
    row: Row, asset_root: Path, settings, known_modes, known_marketplaces: set[str]
) -> RowSpec:
    """RowSpec for `row`, or RowError with the first problem found."""
    sku = row.sku
    if not sku:
        raise RowError("SKU is empty")
    mode = parse_mode(row.get("mode"), known_modes)
    preset_name = row.get("preset").strip()
    params = presets.resolve(mode, preset_name, settings)
    offset = seed_offset(row.get("seed"))
    if offset:  # Regenerate: a new seed is a new input, so a new fingerprint and a new picture
        params["seed"] = int(params.get("seed", 0)) + offset
        params["seed_offset"] = offset
    marketplaces = parse_marketplaces(row.get("marketplaces"), known_marketplaces)
    text = row.get("source")
    source, version = resolve_source(text, asset_root, settings)
    return RowSpec(
        sku,
        source,
        text,
        mode,
        preset_name or "default",
        params,
        marketplaces,
        row.get("category"),
        parse_decision(row.get("decision")),
        row.get("approver"),
        row.get("review_date"),
        version,
    )
