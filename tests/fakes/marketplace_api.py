"""A local marketplace API server: the WB / Ozon / Kaspi routes the uploaders use, their shapes.

Runs on 127.0.0.1 in a thread so tests drive the real requests-based clients over real HTTP.
Shapes kept from the docs (../shared/marketplaces.md):
- WB POST /content/v3/media/save {nmId, data:[urls]} -> 200 {"data": null, "error": false,
  "errorText": "", "additionalErrors": null}; replaces all media in array order, and when one
  URL is bad it still answers 200 but saves NOTHING (the case the uploader must catch).
  POST /content/v2/get/cards/list -> {"cards": [{"nmID", "vendorCode", "photos": [...]}], "cursor"}.
  429 as application/problem+json with X-Ratelimit-Retry; 401 without Authorization.
- Ozon POST /v2/product/pictures/import {items<=100} -> {"result": {"task_id"}}; POST
  /v1/product/import/info {task_id} -> {"result": {"items": [{offer_id, status, errors}], "total"}}.
  Client-Id + Api-Key required; 429 with Item-Retry-After.
- Kaspi POST /shop/api/products/import (text/plain JSON array, X-Auth-Token) -> {"code", "status":
  "UPLOADED"}; GET /shop/api/products/import/result?i=code -> {"status": "FINISHED", "errors": [...]}.
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
        self.ozon_tasks: dict[int, list[dict]] = {}
        self.kaspi_imports: dict[str, list[dict]] = {}
        self.pending_polls = 1  # import/info answers "pending" this many times first
        self._polls: dict[int, int] = {}
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
    def route(self, method: str, path: str, query: dict, headers: dict, body: bytes):
        if path.startswith("/content/"):
            if headers.get("Authorization") != self.WB_TOKEN:
                return 401, {"title": "unauthorized", "status": 401}, {}
        elif path.startswith(("/v1/", "/v2/")):
            if (headers.get("Client-Id"), headers.get("Api-Key")) != (
                self.OZON_CLIENT,
                self.OZON_KEY,
            ):
                return 403, {"code": 7, "message": "Invalid Api-Key, please contact support"}, {}
        elif headers.get("X-Auth-Token") != self.KASPI_TOKEN:
            return 401, {"message": "unauthorized"}, {}
        handler = {
            ("POST", "/content/v3/media/save"): self.wb_save,
            ("POST", "/content/v2/get/cards/list"): self.wb_cards_list,
            ("POST", "/v2/product/pictures/import"): self.ozon_import,
            ("POST", "/v1/product/import/info"): self.ozon_info,
            ("POST", "/shop/api/products/import"): self.kaspi_import,
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
        return 200, {"data": None, "error": False, "errorText": "", "additionalErrors": None}, {}

    def wb_cards_list(self, body, query):
        text = body["settings"]["filter"]["textSearch"]
        cards = [
            {"nmID": n, "vendorCode": f"vc{n}", "photos": [{"big": u} for u in urls]}
            for n, urls in self.wb_cards.items()
            if str(n) == text
        ]
        return 200, {"cards": cards, "cursor": {"total": len(cards)}}, {}

    def ozon_import(self, body, query):
        items = body.get("items") or []
        if not 1 <= len(items) <= 100 or any(len(i.get("images", [])) > 30 for i in items):
            return 400, {"code": 3, "message": "invalid items"}, {}
        task_id = 1000 + len(self.ozon_tasks)
        self.ozon_tasks[task_id] = items
        return 200, {"result": {"task_id": task_id}}, {}

    def ozon_info(self, body, query):
        task_id = body.get("task_id")
        items = self.ozon_tasks.get(task_id)
        if items is None:
            return 404, {"code": 5, "message": "task not found"}, {}
        polls = self._polls[task_id] = self._polls.get(task_id, 0) + 1
        out = []
        for i in items:
            urls = [i["primary_image"], *i.get("images", [])]
            status = (
                "pending"
                if polls <= self.pending_polls
                else ("failed" if any("broken" in u for u in urls) else "imported")
            )
            errors = [{"message": "image download failed"}] if status == "failed" else []
            out.append(
                {"offer_id": i["offer_id"], "product_id": 0, "status": status, "errors": errors}
            )
        return 200, {"result": {"items": out, "total": len(out)}}, {}

    def kaspi_import(self, body, query):
        if not isinstance(body, list) or not 1 <= len(body) <= 10000:
            return 400, {"message": "expected a JSON array of 1..10000 products"}, {}
        code = f"imp{len(self.kaspi_imports) + 1}"
        self.kaspi_imports[code] = body
        return 200, {"code": code, "status": "UPLOADED"}, {}

    def kaspi_result(self, body, query):
        products = self.kaspi_imports.get(query.get("i", [""])[0])
        if products is None:
            return 404, {"message": "unknown import code"}, {}
        errors = [
            {"sku": p["sku"], "message": "image not reachable"}
            for p in products
            if any("broken" in i["url"] for i in p["images"])
        ]
        return 200, {"status": "FINISHED", "errors": errors}, {}


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
                status, payload, extra = fake.route(
                    method, parts.path, parse_qs(parts.query), headers, body
                )
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

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")
