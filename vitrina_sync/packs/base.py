"""The Marketplace contract plugins implement, and the plain data a pack is built from.

A plugin subclasses Marketplace, points `rules_path` at its rules file and overrides what its
marketplace does differently: the card id, file names, the manifests and (optionally) upload.
Everything else (rendering, validation, zip, report) is shared in packs.render/validate/build.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import VitrinaError
from .names import safe_stem
from .rules import SETTING_KEYS, Rules, apply_overrides, load_rules

ROLES = ("main", "extra", "detail", "social")


class PackError(VitrinaError):
    """A pack as a whole cannot be written (out folder not writable, no eligible rows...)."""


@dataclass
class PackItem:
    """One approved row's outputs, as plain data (what a catalog row becomes for a pack)."""

    sku: str
    fingerprint: str
    out_dir: Path  # OUT/<sku>/<fp12>/ with main.jpg|png, mask.png, variant_N.*
    ids: dict[str, str] = field(default_factory=dict)  # wb_nmid / ozon_offer_id / kaspi_sku
    row: int = 0
    variant: int = 1  # the variant the reviewer approved ("approved 2"): the main image of the card


@dataclass
class RenderedFile:
    role: str
    name: str  # zip entry name
    data: bytes
    width: int
    height: int
    format: str
    quality: int | None = None


@dataclass
class Card:
    """The files of one item, in upload order (main first), and what the report says about it."""

    item: PackItem
    key: str  # the marketplace's id for the card (nmID, offer_id, Kaspi SKU)
    files: list[RenderedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def dumps(obj: Any) -> bytes:
    """Deterministic JSON (sorted keys, fixed separators, UTF-8, trailing newline)."""
    return (json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def url_for(base_url: str, name: str) -> str:
    from urllib.parse import quote

    return f"{base_url.rstrip('/')}/{quote(name)}"


class Marketplace:
    """Base class of a marketplace plugin's contribution; `name` must be unique."""

    name = ""
    title = ""
    version = "0"
    rules_path: Path = Path()
    id_key = ""  # catalog column with this marketplace's card id (columns.py key)
    setting_keys: tuple[str, ...] = ()  # [marketplaces.<name>] keys the uploader reads
    manifest_files: tuple[str, ...] = ()

    def __init__(self, rules: Rules | None = None, config: Mapping[str, Any] | None = None):
        self.rules = rules if rules is not None else load_rules(self.rules_path)
        self.config = dict(config or {})

    def configured(self, settings: Mapping[str, Any] | None) -> Marketplace:
        """A copy with this deployment's [marketplaces.<name>] overrides and credentials."""
        section = dict(((settings or {}).get("marketplaces") or {}).get(self.name) or {})
        clone = copy.copy(self)
        where = f"[marketplaces.{self.name}]"
        clone.rules = apply_overrides(self.rules, section, where, self.setting_keys)
        keys = (*SETTING_KEYS, *self.setting_keys)
        clone.config = {k: v for k, v in section.items() if k in keys}
        return clone

    # ---- ids and names -------------------------------------------------------------------
    def card_key(self, item: PackItem) -> tuple[str, list[str]]:
        """The card id the marketplace knows the item by, and notes for the report."""
        return (item.ids.get(self.id_key) or item.sku), []

    def file_name(self, card: Card, number: int, ext: str) -> str:
        """Zip entry of the card's `number`-th file (1-based, main is 1)."""
        forbidden = (
            str(self.rules.get("file_name_forbidden").value)
            if "file_name_forbidden" in self.rules
            else ""
        )
        stem = safe_stem(card.key, forbidden)
        return f"{self.name}/{stem}/{number}.{ext}"

    # ---- manifests and upload ------------------------------------------------------------
    def manifests(self, cards: list[Card], base_url: str) -> tuple[dict[str, bytes], list[str]]:
        """Extra files for the pack in the marketplace's own terms, plus report notes."""
        return {}, []

    def upload(self, pack, client_kwargs: dict) -> list[dict]:
        """Send a built pack (packs.upload.LoadedPack); one result dict per card.

        Build the client with packs.upload.client_for(self, headers, **client_kwargs) so tests can
        inject sleep. Each result: {"sku", "card", "ok": bool, "message"}.
        """
        raise VitrinaError(f"{self.name}: this plugin has no uploader")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "version": self.version,
            "rules": self.rules.as_table(),
        }
