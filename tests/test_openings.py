"""The openings step (imaging.openings): holes the model filled are cleared, chance look-alikes
are kept, a reviewer's constraints win; real u2netp on ground-truth scenes (no stubs)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from synthetic import grey16, iou, openings, scene

from vitrina_sync.imaging import compose, cutout, repairs, steps
from vitrina_sync.imaging import openings as op
from vitrina_sync.imaging.load import load_image
from vitrina_sync.modes.base import LoadedImage, ModeContext

SETTINGS = {"default_model": "u2netp"}
SIZE = (600, 800)
CANVAS = [800, 800]


def run(mode, img, strokes=None, loaded=None, **preset):
    params = {"canvas": CANVAS, "fill": 0.85, "model": "u2netp", **preset}
    ctx = ModeContext("SKU-1", "f" * 12, params, SETTINGS, strokes=strokes)
    return mode.process(loaded or LoadedImage(img, "PNG"), ctx)


def on_canvas(out, alpha: np.ndarray) -> np.ndarray:
    g = out.extra["geometry"]
    region = compose.Region(tuple(g["region"]), tuple(g["region_source"]))
    img = Image.fromarray((alpha * 255 + 0.5).astype(np.uint8), "L")
    canvas = np.zeros((out.mask.height, out.mask.width), np.float32)
    l, t, r, b = region.canvas
    canvas[t:b, l:r] = np.asarray(compose.resample_region(img, region), np.float32) / 255.0
    return canvas


def scores(out, sc):
    mask, truth = np.asarray(out.mask, np.float32) / 255.0, on_canvas(out, sc.alpha)
    holes = openings(truth)
    kept = float((mask[holes] > 0.5).mean()) if holes.any() else 0.0
    return mask, truth, iou(mask, truth), kept


def aspect(mask):
    ys, xs = np.nonzero(mask > 0.5)
    return (xs.max() + 1 - xs.min()) / (ys.max() + 1 - ys.min())


@pytest.mark.parametrize(
    "kind,bg", [("ring", "gravel"), ("ring", "brick"), ("ring", "grass"), ("chair", "grass")]
)
def test_openings_on_photo_backgrounds_are_cleared(white, kind, bg):
    """The issue's cases: the hole of a ring on gravel/brick/grass (u2netp keeps it: IoU ~0.68)
    and a chair frame's two openings come out as background, the product locked."""
    sc = scene(kind, bg, SIZE)
    before = scores(run(white, sc.image, openings=False), sc)
    out = run(white, sc.image)
    _mask, _truth, value, kept = scores(out, sc)
    assert value >= 0.95 and kept <= 0.02, (before[2], value, kept)
    assert out.qa["de_p95"] < 1.0
    assert out.qa["bg_inside"] <= 0.02
    if kind == "ring":
        assert before[3] > 0.5  # the model alone kept the hole: the step did the work


@pytest.mark.parametrize("bg", ["white", "light"])
def test_a_white_label_on_a_white_product_is_kept(white, bg):
    """A printed white label on a white bottle looks like the white backdrop by chance: it is
    product, and must stay opaque (and locked) while the product's outline stays right."""
    sc = scene("whitelabel", bg, SIZE)
    out = run(white, sc.image)
    mask, _truth, value, _ = scores(out, sc)
    assert value >= 0.98
    label = np.zeros(sc.alpha.shape, np.float32)
    w, h = SIZE
    label[int(0.52 * h) : int(0.66 * h), int(0.39 * w) : int(0.61 * w)] = 1.0
    under = on_canvas(out, label) > 0.99
    assert under.sum() > 1000 and (mask[under] == 1.0).all()
    assert out.qa["bg_inside"] <= 0.02 and out.qa["de_p95"] < 1.0


def test_a_white_product_on_a_white_backdrop_is_not_eaten(white):
    """A white mug's shading crosses the backdrop's colour: that band has no step to the rest
    of the mug, so it is product."""
    sc = scene("mug", "white", SIZE)
    _mask, _truth, value, kept = scores(run(white, sc.image), sc)
    assert value >= 0.98 and kept <= 0.02


def test_grey_on_grey_from_a_16_bit_greyscale_source_keeps_its_aspect(white, tmp_path):
    """The issue's grey bottle on grey grass, from a 16-bit greyscale PNG through the real
    loader: no fuzz grows the product (aspect drift <= 2%)."""
    sc = scene("greybottle", "greygrass", SIZE)
    path = tmp_path / "grey16.png"
    path.write_bytes(grey16(sc.image))
    loaded = load_image(path)
    out = run(white, None, loaded=loaded)
    mask, truth, value, _ = scores(out, sc)
    assert value >= 0.95
    assert abs(aspect(mask) / aspect(truth) - 1.0) <= 0.02


def test_constraints_win_over_the_openings_step_and_the_refinement(white):
    """A `keep` stroke over the ring's hole keeps it product (the openings step may not clear
    it); a `remove` stroke over part of the ring clears it (nothing re-fills it); strokes are in
    source pixels and the product's colours stay locked."""
    sc = scene("ring", "gravel", SIZE)
    w, h = SIZE
    cx, cy = w / 2, h / 2
    keep = {"kind": "keep", "width": 40, "points": [[cx - 30, cy], [cx + 30, cy]]}
    ro = 0.3 * min(w, h)
    remove = {
        "kind": "remove",
        "width": 30,
        "points": [[cx - 20, cy - ro + 20], [cx + 20, cy - ro + 20]],
    }
    out = run(white, sc.image, strokes=[keep, remove])
    mask = np.asarray(out.mask, np.float32) / 255.0
    cons = steps.Constraints.from_strokes([keep, remove], sc.image.size)
    under_keep = on_canvas(out, np.asarray(cons.keep, np.float32) / 255.0) >= 0.5
    under_remove = on_canvas(out, np.asarray(cons.remove, np.float32) / 255.0) >= 0.5
    assert under_keep.sum() > 500 and (mask[under_keep] == 1.0).all()
    assert under_remove.sum() > 300 and (mask[under_remove] == 0.0).all()
    # without the strokes the hole is cleared and that part of the ring is product
    plain = np.asarray(run(white, sc.image).mask, np.float32) / 255.0
    assert (plain[under_keep] == 0.0).mean() > 0.9 and (plain[under_remove] == 1.0).mean() > 0.9
    assert out.qa["de_p95"] < 1.0


def test_constraints_from_strokes_draw_round_polylines_in_source_pixels():
    cons = steps.Constraints.from_strokes(
        [
            {"kind": "remove", "width": 10, "points": [[20, 20], [80, 20]]},
            {"kind": "keep", "width": 4, "points": [[50, 70]]},
        ],
        (100, 100),
    )
    remove, keep = np.asarray(cons.remove) > 0, np.asarray(cons.keep) > 0
    assert remove[20, 20:81].all() and remove[16:25, 50].all() and not remove[30, 50]
    assert remove[20, 16] and not remove[20, 10]  # the round cap
    assert keep[70, 50] and keep.sum() < 30
    assert steps.Constraints.from_strokes([], (10, 10)) is None
    assert steps.Constraints.from_strokes([{"kind": "other", "points": [[1, 1]]}], (10, 10)) is None


@pytest.mark.parametrize("bg", ["gravel", "brick", "light"])
def test_a_picture_frame_whose_opening_is_most_of_the_product_is_cleared(white, bg):
    """A frame's opening is ~70% of its filled outline, so a product model fitted on the whole
    interior is mostly the opening and nothing inside looks more like background than like
    product (IoU ~0.36 before, and QA passed it). The first pass's product model is the sure band
    along the outline (seed 0 on the tune backgrounds; HELD_OUT's frames are other scenes)."""
    sc = scene("frame", bg, SIZE)
    out = run(white, sc.image)
    _mask, _truth, value, kept = scores(out, sc)
    assert value >= 0.9 and kept <= 0.02, (value, kept)
    assert out.qa["de_p95"] < 1.0


def test_a_cleared_opening_does_not_eat_the_product_rim():
    """match_regions' ratio is smoothed over 5x5, which carries a found region over its true
    edge; rim pixels that look like product on their own stay product (a frame on brick, at
    work size: what is found stays within 1 px of the true opening)."""
    from scipy import ndimage

    sc = scene("frame", "brick", (480, 640))
    rgb = np.asarray(sc.image)
    truth = sc.alpha > 0.5
    filled = ndimage.binary_fill_holes(truth)
    hole = filled & ~truth
    found, _ = op.find(rgb, filled.astype(np.float32))
    assert (found & hole).sum() > 0.9 * hole.sum()
    assert (found & ~op.grow(hole, 1)).sum() < 0.01 * hole.sum(), (found & ~hole).sum()


@pytest.mark.parametrize("bg", ["hubble_deep_field", "grass", "brick"])
def test_a_frames_opening_is_found_without_its_inner_rim(bg):
    """A dark frame on a star field: its opening has the frame's mean colour and differs by its
    stars (found as a region the models are sure of on texture, with its stars); on every
    background the frame's inner rim stays product (rim pixels with the colour of the product
    beside them are trimmed off what is found: 3816 px of rim were eaten on the star field)."""
    from scipy import ndimage

    sc = scene("frame", bg, (480, 640))
    truth = sc.alpha > 0.5
    filled = ndimage.binary_fill_holes(truth)
    hole = filled & ~truth
    found, _ = op.find(np.asarray(sc.image), filled.astype(np.float32))
    assert (found & hole).sum() > 0.95 * hole.sum()
    assert (found & ~op.grow(hole, 1)).sum() < 0.002 * hole.sum()


def test_match_regions_alone_finds_a_filled_hole_and_nothing_on_the_truth():
    """The detector on a work-size copy: the hole of a filled ring mask on gravel is found
    (its area, not the ring's), the true mask has nothing to find."""
    from scipy import ndimage

    sc = scene("ring", "gravel", (480, 640))
    rgb = np.asarray(sc.image)
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)
    hole = filled.astype(bool) & ~(sc.alpha > 0.5)
    found, share = op.find(rgb, filled)
    assert (found & hole).sum() > 0.9 * hole.sum() and (found & ~hole).sum() < 0.05 * hole.sum()
    assert share == pytest.approx(hole.sum() / filled.sum(), abs=0.03)
    none, zero = op.find(rgb, sc.alpha)
    assert not none.any() and zero == 0.0


def test_the_openings_step_costs_little_next_to_the_model():
    """Not a timing assertion on the job: the step works on a 320 px copy, whatever the work
    size (the copy it measures is at most openings.SIDE px on its long side)."""
    sc = scene("ring", "green", (480, 640))
    work, p = cutout.predict_work(sc.image, "u2netp", SETTINGS, side=640)
    seen = {}
    real = op.match_regions

    def spy(rgb, p_small, *args, **kwargs):
        seen["shape"] = p_small.shape
        return real(rgb, p_small, *args, **kwargs)

    op.match_regions = spy
    try:
        found, _ = op.find(np.asarray(work), p)
    finally:
        op.match_regions = real
    assert max(seen["shape"]) == op.SIDE and found.shape == p.shape and found.any()


def _small_scene(kind, bg, size=(1200, 1600), frac=0.35):
    """The product drawn at `frac` of the frame (a small product in a wide shot)."""
    from synthetic import background, product

    w, h = size
    pw, ph = int(w * frac), int(h * frac)
    colours, alpha = product(kind, (pw, ph))
    back = background(bg, size)
    x0, y0 = int(w * 0.4), int(h * 0.3)
    truth = np.zeros((h, w), np.float32)
    truth[y0 : y0 + ph, x0 : x0 + pw] = alpha
    fg = np.zeros((h, w, 3), np.uint8)
    fg[y0 : y0 + ph, x0 : x0 + pw] = colours
    a = truth[..., None]
    img = np.clip(fg * a + back * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(img), truth


@pytest.mark.parametrize("kind,bg", [("ring", "gravel"), ("bluemug", "gravel")])
def test_a_small_product_gets_a_second_look_at_a_higher_working_size(white, kind, bg):
    """A product at a third of the frame: the model on the whole photo sees its opening at a
    few pixels; on the product's own crop (second look) it resolves it."""
    img, truth = _small_scene(kind, bg)
    once = run(white, img, second_look=False)
    twice = run(white, img)
    got = [iou(np.asarray(o.mask, np.float32) / 255.0, on_canvas(o, truth)) for o in (once, twice)]
    assert got[1] >= 0.95 and got[1] > got[0], got
    assert twice.qa["de_p95"] < 1.0


def test_soft_pixels_in_an_opening_the_model_left_open_are_cleared_on_texture_only():
    """A hole the model already made (a mug handle's) keeps a soft rim where the guide would copy
    the background's texture into the edge: on a textured background (noise, like gravel) those
    soft pixels become background; on a plain backdrop they are the edge's anti-aliasing and
    stay for the refinement."""
    yy, xx = np.mgrid[:120, :120]
    r = np.hypot(yy - 60, xx - 60)
    p = np.clip((r - 20.0) / 4.0, 0.0, 1.0).astype(np.float32)  # a hole of radius ~22, soft rim
    p[(r > 45)] = 0.0  # the outside
    soft_rim = (p > 0.0) & (p <= 0.5) & (r < 30)
    rng = np.random.default_rng(0)
    textured = rng.integers(40, 220, (120, 120, 3), dtype=np.uint8)
    plain = np.full((120, 120, 3), 120, np.uint8)
    none = np.zeros_like(p, bool)
    cleared = repairs.soft_remnants(p, none, None, textured)
    assert cleared[soft_rim].all() and not cleared[p > 0.5].any()
    assert not repairs.soft_remnants(p, none, None, plain).any()
    # the model unsure all over the hole (p ~0.3, no pixel under 0.05: a mug handle's on gravel)
    unsure = np.where(r < 21, np.float32(0.3), p)
    assert unsure[r < 30].min() > 0.05
    cleared = repairs.soft_remnants(unsure, none, None, textured)
    assert cleared[(r < 24) & (unsure <= 0.5) & (unsure > 0)].all()
    assert not repairs.soft_remnants(unsure, none, None, plain).any()


def test_a_shackle_opening_joined_to_the_outside_by_the_edge_fuzz_is_found():
    """A padlock's shackle opening on grass, the model's mask a few px wide of the true edge
    (its fuzz on grass): the background-like pixels of the opening join the fuzz along the
    shackle, so the region touches the outside and was judged as edge fuzz (nothing found). Its
    part off the outline is judged on its own, without the body's gloss streak it meets at a
    corner."""
    from scipy import ndimage

    sc = scene("padlock", "grass", (480, 640))
    truth = sc.alpha > 0.5
    filled = ndimage.binary_fill_holes(truth)
    hole = filled & ~truth
    p = op.grow(filled, 3).astype(np.float32)
    found, _ = op.find(np.asarray(sc.image), p)
    assert (found & hole).sum() > 0.9 * hole.sum()
    body = filled & ~op.grow(hole, 4)
    gloss = body & (np.asarray(sc.image, np.float32).mean(axis=2) > 170)
    assert gloss.sum() > 1000 and not (found & gloss).any()
    # (the dark keyhole on this grass is taken for a shadow: about 5% of the opening's area)
    assert (found & body).sum() < 0.08 * hole.sum(), (found & body).sum()


@pytest.mark.parametrize(
    "kind,bg,seed", [("padlock", "gravel", 51), ("frame", "moon", 59), ("padlock", "moon", 55)]
)
def test_a_shackle_opening_and_an_opening_on_the_moon_are_cleared(white, kind, bg, seed):
    """TUNE_4 scenes at 900x1200 with the real model, each opening kept whole before: a
    padlock's shackle opening on gravel (its region met the edge fuzz); a frame's opening on
    the moon's grey surface (a plain backdrop with craters: they stray from the backdrop's
    continued colour and counted as product islands); a grey padlock's on the moon (the
    backdrop continued, with a colour step of 6 to the shackle, under the bar of 7)."""
    sc = scene(kind, bg, (900, 1200), seed)
    out = run(white, sc.image)
    _mask, _truth, value, kept = scores(out, sc)
    assert value >= 0.95 and kept <= 0.2, (value, kept)
    assert out.qa["de_p95"] < 1.0


def test_a_shackle_opening_on_brick_lost_by_the_real_pass_is_cut(white):
    """Tune-4's padlock on brick: the first pass finds the shackle's opening, the real pass
    (its product model fitted on the interior, half of the opening in it) loses it, and it was
    kept whole. The graph cut clears it, the dark brick of the padlock's own grey included when
    the cut may decide 10 px of product around the region (6 px: kept 0.55)."""
    sc = scene("padlock", "brick", (900, 1200), 52)
    out = run(white, sc.image)
    mask, truth, value, kept = scores(out, sc)
    assert value >= 0.97 and kept <= 0.15, (value, kept)
    assert (mask[truth > 0.5] > 0.5).mean() > 0.99


@pytest.mark.parametrize("bg,seed", [("coins", 21), ("camera", 57)])
def test_a_shackle_opening_the_colour_models_cannot_part_from_a_gloss_is_cut(white, bg, seed):
    """Held-out-2/3 padlocks on busy grey photos, the opening kept whole before: its pixels
    join the edge's fuzz at a corner and a gloss streak on the body touches it, and the grey
    padlock's colour models cannot part them. A graph cut (joined_openings) clears the opening
    and keeps the gloss (the IoU would fall with it)."""
    sc = scene("padlock", bg, (900, 1200), seed)
    out = run(white, sc.image)
    mask, truth, value, kept = scores(out, sc)
    assert value >= 0.96 and kept <= 0.12, (value, kept)
    body = truth > 0.5
    assert (mask[body] > 0.5).mean() > 0.99


@pytest.mark.parametrize(
    "bg,seed", [("moon", 55), ("brick", 52), ("gravel", 51), ("rocket", 51), ("camera", 57)]
)
def test_a_shackle_openings_rest_up_to_its_inner_edge_is_cleared(white, bg, seed):
    """Tune-4's and held-out-3's padlocks, their shackle opening found but for a band along
    the inner edge (the moon: kept 0.12) or a lobe the colour models took for product (a
    brick's face, the rocket's white body, a neutral grey camera behind the bluish shackle:
    kept 0.08-0.16). The opening settled by a graph cut keeps under 2% of it; the padlock
    itself is kept."""
    sc = scene("padlock", bg, (900, 1200), seed)
    out = run(white, sc.image)
    mask, truth, value, kept = scores(out, sc)
    assert value >= 0.98 and kept <= 0.02, (value, kept)
    assert (mask[truth > 0.5] > 0.5).mean() > 0.99


def test_settle_takes_the_band_the_colour_models_left_and_nothing_of_the_product():
    """joined_openings.settle on a drawn frame over a busy grey scene: the found opening stops
    3 px short of the frame's inner edge; the cut takes the band and none of the bluish frame,
    and a small found region (a dark keyhole, under 3% of the product) is not grown."""
    from vitrina_sync.imaging import joined_openings

    rng = np.random.default_rng(0)
    rgb = rng.integers(60, 200, (120, 120, 1)).repeat(3, axis=2).astype(np.uint8)
    frame = np.zeros((120, 120), bool)
    frame[20:100, 20:100] = True
    hole = np.zeros_like(frame)
    hole[40:80, 40:80] = True
    frame &= ~hole
    rgb[frame] = (110, 120, 150)
    keyhole = np.zeros_like(frame)
    keyhole[85:89, 58:62] = True
    rgb[keyhole] = (20, 20, 20)
    p = (frame | hole).astype(np.float32)  # the model filled the opening
    found = op.shrink(hole, 3) | keyhole
    new = joined_openings.settle(rgb, p, found)
    band = hole & ~found
    assert (new & band).sum() >= 0.95 * band.sum(), ((new & band).sum(), band.sum())
    assert not (new & frame).any()
    # without the found opening, nothing to settle: the keyhole alone is too small
    assert not joined_openings.settle(rgb, p, keyhole).any()
    # a reviewer's keep stroke across the band stays product
    keep = np.zeros_like(frame)
    keep[38:44, 50:70] = True
    assert (new & keep).any()
    assert not (joined_openings.settle(rgb, p, found, keep) & keep).any()


def test_a_coin_the_model_took_beside_a_hoop_does_not_stretch_its_box(white):
    """Held-out-2's hoop on coins: u2netp takes a coin above the hoop (11% of it, sure of 13%
    of its pixels), over the 10% that size alone drops; kept, it stretched the box by 31%."""
    sc = scene("hoop", "coins", (900, 1200), 25)
    out = run(white, sc.image)
    mask, truth, value, _ = scores(out, sc)
    assert value >= 0.97, value
    assert abs(aspect(mask) / aspect(truth) - 1.0) < 0.02


@pytest.mark.parametrize("seed,least", [(8, 0.97), (58, 0.78)])
def test_a_chair_backs_openings_on_the_moon_are_cleared_pits_and_all(white, seed, least):
    """Held-out's and tune-4's brown chair on the moon: the dark pits in the back's openings
    are busy like the chair's edges, and the models left them (kept 0.13); they are in colours
    the product has none of and the moon has, and go with their opening. The moon between the
    legs, cleared, is not given back by the repairs (IoU 0.64 -> 0.81 on seed 58)."""
    sc = scene("chair", "moon", (900, 1200), seed)
    out = run(white, sc.image)
    _mask, _truth, value, kept = scores(out, sc)
    assert value >= least and kept <= 0.03, (value, kept)


def test_a_logo_in_a_colour_of_its_own_beside_an_opening_is_kept():
    """A blue logo printed on a brown chair's back, at its opening's edge, on the moon: the
    product has none of its colour (the models lost it with the opening's first pass), but the
    background has none either, so it is no rest of the opening (it was cleared whole)."""
    from scipy import ndimage

    sc = scene("chair", "moon", (480, 640), 8)
    truth = sc.alpha > 0.5
    filled = ndimage.binary_fill_holes(truth)
    hole = filled & ~truth
    rgb = np.asarray(sc.image).copy()
    ys, xs = np.nonzero(hole)
    logo = np.zeros_like(truth)
    logo[ys.min() + 40 : ys.min() + 70, xs.min() - 10 : xs.min()] = True
    assert truth[logo].all()
    rgb[logo] = (40, 60, 200)
    found, _ = op.find(rgb, filled.astype(np.float32))
    assert (found & hole).sum() > 0.95 * hole.sum()
    assert not (found & logo).any()
    assert not (found & (sc.alpha >= 0.99)).any()  # at most the anti-aliased rim


def test_a_padlock_on_a_sweep_of_its_own_colours_loses_its_shackle_opening(white):
    """Held-out-2's grey padlock on the slate sweep: the sweep's smooth estimate under the
    product is dE 1-2 off, the shackle dE 2-3, so the opening was kept whole; the sweep fitted
    exactly (backdrop_fit) is within dE 0.3 of the opening and 1.7 or more off the padlock."""
    sc = scene("padlock", "slate", (900, 1200), 24)
    out = run(white, sc.image)
    _mask, _truth, value, kept = scores(out, sc)
    assert value >= 0.98 and kept <= 0.02, (value, kept)


@pytest.mark.parametrize(
    "kind,bg", [("greybottle", "greygrad"), ("mug", "white"), ("mug", "light")]
)
def test_a_product_partly_of_the_backdrops_own_colour_is_not_taken_for_it(kind, bg):
    """A grey bottle on a grey sweep, a white mug on white and light sweeps: 8-13% of each is
    within dE 1 of the fitted sweep, but those parts meet the outline or are small; only the
    mug's handle opening may go."""
    from scipy import ndimage

    from vitrina_sync.imaging import backdrop_fit

    sc = scene(kind, bg, (480, 640))
    truth = sc.alpha > 0.5
    filled = ndimage.binary_fill_holes(truth)
    lab = op.lab(np.asarray(sc.image))
    sure_bg = ~op.grow(filled, 4)
    assert backdrop_fit.fitted(lab, sure_bg) is not None  # a plain backdrop: the rule applies
    shown = backdrop_fit.showing(lab, sure_bg, filled, ~filled)
    assert not (shown & truth).any()


def test_no_step_after_the_model_clears_the_whole_product(white, monkeypatch):
    """A brown chair on a brown-stained micrograph: u2netp's first look holds a part of it, the
    second look on the crop lost nearly all of that and the output came out empty. A second
    look or a clearing step that would leave under a quarter of the model's outlined product
    does not apply."""
    sc = scene("chair", "immunohistochemistry", (900, 1200), 26)
    out = run(white, sc.image)
    mask, truth, value, _ = scores(out, sc)
    assert (mask > 0.5).sum() > 0.3 * (truth > 0.5).sum() and value > 0.4, value
    # a step that finds the product to be background: its mask does not apply
    p = np.zeros((120, 120), np.float32)
    p[20:100, 30:90] = 1.0
    rgb = np.full((120, 120, 3), 128, np.uint8)
    monkeypatch.setattr(op, "find", lambda rgb, p, *a, **k: (p > 0.5, 1.0))
    masks = dict(steps.step_masks(rgb, p, {}))
    assert not masks["-openings"].any()
    assert np.array_equal(steps.after_model(rgb, p, {}), p)


def _kit(bg: str, share: float):
    """A two-piece product (a box and a separate bottle of `share` of its area, as a kit is
    photographed): colours and true alpha on the background."""
    from synthetic import background, product

    w, h = SIZE
    box_rgb, box_a = product("box", SIZE)
    bottle_rgb, bottle_a = product("bottle", SIZE)
    xs = np.nonzero(box_a.max(axis=0) > 0.5)[0]
    shift = -int(xs.min() * 0.8)  # the box to the left, room for the second item on the right
    box_a, box_rgb = np.roll(box_a, shift, 1), np.roll(box_rgb, shift, 1)
    k = (share * box_a.sum() / bottle_a.sum()) ** 0.5
    size = (int(w * k), int(h * k))
    small_a = np.asarray(
        Image.fromarray((bottle_a * 255).astype(np.uint8)).resize(size, Image.LANCZOS), np.float32
    )
    small_a /= 255.0
    small_rgb = np.asarray(Image.fromarray(bottle_rgb).resize(size, Image.LANCZOS), np.float32)
    x0, y0 = w - size[0] - 10, h - size[1] - 40
    alpha, colours = box_a.copy(), box_rgb.astype(np.float32)
    sl = (slice(y0, y0 + size[1]), slice(x0, x0 + size[0]))
    alpha[sl] = np.maximum(alpha[sl], small_a)
    colours[sl] = np.where(small_a[..., None] > 0, small_rgb, colours[sl])
    second = np.zeros(alpha.shape, bool)
    second[sl] = small_a > 0.5
    a = alpha[..., None]
    img = np.clip(colours * a + background(bg, SIZE) * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(img, "RGB"), alpha, second


@pytest.mark.parametrize("bg,share", [("grass", 0.12), ("gravel", 0.2), ("light", 0.2)])
def test_the_second_item_of_a_kit_is_not_taken_for_a_stray(white, bg, share):
    # strays drop separate pieces under 25% of the largest (a coin the model took); a kit's
    # smaller item is separate too, and it is product: the cut keeps it whole
    img, alpha, second = _kit(bg, share)
    out = run(white, img)
    mask = np.asarray(out.mask, np.float32) / 255.0
    truth = on_canvas(out, alpha)
    item = on_canvas(out, second.astype(np.float32)) > 0.5
    assert item.sum() > 1000
    assert (mask[item] > 0.5).mean() > 0.95
    assert iou(mask, truth) > 0.97


def test_a_graph_cut_without_background_in_its_box_finds_nothing_and_does_not_fail():
    """GrabCut needs samples of both sides: a core whose box holds only product (a product
    filling the photo) gives no opening instead of OpenCV's assertion."""
    from vitrina_sync.imaging import joined_openings

    p = np.ones((60, 60), np.float32)
    core = np.zeros((60, 60), bool)
    core[20:40, 20:40] = True
    rgb = np.zeros((60, 60, 3), np.uint8)
    assert not joined_openings.cut(rgb, p, core, np.zeros((60, 60), bool), 30).any()


def test_components_are_opencvs_labels_and_areas_with_stats():
    import cv2

    rng = np.random.default_rng(3)
    for trial in range(40):
        h, w = (int(v) for v in rng.integers(3, 120, 2))
        mask = rng.random((h, w)) < (0.2 + 0.015 * trial)  # specks to one big part
        n, labels, area = op.components(mask)
        m, want, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), 8)
        assert n == m and np.array_equal(labels, want)
        assert area.dtype == stats.dtype and np.array_equal(area, stats[:, cv2.CC_STAT_AREA])


def test_the_steps_after_find_read_its_copy_of_the_same_map_and_reduce_another():
    sc = scene("ring", "gravel", (480, 640))
    rgb, p = np.asarray(sc.image), np.ascontiguousarray(sc.alpha, np.float32)
    report: dict = {}
    op.find(rgb, p, op.CUT, report=report)
    models, k = report["models"], max(p.shape) // op.SIDE
    assert models is not None and k == 2
    assert op.reduced_map(p, k, models) is models.reduced_of[2]
    assert np.array_equal(op.reduced_map(p, k, models), op.reduced(p, k))
    other = p.copy()  # equal values, another map: reduced afresh, as is another factor
    assert op.reduced_map(other, k, models) is not models.reduced_of[2]
    assert op.reduced_map(p, 3, models).shape == op.reduced(p, 3).shape


def test_holes_filled_on_a_masks_box_are_those_on_the_whole_map():
    import cv2

    rng = np.random.default_rng(9)
    assert op.box_of(np.zeros((5, 5), bool)) is None
    for trial in range(40):
        h, w = (int(v) for v in rng.integers(20, 120, 2))
        mask = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 5))):  # rings and discs, some cut by the sides
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            cv2.circle(mask, (x, y), int(rng.integers(2, 25)), 1, int(rng.integers(-1, 4)))
        mask = mask.view(bool)
        box = op.box_of(mask)
        if box is None:
            continue
        whole = op.fill_holes(mask)
        assert np.array_equal(op.fill_holes(mask[box]), whole[box])
        assert whole.sum() == whole[box].sum()
