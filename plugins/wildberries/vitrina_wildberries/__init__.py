"""Wildberries: packs per nmID / vendor code, photo numbers from 1, /content/v3/media/save bodies.

media/save replaces all of a card's media in array order and answers 200 even when one bad file
means nothing was saved, so the uploader reads the card back and compares the photo count.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from vitrina_sync.errors import RowError
from vitrina_sync.hookspecs import hookimpl
from vitrina_sync.packs.base import Card, Marketplace, PackItem, dumps, url_for
from vitrina_sync.packs.names import safe_stem
from vitrina_sync.packs.upload import UploadError, client_for, require

from . import api

try:
    __version__ = version("vitrina-wildberries")
except PackageNotFoundError:  # running from a checkout without install
    __version__ = "0.1.0"


class Wildberries(Marketplace):
    name = "wildberries"
    title = "Wildberries"
    version = __version__
    rules_path = Path(__file__).with_name("rules.toml")
    id_key = "wb_nmid"
    setting_keys = ("token", "api_url", "base_url")

    def card_key(self, item: PackItem) -> tuple[str, list[str]]:
        nmid = item.ids.get("wb_nmid", "").strip()
        if nmid and not nmid.isdigit():
            raise RowError(f"WB nmID {nmid!r} is not a number")
        if not nmid:
            note = (
                "no WB nmID in the sheet: media/save needs one (files packed by vendor code "
                "for manual upload)"
            )
            return item.sku, [note]
        return nmid, []

    def file_name(self, card: Card, number: int, ext: str) -> str:
        # Folder per card: "<nmID>" when known, else the vendor code; photo numbers from 1.
        return f"{self.name}/{safe_stem(card.key)}/{number}.{ext}"

    def manifests(self, cards: list[Card], base_url: str) -> tuple[dict[str, bytes], list[str]]:
        bodies, cards_out, notes = [], [], []
        for card in cards:
            urls = [url_for(base_url, f.name) for f in card.files]
            nmid = card.item.ids.get("wb_nmid", "").strip()
            cards_out.append(
                {
                    "vendorCode": card.item.sku,
                    "nmId": int(nmid) if nmid else None,
                    "photos": [
                        {"number": n, "file": f.name, "url": u}
                        for n, (f, u) in enumerate(zip(card.files, urls), start=1)
                    ],
                }
            )
            if nmid:
                bodies.append(api.media_save_body(int(nmid), urls))
            else:
                notes.append(f"{card.item.sku}: no WB nmID, left out of media_save.json")
        files = {
            "wildberries/media_save.json": dumps(bodies),
            "wildberries/manifest.json": dumps({"cards": cards_out}),
        }
        return files, notes

    def upload(self, pack, client_kwargs: dict) -> list[dict]:
        (token,) = require(self, "token")
        client = client_for(self, {"Authorization": token}, **client_kwargs)
        sku_of = {str(c["card"]): c["sku"] for c in pack.report["cards"]}
        bodies = pack.manifest("wildberries/media_save.json")
        found, unknown = self._by_vendor_code(client, pack, sku_of)
        bodies = [*bodies, *found]
        # Save every card first, then read them back: WB applies media/save asynchronously, and
        # the saves of the other cards (600 ms apart) give it time before the check.
        results = [self._save(client, body, sku_of) for body in bodies]
        for body, result in zip(bodies, results):
            if result.get("ok") is None:
                result.update(self._verify(client, body))
        return results + unknown

    def _by_vendor_code(self, client, pack, sku_of: dict) -> tuple[list[dict], list[dict]]:
        """Cards packed without an nmID: media/save bodies for those WB finds by vendor code
        (cards/list textSearch), and the failed results of those it does not."""
        bodies, failed = [], []
        for card in pack.manifest("wildberries/manifest.json")["cards"]:
            if card.get("nmId") is not None:
                continue
            code = card["vendorCode"]
            try:
                answer = client.json("POST", api.CARDS, json=api.cards_list_body(code))
            except UploadError as exc:
                answer, reason = {}, f"the lookup by vendor code failed: {exc}"
            else:
                reason = f"no WB card has vendor code {code}"
            nmid = api.nm_id_of(answer, code)
            if nmid is None:
                message = f"not uploaded: no WB nmID in the sheet and {reason}"
                failed.append({"sku": code, "card": code, "ok": False, "message": message})
                continue
            sku_of[str(nmid)] = code
            bodies.append(api.media_save_body(nmid, [p["url"] for p in card["photos"]]))
        return bodies, failed

    def _save(self, client, body: dict, sku_of: dict) -> dict:
        """The card's result so far: "ok" stays unset until the read-back decides it."""
        result = {"sku": sku_of.get(str(body["nmId"]), ""), "card": str(body["nmId"])}
        try:
            answer = client.json("POST", api.SAVE, json=body)
        except UploadError as exc:
            return {**result, "ok": False, "message": str(exc)}
        reason = api.refused(answer)
        if reason:
            return {**result, "ok": False, "message": f"WB refused: {reason}"}
        return result

    def _verify(self, client, body: dict) -> dict:
        try:
            saved = self._photo_count(client, body["nmId"])
        except UploadError as exc:
            return {"ok": False, "message": f"saved, but the read-back failed: {exc}"}
        if saved != len(body["data"]):
            return {
                "ok": False,
                "message": f"WB answered 200 but the card has {saved} photo(s), "
                f"expected {len(body['data'])}: nothing saved (one bad file fails all)",
            }
        return {"ok": True, "message": f"{saved} photo(s) saved"}

    def _photo_count(self, client, nmid: int) -> int:
        answer = client.json("POST", api.CARDS, json=api.cards_list_body(str(nmid)))
        count = api.photo_count(answer, nmid)
        if count is None:
            raise UploadError(f"card {nmid} not found on WB (wrong nmID?)")
        return count


@hookimpl
def vitrina_register_marketplaces():
    return [Wildberries()]
