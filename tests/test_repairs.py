"""The repairs after the openings step (imaging/repairs.py) on ground-truth scenes, at work
resolution and without the model: the model's map is the truth with a part taken away."""

from __future__ import annotations

import numpy as np
from synthetic import scene

from vitrina_sync.imaging import openings, repairs, steps

SIZE = (300, 400)


def _legs_missing(bg: str):
    """A chair whose legs the model did not see (below its seat), as u2netp does on brick."""
    sc = scene("chair", bg, SIZE)
    p = sc.alpha.copy()
    seat_bottom = int(0.5 * SIZE[1] + 1.4 * 0.035 * SIZE[0]) + 2
    p[seat_bottom:] = 0.0
    legs = np.zeros(p.shape, bool)
    legs[seat_bottom:] = sc.alpha[seat_bottom:] > 0.5
    return sc, p, legs


def test_legs_the_model_missed_on_brick_are_grown_back_by_their_colour():
    sc, p, legs = _legs_missing("brick")
    none = np.zeros(p.shape, bool)
    grown = repairs.faint_parts(np.asarray(sc.image), p, none)
    core = legs & ~openings.grow(~legs, 2)  # the refinement settles the legs' edges later
    rows = np.flatnonzero(grown.any(axis=1))
    assert grown[core].mean() > 0.6 and rows[-1] >= np.flatnonzero(legs.any(axis=1))[-1] - 4
    assert (sc.alpha[grown] > 0.0).mean() > 0.95  # nothing of the brick
    out = steps.after_model(np.asarray(sc.image), p, {})
    assert (out[core] == 1.0).mean() > 0.6
    assert not (steps.after_model(np.asarray(sc.image), p, {"regrow": False})[legs] > 0).any()


def test_nothing_outside_the_product_is_grown_or_against_a_reviewers_remove_stroke():
    for kind, bg in (("bottle", "light"), ("whitelabel", "white"), ("box", "light")):
        sc = scene(kind, bg, SIZE)  # the shading beside a product on a sweep is not product
        p = sc.alpha.copy()
        grown = repairs.faint_parts(np.asarray(sc.image), p, np.zeros(p.shape, bool))
        assert not (grown & (sc.alpha == 0.0)).any(), kind
    sc, p, legs = _legs_missing("brick")
    remove = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    remove[legs] = 255
    from PIL import Image

    constraints = steps.Constraints(remove=Image.fromarray(remove, "L"))
    out = steps.after_model(np.asarray(sc.image), p, {}, constraints)
    assert not (out[legs] > 0).any()


def test_a_sure_piece_held_by_soft_pixels_is_given_back_and_an_opening_is_not():
    p = np.zeros((200, 200), np.float32)
    p[40:160, 40:160] = 1.0  # the product, its middle an opening the steps cleared
    hole = np.zeros(p.shape, bool)
    hole[80:120, 80:120] = True
    arm = np.zeros(p.shape, bool)
    arm[95:105, 164:196] = True  # a sure arm, joined to the product by soft pixels only
    p[arm] = 1.0
    p[95:105, 160:164] = 0.3
    cleared = hole | arm  # the strays step took the arm as a separate piece
    back = repairs.dropped_parts(p, cleared)
    assert back[arm].all() and not back[hole].any()
    p[95:105, 160:164] = 0.0  # no link: a separate piece stays dropped
    assert not repairs.dropped_parts(p, cleared)[arm].any()


def test_a_dropped_piece_in_colours_the_product_has_none_of_is_not_given_back():
    """The grey moon between a brown chair's legs, cleared and sure to the model, held on by
    its soft pixels: given back whole before; with the openings step's map of the colours the
    product has none of (on its copy reduced by 2), a piece mostly in them stays dropped, one
    mostly in the product's colours (a leg cut on a brick joint) comes back."""
    p = np.zeros((200, 200), np.float32)
    p[40:160, 40:160] = 1.0
    arm = np.zeros(p.shape, bool)
    arm[95:105, 164:196] = True
    p[arm] = 1.0
    p[95:105, 160:164] = 0.3
    assert repairs.dropped_parts(p, arm)[arm].all()
    off = np.zeros((100, 100), bool)
    off[47:53, 82:98] = True  # the arm's pixels on the reduced copy
    assert not repairs.dropped_parts(p, arm, off).any()
    off[:, 86:] = False  # a quarter of it off: most of the piece is in the product's colours
    assert repairs.dropped_parts(p, arm, off)[arm].all()


def test_small_pieces_are_strays_a_kits_second_item_and_a_pair_are_not():
    """A piece under a tenth of the largest (a cat's eye the model took beside the product) is a
    stray; a kit's second item at 16% of the first (as large as the coins u2netp takes on a coin
    photo) and two equal pieces (a pair) stay: a dropped item would be a picture that lies."""
    p = np.zeros((200, 300), np.float32)
    p[40:160, 40:140] = 1.0  # the product: 12000 px
    yy, xx = np.mgrid[:200, :300]
    p[np.hypot(yy - 50, xx - 220) < 18] = 1.0  # ~1020 px: 8.5% of the product
    stray = repairs.strays(p)
    assert stray.sum() == (p > 0.5).sum() - 12000 and not stray[40:160, 40:140].any()
    p[np.hypot(yy - 150, xx - 230) < 25] = 1.0  # ~1960 px: 16%, a kit's second item
    stray = repairs.strays(p)
    assert stray[np.hypot(yy - 50, xx - 220) < 18].all()
    assert not stray[np.hypot(yy - 150, xx - 230) < 25].any()
    pair = np.zeros_like(p)
    pair[40:160, 20:120] = 1.0
    pair[40:160, 180:280] = 1.0
    assert not repairs.strays(pair).any()


def test_an_unsure_background_like_piece_up_to_a_quarter_is_a_stray_a_sure_one_is_not():
    """Pieces at 12% of the product on a coin photo (over the 10% that size alone drops): one
    the model is unsure of (p 0.8) over the background's coins goes; one it is sure of (a kit's
    item, p 1) stays; one it is unsure of in the product's own colours stays (the colour models
    call it product)."""
    sc = scene("box", "coins", SIZE)
    rgb = np.asarray(sc.image).copy()
    p = (sc.alpha > 0.5).astype(np.float32)
    area = float(p.sum())
    yy, xx = np.mgrid[: SIZE[1], : SIZE[0]]
    r = (0.12 * area / np.pi) ** 0.5
    spots = [(362, 260), (38, 40), (38, 260)]
    discs = [np.hypot(yy - y, xx - x) < r for y, x in spots]
    assert not any((d & (sc.alpha > 0)).any() for d in discs)
    assert all(0.1 * area < d.sum() < 0.25 * area for d in discs)
    coin, kit, paint = discs
    p[coin] = 0.8
    p[kit] = 1.0
    p[paint] = 0.8
    rgb[paint] = rgb[sc.alpha > 0.99][:: max(1, int((sc.alpha > 0.99).sum() // paint.sum()))][
        : paint.sum()
    ]
    report: dict = {}
    openings.find(rgb, p, report=report)
    stray = repairs.strays(p, None, report["models"])
    assert stray[coin].all()
    assert not stray[kit].any() and not stray[paint].any() and not stray[sc.alpha > 0.5].any()
    assert not repairs.strays(p).any()  # without the models: size alone, all three stay
    # the model's confidence alone: a piece it is sure of stays however background-like it looks
    from types import SimpleNamespace

    like_bg = SimpleNamespace(ratio=np.full(p.shape, 3.0, np.float32))
    stray = repairs.strays(p, None, like_bg)
    assert stray[coin].all() and stray[paint].all() and not stray[kit].any()
    halved = SimpleNamespace(ratio=like_bg.ratio[::2, ::2])  # the models' copy reduced by 2
    assert np.array_equal(repairs.strays(p, None, halved), stray)


def test_what_a_dropped_object_leaves_goes_and_the_products_soft_edge_and_own_pieces_stay():
    """Once the subject step dropped a cup behind the product, the cup's soft rim (the model's
    faint p around its outline) and a piece of foam that was joined to it are leftovers; the
    product's own soft edge, its small separate part (not joined to the cup) and soft pixels
    nearer to the product stay."""
    p = np.zeros((200, 300), np.float32)
    yy, xx = np.mgrid[:200, :300]
    cup = np.hypot(yy - 60, xx - 150) < 45
    rim = (np.hypot(yy - 60, xx - 150) >= 45) & (np.hypot(yy - 60, xx - 150) < 50)
    p[rim] = 0.3
    p[cup] = 1.0
    foam = (np.abs(yy - 60) < 4) & (xx >= 193) & (xx < 203)  # at the cup's side, joined to it
    p[foam] = 1.0
    p[80:190, 120:180] = 1.0  # the product, in front of the cup
    edge = np.zeros(p.shape, bool)
    edge[80:190, 118:120] = edge[80:190, 180:182] = True
    p[edge] = 0.4  # its soft edge
    part = (np.abs(yy - 185) < 3) & (np.abs(xx - 240) < 3)  # its own small part, apart
    p[part] = 1.0
    outline = p > 0.5
    gone = cup & (p == 1.0) & ~((yy >= 80) & (xx >= 118) & (xx < 182))  # what the step dropped
    after = p.copy()
    after[gone] = 0.0
    out = repairs.leftovers(outline, after, gone, gone)
    far = rim & ~((yy >= 76) & (xx >= 114) & (xx < 186))  # the rim off the product's ramp
    assert out[far].all() and out[foam & ~gone].all()
    assert not out[edge].any() and not out[part].any() and not out[80:190, 120:180].any()
    keep = np.zeros(p.shape, bool)
    keep[foam] = True
    assert not repairs.leftovers(outline, after, gone, gone, keep)[foam & ~gone].any()


def test_piece_medians_are_scipys_bit_for_bit_ties_and_even_counts_included():
    from scipy import ndimage

    rng = np.random.default_rng(7)
    for trial in range(60):
        h, w = (int(v) for v in rng.integers(4, 50, 2))
        n = int(rng.integers(2, 25))
        labels = rng.integers(0, n, (h, w)).astype(np.int32)
        values = rng.normal(size=(h, w)).astype(np.float32)
        if trial % 2:  # ties, as the histogram models' ratio has
            values = np.round(values, 1).astype(np.float32)
        present = np.flatnonzero(np.bincount(labels.ravel(), minlength=n))
        present = present[present > 0]
        pick = np.sort(rng.choice(present, size=max(1, len(present) // 2), replace=False))
        want = np.asarray(ndimage.median(values, labels, pick))
        got = repairs._medians(values, labels, pick, n)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_soft_remnants_on_the_products_box_are_the_whole_maps():
    """soft_remnants works on the box of what stays: the same pixels as on the whole map
    (the step as it was, on random maps with openings found and textured holes)."""
    import cv2

    def whole_map(p, found, keep, rgb):
        solid = (p > 0.5) & ~found
        holes = openings.fill_holes(solid) & ~solid
        n, labels = cv2.connectedComponents(holes.view(np.uint8), connectivity=4)
        if n <= 1:
            return np.zeros(p.shape, bool)
        cleared = np.unique(labels[found])
        cleared = np.union1d(
            cleared, repairs.textured_holes(rgb, labels, n, openings.shrink(holes, 2))
        )
        out = np.isin(labels, cleared[cleared > 0]) & (p > 0.0)
        return out & ~keep if keep is not None else out

    rng = np.random.default_rng(11)
    for trial in range(30):
        h, w = (int(v) for v in rng.integers(60, 140, 2))
        p = np.zeros((h, w), np.float32)
        cy, cx = h // 2 + int(rng.integers(-15, 15)), w // 2 + int(rng.integers(-15, 15))
        cv2.circle(p, (cx, cy), int(rng.integers(15, 28)), 1.0, -1)
        cv2.circle(p, (cx, cy), int(rng.integers(4, 12)), 0.3, -1)  # an opening, soft
        p += rng.random((h, w)).astype(np.float32) * 0.1 * (p < 0.5)
        found = np.zeros((h, w), bool)
        if trial % 2:
            found[cy - 3 : cy + 3, cx - 3 : cx + 3] = True
        rgb = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        keep = None if trial % 3 else rng.random((h, w)) < 0.1
        want = whole_map(p, found, keep, rgb)
        assert np.array_equal(repairs.soft_remnants(p, found, keep, rgb), want)
    empty = np.zeros((20, 20), np.float32)
    assert not repairs.soft_remnants(empty, empty > 0).any()
