"""Ozon: flat files without '_' or '/', Seller API picture bodies and the template sheet.

Upload follows the Seller API's documented flow (bodies and paths in api.py): offer_id ->
product_id through /v3/product/info/list, /v1/product/pictures/import per product (replaces all
of its images), then /v2/product/pictures/info until Ozon shows the images or says why not, so
a card is only "ok" once Ozon has them.
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
        entries, rows = [], []
        for card in cards:
            urls = [url_for(base_url, f.name) for f in card.files]
            entries.append({"offer_id": card.key, "body": api.pictures_import_body(urls)})
            rows.append((card.key, urls[0], urls[1:]))
        manifest = {
            "product_info_list": api.info_list_bodies([e["offer_id"] for e in entries]),
            "pictures_import": entries,  # body + product_id = productv1ProductImportPicturesRequest
        }
        return {MANIFEST: dumps(manifest), "ozon/photos.xlsx": photo_sheet(rows)}, []

    def upload(self, pack, client_kwargs: dict) -> list[dict]:
        client_id, api_key = require(self, "client_id", "api_key")
        client = client_for(self, {"Client-Id": client_id, "Api-Key": api_key}, **client_kwargs)
        manifest = pack.manifest(MANIFEST)
        if not isinstance(manifest, dict) or "pictures_import" not in manifest:
            raise UploadError(
                f"{pack.path.name}: {MANIFEST} is in the old /v2 shape; rebuild the pack "
                "(vitrina-sync pack) so it holds the Seller API's documented bodies"
            )
        entries = manifest["pictures_import"]
        outcome: dict[str, tuple[bool, str]] = {}
        ids = self._product_ids(client, manifest["product_info_list"], outcome)
        expected = self._import_all(client, entries, ids, outcome)
        settled = self._wait(client, expected, client_kwargs.get("sleep", time.sleep))
        still = f"Ozon still processing after {self.rules.v('api_polls')} status checks"
        for offer, pid in ids.items():
            if pid in expected:
                outcome[offer] = settled.get(pid, (False, still))
        sku_of = {c["card"]: c["sku"] for c in pack.report["cards"]}
        return [
            {"sku": sku_of.get(e["offer_id"], ""), "card": e["offer_id"], "ok": ok, "message": msg}
            for e in entries
            for ok, msg in [outcome[e["offer_id"]]]
        ]

    def _product_ids(self, client, bodies: list[dict], outcome: dict) -> dict[str, int]:
        """offer_id -> product_id; offers Ozon does not know (or a failed lookup) go to outcome."""
        ids: dict[str, int] = {}
        for body in bodies:
            try:
                found = api.product_ids(client.json("POST", api.INFO_LIST, json=body))
            except UploadError as exc:
                outcome.update(
                    {o: (False, f"product lookup failed: {exc}") for o in body["offer_id"]}
                )
                continue
            ids.update({o: found[o] for o in body["offer_id"] if o in found})
            missing = (False, "offer_id not found on Ozon: create the product there first")
            outcome.update({o: missing for o in body["offer_id"] if o not in found})
        return ids

    def _import_all(self, client, entries: list[dict], ids: dict, outcome: dict) -> dict[int, int]:
        """One pictures/import per known product; answers product_id -> images sent."""
        expected = {}
        for entry in entries:
            offer = entry["offer_id"]
            if offer not in ids:
                continue
            body = api.with_product_id(entry["body"], ids[offer])
            try:
                client.json("POST", api.PICTURES_IMPORT, json=body)
            except UploadError as exc:
                outcome[offer] = (False, str(exc))
                continue
            expected[ids[offer]] = len(body["images"])
        return expected

    def _wait(self, client, expected: dict[int, int], sleep) -> dict[int, tuple[bool, str]]:
        """Poll pictures/info (Ozon: about 10 s after the import) until every product settles."""
        settled: dict[int, tuple[bool, str]] = {}
        for _ in range(int(self.rules.v("api_polls"))):
            pending = [p for p in expected if p not in settled]
            if not pending:
                break
            sleep(float(self.rules.v("api_poll_s")))
            for body in api.pictures_info_bodies(pending):
                try:
                    answer = client.json("POST", api.PICTURES_INFO, json=body)
                except UploadError as exc:
                    failed = (False, f"status check failed: {exc}")
                    settled.update({int(p): failed for p in body["product_id"]})
                    continue
                settled.update(api.picture_states(answer, expected))
        return settled


@hookimpl
def vitrina_register_marketplaces():
    return [Ozon()]
