"""Which vendored API document speaks for which of the fake server's paths."""

from __future__ import annotations

from pathlib import Path

from vitrina_sync.packs.contracts import Contract, load_contract

ROOT = Path(__file__).resolve().parents[2]
DOCS = {
    "ozon": ROOT / "plugins/ozon/tests/contracts/seller-api.json",
    "wildberries": ROOT / "plugins/wildberries/tests/contracts/content-api.json",
    "kaspi": ROOT / "plugins/kaspi/tests/contracts/shop-api.json",
}


def contract(marketplace: str) -> Contract:
    return load_contract(DOCS[marketplace])


def marketplace_of(path: str) -> str | None:
    if path.startswith("/content/"):
        return "wildberries"
    if path.startswith("/shop/api/"):
        return "kaspi"
    if path.startswith(("/v1/", "/v2/", "/v3/")):
        return "ozon"
    return None
