"""QA figures against images whose answer is known (no model involved)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageFilter
from scipy import ndimage
from skimage.color import deltaE_ciede2000, rgb2lab
from synthetic import scene

from vitrina_sync.imaging import colour, qa

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula", table 1 (selected pairs).
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
]


def test_ciede2000_matches_published_pairs():
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    expected = np.array([p[2] for p in SHARMA])
    assert np.allclose(colour.ciede2000(lab1, lab2), expected, atol=1e-4)


def test_ciede2000_matches_scikit_image_on_random_colours():
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 256, (2, 5000, 3)).astype(np.uint8)
    ours = colour.delta_e_rgb(a, b)
    theirs = deltaE_ciede2000(rgb2lab(a[None] / 255.0)[0], rgb2lab(b[None] / 255.0)[0])
    # scikit-image's sRGB->Lab uses slightly different constants (CIE's exact 216/24389 and
    # 841/108 vs the rounded 0.008856 and 7.787); on identical Lab input the formulas agree.
    assert np.abs(colour.srgb_to_lab(a) - rgb2lab(a[None] / 255.0)[0]).max() < 0.01
    assert np.abs(ours - theirs).max() < 0.02
    lab1, lab2 = rgb2lab(a[None] / 255.0)[0], rgb2lab(b[None] / 255.0)[0]
    assert np.abs(colour.ciede2000(lab1, lab2) - deltaE_ciede2000(lab1, lab2)).max() < 1e-6


def _hue_shift(rgb: np.ndarray, degrees: float) -> np.ndarray:
    hsv = np.asarray(Image.fromarray(rgb).convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + round(degrees / 360 * 256)) % 256
    return np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"))


def test_hue_shifted_output_fails_colour_drift():
    sc = scene("box", "green", (300, 400))
    src = np.asarray(sc.image)
    opaque = sc.alpha >= 1.0
    assert qa.colour_drift(src, src.copy(), opaque) == (0.0, 0.0)
    shifted = _hue_shift(src, 12)
    mean, p95 = qa.colour_drift(src, shifted, opaque)
    assert mean > 1.0 and p95 > 2.0
    report = qa.finish({**_figures(), "de_mean": mean, "de_p95": p95}, {}, "", 0.85)
    assert any(f.startswith("dE ") and "> 1" in f for f in report["flags"])
    assert not report["summary"].endswith("| ok")


def _figures(**kw):
    base = {"de_mean": 0.0, "de_p95": 0.0, "halo": 0.0, "uncertainty": 0.02, "bg_inside": 0.0}
    base.update({"fill": 0.85, "purity": 1.0, "sharpness": 200.0, "headroom": 1.2})
    base.update(kw)
    return base


def _composite(sc, alpha, colours=None):
    """The scene's product over white with `alpha`, colours from the photo unless given."""
    fg = np.asarray(sc.image, np.float32) if colours is None else colours.astype(np.float32)
    a = alpha[..., None]
    return np.clip(fg * a + 255.0 * (1 - a) + 0.5, 0, 255).astype(np.uint8)


def test_haloed_composite_fails_halo_and_a_clean_one_passes():
    sc = scene("box", "green", (600, 800))
    src = np.asarray(sc.image)
    white = np.full_like(src, 255)
    clean = _composite(sc, sc.alpha, sc.product)  # true alpha, true product colours
    assert qa.halo(src, clean, sc.alpha, white) < 0.01
    grown = ndimage.binary_dilation(sc.alpha > 0.5, iterations=3).astype(np.float32)
    haloed = _composite(sc, grown)  # the mask 3 px too big: a green rim survives
    value = qa.halo(src, haloed, grown, white)
    assert value > 0.2
    report = qa.finish(_figures(halo=value), {}, "", 0.85)
    assert any(f.startswith("halo ") and f.endswith("> 0.03") for f in report["flags"])


def test_undecontaminated_soft_edge_shows_as_halo():
    """Soft (blurred) alpha with the photo's own edge colours keeps a green fringe."""
    sc = scene("bottle", "green", (600, 800))
    src = np.asarray(sc.image)
    blurred = ndimage.gaussian_filter((sc.alpha > 0.5).astype(np.float32), 2.0)
    soft = np.clip(blurred * 1.3 - 0.15, 0.0, 1.0)  # a soft edge ~6 px wide, opaque inside
    naive = _composite(sc, soft)
    fixed = _composite(sc, soft, sc.product)
    white = np.full_like(src, 255)
    assert qa.halo(src, naive, soft, white) > 0.05  # measured 0.095
    assert qa.halo(src, fixed, soft, white) < 0.005  # the product's true colours in the edge


def test_uncertainty_fill_purity_known_answers():
    p = np.zeros((100, 100), np.float32)
    p[20:80, 20:80] = 1.0
    p[20:80, 20:23] = 0.6  # 3 of 60 columns uncertain
    assert qa.uncertainty(p) == pytest.approx(3 / 60)
    mask = np.zeros((200, 100), np.uint8)
    mask[50:150, 10:60] = 255
    assert qa.fill(mask) == pytest.approx(0.5)
    assert qa.fill(mask, (5, 40, 70, 160)) == qa.fill(mask)  # read on the region it lies in
    img = np.full((200, 100, 3), 255, np.uint8)
    img[0, 0] = (254, 255, 255)
    assert qa.purity(img, mask) == pytest.approx(1 - 1 / (200 * 100 - 100 * 50))


def test_background_inside_catches_a_hole_kept_as_product():
    sc = scene("ring", "green", (400, 400))
    src = np.asarray(sc.image)
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)
    assert qa.background_inside(src, filled) > 0.2  # the hole's green counted as product
    assert qa.background_inside(src, (sc.alpha >= 1.0).astype(np.float32)) < 0.005


def test_sharpness_drops_when_blurred():
    img = scene("box", "chelsea", (600, 800)).image
    sharp = qa.sharpness(img)
    blurred = qa.sharpness(img.filter(ImageFilter.GaussianBlur(3)))
    assert sharp > 100 and blurred < sharp / 10
    report = qa.finish(_figures(sharpness=blurred), {}, "", 0.85)
    assert any(f.startswith("sharpness ") for f in report["flags"])


@pytest.mark.parametrize("kind,bg", [("mug", "light"), ("mug", "white")])
def test_a_sharp_photo_of_a_smooth_low_contrast_product_reads_sharp(kind, bg):
    """Over the whole crop such a photo is flat paint (7.6 and 10.5 before the edges were
    looked at, under the limit); at its edges it is sharp. Blurred by 1 px it is not."""
    sc = scene(kind, bg, (900, 1200))
    ys, xs = np.nonzero(sc.alpha > 0.5)
    m = round(0.05 * max(np.ptp(ys), np.ptp(xs)))
    crop = sc.image.crop((xs.min() - m, ys.min() - m, xs.max() + m, ys.max() + m))
    limit = qa.DEFAULTS["sharpness_min"]
    assert qa.sharpness(crop) > 2 * limit
    assert qa.sharpness(crop.filter(ImageFilter.GaussianBlur(max(crop.size) / 512))) < limit


def test_thresholds_per_category_and_preset():
    settings = {"categories": {"Jewellery": {"halo_max": 0.1, "bogus": 3}}}
    assert qa.thresholds(settings, "jewellery")["halo_max"] == 0.1
    assert qa.thresholds(settings, "shoes")["halo_max"] == qa.DEFAULTS["halo_max"]
    figures = _figures(halo=0.07)
    assert qa.finish(figures, settings, "jewellery", 0.85)["flags"] == []
    assert qa.finish(figures, settings, "shoes", 0.85)["flags"] == ["halo 0.07 > 0.03"]
    low = qa.finish(_figures(headroom=0.4), {}, "", 0.85, {"max_upscale": 3.0})
    assert low["flags"] == []  # 0.4 >= 1/3: the preset allows that much upscaling


def test_summary_and_json():
    report = qa.finish(_figures(de_mean=0.41, halo=0.012, fill=0.8312), {}, "", 0.83)
    assert report["summary"] == "dE 0.4 | halo 0.01 | fill 0.83 | ok"
    assert report["flags"] == []
    bad = qa.finish(_figures(fill=0.7), {}, "", 0.85)
    assert bad["flags"] == ["fill 0.70 != 0.85"]
    assert bad["summary"] == "dE 0.0 | halo 0.00 | fill 0.70 | fill 0.70 != 0.85"
    json.dumps(report)


# Fast paths of the QA figures: each must give the answer of the plain computation.


def test_delta_e_below_matches_the_full_ciede2000_test():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (20000, 3)).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 3, a.shape), 0, 255)  # float, mostly close pairs
    far = rng.integers(0, 256, (20000, 3)).astype(np.uint8)
    for other in (b, far, far.astype(np.float64)):
        for limit in (1.0, 2.5, 4.0):
            want = colour.delta_e_rgb(a, other) < limit
            assert np.array_equal(colour.delta_e_below(a, other, limit), want)
    assert np.abs(colour.srgb_lightness(a) - colour.srgb_to_lab(a)[:, 0]).max() < 1e-9


def test_colour_drift_fast_path_matches_the_sampled_computation():
    sc = scene("box", "green", (300, 400))
    src = np.asarray(sc.image)
    opaque = sc.alpha >= 1.0
    out = src.copy()
    out[~opaque] = 255  # only non-opaque pixels changed: the lock holds
    assert qa.colour_drift(src, out, opaque) == (0.0, 0.0)
    ys, xs = np.nonzero(opaque)
    out[ys[::50], xs[::50]] = (0, 0, 255)  # some locked pixels broken
    mean, p95 = qa.colour_drift(src, out, opaque)
    assert mean > 0.5 and mean == pytest.approx(
        float(colour.delta_e_rgb(src[ys, xs], out[ys, xs]).mean()), rel=1e-9
    )
    strided = np.full((500, 700, 3), 255, np.uint8)[50:450, 100:400]  # a canvas view, as white mode
    strided[...] = out
    assert qa.colour_drift(src, strided, opaque) == (mean, p95)


def test_region_looks_count_what_colour_drift_and_purity_count():
    """One compiled pass over the region (white mode's figures) gives colour_drift's `changed`
    and purity's counts in the box: the same as _any_changed and _white_in_box."""
    rng = np.random.default_rng(7)
    src = rng.integers(0, 256, (120, 90, 3)).astype(np.uint8)
    levels = rng.choice(np.array([0, 0, 17, 128, 255, 255], np.uint8), (120, 90))
    canvas = np.full((200, 150, 3), 255, np.uint8)
    l, t, r, b = 30, 40, 120, 160
    out = canvas[t:b, l:r]
    out[levels == 255] = src[levels == 255]
    out[levels == 17] = 200
    out[(levels == 0) & (rng.random((120, 90)) < 0.1)] = 254  # not quite white
    mask = np.zeros((200, 150), np.uint8)
    mask[t:b, l:r] = levels
    shadow = rng.random((120, 90)) < 0.2
    shadow_mask = np.zeros((200, 150), bool)
    shadow_mask[t:b, l:r] = shadow
    for broken in (False, True):
        if broken:
            ys, xs = np.nonzero(levels == 255)
            out[ys[5], xs[5]] = src[ys[5], xs[5]] ^ 1
        looks = qa.region_looks(src, canvas, (l, t, r, b), levels, shadow)
        if looks is None:  # no numba
            return
        changed, in_box = looks
        assert changed == qa._any_changed(src, out, levels == 255) == broken
        assert in_box == qa._white_in_box(canvas, mask, shadow_mask, (l, t, r, b))
        no_shadow = qa.region_looks(src, canvas, (l, t, r, b), levels)[1]
        assert no_shadow == qa._white_in_box(canvas, mask, None, (l, t, r, b))
        assert qa.purity(canvas, mask, shadow_mask, (l, t, r, b), in_box) == qa.purity(
            canvas, mask, shadow_mask, (l, t, r, b)
        )


def test_halo_s_fields_from_the_full_size_source_are_block_fields_of_its_half():
    """qa.halo's local means on a large region read block_fields of the source reduced 2x by
    Pillow; kernels.halved_fields makes both (by 2 with the inner mask, by 4 with the outer)
    from the full-size source in one pass: the same values, odd sizes included."""
    from PIL import Image

    from vitrina_sync.imaging import compiled
    from vitrina_sync.imaging.local_means import block_fields

    kernels = compiled.loops()
    if kernels is None:
        return
    rng = np.random.default_rng(3)
    for h, w in [(41, 37), (40, 38), (7, 9), (63, 64)]:
        src = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
        half = np.asarray(Image.fromarray(src, "RGB").reduce(2))
        inner = rng.random(half.shape[:2]) < 0.5
        outer = rng.random(half.shape[:2]) < 0.3
        hh, hw = inner.shape
        near = np.empty(((hh - 1) // 2 + 1, (hw - 1) // 2 + 1, 4), np.float32)
        far = np.empty(((hh - 1) // 4 + 1, (hw - 1) // 4 + 1, 4), np.float32)
        kernels.halved_fields(src, inner, outer, near, far)
        assert np.array_equal(near, block_fields(half, inner, 2))
        assert np.array_equal(far, block_fields(half, outer, 4))


@pytest.mark.parametrize("size", [(1000, 1400), (600, 800)])
def test_halo_with_a_broadcast_background_equals_the_full_array(size):
    """One colour broadcast (the compiled verdict, kernels.figures.halo_verdict) and the full
    array (halo's numpy lines): the same figure, over HALO_FULL_SIDE (the reduced path) and
    under it; a clean composite too."""
    sc = scene("bottle", "green", size)
    src = np.asarray(sc.image)
    grown = ndimage.binary_dilation(sc.alpha > 0.5, iterations=6).astype(np.float32)
    haloed = _composite(sc, grown)
    full = np.full_like(src, 255)
    plain = np.broadcast_to(np.full(3, 255, np.uint8), src.shape)
    assert qa.halo(src, haloed, grown, plain) == qa.halo(src, haloed, grown, full) > 0.2
    clean = _composite(sc, sc.alpha, sc.product)
    assert qa.halo(src, clean, sc.alpha, plain) == qa.halo(src, clean, sc.alpha, full)


def test_halo_and_bg_inside_with_pillow_images_equal_the_array_path():
    """The mode passes the region's Pillow images (no conversion): same figures as arrays."""
    sc = scene("ring", "light", (1000, 1400))  # over HALO_FULL_SIDE: the reduced path
    src = np.asarray(sc.image)
    grown = ndimage.binary_dilation(sc.alpha > 0.5, iterations=4).astype(np.float32)
    haloed = _composite(sc, grown)
    canvas = np.zeros((1500, 1100, 3), np.uint8)
    canvas[40:1440, 60:1060] = haloed
    out_view = canvas[40:1440, 60:1060]  # a strided view, as the mode's output region is
    white = np.broadcast_to(np.full(3, 255, np.uint8), src.shape)
    images = (sc.image, Image.fromarray(canvas).crop((60, 40, 1060, 1440)))
    assert (
        qa.halo(src, out_view, grown, white, images) == qa.halo(src, out_view, grown, white) > 0.3
    )
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)  # the hole kept
    plain = qa.background_inside(src, filled)
    assert qa.background_inside(src, filled, sc.image) == plain > 0.05


@pytest.mark.parametrize("size", [(500, 380), (700, 1000), (1300, 1700)])
def test_bg_inside_and_soft_holes_on_a_shared_copy_equal_their_own(size):
    """qa.ShapeCopy (the region reduced once for bg_inside and soft_holes) gives bg_inside
    exactly openings.find's share on the full region (find reduces it the same way), and
    soft_holes the same as without it: no reduction, by 2 and by 5; holes kept and cut out."""
    from vitrina_sync.imaging.openings import REPORT, find

    sc = scene("ring", "chelsea", size)
    src = np.asarray(sc.image)
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)  # the hole kept
    for alpha in (filled, np.ascontiguousarray(sc.alpha, np.float32)):
        shape = qa.ShapeCopy(src, alpha, sc.image)
        bg_inside = qa.background_inside(src, alpha, shape=shape)
        assert bg_inside == find(src, alpha, REPORT)[1]
        assert qa.soft_holes(src, alpha, shape=shape) == qa.soft_holes(src, alpha)
    assert bg_inside < 0.005 < qa.background_inside(src, filled)


def test_compiled_region_loops_equal_the_numpy_paths(monkeypatch):
    """colour drift's identity check, purity's count and the opaque copy run as compiled loops;
    each must give what the numpy path gives (canvas views and packed arrays alike)."""
    from vitrina_sync.imaging import compiled, compose

    rng = np.random.default_rng(6)
    canvas = np.full((90, 120, 3), 255, np.uint8)
    canvas[30:50, 40:70] = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    mask = np.zeros((90, 120), np.uint8)
    mask[32:48, 42:68] = 255
    shadow = np.zeros((90, 120), bool)
    shadow[48:52, 40:70] = True
    view = canvas[20:60, 30:80]
    source = view.copy()
    source[5, 5] ^= 1  # one differing pixel
    where = rng.random((40, 50)) < 0.5

    def run_all() -> list:
        results = []
        for flag in (True, False):
            where[5, 5] = flag
            results.append(("drift", qa._any_changed(source, view, where)))
            results.append(("same", qa._any_changed(view.copy(), view, where)))
        for shade in (None, shadow):
            results.append(("purity", qa.purity(canvas, mask, shade, (30, 20, 80, 60))))
        out = canvas.copy()
        compose._copy_where(out[20:60, 30:80], source, where)
        results.append(("copy", out))
        return results

    cases = run_all()
    monkeypatch.setattr(qa, "loops", lambda: None)
    monkeypatch.setattr(compose, "loops", lambda: None)
    plain = run_all()
    assert compiled.loops() is not None
    assert [c[1] for c in cases[:4]] == [True, False, False, False]
    for (name, got), (_, want) in zip(cases, plain, strict=True):
        assert np.array_equal(got, want), name


def test_compiled_uncertainty_and_edge_pixels_equal_the_numpy_paths(monkeypatch):
    """uncertainty's counts (kernels.canvas.uncertain_count, on the map read at every k-th
    pixel) and kept_openings.edge_pixels (kernels.canvas.edge_pairs) give what numpy gives:
    random maps with values on the thresholds' float32 neighbours, a map with no product,
    reading steps 1-3; CIELAB copies of noise and of a scene at several steps."""
    from vitrina_sync.imaging import compiled
    from vitrina_sync.imaging.kept_openings import edge_pixels
    from vitrina_sync.imaging.openings import lab

    rng = np.random.default_rng(41)
    maps = []
    for i in range(60):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        p = rng.random((h, w)).astype(np.float32)
        for value in (0.1, 0.5, 0.9):
            edge = np.float32(value)
            p[rng.random((h, w)) < 0.1] = edge
            p[rng.random((h, w)) < 0.05] = np.nextafter(edge, np.float32(1.0))
            p[rng.random((h, w)) < 0.05] = np.nextafter(edge, np.float32(0.0))
        maps.append(np.minimum(p, np.float32(0.5)) if i % 7 == 0 else p)
    maps.append(np.ascontiguousarray(scene("ring", "chelsea", (900, 1300)).alpha, np.float32))
    noise = lab(rng.integers(0, 256, (37, 41, 3), dtype=np.uint8))
    picture = lab(np.asarray(scene("padlock", "coins", (300, 240)).image))

    def run_all() -> list:
        shares = [(qa.uncertainty(p), qa.uncertainty(p[:, ::2])) for p in maps]
        edges = [edge_pixels(c, step) for c in (noise, picture) for step in (3.0, 12.0, 40.0)]
        return shares + edges

    cases = run_all()
    monkeypatch.setattr(qa, "loops", lambda: None)
    monkeypatch.setattr(compiled, "loops", lambda: None)
    plain = run_all()
    assert cases[7 * 0][0] == 1.0 and 0.0 < cases[-7][0] < 0.5  # no product; the ring's edge
    for got, want in zip(cases, plain, strict=True):
        assert np.array_equal(np.asarray(got), np.asarray(want))
    assert plain[-2].any() and not plain[-2].all()  # the padlock's edges at dE 12


def test_shape_copy_s_shared_masks_and_colours_equal_their_own():
    """The masks and the CIELAB copy a ShapeCopy makes once for several figures are what each
    made for itself: product, area, filled outline and its holes' labels; CIELAB, bg_inside's
    models' own after it (the same array) and made from the copy where it ran on none."""
    import cv2

    from vitrina_sync.imaging.openings import fill_holes, lab

    sc = scene("ring", "chelsea", (900, 1200))
    src, alpha = np.asarray(sc.image), np.ascontiguousarray(sc.alpha, np.float32)
    for shared in (True, False):
        shape = qa.ShapeCopy(src, alpha, sc.image)
        if shared:
            qa.background_inside(src, alpha, shape=shape)
            assert shape.lab() is shape.models.lab
        product = shape.alpha > 0.5
        assert np.array_equal(shape.product, product) and shape.area == int(product.sum())
        assert np.array_equal(shape.filled, fill_holes(product))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(
            (fill_holes(product) & ~product).view(np.uint8), 8
        )
        got = shape.holes()
        assert got[0] == n > 1 and np.array_equal(got[1], labels)
        assert np.array_equal(got[2], stats)
        assert np.array_equal(shape.lab(), lab(shape.rgb))
    solid = qa.ShapeCopy(src, np.ones_like(alpha))
    assert solid.holes() is None


@pytest.mark.parametrize("size", [(500, 380), (900, 1200)])
def test_kept_opening_on_bg_inside_s_models_equals_its_own(size):
    """kept_opening after bg_inside on one ShapeCopy (it refits bg_inside's colour models to the
    product's outline band) reads what it reads on its own, for a padlock's opening kept (on
    coins: flagged) and cleared (0)."""
    sc = scene("padlock", "coins", size)
    src = np.asarray(sc.image)
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)  # the opening kept
    for alpha in (filled, np.ascontiguousarray(sc.alpha, np.float32)):
        shape = qa.ShapeCopy(src, alpha, sc.image)
        qa.background_inside(src, alpha, shape=shape)
        assert qa.kept_opening(src, alpha, shape=shape) == qa.kept_opening(src, alpha)
    limit = qa.DEFAULTS["kept_opening_max"]
    assert qa.kept_opening(src, sc.alpha)[0] < limit < qa.kept_opening(src, filled)[0]


@pytest.mark.parametrize("bg,seed", [("grass", 23), ("gravel", 51), ("moon", 55)])
def test_an_opening_cleared_a_few_px_inside_its_edge_is_no_soft_hole(bg, seed):
    """The cut of a padlock's shackle opening settles 2-4 px inside the photo's edge (the
    pipeline's outputs on held-out-2 and tune-4, IoU 0.97-0.98): the rim is still the photo's
    edge, no soft hole (0.13-0.14 when the rim's own blended pixels were in the near step)."""
    sc = scene("padlock", bg, (900, 1200), seed)
    src = np.asarray(sc.image)
    opening = ndimage.binary_fill_holes(sc.alpha > 0.5) & ~(sc.alpha > 0.5)
    for width in (2, 3, 4):
        rim = opening & ~ndimage.binary_erosion(opening, iterations=width)
        assert qa.soft_holes(src, np.where(rim, 1.0, sc.alpha).astype(np.float32)) == 0.0


@pytest.mark.parametrize("kind,bg,seed", [("chair", "charcoal", 93), ("greybottle", "greygrad", 0)])
def test_a_sharp_photo_whose_edges_step_little_reads_sharp(kind, bg, seed):
    """held-out-5's brown chair on charcoal and the grey bottle on a grey gradient: sharp
    photos whose edges step under EDGE_STEP grey levels, so their Laplacian is small at any
    width (sharpness 10.4 and 1.7 before). Per level of its step, a sharp edge's Laplacian is
    large (30.6, 29.4); blurred by 1.5 px at 512 px it is not, and the photo is flagged."""
    sc = scene(kind, bg, (900, 1200), seed)
    ys, xs = np.nonzero(sc.alpha > 0.5)
    m = round(0.05 * max(np.ptp(ys), np.ptp(xs)))
    crop = sc.image.crop((xs.min() - m, ys.min() - m, xs.max() + m, ys.max() + m))
    limit = qa.DEFAULTS["sharpness_min"]
    assert qa.sharpness(crop) > 1.5 * limit
    blurred = crop.filter(ImageFilter.GaussianBlur(1.5 * max(crop.size) / 512))
    assert qa.sharpness(blurred) < limit
