"""WB's bodies and answer readers (vitrina_wildberries/api.py) against the vendored OpenAPI."""

from __future__ import annotations

from pathlib import Path

from vitrina_wildberries import api

from vitrina_sync.packs.contracts import load_contract

DOC = Path(__file__).with_name("contracts") / "content-api.json"


def content_api():
    return load_contract(DOC)


def example(path: str, status: str) -> dict:
    op = content_api().doc["paths"][path]["post"]
    return op["responses"][status]["content"]["application/json"]["example"]


def test_the_vendored_document_says_where_it_came_from():
    source = content_api().source
    assert "specs/02-products.yaml" in source["from"] and source["taken"] == "2026-12-02"


def test_request_bodies_match_the_documented_schemas():
    doc = content_api()
    body = api.media_save_body(213864079, ["https://cdn.example.com/1.jpg"])
    assert doc.request_errors("POST", api.SAVE, body) == []
    assert doc.request_errors("POST", api.CARDS, api.cards_list_body("213864079")) == []
    assert doc.request_errors("POST", api.CARDS, api.cards_list_body("vendor-code-1")) == []
    assert doc.header_errors("POST", api.SAVE, {"Authorization": "t"}) == []
    assert doc.header_errors("POST", api.SAVE, {}) == [
        f"POST {api.SAVE}: missing header Authorization"
    ]


def test_wrong_shapes_are_refused_by_the_document():
    doc = content_api()
    assert doc.request_errors("POST", api.SAVE, {"nmId": "213864079", "data": "https://x"})
    assert doc.response_errors("POST", api.SAVE, 200, {"data": None, "error": False})


def test_the_documented_examples_read_as_expected():
    doc = content_api()
    saved = example(api.SAVE, "200")
    assert doc.response_errors("POST", api.SAVE, 200, saved) == []
    assert api.refused(saved) is None
    assert api.refused({"error": True, "errorText": "Текст ошибки"}) == "Текст ошибки"
    cards = example(api.CARDS, "200")
    assert doc.response_errors("POST", api.CARDS, 200, cards) == []
    assert api.photo_count(cards, 12345678) == 1 and api.photo_count(cards, 1) is None
    assert api.nm_id_of(cards, "wb7f6mumjr1") == 12345678 and api.nm_id_of(cards, "x") is None
