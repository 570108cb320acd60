"""Kaspi's Shop API product import as this plugin calls it: paths, the body, reading answers.

The one file to change when Kaspi changes the import. The body is checked in the tests against
the JSON Schema Kaspi publishes (guide.kaspi.kz/partner/ru/shop/api/goods/q3223, vendored in
../tests/contracts/shop-api.json with the status and result answers of the same guide).

Kaspi's schema requires the whole product (sku, title, brand, category, attributes, images;
nothing else allowed), so images alone cannot be sent: the seller's own product data (the
`products_file` setting) supplies the rest and this module puts the pack's images into it.
Flow: POST the products -> {code}; GET /shop/api/products/import?i=code until its status is no
longer UPLOADED; then GET /shop/api/products/import/result?i=code for each SKU's state.
"""

from __future__ import annotations

IMPORT = "/shop/api/products/import"  # POST: the products; GET ?i=code: processing status
RESULT = "/shop/api/products/import/result"  # GET ?i=code: per-SKU result
REQUIRED = ("sku", "title", "brand", "category", "attributes", "images")
ALLOWED = (*REQUIRED, "description", "weight")  # additionalProperties: false
PENDING = ("UPLOADED",)  # still processing; FINISHED = result ready; anything else = stopped


def product_body(product: dict, images: list[dict]) -> dict:
    """The seller's product with the pack's images, limited to the fields Kaspi allows."""
    body = {k: v for k, v in product.items() if k in ALLOWED}
    body["images"] = images
    return body


def missing_fields(body: dict) -> list[str]:
    return [k for k in REQUIRED if body.get(k) in (None, "", [])]


def sku_results(result: dict) -> dict[str, tuple[bool, str]]:
    """sku -> (ok, message) from an import/result answer (`result: {sku: {state, ...}}`)."""
    out = {}
    for sku, entry in (result.get("result") or {}).items():
        state = entry.get("state", "")
        if state == "FINISHED":
            out[sku] = (True, "imported")
        else:  # the guide does not publish what a failed SKU carries: show all of it
            extra = {k: v for k, v in entry.items() if k != "state"}
            out[sku] = (False, f"Kaspi: {state or 'no state'}{f' {extra}' if extra else ''}")
    return out
