"""Wildberries' content API as this plugin calls it: paths, request bodies, reading answers.

The one file to change when WB changes a method. Bodies and answers are checked in the tests
against ../tests/contracts/content-api.json, cut from WB's own OpenAPI file for the products
section (02-products.yaml; provenance in ../tests/contracts/README.md).
"""

from __future__ import annotations

SAVE = "/content/v3/media/save"
CARDS = "/content/v2/get/cards/list"
MAX_MEDIA = 30  # "максимум изображений для одной карточки товара — 30"


def media_save_body(nm_id: int, urls: list[str]) -> dict:
    """{nmId, data}: the card's media in order; replaces everything the card had."""
    return {"nmId": int(nm_id), "data": list(urls)[:MAX_MEDIA]}


def refused(answer: dict) -> str | None:
    """WB's reason when a 200 answer still says error, else None."""
    if answer.get("error"):
        return str(answer.get("errorText") or answer)
    return None


CARDS_LIMIT = 100  # cards per cards/list answer (WB's maximum)


def cards_list_body(search: str) -> dict:
    """Cards matching an nmID or a vendor code (textSearch also matches barcodes, hence more
    than one card and the exact match in photo_count / nm_id_of), with or without photos."""
    settings = {"cursor": {"limit": CARDS_LIMIT}, "filter": {"textSearch": search, "withPhoto": -1}}
    return {"settings": settings}


def photo_count(answer: dict, nm_id: int) -> int | None:
    """Photos of card nm_id in a cards/list answer, or None when the card is not there."""
    for card in answer.get("cards") or []:
        if card.get("nmID") == nm_id:
            return len(card.get("photos") or [])
    return None


def nm_id_of(answer: dict, vendor_code: str) -> int | None:
    """nmID of the card with this vendor code in a cards/list answer, or None."""
    for card in answer.get("cards") or []:
        if card.get("vendorCode") == vendor_code and isinstance(card.get("nmID"), int):
            return card["nmID"]
    return None
