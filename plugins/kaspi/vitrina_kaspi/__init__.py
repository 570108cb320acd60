"""Kaspi.kz: the `images` entries of /shop/api/products/import ([{url}], unique, https?://).

Kaspi publishes no photo spec, so the rules are seller practice (see rules.toml). The import
needs the full product (title, brand, category...): the pack holds the images part keyed by SKU
for the seller's product feed; upload sends sku + images and reports Kaspi's import result.
"""

from __future__ import annotations

import re
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from vitrina_sync.errors import RowError
from vitrina_sync.hookspecs import hookimpl
from vitrina_sync.packs.base import Card, Marketplace, PackItem, dumps, url_for
from vitrina_sync.packs.names import safe_stem
from vitrina_sync.packs.upload import UploadError, client_for, require

try:
    __version__ = version("vitrina-kaspi")
except PackageNotFoundError:
    __version__ = "0.1.0"

IMPORT = "/shop/api/products/import"
RESULT = "/shop/api/products/import/result"
URL_RE = re.compile(r"^https?://")


class Kaspi(Marketplace):
    name = "kaspi"
    title = "Kaspi.kz"
    version = __version__
    rules_path = Path(__file__).with_name("rules.toml")
    id_key = "kaspi_sku"
    setting_keys = ("token", "api_url", "base_url")

    def card_key(self, item: PackItem) -> tuple[str, list[str]]:
        key = item.ids.get("kaspi_sku", "").strip() or item.sku
        if len(key) > int(self.rules.v("max_sku_length")):
            raise RowError(
                f"Kaspi SKU {key[:20]!r}... is over {self.rules.v('max_sku_length')} chars"
            )
        return key, []

    def file_name(self, card: Card, number: int, ext: str) -> str:
        return f"{self.name}/{safe_stem(card.key)}-{number}.{ext}"

    def manifests(self, cards: list[Card], base_url: str) -> tuple[dict[str, bytes], list[str]]:
        products, notes = [], []
        limit = int(self.rules.v("max_url_length"))
        for card in cards:
            urls = [url_for(base_url, f.name) for f in card.files]
            bad = [u for u in urls if not URL_RE.match(u) or len(u) > limit]
            if bad or len(set(urls)) != len(urls):
                notes.append(
                    f"{card.item.sku}: left out of products_import.json (URL not "
                    f"http(s), over {limit} chars or repeated)"
                )
                continue
            products.append({"sku": card.key, "images": [{"url": u} for u in urls]})
        return {"kaspi/products_import.json": dumps(products)}, notes

    def upload(self, pack, client_kwargs: dict) -> list[dict]:
        (token,) = require(self, "token")
        headers = {"X-Auth-Token": token, "Accept": "application/json"}
        client = client_for(self, headers, **client_kwargs)
        products = pack.manifest("kaspi/products_import.json")
        sku_of = {c["card"]: c["sku"] for c in pack.report["cards"]}
        try:
            outcome = self._import(client, products, client_kwargs.get("sleep", time.sleep))
        except UploadError as exc:
            outcome = {p["sku"]: (False, str(exc)) for p in products}
        return [
            {
                "sku": sku_of.get(p["sku"], ""),
                "card": p["sku"],
                "ok": outcome.get(p["sku"], (True, ""))[0],
                "message": outcome.get(p["sku"], (True, "imported"))[1],
            }
            for p in products
        ]

    def _import(self, client, products: list, sleep) -> dict[str, tuple[bool, str]]:
        body = dumps(products)
        answer = client.json(
            "POST", IMPORT, data=body, headers={"Content-Type": "text/plain; charset=utf-8"}
        )
        code = answer.get("code")
        if not code:
            raise UploadError(f"products/import gave no code: {answer}")
        for _ in range(int(self.rules.v("api_polls"))):
            result = client.json("GET", RESULT, params={"i": code})
            status = result.get("status")
            if status == "FINISHED":
                return _per_sku(result)
            if status not in ("UPLOADED", "PROCESSING"):
                raise UploadError(f"import {code}: {status}: {result.get('message', '')}")
            sleep(float(self.rules.v("api_poll_s")))
        raise UploadError(f"import {code} still processing after {self.rules.v('api_polls')} polls")


def _per_sku(result: dict) -> dict[str, tuple[bool, str]]:
    """Failed SKUs of a FINISHED import; SKUs it does not name were imported."""
    return {
        e.get("sku", ""): (False, e.get("message", "error")) for e in result.get("errors") or []
    }


@hookimpl
def vitrina_register_marketplaces():
    return [Kaspi()]
