"""The Ozon Seller API as this plugin calls it: paths, request bodies, and how answers are read.

The one file to change when Ozon changes a method. Every body built here and every answer read
here is checked in the tests against ../tests/contracts/seller-api.json, cut from Ozon's own
Swagger document (operations ProductAPI_GetProductInfoList, ProductAPI_ProductImportPictures,
ProductAPI_ProductInfoPicturesV2; provenance in ../tests/contracts/README.md).

Flow: offer_id -> product_id through /v3/product/info/list; then /v1/product/pictures/import
once per product (each call replaces ALL images of the product; the first image is the main
one); then /v2/product/pictures/info until each product shows its images or its errors.
"""

from __future__ import annotations

from collections.abc import Iterable

INFO_LIST = "/v3/product/info/list"
PICTURES_IMPORT = "/v1/product/pictures/import"
PICTURES_INFO = "/v2/product/pictures/info"
INFO_LIST_MAX = 1000  # "не больше 1000 товаров по параметрам offer_id, product_id и sku в сумме"
PICTURES_INFO_MAX = 1000  # v2ProductInfoPicturesRequest.product_id maxItems
MAX_IMAGES = 30  # images: 1 main + 29


def info_list_bodies(offer_ids: list[str]) -> list[dict]:
    """v3GetProductInfoListRequest bodies: offer_id lists of at most INFO_LIST_MAX."""
    return [
        {"offer_id": offer_ids[i : i + INFO_LIST_MAX]}
        for i in range(0, len(offer_ids), INFO_LIST_MAX)
    ]


def product_ids(answer: dict) -> dict[str, int]:
    """offer_id -> product_id from a v3GetProductInfoListResponse (`items[].id`)."""
    return {
        item["offer_id"]: int(item["id"])
        for item in answer.get("items") or []
        if item.get("offer_id") is not None and item.get("id") is not None
    }


def pictures_import_body(
    images: list[str], images360: Iterable[str] = (), color_image: str = ""
) -> dict:
    """productv1ProductImportPicturesRequest without product_id (known only at upload time)."""
    body: dict = {"images": list(images)[:MAX_IMAGES]}
    if images360:
        body["images360"] = list(images360)
    if color_image:
        body["color_image"] = color_image
    return body


def with_product_id(body: dict, product_id: int) -> dict:
    return {"product_id": int(product_id), **body}


def imported_count(answer: dict) -> int:
    """Pictures a pictures/import answer lists (`result.pictures`, state `imported` = queued)."""
    return len((answer.get("result") or {}).get("pictures") or [])


def pictures_info_bodies(ids: list[int]) -> list[dict]:
    """v2ProductInfoPicturesRequest bodies; product_id is int64 sent as a string (protobuf)."""
    return [
        {"product_id": [str(p) for p in ids[i : i + PICTURES_INFO_MAX]]}
        for i in range(0, len(ids), PICTURES_INFO_MAX)
    ]


def picture_states(answer: dict, expected: dict[int, int]) -> dict[int, tuple[bool, str]]:
    """Products whose pictures are settled: product_id -> (ok, message).

    A product is settled when Ozon lists errors for it (failed) or shows as many images as we
    sent (main in primary_photo, the rest in photo); anything else is still being processed."""
    settled = {}
    for item in answer.get("items") or []:
        pid = item.get("product_id")
        if pid is None or int(pid) not in expected:
            continue
        errors = item.get("errors") or []
        shown = len(item.get("primary_photo") or []) + len(item.get("photo") or [])
        if errors:
            reasons = "; ".join(_reason(e) for e in errors)
            settled[int(pid)] = (False, f"Ozon refused images: {reasons}")
        elif shown >= expected[int(pid)]:
            settled[int(pid)] = (True, f"{shown} image(s) uploaded")
    return settled


def _reason(error: dict) -> str:
    message = error.get("message") or "no reason given"
    return f"{message} ({error['url']})" if error.get("url") else message
