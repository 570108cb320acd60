"""Kaspi.kz: the `images` entries of /shop/api/products/import ([{url}], unique, https?://).

Kaspi publishes no photo spec, so the rules are seller practice (see rules.toml). Its import
needs the full product (title, brand, category, attributes...; api.py): the pack holds the images
part keyed by SKU, and upload puts it into the seller's products from `products_file`, sends the
complete ones and reports Kaspi's result per SKU.
"""

from __future__ import annotations

import json
import re
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from vitrina_sync.errors import RowError
from vitrina_sync.hookspecs import hookimpl
from vitrina_sync.packs.base import Card, Marketplace, PackItem, dumps, url_for
from vitrina_sync.packs.names import safe_stem
from vitrina_sync.packs.upload import UploadError, client_for, require

from . import api

try:
    __version__ = version("vitrina-kaspi")
except PackageNotFoundError:
    __version__ = "0.1.0"

URL_RE = re.compile(r"^https?://")


class Kaspi(Marketplace):
    name = "kaspi"
    title = "Kaspi.kz"
    version = __version__
    rules_path = Path(__file__).with_name("rules.toml")
    id_key = "kaspi_sku"
    setting_keys = ("token", "api_url", "base_url", "products_file")

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
        entries = pack.manifest("kaspi/products_import.json")
        seller = self._seller_products()
        bodies, outcome = [], {}
        for entry in entries:
            body = api.product_body(
                seller.get(entry["sku"], {"sku": entry["sku"]}), entry["images"]
            )
            missing = api.missing_fields(body)
            if missing:
                outcome[entry["sku"]] = (False, _incomplete(entry["sku"], missing, seller))
            else:
                bodies.append(body)
        if bodies:
            client = client_for(self, headers, **client_kwargs)
            try:
                outcome.update(self._import(client, bodies, client_kwargs.get("sleep", time.sleep)))
            except UploadError as exc:
                outcome.update({b["sku"]: (False, str(exc)) for b in bodies})
        sku_of = {c["card"]: c["sku"] for c in pack.report["cards"]}
        unreported = (False, "Kaspi's result does not name this SKU")
        return [
            {"sku": sku_of.get(e["sku"], ""), "card": e["sku"], "ok": ok, "message": msg}
            for e in entries
            for ok, msg in [outcome.get(e["sku"], unreported)]
        ]

    def _seller_products(self) -> dict[str, dict]:
        """sku -> the seller's product (Kaspi's import shape) from `products_file`, if set."""
        path = self.config.get("products_file")
        if not path:
            return {}
        try:
            products = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UploadError(f"products_file {path}: cannot read it as JSON ({exc})") from None
        if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
            raise UploadError(f"products_file {path}: expected a JSON array of products")
        return {str(p.get("sku", "")): p for p in products}

    def _import(self, client, bodies: list[dict], sleep) -> dict[str, tuple[bool, str]]:
        answer = client.json(
            "POST",
            api.IMPORT,
            data=dumps(bodies),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        code = answer.get("code")
        if not code:
            raise UploadError(f"products/import gave no code: {answer}")
        for _ in range(int(self.rules.v("api_polls"))):
            status = client.json("GET", api.IMPORT, params={"i": code})
            if status.get("status") not in api.PENDING:
                break
            sleep(float(self.rules.v("api_poll_s")))
        else:
            raise UploadError(
                f"import {code} still processing after {self.rules.v('api_polls')} checks"
            )
        if status.get("status") != "FINISHED":
            raise UploadError(
                f"import {code}: {status.get('status')}: {status.get('description', '')}"
            )
        return api.sku_results(client.json("GET", api.RESULT, params={"i": code}))


def _incomplete(sku: str, missing: list[str], seller: dict) -> str:
    where = "not in products_file" if sku not in seller else f"missing {', '.join(missing)}"
    return (
        f"not uploaded: Kaspi's import needs the whole product ({', '.join(api.REQUIRED)}); "
        f"{sku} is {where} (set products_file in [marketplaces.kaspi])"
    )


@hookimpl
def vitrina_register_marketplaces():
    return [Kaspi()]
