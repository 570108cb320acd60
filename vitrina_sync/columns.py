"""Catalog columns: canonical names, who owns them, and the header aliases people type."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # canonical key used in code
    header: str  # header written when the column is appended
    owner: str  # "people" or "machine"
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("sku", "SKU", "people", ("Артикул", "Vendor code", "Артикул продавца")),
    Column("source", "Source", "people", ("Исходный файл", "Фото", "Source photo", "Photo")),
    Column("mode", "Mode", "people", ("Режим",)),
    Column("preset", "Preset", "people", ("Пресет",)),
    Column("marketplaces", "Marketplaces", "people", ("Маркетплейсы", "Marketplace")),
    Column("category", "Category", "people", ("Категория",)),
    Column("wb_nmid", "WB nmID", "people", ("nmID", "WB nm ID", "Номенклатура WB", "nmID WB")),
    Column(
        "ozon_offer_id", "Ozon offer_id", "people", ("offer_id", "Ozon offer id", "Артикул Ozon")
    ),
    Column("kaspi_sku", "Kaspi SKU", "people", ("Артикул Kaspi", "Kaspi артикул")),
    Column("status", "Status", "machine", ("Статус",)),
    Column("result", "Result", "machine", ("Результат",)),
    Column("ai_version", "AI version", "machine", ("Версия ИИ",)),
    Column("qa", "QA", "machine", ("Контроль", "Проверка качества")),
    Column("audit", "Audit", "machine", ("Аудит",)),
    Column("fingerprint", "Fingerprint", "machine", ("Отпечаток",)),
    Column("message", "Message", "machine", ("Сообщение",)),
    Column("updated", "Updated", "machine", ("Обновлено",)),
    # The decision the server bound to a fingerprint: "<fp12> <decision signature>".
    Column("decision_fp", "Decision fingerprint", "machine", ("Отпечаток решения",)),
    # Added to the preset's seed (and part of the fingerprint): the review page's Regenerate bumps it.
    Column("seed", "Seed", "machine", ("Сид", "Seed offset")),
    Column("decision", "Decision", "people", ("Решение",)),
    Column("approver", "Approver", "people", ("Проверил",)),
    Column("review_date", "Review date", "people", ("Дата проверки",)),
    Column("reject_reason", "Reject reason", "people", ("Причина отказа",)),
)

BY_KEY = {c.key: c for c in COLUMNS}
MACHINE_KEYS = tuple(c.key for c in COLUMNS if c.owner == "machine")
REVIEW_KEYS = ("decision", "approver", "review_date", "reject_reason")
# Appended when missing, in this order, after the last used column.
APPENDED_KEYS = MACHINE_KEYS + REVIEW_KEYS
OPTIONAL_PEOPLE_KEYS = (
    "wb_nmid",
    "ozon_offer_id",
    "kaspi_sku",
    "category",
    "preset",
    "mode",
    "marketplaces",
)


def normalise_header(text: object) -> str:
    """Case-insensitive, ignoring spaces, underscores, dashes and a trailing '*'."""
    return re.sub(r"[\s_\-*.]+", "", str(text or "")).casefold()


_ALIASES: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.key, _col.header, *_col.aliases):
        _ALIASES[normalise_header(_name)] = _col.key


def column_key(header: object) -> str | None:
    """The canonical key a header cell names, or None for a column we do not know."""
    return _ALIASES.get(normalise_header(header))


def map_headers(headers: list[object]) -> tuple[dict[str, int], list[str]]:
    """Canonical key -> 0-based column index; plus problems (duplicate headers for one key)."""
    found: dict[str, int] = {}
    problems: list[str] = []
    for idx, header in enumerate(headers):
        key = column_key(header)
        if key is None:
            continue
        if key in found:
            problems.append(f"column {BY_KEY[key].header!r} appears twice (using the first)")
            continue
        found[key] = idx
    return found, problems
