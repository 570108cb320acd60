"""A local marketplace API server: the WB / Ozon / Kaspi routes the uploaders use, their shapes.

Runs on 127.0.0.1 in a thread so tests drive the real requests-based clients over real HTTP.
Shapes kept from the vendored API documents (plugins/*/tests/contracts/):
- WB POST /content/v3/media/save {nmId, data:[urls]} -> 200 {"data": {}, "error": false,
  "errorText": "", "additionalErrors": null}; replaces all media in array order, and when one
  URL is bad it still answers 200 but saves NOTHING (the case the uploader must catch).
  POST /content/v2/get/cards/list (textSearch = nmID or vendor code) -> {"cards": [{"nmID",
  "vendorCode", "photos": [...]}], "cursor"}.
  429 as application/problem+json with X-Ratelimit-Retry; 401 without Authorization.
- Ozon POST /v2/product/pictures/import {items<=100: [{offer_id, primary_image, images}]} ->
  {"task_id"}; POST /v1/product/import/info {task_id} -> {"result": {"items": [{offer_id,
  product_id, status, errors}], "total"}} ("pending" for `pending_polls` checks, then
  "imported", or "failed" with errors when a URL is broken; offers in `ozon_unknown` fail).
  Client-Id + Api-Key required; 429 with Item-Retry-After.
- Kaspi POST /shop/api/products/import (text/plain JSON array, X-Auth-Token) -> {"code", "status":
  "UPLOADED"}; GET /shop/api/products/import?i=code -> {"code", "status"} (UPLOADED for
  `pending_polls` checks, then FINISHED); GET /shop/api/products/import/result?i=code ->
  {"errors", "warnings", "skipped", "total", "result": {sku: {"state", ...}}} (a failed SKU's
  {"state": "ERROR", "errors": [...]} is our guess: Kaspi publishes only a success).
Every request body and every answer a route gives is checked against the marketplace's vendored
API document (fakes/contracts.py); a request that does not conform is answered 400 like the real
API would, and every mismatch (ours or the fake's) is kept in `contract_errors`, which the
tests' fixture requires to be empty.
A URL containing "broken" is a file the marketplace cannot fetch. Tests queue faults (429, 5xx)
per path; every request is recorded with its headers, body and arrival time.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

from .contracts import contract, marketplace_of


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class FakeMarketplaceApi:
    WB_TOKEN, OZON_CLIENT, OZON_KEY, KASPI_TOKEN = "wb-token", "123", "ozon-key", "kaspi-token"

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.faults: dict[str, list[Fault]] = {}
        self.wb_cards: dict[int, list[str]] = {}  # nmID -> photo URLs
        self.wb_vendor_codes: dict[int, str] = {}  # nmID -> vendor code (default "vc<nmID>")
        self.ozon_unknown: set[str] = set()  # offer_ids Ozon has no product for
        self.ozon_tasks: dict[int, list[dict]] = {}
        self.ozon_images: dict[str, list[str]] = {}  # offer_id -> images once imported
        self.kaspi_imports: dict[str, list[dict]] = {}
        self.pending_polls = 1  # status checks answer "not yet" this many times first
        self._polls: dict[object, int] = {}
        self.contract_errors: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Self:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, path: str, *faults: Fault) -> None:
        """Answer the next requests to `path` with these faults, in order."""
        self.faults.setdefault(path, []).extend(faults)

    def calls(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    # ---- routes ---------------------------------------------------------------------------
    def refuse_auth(self, path: str, headers: dict):
        """The marketplace's answer to missing or wrong credentials, or None."""
        if path.startswith("/content/"):
            if headers.get("Authorization") != self.WB_TOKEN:
                return 401, {"title": "unauthorized", "status": 401}, {}
        elif path.startswith(("/v1/", "/v2/", "/v3/")):
            if (headers.get("Client-Id"), headers.get("Api-Key")) != (
                self.OZON_CLIENT,
                self.OZON_KEY,
            ):
                return 403, {"code": 7, "message": "Invalid Api-Key, please contact support"}, {}
        elif headers.get("X-Auth-Token") != self.KASPI_TOKEN:
            return 401, {"message": "unauthorized"}, {}
        return None

    def route(self, method: str, path: str, query: dict, headers: dict, body: bytes):
        handler = {
            ("POST", "/content/v3/media/save"): self.wb_save,
            ("POST", "/content/v2/get/cards/list"): self.wb_cards_list,
            ("POST", "/v2/product/pictures/import"): self.ozon_import,
            ("POST", "/v1/product/import/info"): self.ozon_info,
            ("POST", "/shop/api/products/import"): self.kaspi_import,
            ("GET", "/shop/api/products/import"): self.kaspi_status,
            ("GET", "/shop/api/products/import/result"): self.kaspi_result,
        }.get((method, path))
        if handler is None:
            return 404, {"message": f"no route {method} {path}"}, {}
        return handler(json.loads(body or b"null"), query)

    def wb_save(self, body, query):
        nmid, urls = body.get("nmId"), body.get("data") or []
        if not isinstance(nmid, int) or not urls:
            return 400, {"data": None, "error": True, "errorText": "Invalid request body"}, {}
        if not any("broken" in u for u in urls):  # one bad file: nothing saved, still 200
            self.wb_cards[nmid] = list(urls)
        else:
            self.wb_cards.setdefault(nmid, [])
        return 200, {"data": {}, "error": False, "errorText": "", "additionalErrors": None}, {}

    def wb_cards_list(self, body, query):
        text = body["settings"]["filter"]["textSearch"]  # nmID or vendor code
        cards = [
            {"nmID": n, "vendorCode": code, "photos": [{"big": u} for u in urls]}
            for n, urls in self.wb_cards.items()
            for code in [self.wb_vendor_codes.get(n, f"vc{n}")]
            if text in (str(n), code)
        ]
        return 200, {"cards": cards, "cursor": {"total": len(cards)}}, {}

    @staticmethod
    def ozon_product_id(offer_id: str) -> int:
        return 100000 + sum(offer_id.encode())  # stable per offer, like Ozon's own ids

    def ozon_import(self, body, query):
        task_id = 1000 + len(self.ozon_tasks)
        self.ozon_tasks[task_id] = body["items"]
        return 200, {"task_id": task_id}, {}

    def ozon_info(self, body, query):
        items = self.ozon_tasks.get(body["task_id"])
        if items is None:
            return 404, {"code": 5, "message": "task not found"}, {}
        polls = self._polls[body["task_id"]] = self._polls.get(body["task_id"], 0) + 1
        out = [self._ozon_status(i, pending=polls <= self.pending_polls) for i in items]
        return 200, {"result": {"items": out, "total": len(out)}}, {}

    def _ozon_status(self, item: dict, pending: bool) -> dict:
        offer = item["offer_id"]
        urls = [item.get("primary_image", ""), *item.get("images", [])]
        errors = []
        if offer in self.ozon_unknown:
            errors = [{"code": "NOT_FOUND", "message": "product not found", "level": "error"}]
        elif any("broken" in u for u in urls):
            errors = [{"code": "DOWNLOAD_FAILED", "message": "image download failed"}]
        status = "pending" if pending else ("failed" if errors else "imported")
        if status == "imported":
            self.ozon_images[offer] = urls  # replaces all of the product's images
        pid = 0 if offer in self.ozon_unknown else self.ozon_product_id(offer)
        errors = [] if pending else errors
        return {"offer_id": offer, "product_id": pid, "status": status, "errors": errors}

    def kaspi_import(self, body, query):
        if not isinstance(body, list) or not 1 <= len(body) <= 10000:
            return 400, {"message": "expected a JSON array of 1..10000 products"}, {}
        code = f"imp{len(self.kaspi_imports) + 1}"
        self.kaspi_imports[code] = body
        return 200, {"code": code, "status": "UPLOADED"}, {}

    def kaspi_status(self, body, query):
        code = query.get("i", [""])[0]
        if code not in self.kaspi_imports:
            return 404, {"message": "unknown import code"}, {}
        polls = self._polls[code] = self._polls.get(code, 0) + 1
        return (
            200,
            {"code": code, "status": "UPLOADED" if polls <= self.pending_polls else "FINISHED"},
            {},
        )

    def kaspi_result(self, body, query):
        products = self.kaspi_imports.get(query.get("i", [""])[0])
        if products is None:
            return 404, {"message": "unknown import code"}, {}
        result = {
            p["sku"]: (
                {"state": "ERROR", "errors": ["image not reachable"]}
                if any("broken" in i["url"] for i in p["images"])
                else {"state": "FINISHED"}
            )
            for p in products
        }
        errors = sum(r["state"] != "FINISHED" for r in result.values())
        answer = {
            "errors": errors,
            "warnings": 0,
            "skipped": 0,
            "total": len(products),
            "result": result,
        }
        return 200, answer, {}

    # ---- the published API documents ------------------------------------------------------
    def check_request(self, method: str, path: str, headers: dict, body: bytes) -> list[str]:
        market = marketplace_of(path)
        if market is None:
            return []
        doc = contract(market)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            return [f"{method} {path}: body is not JSON"]
        errors = doc.header_errors(method, path, headers)
        if method == "POST":
            errors += doc.request_errors(method, path, parsed)
        return errors

    def check_answer(self, method: str, path: str, status: int, payload) -> list[str]:
        market = marketplace_of(path)
        if market is None or status in (401, 403):  # auth refusals: shapes vary by gateway
            return []
        return contract(market).response_errors(method, path, status, payload)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeMarketplaceApi

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items()}
        fake = self.fake
        with fake._lock:
            fake.requests.append(Seen(method, parts.path, headers, body, time.monotonic()))
            queued = fake.faults.get(parts.path)
            fault = queued.pop(0) if queued else None
            if fault is None:
                status, payload, extra = self._answer(method, parts, headers, body)
        if fault is not None:
            status, extra = fault.status, fault.headers
            payload = {"title": "Too Many Requests" if status == 429 else "error", "status": status}
        data = json.dumps(payload).encode()
        self.send_response(status)
        ctype = "application/problem+json" if status == 429 else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, method, parts, headers, body):
        """The route's answer, both sides checked against the published API document."""
        fake = self.fake
        denied = fake.refuse_auth(parts.path, headers)
        if denied:
            return denied
        refused = fake.check_request(method, parts.path, headers, body)
        if refused:
            fake.contract_errors.extend(refused)
            return 400, {"message": "; ".join(refused)}, {}
        status, payload, extra = fake.route(
            method, parts.path, parse_qs(parts.query), headers, body
        )
        fake.contract_errors.extend(fake.check_answer(method, parts.path, status, payload))
        return status, payload, extra

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")
