"""Ozon: flat files without '_' or '/', Seller API picture bodies and the template sheet.

Upload follows the Seller API's current method (paths and bodies in api.py): items of
/v2/product/pictures/import (each replaces all images of its product) answer a task, and the
uploader polls /v1/product/import/info for each offer's status, so a card is only "ok" once Ozon
says it imported.
"""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from vitrina_sync.hookspecs import hookimpl
from vitrina_sync.packs.base import Card, Marketplace, dumps, url_for
from vitrina_sync.packs.names import safe_stem
from vitrina_sync.packs.upload import UploadError, client_for, require

from . import api
from .sheet import photo_sheet

try:
    __version__ = version("vitrina-ozon")
except PackageNotFoundError:
    __version__ = "0.1.0"

MANIFEST = "ozon/pictures_import.json"


class Ozon(Marketplace):
    name = "ozon"
    title = "Ozon"
    version = __version__
    rules_path = Path(__file__).with_name("rules.toml")
    id_key = "ozon_offer_id"
    setting_keys = ("client_id", "api_key", "api_url", "base_url")

    def file_name(self, card: Card, number: int, ext: str) -> str:
        stem = safe_stem(card.key, str(self.rules.v("file_name_forbidden")))
        return f"{self.name}/{stem}-{number}.{ext}"

    def manifests(self, cards: list[Card], base_url: str) -> tuple[dict[str, bytes], list[str]]:
        items, rows = [], []
        for card in cards:
            urls = [url_for(base_url, f.name) for f in card.files]
            items.append(api.item(card.key, urls))
            rows.append((card.key, urls[0], urls[1:]))
        bodies = api.pictures_import_bodies(items)
        return {MANIFEST: dumps(bodies), "ozon/photos.xlsx": photo_sheet(rows)}, []

    def upload(self, pack, client_kwargs: dict) -> list[dict]:
        client_id, api_key = require(self, "client_id", "api_key")
        client = client_for(self, {"Client-Id": client_id, "Api-Key": api_key}, **client_kwargs)
        sku_of = {c["card"]: c["sku"] for c in pack.report["cards"]}
        results = []
        for body in pack.manifest(MANIFEST):
            offers = [i["offer_id"] for i in body["items"]]
            try:
                states = self._import(client, body, client_kwargs.get("sleep", time.sleep))
            except UploadError as exc:
                states = {o: (False, str(exc)) for o in offers}
            for offer in offers:
                ok, message = states.get(offer, (False, "Ozon did not report this offer"))
                results.append(
                    {"sku": sku_of.get(offer, ""), "card": offer, "ok": ok, "message": message}
                )
        return results

    def _import(self, client, body: dict, sleep) -> dict[str, tuple[bool, str]]:
        answer = client.json("POST", api.PICTURES_IMPORT, json=body)
        task = api.task_id(answer)
        if not task:
            raise UploadError(f"pictures/import gave no task_id: {answer}")
        for _ in range(int(self.rules.v("api_polls"))):
            sleep(float(self.rules.v("api_poll_s")))
            states = api.offer_states(
                client.json("POST", api.IMPORT_INFO, json=api.import_info_body(task))
            )
            if states is not None:
                return states
        raise UploadError(f"task {task} still pending after {self.rules.v('api_polls')} polls")


@hookimpl
def vitrina_register_marketplaces():
    return [Ozon()]
