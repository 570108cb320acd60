"""Ozon: flat files without '_' or '/', /v2/product/pictures/import bodies and the template sheet.

pictures/import answers with a task id; the uploader polls /v1/product/import/info for each
offer's status, so a card is only "ok" once Ozon says it imported.
"""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from vitrina_sync.hookspecs import hookimpl
from vitrina_sync.packs.base import Card, Marketplace, dumps, url_for
from vitrina_sync.packs.names import safe_stem
from vitrina_sync.packs.upload import UploadError, client_for, require

from .sheet import photo_sheet

try:
    __version__ = version("vitrina-ozon")
except PackageNotFoundError:
    __version__ = "0.1.0"

IMPORT = "/v2/product/pictures/import"
INFO = "/v1/product/import/info"
BATCH = 100  # items per pictures/import request (official)


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
            items.append({"offer_id": card.key, "primary_image": urls[0], "images": urls[1:30]})
            rows.append((card.key, urls[0], urls[1:]))
        bodies = [{"items": items[i : i + BATCH]} for i in range(0, len(items), BATCH)]
        files = {"ozon/pictures_import.json": dumps(bodies), "ozon/photos.xlsx": photo_sheet(rows)}
        return files, []

    def upload(self, pack, client_kwargs: dict) -> list[dict]:
        client_id, api_key = require(self, "client_id", "api_key")
        client = client_for(self, {"Client-Id": client_id, "Api-Key": api_key}, **client_kwargs)
        sku_of = {c["card"]: c["sku"] for c in pack.report["cards"]}
        results = []
        for body in pack.manifest("ozon/pictures_import.json"):
            offers = [i["offer_id"] for i in body["items"]]
            try:
                statuses = self._import(client, body, client_kwargs.get("sleep", time.sleep))
            except UploadError as exc:
                statuses = {o: (False, str(exc)) for o in offers}
            for offer in offers:
                ok, message = statuses.get(offer, (False, "Ozon did not report this offer"))
                results.append(
                    {"sku": sku_of.get(offer, ""), "card": offer, "ok": ok, "message": message}
                )
        return results

    def _import(self, client, body: dict, sleep) -> dict[str, tuple[bool, str]]:
        answer = client.json("POST", IMPORT, json=body)
        task_id = (answer.get("result") or {}).get("task_id")
        if not task_id:
            raise UploadError(f"pictures/import gave no task_id: {answer}")
        for _ in range(int(self.rules.v("api_polls"))):
            info = client.json("POST", INFO, json={"task_id": task_id}).get("result") or {}
            items = info.get("items") or []
            if items and all(i.get("status") != "pending" for i in items):
                return {i["offer_id"]: _status(i) for i in items}
            sleep(float(self.rules.v("api_poll_s")))
        raise UploadError(f"task {task_id} still pending after {self.rules.v('api_polls')} polls")


def _status(item: dict) -> tuple[bool, str]:
    if item.get("status") == "imported":
        return True, "imported"
    errors = "; ".join(e.get("message", str(e)) for e in item.get("errors") or [])
    return False, f"{item.get('status')}: {errors or 'no reason given'}"


@hookimpl
def vitrina_register_marketplaces():
    return [Ozon()]
