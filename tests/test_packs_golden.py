"""Golden checks per marketplace on synthetic outputs, with the shipped (default) rules.

Each pack is re-opened from the zip: dimensions, aspect, format, size, colour space, the main
image's background, names, manifest contents, no stretching, determinism.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fakes.contracts import contract
from PIL import Image

from vitrina_sync import plugins
from vitrina_sync.packs.base import PackItem
from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.testing import item

BASE = "https://cdn.example.com/shop"
MARKETS = ("wildberries", "ozon", "kaspi")
EXPECT = {  # name: (size, entry prefix)
    "wildberries": ((900, 1200), "wildberries/"),
    "ozon": ((900, 1200), "ozon/"),
    "kaspi": ((1000, 1000), "kaspi/"),
}


@pytest.fixture(scope="module")
def markets():
    return plugins.marketplaces(plugins.build_plugin_manager())


@pytest.fixture(scope="module")
def packs(markets, tmp_path_factory):
    """One pack per marketplace from the same three items (one with a variant)."""
    root = tmp_path_factory.mktemp("outputs")
    items = [
        item(root, "TSHIRT_01", ids={"wb_nmid": "123456", "ozon_offer_id": "TS_01"}, variants=1),
        item(root, "MUG/2", ids={"wb_nmid": "123457", "kaspi_sku": "KMUG2"}, size=(1200, 900)),
        item(root, "NO-NMID", size=(1000, 1400)),
    ]
    out = tmp_path_factory.mktemp("packs")
    return {n: build_pack(items, markets[n], out, BASE) for n in MARKETS}


def entries(result) -> dict[str, bytes]:
    with zipfile.ZipFile(result.zip_path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.mark.parametrize("name", MARKETS)
def test_every_image_meets_the_rules(packs, markets, name):
    size, prefix = EXPECT[name]
    rules = markets[name].rules
    images = {n: d for n, d in entries(packs[name]).items() if n.endswith(".jpg")}
    assert len(images) == 4  # 3 mains + 1 variant (details skipped: too few pixels at 2x zoom)
    for entry, data in images.items():
        img = Image.open(io.BytesIO(data))
        assert entry.startswith(prefix)
        assert img.format == "JPEG" and img.mode == "RGB"
        assert img.size == size
        assert len(data) <= rules.v("max_bytes") <= 10_000_000
        assert "icc_profile" not in img.info  # untagged = sRGB
    assert packs[name].report["counts"]["failed_checks"] == 0


@pytest.mark.parametrize("name", MARKETS)
def test_main_background_is_the_padding_colour_and_product_not_stretched(packs, name):
    for card in packs[name].cards:
        main = card.files[0]
        assert main.role == "main"
        a = np.asarray(Image.open(io.BytesIO(main.data)).convert("RGB")).astype(int)
        assert np.abs(a[0] - 255).mean() < 3 and np.abs(a[-1] - 255).mean() < 3  # white border
        red = (a[..., 0] > 150) & (a[..., 1] < 90) & (a[..., 2] < 110)  # the product rectangle
        ys, xs = np.nonzero(red)
        src_w, src_h = Image.open(card.item.out_dir / "main.jpg").size
        expect = (src_w // 2) / (src_h * 3 // 5)  # the rectangle's aspect in the source
        got = (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)
        assert got == pytest.approx(expect, rel=0.03)


def test_wildberries_layout_and_media_save_bodies(packs):
    files = entries(packs["wildberries"])
    assert {
        "wildberries/123456/1.jpg",
        "wildberries/123456/2.jpg",
        "wildberries/123457/1.jpg",
        "wildberries/NO-NMID/1.jpg",
    } <= set(files)
    bodies = json.loads(files["wildberries/media_save.json"])  # cards in SKU order
    assert sorted(bodies, key=lambda b: b["nmId"]) == [
        {
            "nmId": 123456,
            "data": [f"{BASE}/wildberries/123456/1.jpg", f"{BASE}/wildberries/123456/2.jpg"],
        },
        {"nmId": 123457, "data": [f"{BASE}/wildberries/123457/1.jpg"]},
    ]
    content_api = contract("wildberries")
    assert all(
        content_api.request_errors("POST", "/content/v3/media/save", b) == [] for b in bodies
    )
    manifest = json.loads(files["wildberries/manifest.json"])
    numbers = [p["number"] for c in manifest["cards"] for p in c["photos"]]
    assert min(numbers) == 1
    assert any("NO-NMID: no WB nmID" in n for n in packs["wildberries"].report["notes"])


def test_ozon_names_items_and_template_sheet(packs):
    files = entries(packs["ozon"])
    names = [n.split("/", 1)[1] for n in files if n.endswith(".jpg")]
    assert all("_" not in n and "/" not in n for n in names)
    bodies = json.loads(files["ozon/pictures_import.json"])
    assert len(bodies) == 1 and len(bodies[0]["items"]) == 3
    seller_api = contract("ozon")  # the documented ProductImportPicturesV2Request bodies
    assert seller_api.request_errors("POST", "/v2/product/pictures/import", bodies[0]) == []
    ts = next(i for i in bodies[0]["items"] if i["offer_id"] == "TS_01")
    assert ts["primary_image"].endswith("-1.jpg") and len(ts["images"]) == 1
    assert all(len(i["images"]) <= 29 for i in bodies[0]["items"])
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(files["ozon/photos.xlsx"])).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Артикул", "Ссылка на главное фото*", "Ссылки на дополнительные фото"]
    assert {ws.cell(r, 1).value for r in range(2, 5)} == {"TS_01", "MUG/2", "NO-NMID"}


def test_kaspi_images_entries(packs):
    products = json.loads(entries(packs["kaspi"])["kaspi/products_import.json"])
    by_sku = {p["sku"]: p for p in products}
    assert set(by_sku) == {"KMUG2", "TSHIRT_01", "NO-NMID"}
    kaspi = contract("kaspi")
    for p in products:
        urls = [i["url"] for i in p["images"]]
        assert urls and len(set(urls)) == len(urls)
        # the images part of Kaspi's published import schema (sku + images of each product)
        item = "components/schemas/ProductsImport/items/properties"
        assert kaspi.errors_at(f"{item}/images", p["images"]) == []
        assert kaspi.errors_at(f"{item}/sku", p["sku"]) == []
        assert all(u.startswith("https://") and len(u) <= 1024 for u in urls)


@pytest.mark.parametrize("name", MARKETS)
def test_report_lists_every_check(packs, name):
    report = json.loads(entries(packs[name])["report.json"])
    kinds = {c["check"] for c in report["checks"]}
    assert {
        "name",
        "bytes",
        "decode",
        "format",
        "min_size",
        "aspect",
        "colour_space",
        "main_background",
        "quality",
    } <= kinds
    assert report["counts"]["checks"] == len(report["checks"]) > 0
    assert json.loads(packs[name].report_path.read_text()) == report


@pytest.fixture(scope="module")
def real_output(tmp_path_factory):
    """A real white-mode output (u2netp cut-out of an example photo) stored as a job stores it."""
    from vitrina_sync.imaging.load import load_image
    from vitrina_sync.modes.base import ModeContext
    from vitrina_sync.modes.white import WhiteMode
    from vitrina_sync.store import output_dir, write_output

    source = Path(__file__).parents[1] / "examples" / "photos" / "mug.jpg"
    mode = WhiteMode()
    settings = {"default_model": "u2netp"}
    mode.warm(settings)
    ctx = ModeContext("MUG-1", "a" * 64, {"canvas": [1200, 1200], "fill": 0.85}, settings)
    output = mode.process(load_image(source), ctx)
    folder = output_dir(tmp_path_factory.mktemp("real"), "MUG-1", "a" * 64)
    write_output(folder, source, None, output, "JPEG", {})
    return PackItem("MUG-1", "a" * 64, folder, {"wb_nmid": "424242"}, 2)


@pytest.mark.parametrize("name", MARKETS)
def test_real_white_mode_output_packs_cleanly(markets, real_output, tmp_path, name):
    result = build_pack([real_output], markets[name], tmp_path, BASE)
    assert result.report["counts"]["failed_checks"] == 0 and not result.skipped
    main = Image.open(io.BytesIO(result.cards[0].files[0].data))
    assert main.size == EXPECT[name][0] and main.format == "JPEG" and main.mode == "RGB"
    a = np.asarray(main).astype(int)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    assert np.abs(border - 255).mean() < 2  # white mode's #FFFFFF padded with #FFFFFF
