"""The Ozon Seller API as this plugin calls it: paths, request bodies, and how answers are read.

The one file to change when Ozon changes a method. Every body built here and every answer read
here is checked in the tests against ../tests/contracts/seller-api.json (provenance in
../tests/contracts/README.md).

Flow (Ozon's changelog, 3 Sep 2026: /v1/product/pictures/import is off since 1 Oct 2026):
POST /v2/product/pictures/import with up to 100 items {offer_id, primary_image, images} - each
item replaces ALL images of its product - answers a task_id; POST /v1/product/import/info with
that task_id gives each offer's status (pending until Ozon has processed it).
"""

from __future__ import annotations

PICTURES_IMPORT = "/v2/product/pictures/import"
IMPORT_INFO = "/v1/product/import/info"
BATCH = 100  # items per pictures/import request
MAX_IMAGES = 30  # primary_image + images (rules.toml max_images; the method takes up to 50)
DONE_OK = {"imported": "imported", "skipped": "unchanged (Ozon skipped: nothing changed)"}
PENDING = ("pending", "")


def item(offer_id: str, urls: list[str], color_image: str = "") -> dict:
    """One product's images: the first URL is the main image, the rest follow in order."""
    body = {"offer_id": offer_id, "primary_image": urls[0], "images": urls[1:MAX_IMAGES]}
    if color_image:
        body["color_image"] = color_image
    return body


def pictures_import_bodies(items: list[dict]) -> list[dict]:
    """ProductImportPicturesV2Request bodies of at most BATCH items."""
    return [{"items": items[i : i + BATCH]} for i in range(0, len(items), BATCH)]


def task_id(answer: dict) -> int | None:
    """The task of a pictures/import answer: top-level task_id as documented; `result.task_id`
    (the shape of /v3/product/import's answer) is read too, so either wording works."""
    found = answer.get("task_id") or (answer.get("result") or {}).get("task_id")
    return int(found) if found else None


def import_info_body(task: int) -> dict:
    return {"task_id": int(task)}


def offer_states(answer: dict) -> dict[str, tuple[bool, str]] | None:
    """offer_id -> (ok, message) from /v1/product/import/info, or None while any is pending."""
    items = (answer.get("result") or {}).get("items") or []
    if not items or any(i.get("status", "") in PENDING for i in items):
        return None
    return {i["offer_id"]: _state(i) for i in items if "offer_id" in i}


def _state(entry: dict) -> tuple[bool, str]:
    status = entry.get("status", "")
    if status in DONE_OK:
        return True, DONE_OK[status]
    reasons = "; ".join(
        e.get("message") or e.get("description") or e.get("code") or str(e)
        for e in entry.get("errors") or []
    )
    return False, f"{status}: {reasons or 'no reason given'}"
