"""The real upload clients against a local HTTP server with the marketplaces' documented shapes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fakes.marketplace_api import FakeMarketplaceApi, Fault

from vitrina_sync import plugins
from vitrina_sync.errors import VitrinaError
from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.commands import upload
from vitrina_sync.packs.testing import item, small_rules
from vitrina_sync.packs.upload import RateLimiter, UploadError, upload_pack

CDN = "https://cdn.example.com/shop"
API = FakeMarketplaceApi
CREDS = {
    "wildberries": {"token": API.WB_TOKEN},
    "ozon": {"client_id": API.OZON_CLIENT, "api_key": API.OZON_KEY},
    "kaspi": {"token": API.KASPI_TOKEN},
}


@pytest.fixture
def api():
    """The fake marketplaces; every body either side sent must match the published API."""
    with FakeMarketplaceApi() as fake:
        yield fake
    assert fake.contract_errors == []


@pytest.fixture(scope="module")
def registry():
    return plugins.marketplaces(plugins.build_plugin_manager())


class Sleeps(list):
    """A sleep that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(round(seconds, 3))


def configured(registry, name, api, **extra):
    section = {
        **small_rules(),
        **CREDS[name],
        "api_url": api.url,
        "api_min_interval_s": 0.0,
        "api_backoff_s": 0.01,
        **extra,
    }
    return registry[name].configured({"marketplaces": {name: section}})


def built(registry, name, api, tmp_path, base=CDN, **extra):
    market = configured(registry, name, api, **extra)
    items = [
        item(tmp_path, "A_1", ids={"wb_nmid": "111"}, size=(300, 400), variants=1),
        item(tmp_path, "B-2", ids={"wb_nmid": "222"}, size=(300, 400)),
        item(tmp_path, "C-3", size=(300, 400)),
    ]
    return market, build_pack(items, market, tmp_path / "packs", base).zip_path


def test_wb_saves_each_card_and_records_results(registry, api, tmp_path):
    market, pack = built(registry, "wildberries", api, tmp_path)
    results = upload_pack(pack, market, sleep=Sleeps())
    by_sku = {r["sku"]: r for r in results}
    assert by_sku["A_1"]["ok"] and by_sku["B-2"]["ok"]
    assert not by_sku["C-3"]["ok"] and "no WB nmID" in by_sku["C-3"]["message"]
    assert api.wb_cards[111] == [
        f"{CDN}/wildberries/111/{n}.jpg" for n in (1, 2, 3)
    ]  # main, detail, extra
    assert all(r.headers["Authorization"] == API.WB_TOKEN for r in api.requests)
    save, read = "/content/v3/media/save", "/content/v2/get/cards/list"
    # C-3's vendor code looked up (WB has no such card), all saves, then the read-backs
    assert [r.path for r in api.requests] == [read, save, save, read, read]
    assert "no WB card has vendor code C-3" in by_sku["C-3"]["message"]
    body = json.loads(api.calls("/content/v3/media/save")[0].body)
    assert set(body) == {"nmId", "data"}
    report = json.loads((tmp_path / "packs" / "wildberries.report.json").read_text())
    assert {r["sku"] for r in report["upload"]} == {"A_1", "B-2", "C-3"}


def test_wb_card_without_nmid_is_found_by_vendor_code(registry, api, tmp_path):
    market, pack = built(registry, "wildberries", api, tmp_path)
    api.wb_cards[333] = []  # the seller's card on WB, no photos yet
    api.wb_vendor_codes[333] = "C-3"
    results = {r["sku"]: r for r in upload_pack(pack, market, sleep=Sleeps())}
    assert results["C-3"]["ok"] and results["C-3"]["card"] == "333", results["C-3"]
    assert len(api.wb_cards[333]) == 2 and "/wildberries/C-3/1.jpg" in api.wb_cards[333][0]
    lookup = json.loads(api.calls("/content/v2/get/cards/list")[0].body)
    assert lookup["settings"]["filter"]["textSearch"] == "C-3"


def test_wb_200_but_nothing_saved_is_a_failure(registry, api, tmp_path):
    market, pack = built(
        registry, "wildberries", api, tmp_path, base="https://cdn.example.com/broken"
    )
    results = upload_pack(pack, market, sleep=Sleeps())
    saved = [r for r in results if r["card"] in ("111", "222")]
    assert saved and all(
        not r["ok"] and "200 but the card has 0 photo" in r["message"] for r in saved
    )


def test_429_honours_retry_after_and_5xx_backs_off(registry, api, tmp_path):
    market, pack = built(registry, "wildberries", api, tmp_path)
    api.fail(
        "/content/v3/media/save",
        Fault(429, {"X-Ratelimit-Retry": "0.25"}),
        Fault(503),
        Fault(502),
        Fault(429, {"Retry-After": "2"}),
    )
    sleeps = Sleeps()
    results = upload_pack(pack, market, sleep=sleeps)
    assert all(r["ok"] for r in results if r["card"] != "C-3")
    assert sleeps == [0.25, 0.02, 0.04, 2.0]  # Retry-After as asked; else 0.01 * 2**attempt


def test_retries_spent_fail_the_card_not_the_run(registry, api, tmp_path):
    market, pack = built(registry, "wildberries", api, tmp_path, api_retries=2)
    api.fail("/content/v3/media/save", *[Fault(503)] * 3)
    results = {r["card"]: r for r in upload_pack(pack, market, sleep=Sleeps())}
    assert not results["111"]["ok"] and "HTTP 503 after 2 retries" in results["111"]["message"]
    assert results["222"]["ok"]


def test_rate_limit_spaces_requests(registry, api, tmp_path):
    market, pack = built(registry, "wildberries", api, tmp_path, api_min_interval_s=0.05)
    upload_pack(pack, market)  # real sleep: 1 lookup + 2 cards x (save + read back) = 5 requests
    times = [r.at for r in api.requests]
    assert len(times) == 5 and times[-1] - times[0] >= 0.17  # arrival jitter: check the span


def test_rate_limiter_with_a_fake_clock():
    now, slept = [0.0], []
    limiter = RateLimiter(0.6, clock=lambda: now[0], sleep=lambda s: slept.append(round(s, 3)))
    limiter.wait()
    now[0] = 0.1
    limiter.wait()
    now[0] = 5.0
    limiter.wait()
    assert slept == [0.5]


def test_missing_credentials_name_the_setting(registry, api, tmp_path):
    market, pack = built(registry, "wildberries", api, tmp_path)
    market.config.pop("token")
    with pytest.raises(VitrinaError, match=r"set token in \[marketplaces.wildberries\]"):
        upload_pack(pack, market)


def test_a_pack_for_another_marketplace_is_refused(registry, api, tmp_path):
    _, pack = built(registry, "ozon", api, tmp_path)
    with pytest.raises(UploadError, match="is a ozon pack"):
        upload_pack(pack, configured(registry, "wildberries", api))


def test_ozon_imports_polls_and_reports_per_offer(registry, api, tmp_path):
    market, pack = built(registry, "ozon", api, tmp_path, api_poll_s=0.0)
    api.fail("/v2/product/pictures/import", Fault(429, {"Item-Retry-After": "1"}))
    sleeps = Sleeps()
    results = upload_pack(pack, market, sleep=sleeps)
    assert all(r["ok"] and r["message"] == "imported" for r in results) and len(results) == 3
    assert 1.0 in sleeps and len(api.calls("/v1/product/import/info")) == 2  # pending, then done
    seen = api.calls("/v2/product/pictures/import")[-1]
    assert seen.headers["Client-Id"] == API.OZON_CLIENT and seen.headers["Api-Key"] == API.OZON_KEY
    items = json.loads(seen.body)["items"]
    assert {i["offer_id"] for i in items} == {"A_1", "B-2", "C-3"}
    a1 = next(i for i in items if i["offer_id"] == "A_1")
    assert set(a1) == {"offer_id", "primary_image", "images"}
    assert "/ozon/A-1-" in a1["primary_image"] and a1["primary_image"].endswith("-1.jpg")
    assert api.ozon_images["A_1"] == [a1["primary_image"], *a1["images"]]  # main first
    info = json.loads(api.calls("/v1/product/import/info")[0].body)
    assert info == {"task_id": 1000}


def test_ozon_failed_offers_carry_ozons_reason(registry, api, tmp_path):
    market, pack = built(
        registry, "ozon", api, tmp_path, base="https://cdn.example.com/broken", api_poll_s=0.0
    )
    api.ozon_unknown.add("B-2")
    results = {r["card"]: r for r in upload_pack(pack, market, sleep=Sleeps())}
    assert not results["B-2"]["ok"] and "product not found" in results["B-2"]["message"]
    for card in ("A_1", "C-3"):
        assert not results[card]["ok"] and "image download failed" in results[card]["message"]


def test_ozon_still_pending_is_reported_not_hidden(registry, api, tmp_path):
    market, pack = built(registry, "ozon", api, tmp_path, api_poll_s=0.0, api_polls=2)
    api.pending_polls = 5
    results = upload_pack(pack, market, sleep=Sleeps())
    assert all(not r["ok"] and "still pending after 2 polls" in r["message"] for r in results)


def kaspi_products(tmp_path, skus=("A_1", "B-2", "C-3")) -> str:
    """The seller's own Kaspi products (everything the import needs but images)."""
    products = [
        {
            "sku": sku,
            "title": f"Кружка {sku}",
            "brand": "Vitrina",
            "category": "Master - Mugs",
            "description": "Керамика, 300 мл",
            "attributes": [{"code": "Mugs*Obshie harakteristiki.mugs*volume", "value": 300}],
        }
        for sku in skus
    ]
    path = tmp_path / "kaspi-products.json"
    path.write_text(json.dumps(products, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_kaspi_import_text_plain_status_then_result(registry, api, tmp_path):
    market, pack = built(
        registry, "kaspi", api, tmp_path, api_poll_s=0.0, products_file=kaspi_products(tmp_path)
    )
    sleeps = Sleeps()
    results = upload_pack(pack, market, sleep=sleeps)
    assert all(r["ok"] and r["message"] == "imported" for r in results) and len(results) == 3
    seen = api.calls("/shop/api/products/import")
    assert [r.method for r in seen] == ["POST", "GET", "GET"]  # UPLOADED once, then FINISHED
    assert len(api.calls("/shop/api/products/import/result")) == 1 and sleeps == [0.0]
    assert seen[0].headers["X-Auth-Token"] == API.KASPI_TOKEN
    assert seen[0].headers["Content-Type"].startswith("text/plain")
    sent = {p["sku"]: p for p in json.loads(seen[0].body)}
    assert set(sent) == {"A_1", "B-2", "C-3"}
    assert sent["A_1"]["brand"] == "Vitrina" and sent["A_1"]["images"][0]["url"].startswith(CDN)


def test_kaspi_without_the_sellers_product_data_sends_nothing(registry, api, tmp_path):
    market, pack = built(
        registry, "kaspi", api, tmp_path, products_file=kaspi_products(tmp_path, skus=("A_1",))
    )
    results = {r["card"]: r for r in upload_pack(pack, market, sleep=Sleeps())}
    assert results["A_1"]["ok"]
    for card in ("B-2", "C-3"):
        assert not results[card]["ok"]
        assert "needs the whole product" in results[card]["message"]
        assert "not in products_file" in results[card]["message"]
    assert [p["sku"] for p in json.loads(api.calls("/shop/api/products/import")[0].body)] == ["A_1"]
    market.config.pop("products_file")
    api.requests.clear()
    results = upload_pack(pack, market, sleep=Sleeps())
    assert not any(r["ok"] for r in results) and api.requests == []


def test_kaspi_unreadable_products_file_is_named(registry, api, tmp_path):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    for name in ("missing.json", "broken.json"):
        market, pack = built(registry, "kaspi", api, tmp_path, products_file=str(tmp_path / name))
        with pytest.raises(UploadError, match=f"products_file .*{name}"):
            upload_pack(pack, market, sleep=Sleeps())
    assert api.requests == []


def test_kaspi_failed_sku_carries_kaspis_state(registry, api, tmp_path):
    market, pack = built(
        registry,
        "kaspi",
        api,
        tmp_path,
        base="https://cdn.example.com/broken",
        api_poll_s=0.0,
        products_file=kaspi_products(tmp_path),
    )
    results = upload_pack(pack, market, sleep=Sleeps())
    assert all(not r["ok"] and "ERROR" in r["message"] for r in results)
    assert all("image not reachable" in r["message"] for r in results)


def test_upload_command_reads_credentials_from_config(registry, api, tmp_path):
    _, pack = built(registry, "wildberries", api, tmp_path)
    config = tmp_path / "vitrina.toml"
    config.write_text(
        f'[marketplaces.wildberries]\ntoken = "{API.WB_TOKEN}"\napi_url = "{api.url}"\n'
        "api_min_interval_s = 0.0\n"
    )
    result = CliRunner().invoke(upload, [str(pack), "-m", "wildberries", "--config", str(config)])
    assert "ok     A_1 (111): 3 photo(s) saved" in result.output
    assert result.exit_code == 1 and "1 card(s) failed" in result.output  # C-3 has no nmID


def test_upload_writes_each_cards_result_into_message(registry, api, tmp_path):
    from openpyxl import Workbook, load_workbook

    _, pack = built(registry, "wildberries", api, tmp_path)
    wb = Workbook()
    wb.active.append(["SKU", "Source", "Message"])
    for sku in ("A_1", "B-2", "C-3"):
        wb.active.append([sku, f"photos/{sku}.jpg", ""])
    wb.save(tmp_path / "catalog.xlsx")
    config = tmp_path / "vitrina.toml"
    config.write_text(
        f'[marketplaces.wildberries]\ntoken = "{API.WB_TOKEN}"\napi_url = "{api.url}"\n'
        "api_min_interval_s = 0.0\n"
    )
    args = [str(pack), "-m", "wildberries", "--catalog", str(tmp_path / "catalog.xlsx")]
    result = CliRunner().invoke(upload, args)
    assert "Message written for 3 row(s)" in result.output, result.output
    ws = load_workbook(tmp_path / "catalog.xlsx").active
    messages = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(2, 5)}
    assert messages["A_1"] == "wildberries upload: ok: 3 photo(s) saved"
    assert messages["C-3"].startswith("wildberries upload: failed: not uploaded: no WB nmID")
