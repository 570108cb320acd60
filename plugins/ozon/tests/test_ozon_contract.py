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
    assert "3 Sep 2026" in source["added-by-hand"][api.PICTURES_IMPORT]
    assert set(seller_api().doc["paths"]) == {api.PICTURES_IMPORT, api.IMPORT_INFO}


def test_request_bodies_match_the_documented_schemas():
    doc = seller_api()
    items = [api.item(f"of{n}", URLS) for n in range(250)]
    bodies = api.pictures_import_bodies(items)
    assert [len(b["items"]) for b in bodies] == [100, 100, 50]
    for body in bodies:
        assert doc.request_errors("POST", api.PICTURES_IMPORT, body) == []
    one = api.item("A_1", URLS, color_image="https://cdn.example.ru/c.jpg")
    assert one["primary_image"] == URLS[0] and one["images"] == URLS[1:]  # main first
    assert doc.request_errors("POST", api.PICTURES_IMPORT, {"items": [one]}) == []
    assert len(api.item("A_1", URLS * 20)["images"]) == 29  # 1 main + 29
    assert doc.request_errors("POST", api.IMPORT_INFO, api.import_info_body(1000)) == []
    headers = {"Client-Id": "1", "Api-Key": "k"}
    assert doc.header_errors("POST", api.PICTURES_IMPORT, headers) == []
    assert doc.header_errors("POST", api.PICTURES_IMPORT, {"Client-Id": "1"})


def test_the_shape_the_issue_proposed_is_not_the_current_method():
    """/v1's {product_id, images} body: the method Ozon switched off on 1 Oct 2026."""
    doc = seller_api()
    v1 = {"product_id": 1, "images": URLS}
    assert doc.request_errors("POST", "/v1/product/pictures/import", v1) == [
        "POST /v1/product/pictures/import is not in the published API"
    ]
    assert doc.request_errors("POST", api.PICTURES_IMPORT, v1)  # not an items body
    assert doc.request_errors("POST", api.PICTURES_IMPORT, {"items": [{"offer_id": "A", "x": 1}]})


def test_answers_read_as_documented():
    doc = seller_api()
    assert doc.response_errors("POST", api.PICTURES_IMPORT, 200, {"task_id": 7}) == []
    assert api.task_id({"task_id": 7}) == 7 and api.task_id({"result": {"task_id": 8}}) == 8
    assert api.task_id({}) is None
    example = doc.doc["paths"][api.IMPORT_INFO]["post"]["responses"]["200"]["content"]
    example = example["application/json"]["example"]  # Ozon's own example answer
    assert doc.response_errors("POST", api.IMPORT_INFO, 200, example) == []
    assert api.offer_states(example) == {"143210608": (True, "imported")}
    pending = {"result": {"items": [{"offer_id": "A", "status": "pending"}], "total": 1}}
    assert api.offer_states(pending) is None
    failed = {
        "result": {
            "items": [
                {"offer_id": "A", "status": "failed", "errors": [{"code": "X", "message": "bad"}]},
                {"offer_id": "B", "status": "skipped", "errors": []},
            ]
        }
    }
    assert doc.response_errors("POST", api.IMPORT_INFO, 200, failed) == []
    states = api.offer_states(failed)
    assert states["A"] == (False, "failed: bad") and states["B"][0] is True
