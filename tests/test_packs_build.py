"""Pack building: row errors, skipped rows with reasons, roles, determinism, zip safety, atomicity."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vitrina_sync import plugins
from vitrina_sync.packs.base import PackError
from vitrina_sync.packs.build import build_pack
from vitrina_sync.packs.names import check_arcname, safe_stem
from vitrina_sync.packs.testing import item, small_rules

BASE = "https://cdn.example.com"


@pytest.fixture(scope="module")
def registry():
    return plugins.marketplaces(plugins.build_plugin_manager())


def market(registry, name="wildberries", **rules):
    """The plugin configured with small 3:4 rules (fast) plus `rules`."""
    return registry[name].configured({"marketplaces": {name: small_rules(**rules)}})


def names(result) -> list[str]:
    with zipfile.ZipFile(result.zip_path) as zf:
        return zf.namelist()


def test_rebuild_is_byte_identical(registry, tmp_path):
    items = [
        item(tmp_path, f"S{i}", ids={"wb_nmid": str(10 + i)}, size=(200, 200), variants=1)
        for i in range(5)
    ]
    for name in ("wildberries", "ozon", "kaspi"):
        m = registry[name].configured(
            {
                "marketplaces": {
                    name: {
                        "min_width": 100,
                        "min_height": 100,
                        "target_width": 150,
                        "target_height": 150,
                        "aspect": "1:1",
                    }
                }
            }
        )
        first = build_pack(items, m, tmp_path / "a", BASE).zip_path.read_bytes()
        again = build_pack(list(reversed(items)), m, tmp_path / "b", BASE).zip_path.read_bytes()
        assert first == again, name
        info = zipfile.ZipFile(io.BytesIO(first)).infolist()
        assert [i.filename for i in info] == sorted(i.filename for i in info)
        assert {i.date_time for i in info} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize(
    "sku",
    [
        "../../etc/passwd",
        "/abs/path",
        "C:\\evil",
        ".hidden",
        "a/../../b",
        "..",
        "Кружка 1",
        "a_b/c",
    ],
)
@pytest.mark.parametrize("name", ["wildberries", "ozon", "kaspi"])
def test_zip_slip_attempts_give_safe_names(registry, tmp_path, sku, name):
    m = market(registry, name, aspect="3:4")
    result = build_pack([item(tmp_path, sku, size=(150, 200))], m, tmp_path / "out", BASE)
    entries = names(result)
    assert result.report["counts"]["cards"] == 1
    for entry in entries:
        assert check_arcname(entry) is None, entry
        assert ".." not in entry and not entry.startswith("/") and "\\" not in entry
    if name == "ozon":
        assert all("_" not in e.split("/")[-1] for e in entries if e.endswith(".jpg"))


def test_control_characters_in_an_id_are_a_row_error(registry, tmp_path):
    result = build_pack(
        [item(tmp_path, "x\x00y", size=(150, 200))],
        market(registry, "ozon"),
        tmp_path / "out",
        BASE,
    )
    assert not result.cards and "control characters" in result.skipped[0]["reason"]


def test_safe_stem_keeps_distinct_skus_distinct():
    assert safe_stem("A_1", "_/") != safe_stem("A-1", "_/")
    assert safe_stem("A/1") != safe_stem("A-1")
    assert safe_stem("Plain-01") == "Plain-01"
    assert len(safe_stem("x" * 300)) <= 80


def test_unwritable_out_folder_is_a_pack_error(registry, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(PackError, match="cannot write packs"):
        build_pack([item(tmp_path, "S", size=(150, 200))], market(registry), blocker / "out", BASE)


def test_failed_write_leaves_the_previous_pack_and_no_temp_files(registry, tmp_path, monkeypatch):
    m = market(registry)
    items = [item(tmp_path, "S", size=(150, 200))]
    out = tmp_path / "out"
    good = build_pack(items, m, out, BASE).zip_path.read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("vitrina_sync.packs.build.os.replace", boom)
    with pytest.raises(PackError, match="No space left"):
        build_pack(items, m, out, BASE)
    assert (out / "wildberries.zip").read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == ["wildberries.report.json", "wildberries.zip"]


def test_concurrent_builds_to_one_folder_do_not_collide(registry, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    m = market(registry)
    items = [item(tmp_path, f"S{i}", size=(150, 200)) for i in range(4)]
    out = tmp_path / "out"
    with ThreadPoolExecutor(4) as pool:
        zips = list(pool.map(lambda _: build_pack(items, m, out, BASE, workers=1), range(4)))
    assert len({z.zip_path.read_bytes() for z in zips}) == 1
    assert sorted(p.name for p in out.iterdir()) == ["wildberries.report.json", "wildberries.zip"]
    assert (out / "wildberries.zip").stat().st_mode & 0o777 == 0o644


def test_row_errors_are_skipped_with_reasons(registry, tmp_path):
    m = market(registry)
    ok = item(tmp_path, "OK", size=(150, 200))
    small = item(tmp_path, "SMALL", size=(40, 40))
    missing = item(tmp_path, "GONE", size=(150, 200))
    (missing.out_dir / "main.jpg").unlink()
    bad_id = item(tmp_path, "BADID", ids={"wb_nmid": "12a"}, size=(150, 200))
    result = build_pack(
        [ok, small, missing, bad_id],
        m,
        tmp_path / "out",
        BASE,
        skipped=[{"sku": "DRAFT", "row": 9, "reason": "not approved"}],
    )
    reasons = {s["sku"]: s["reason"] for s in result.skipped}
    assert [c.item.sku for c in result.cards] == ["OK"]
    assert "source too small" in reasons["SMALL"] and "never upscale" in reasons["SMALL"]
    assert "no main.jpg" in reasons["GONE"]
    assert "not a number" in reasons["BADID"]
    assert reasons["DRAFT"] == "not approved"


def test_compression_stays_above_the_floor_or_fails_the_row(registry, tmp_path):
    noisy = item(tmp_path, "NOISY", size=(300, 400))
    noise = Image.effect_noise((300, 400), 120).convert("RGB")
    noise.save(noisy.out_dir / "main.jpg", quality=95)
    m = market(registry, max_bytes=6000, target_width=300, target_height=400, main_background="any")
    result = build_pack([noisy], m, tmp_path / "out", BASE)
    assert not result.cards and "quality floor 65" in result.skipped[0]["reason"]
    m = market(
        registry, max_bytes=80000, target_width=300, target_height=400, main_background="any"
    )
    result = build_pack([noisy], m, tmp_path / "out2", BASE)
    main = result.cards[0].files[0]
    assert len(main.data) <= 80000 and 65 <= main.quality < 92


def test_detail_and_social_roles(registry, tmp_path):
    m = market(registry, social_frame=True, roles=["main", "detail", "extra"])
    result = build_pack([item(tmp_path, "S", size=(800, 800), variants=2)], m, tmp_path / "o", BASE)
    roles = [f.role for f in result.cards[0].files]
    assert roles == ["main", "social", "detail", "extra", "extra"]
    sizes = {(f.width, f.height) for f in result.cards[0].files}
    assert sizes == {(90, 120)}


def test_max_images_caps_the_card_with_a_note(registry, tmp_path):
    m = market(registry, max_images=2)
    result = build_pack([item(tmp_path, "S", size=(800, 800), variants=3)], m, tmp_path / "o", BASE)
    card = result.cards[0]
    assert len(card.files) == 2 and any("limit left out" in n for n in card.notes)


def test_non_white_main_background_fails_a_white_policy(registry, tmp_path):
    grey = item(tmp_path, "GREY", size=(150, 200), background=(90, 90, 90))
    result = build_pack([grey], market(registry, main_background="white"), tmp_path / "o", BASE)
    assert not result.cards and "main_background failed" in result.skipped[0]["reason"]
    result = build_pack([grey], market(registry, main_background="any"), tmp_path / "o2", BASE)
    assert result.cards


def test_png_sources_and_rgba_are_flattened(registry, tmp_path):
    it = item(tmp_path, "PNG", size=(150, 200), fmt="png")
    result = build_pack([it], market(registry), tmp_path / "o", BASE)
    img = Image.open(io.BytesIO(result.cards[0].files[0].data))
    assert img.format == "JPEG" and img.mode == "RGB"


def test_duplicate_card_ids_keep_the_first(registry, tmp_path):
    a = item(tmp_path, "A", ids={"wb_nmid": "5"}, size=(150, 200))
    b = item(tmp_path, "B", ids={"wb_nmid": "5"}, size=(150, 200))
    result = build_pack([b, a], market(registry), tmp_path / "o", BASE)
    assert [c.item.sku for c in result.cards] == ["A"]
    assert "clash with A" in result.skipped[0]["reason"]


@pytest.mark.parametrize("url", ["", "ftp://x", "cdn.example.com", "file:///etc"])
def test_base_url_must_be_http(registry, tmp_path, url):
    with pytest.raises(PackError, match="base-url"):
        build_pack([], market(registry), tmp_path / "o", url)


def swapped_primaries_profile() -> bytes:
    """An RGB ICC profile whose red and blue primaries are swapped (and not named sRGB)."""
    import struct

    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", data[128:132])[0]
    entries = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    r, b = entries[b"rXYZ"], entries[b"bXYZ"]
    data[r + 4 : r + 12], data[b + 4 : b + 12] = data[b + 4 : b + 12], data[r + 4 : r + 12]
    return bytes(data).replace("sRGB".encode("utf-16-be"), "swap".encode("utf-16-be"))


def test_a_non_srgb_profile_is_converted_not_dropped(registry, tmp_path):
    it = item(tmp_path, "ICC", size=(150, 200), icc=swapped_primaries_profile())
    result = build_pack([it], market(registry), tmp_path / "o", BASE)
    img = Image.open(io.BytesIO(result.cards[0].files[0].data))
    assert "icc_profile" not in img.info
    r, _g, b = img.getpixel((45, 60))  # inside the product rectangle, drawn as (200, 30, 40)
    assert b > 150 and r < 90  # the tagged "red" is blue once its profile is honoured


def test_a_non_srgb_tag_on_a_final_file_fails_the_check(registry):
    from vitrina_sync.packs.base import RenderedFile
    from vitrina_sync.packs.validate import validate_file

    buf = io.BytesIO()
    Image.new("RGB", (90, 120), "white").save(buf, "JPEG", icc_profile=swapped_primaries_profile())
    m = market(registry)
    checks = validate_file(
        RenderedFile("main", "wildberries/x/1.jpg", buf.getvalue(), 90, 120, "JPEG"), m.rules
    )
    assert [c.check for c in checks if not c.ok] == ["colour_space"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.sampled_from(["", "_/"]))
def test_safe_stem_is_always_a_safe_single_component(text, forbidden):
    stem = safe_stem(text, forbidden)
    assert check_arcname(f"ozon/{stem}-1.jpg") is None
    assert "/" not in stem and ".." not in stem and not stem.startswith((".", "-"))
    assert not set(forbidden) & set(stem) and len(stem) <= 80
    assert stem.isascii()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_distinct_ids_get_distinct_stems(a, b):
    if a != b:
        assert safe_stem(a, "_/") != safe_stem(b, "_/")


def test_the_approved_variant_leads_the_card_and_a_missing_one_is_a_row_error(registry, tmp_path):
    m = market(registry)
    chosen = item(tmp_path, "V", ids={"wb_nmid": "77"}, size=(150, 200), variants=2)
    chosen.variant = 3  # "approved 3": variant_3 leads, main.jpg (variant 1) follows as an extra
    lost = item(tmp_path, "W", ids={"wb_nmid": "78"}, size=(150, 200))
    lost.variant = 2  # the output has no variant 2
    result = build_pack([chosen, lost], m, tmp_path / "o", BASE)
    reasons = {s["sku"]: s["reason"] for s in result.skipped}
    assert "approves variant 2" in reasons["W"]
    with zipfile.ZipFile(result.zip_path) as zf:
        photos = sorted(n for n in zf.namelist() if n.endswith(".jpg"))
        first = Image.open(io.BytesIO(zf.read(photos[0]))).convert("RGB")
    assert photos[0].endswith("/1.jpg") and len(photos) == 3
    # main.jpg has a red box in the middle; variant 3 a green-ish ellipse on a light ground
    r, g, _ = first.getpixel((first.width // 2, int(first.height * 0.55)))
    assert not (r > 150 and g < 80), (r, g)
