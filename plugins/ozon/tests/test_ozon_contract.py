"""Ozon's bodies and answer readers (vitrina_ozon/api.py) against the vendored Seller API."""

from __future__ import annotations

from pathlib import Path

from vitrina_ozon import api

from vitrina_sync.packs.contracts import load_contract

DOC = Path(__file__).with_name("contracts") / "seller-api.json"
URLS = [f"https://cdn.example.ru/ozon/OF-{n}.jpg" for n in range(1, 4)]


def seller_api():
    return load_contract(DOC)


def test_the_vendored_document_says_where_it_came_from():
    source = seller_api().source
    assert "ozon-swagger-docs/swagger.json" in source["from"] and source["taken"] == "2026-12-02"
    assert set(seller_api().doc["paths"]) == {api.INFO_LIST, api.PICTURES_IMPORT, api.PICTURES_INFO}


def test_request_bodies_match_the_documented_schemas():
    doc = seller_api()
    for body in api.info_list_bodies(["A_1", "B-2"]):
        assert doc.request_errors("POST", api.INFO_LIST, body) == []
    body = api.with_product_id(api.pictures_import_body(URLS, ["https://x/360.jpg"], "#fff"), 42)
    assert body["product_id"] == 42 and body["images"][0] == URLS[0]  # first is main
    assert doc.request_errors("POST", api.PICTURES_IMPORT, body) == []
    for body in api.pictures_info_bodies([42, 43]):
        assert doc.request_errors("POST", api.PICTURES_INFO, body) == []


def test_the_old_invented_shape_is_refused_by_the_document():
    """What vitrina-sync sent before: an items list to a path Ozon does not document."""
    old = {"items": [{"offer_id": "A", "primary_image": URLS[0], "images": URLS[1:]}]}
    doc = seller_api()
    assert doc.request_errors("POST", "/v2/product/pictures/import", old)
    errors = doc.request_errors("POST", api.PICTURES_IMPORT, old)
    assert any("'product_id' is a required property" in e for e in errors)
    assert doc.request_errors("POST", api.PICTURES_INFO, {"product_id": [42]})  # int64 as string


def test_batches_keep_the_documented_limits():
    offers = [f"of{n}" for n in range(2500)]
    bodies = api.info_list_bodies(offers)
    assert [len(b["offer_id"]) for b in bodies] == [1000, 1000, 500]
    assert len(api.pictures_import_body(URLS * 20)["images"]) == 30
    assert [len(b["product_id"]) for b in api.pictures_info_bodies(list(range(1001)))] == [1000, 1]


def test_answers_read_as_documented():
    doc = seller_api()
    listing = {"items": [{"id": 7, "offer_id": "A_1", "sku": 99}, {"offer_id": "no-id"}]}
    assert doc.response_errors("POST", api.INFO_LIST, 200, listing) == []
    assert api.product_ids(listing) == {"A_1": 7}
    shown = {"product_id": 7, "primary_photo": ["m"], "photo": ["a", "b"], "errors": []}
    refused = {"product_id": 8, "errors": [{"message": "bad file", "url": "https://x/1.jpg"}]}
    waiting = {"product_id": 9, "primary_photo": [], "photo": []}
    info = {"items": [shown, refused, waiting]}
    assert doc.response_errors("POST", api.PICTURES_INFO, 200, info) == []
    states = api.picture_states(info, {7: 3, 8: 1, 9: 2})
    assert states[7] == (True, "3 image(s) uploaded")
    assert states[8] == (False, "Ozon refused images: bad file (https://x/1.jpg)")
    assert 9 not in states  # still processing
    pictures = {"result": {"pictures": [{"state": "imported", "is_primary": True, "url": "u"}]}}
    assert doc.response_errors("POST", api.PICTURES_IMPORT, 200, pictures) == []
    assert api.imported_count(pictures) == 1
