"""Touch-up strokes (issue 16): validation, rasterising, hard constraints in the white/card
pipeline with the real u2netp model, fingerprint and planning, a re-run that reproduces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic import scene

from vitrina_sync import plugins, touchup
from vitrina_sync.errors import StrokesError
from vitrina_sync.imaging import compose, strokes
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.modes.card import CardMode
from vitrina_sync.modes.white import WhiteMode

SETTINGS = {"default_model": "u2netp"}
SIZE = (600, 800)
CANVAS = [800, 800]
HOLE = (300, 400)  # the synthetic ring's centre; its hole has a radius of 102 px
ACROSS_HOLE = {"kind": "remove", "width": 90, "points": [[250, 400], [350, 400]]}


def run(mode, img, touch=(), **preset):
    params = {"canvas": CANVAS, "fill": 0.85, "model": "u2netp", **preset}
    ctx = ModeContext("SKU-1", "f" * 12, params, SETTINGS, strokes=list(touch))
    return mode.process(LoadedImage(img, "PNG"), ctx)


def to_canvas(out, xy) -> tuple[int, int]:
    """A source pixel's position on the output canvas (the mode's geometry)."""
    g = out.extra["geometry"]
    l, t, r, b = g["region"]
    s = g["region_source"]
    x = l + (xy[0] - s[0]) * (r - l) / (s[2] - s[0])
    y = t + (xy[1] - s[1]) * (b - t) / (s[3] - s[1])
    return int(x), int(y)


def resampled_source(out, img) -> np.ndarray:
    g = out.extra["geometry"]
    region = compose.Region(tuple(g["region"]), tuple(g["region_source"]))
    res = np.asarray(compose.resample_region(img, region))
    canvas = np.zeros((out.mask.height, out.mask.width, 3), np.uint8)
    l, t, r, b = region.canvas
    canvas[t:b, l:r] = res
    return canvas


@pytest.fixture(scope="module")
def white():
    mode = WhiteMode()
    mode.warm(SETTINGS)
    return mode


@pytest.fixture(scope="module")
def ring():
    return scene("ring", "green", SIZE)


# -- validation ------------------------------------------------------------------------------------
def test_valid_strokes_become_canonical():
    got = strokes.validate([{"kind": "keep", "width": 12, "points": [[1.234567, 2], [3, 4]]}], SIZE)
    assert got == [{"kind": "keep", "width": 12.0, "points": [[1.23, 2.0], [3.0, 4.0]]}]


@pytest.mark.parametrize(
    "bad, says",
    [
        ([], "non-empty"),
        ("x", "non-empty"),
        ([{"kind": "erase", "width": 5, "points": [[1, 1]]}], "kind"),
        ([{"kind": "keep", "width": 0, "points": [[1, 1]]}], "width"),
        ([{"kind": "keep", "width": 5000, "points": [[1, 1]]}], "width"),
        ([{"kind": "keep", "width": True, "points": [[1, 1]]}], "finite number"),
        ([{"kind": "keep", "width": 5, "points": []}], "points"),
        ([{"kind": "keep", "width": 5, "points": [[1, math.nan]]}], "finite number"),
        ([{"kind": "keep", "width": 5, "points": [[1, math.inf]]}], "finite number"),
        ([{"kind": "keep", "width": 5, "points": [["1", 2]]}], "finite number"),
        ([{"kind": "keep", "width": 5, "points": [[1, 2, 3]]}], "[x, y]"),
        ([{"kind": "keep", "width": 5, "points": [[601, 2]]}], "outside the source"),
        ([{"kind": "keep", "width": 5, "points": [[-1, 2]]}], "outside the source"),
        ([{"kind": "keep", "width": 5, "points": [[1, 2]], "extra": 1}], "exactly"),
        ([{"kind": "keep", "width": 5, "points": [[1, 2]] * 2001}], "too many points"),
        ([{"kind": "keep", "width": 5, "points": [[1, 2]]}] * 201, "too many strokes"),
        ([{"kind": "keep", "width": 5, "points": [[1, 2]] * 1500}] * 14, "in all"),
    ],
)
def test_bad_strokes_are_refused_with_a_reason(bad, says):
    with pytest.raises(StrokesError, match=None) as exc:
        strokes.validate(bad, SIZE)
    assert says in str(exc.value)


# -- rasterising -----------------------------------------------------------------------------------
def test_rasterize_draws_round_caps_of_the_given_width_and_later_strokes_win():
    line = {"kind": "remove", "width": 20, "points": [[50, 50], [150, 50]]}
    dot = {"kind": "keep", "width": 10, "points": [[100, 50]]}
    remove, keep = strokes.rasterize([line, dot], (200, 100), (0, 0, 200, 100))
    assert remove[50, 50] and remove[50, 150] and remove[41, 100] and not remove[30, 100]
    assert remove[50, 158] and not remove[50, 163]  # the round cap reaches width / 2 past the end
    assert remove[57, 157] is not None and not remove[58, 158]  # round, not square
    assert keep[50, 100] and not remove[50, 100]  # the later stroke wins
    assert abs(int(remove.sum()) - (100 * 20 + math.pi * 100 - 78)) < 120


def test_rasterize_maps_a_source_rectangle_onto_the_target():
    dot = {"kind": "keep", "width": 8, "points": [[110, 220]]}
    _, keep = strokes.rasterize([dot], (50, 50), (100, 200, 200, 300))  # half scale, offset
    ys, xs = np.nonzero(keep)
    assert abs(xs.mean() - 4.5) < 1 and abs(ys.mean() - 9.5) < 1 and 8 <= keep.sum() <= 24


def test_constrain_forces_alpha_and_leaves_the_input_alone():
    alpha = np.full((4, 4), 0.5, np.float32)
    remove, keep = np.zeros((4, 4), bool), np.zeros((4, 4), bool)
    remove[0, 0], keep[1, 1] = True, True
    out = strokes.constrain(alpha, (remove, keep))
    assert out[0, 0] == 0.0 and out[1, 1] == 1.0 and out[2, 2] == 0.5 and alpha[0, 0] == 0.5


# -- the pipeline with the real model ---------------------------------------------------------------
def test_a_remove_stroke_clears_the_ring_hole_and_keeps_the_pixels_locked(white, ring):
    before = run(white, ring.image)
    hx, hy = to_canvas(before, HOLE)
    assert np.asarray(before.mask)[hy, hx] == 255  # u2netp keeps the hole as product
    after = run(white, ring.image, [ACROSS_HOLE])
    mask, img = np.asarray(after.mask), np.asarray(after.image)
    hx, hy = to_canvas(after, HOLE)
    swept = mask[hy - 25 : hy + 25, hx - 55 : hx + 55]  # inside the stroke, on the canvas
    assert (swept == 0).all()
    assert (img[hy - 25 : hy + 25, hx - 55 : hx + 55] == 255).all()  # white background there
    source = resampled_source(after, ring.image)
    opaque = mask == 255
    assert opaque.sum() > 0.1 * mask.size
    assert (img[opaque] == source[opaque]).all()  # pixel lock: colours are the source's


def test_a_keep_stroke_makes_product_where_the_model_said_background(white, ring):
    corner = {
        "kind": "keep",
        "width": 30,
        "points": [[300, 150], [330, 150]],
    }  # green above the ring
    before = run(white, ring.image)
    x, y = to_canvas(before, (315, 150))
    inside = 0 <= x < CANVAS[0] and 0 <= y < CANVAS[1]
    assert not inside or np.asarray(before.mask)[y, x] == 0  # background (or not even in the crop)
    after = run(white, ring.image, [corner])
    mask, img = np.asarray(after.mask), np.asarray(after.image)
    x, y = to_canvas(after, (315, 150))
    assert (mask[y - 3 : y + 4, x - 10 : x + 11] == 255).all()
    source = resampled_source(after, ring.image)
    assert (img[mask == 255] == source[mask == 255]).all()


def test_card_mode_obeys_strokes_too(ring):
    card = CardMode()
    out = run(card, ring.image, [ACROSS_HOLE], background="#F2EFEA")
    hx, hy = to_canvas(out, HOLE)
    assert np.asarray(out.mask)[hy, hx] == 0
    assert tuple(np.asarray(out.image)[hy, hx]) == (0xF2, 0xEF, 0xEA)


def test_only_modes_that_take_strokes_are_offered_them():
    modes = plugins.modes()
    assert modes["white"].takes_strokes and modes["card"].takes_strokes
    assert not getattr(modes["scene"], "takes_strokes", False)


def test_digest_is_stable_and_order_sensitive():
    a = strokes.validate([ACROSS_HOLE], SIZE)
    b = strokes.validate([{**ACROSS_HOLE, "kind": "keep"}], SIZE)
    assert touchup.digest(a) == touchup.digest(strokes.validate([ACROSS_HOLE], SIZE))
    assert touchup.digest(a) != touchup.digest(b)
    assert touchup.digest(a + b) != touchup.digest(b + a)
