"""The one Ozon operation no retrievable Swagger copy holds yet: POST /v2/product/pictures/import.

Ozon added it on 2026-09-03 and switched /v1/product/pictures/import off on 2026-10-01 (its own
changelog). The newest full Swagger found in public repositories predates it, so this adds the
operation to the vendored document by hand, from what was found (see
plugins/ozon/tests/contracts/README.md); every part is marked x-derived-from.

    python tests/contracts/vendor_openapi.py SWAGGER.json CUT.json POST:/v1/product/import/info ...
    python tests/contracts/ozon_pictures_v2.py plugins/ozon/tests/contracts/seller-api.json CUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SOURCES = (
    "Ozon Seller API changelog (docs.ozon.ru/api/seller, News, 3 Sep 2026): new method "
    "/v2/product/pictures/import; /v1/product/pictures/import deprecated, off 1 Oct 2026. "
    "Ozon's guide 'Порядок работы с методами': /v2/product/pictures/import then "
    "/v2/product/pictures/info. Field list, limits and answer: a Go Seller API SDK's update "
    "notes and contract test for the official Swagger captured 2026-10-06 (schemas "
    "product.v2.ProductImportPicturesV2Request, ...Request.Item, "
    "product.v2.ProductInfoPicturesV2Response): up to 100 items, up to 50 image URLs per item, "
    "offer_id, primary_image, color_image, images; answer task_id (int64); the task's result "
    "through /v1/product/import/info. Text located with code search on 2026-12-02; the "
    "repositories were not named by the search tool."
)
REQUEST, ITEM, ANSWER = (
    "product.v2.ProductImportPicturesV2Request",
    "product.v2.ProductImportPicturesV2Request.Item",
    "product.v2.ProductInfoPicturesV2Response",
)


def operation() -> dict:
    schema = "#/components/schemas/"
    return {
        "operationId": "ProductImportPicturesV2",
        "summary": "Загрузить или обновить изображения товара",
        "description": "Replaces ALL images of each item's product. x-derived-from: see x-sources.",
        "x-derived-from": SOURCES,
        "parameters": [
            {"$ref": "#/components/parameters/Client-Id"},
            {"$ref": "#/components/parameters/Api-Key"},
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": schema + REQUEST}}},
        },
        "responses": {
            "200": {"content": {"application/json": {"schema": {"$ref": schema + ANSWER}}}},
            **{
                code: {"content": {"application/json": {"schema": {"$ref": schema + "rpcStatus"}}}}
                for code in ("400", "403", "404", "409", "500")
            },
        },
    }


def schemas() -> dict:
    return {
        REQUEST: {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {"$ref": f"#/components/schemas/{ITEM}"},
                }
            },
        },
        ITEM: {
            "type": "object",
            "required": ["offer_id"],
            "description": "additionalProperties false is vitrina-sync's: only the fields found",
            "additionalProperties": False,
            "properties": {
                "offer_id": {"type": "string", "minLength": 1},
                "primary_image": {"type": "string"},
                "color_image": {"type": "string"},
                "images": {"type": "array", "maxItems": 50, "items": {"type": "string"}},
            },
        },
        ANSWER: {
            "type": "object",
            "required": ["task_id"],
            "properties": {"task_id": {"type": "integer", "format": "int64"}},
        },
    }


def main(path: str, cut: str) -> None:
    doc = json.loads(Path(cut).read_text(encoding="utf-8"))
    doc["paths"]["/v2/product/pictures/import"] = {"post": operation()}
    doc["components"]["schemas"].update(schemas())
    doc["x-vendored"]["added-by-hand"] = {"/v2/product/pictures/import": SOURCES}
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
