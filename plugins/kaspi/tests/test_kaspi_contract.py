"""Kaspi's import body and answer readers (vitrina_kaspi/api.py) against its published schema."""

from __future__ import annotations

from pathlib import Path

from vitrina_kaspi import api

from vitrina_sync.packs.contracts import load_contract

DOC = Path(__file__).with_name("contracts") / "shop-api.json"
PRODUCT = {
    "sku": "KS1",
    "title": "Кружка",
    "brand": "Vitrina",
    "category": "Master - Mugs",
    "attributes": [{"code": "Mugs*Obshie harakteristiki.mugs*volume", "value": 300}],
    "price": 1990,  # not part of the import: dropped
}
IMAGES = [{"url": "https://cdn.example.kz/kaspi/KS1-1.jpg"}]


def shop_api():
    return load_contract(DOC)


def test_the_vendored_document_says_where_it_came_from():
    doc = shop_api()
    assert "guide.kaspi.kz/partner/ru/shop/api/goods/q3223" in doc.source["from"]
    schema = doc.doc["components"]["schemas"]["ProductsImport"]
    assert schema["items"]["required"] == list(
        api.REQUIRED
    )  # what the plugin checks before sending


def test_a_complete_product_with_the_packs_images_matches_the_schema():
    body = api.product_body(PRODUCT, IMAGES)
    assert "price" not in body and body["images"] == IMAGES
    assert api.missing_fields(body) == []
    assert shop_api().request_errors("POST", api.IMPORT, [body]) == []


def test_images_alone_are_refused_by_the_schema_and_by_the_plugin():
    alone = api.product_body({"sku": "KS1"}, IMAGES)
    assert api.missing_fields(alone) == ["title", "brand", "category", "attributes"]
    errors = shop_api().request_errors("POST", api.IMPORT, [alone])
    assert any("'title' is a required property" in e for e in errors)


def test_status_and_result_answers_read_as_the_guide_shows_them():
    doc = shop_api()
    status = doc.doc["components"]["schemas"]["ImportStatus"]["x-derived-from-example"]
    assert doc.response_errors("GET", api.IMPORT, 200, status) == []
    assert status["status"] not in api.PENDING
    result = doc.doc["components"]["schemas"]["ImportResult"]["x-derived-from-example"]
    assert doc.response_errors("GET", api.RESULT, 200, result) == []
    assert api.sku_results(result) == {"Testsku": (True, "imported")}
    failed = {"result": {"KS1": {"state": "ERROR", "errors": ["bad image"]}}}
    assert api.sku_results(failed)["KS1"][0] is False
    assert doc.response_errors("GET", api.RESULT, 200, {"status": "FINISHED"})  # our old reading
