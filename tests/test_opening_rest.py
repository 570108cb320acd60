"""The rest of an opening once parted took another object off the product
(imaging/opening_rest.py, preset `opening_rest`): the crema a ring's hole shows after the coffee
cup is gone is cleared; a region of the product in the backdrop's colours that is no rest of an
opening (a white label, on a white product or far from the opening) stays."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import iou, openings, scene

from vitrina_sync.imaging import cutout, opening_rest, steps

H, W = 480, 360
GOLD, CREMA, CUP, TABLE, WHITE = (
    (200, 160, 60),
    (190, 120, 70),
    (120, 30, 25),
    (90, 55, 35),
    (245, 245, 243),
)


def _disc(cy, cx, r):
    yy, xx = np.mgrid[:H, :W]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def _photo(rng, ring_colour=GOLD, inner=CREMA):
    """A table with a cup behind a ring: the cup's crema (`inner`) fills the upper half of the
    ring's hole, its dark body the lower half; what parted took off (the cup's part around the
    ring) and the alpha left after it (the ring with the crema kept, the body cleared)."""
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = TABLE
    cup = _disc(200, 180, 150)
    rgb[cup] = CUP
    crema = cup & (np.mgrid[:H, :W][0] < 240)
    rgb[crema] = inner
    ring = _disc(240, 180, 100) & ~_disc(240, 180, 55)
    rgb[ring] = ring_colour
    rgb += rng.normal(0, 2.0, rgb.shape)
    hole = _disc(240, 180, 55)
    p = np.zeros((H, W), np.float32)
    p[ring | (hole & crema)] = 1.0
    other = cup & ~ring & ~hole  # what parted took: the cup around the ring
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), p, other, hole & crema, ring


def test_the_crema_left_in_a_rings_hole_goes():
    rgb, p, other, rest, ring = _photo(np.random.default_rng(1))
    out = opening_rest.after_parting(rgb, p, other)
    assert out[rest].mean() > 0.9
    assert not (out & ring).sum() > 0.01 * ring.sum()


def test_a_product_in_the_backdrops_colours_around_its_opening_stays():
    # a white ring over a white cup: the kept region is the product's own white: in the
    # colours of its outline band, whatever the backdrop shows
    rgb, p, other, _, _ = _photo(np.random.default_rng(2), ring_colour=WHITE, inner=WHITE)
    assert not opening_rest.after_parting(rgb, p, other).any()


def test_a_label_far_from_the_opening_stays():
    # the ring's lower side carries a white label, and the cup behind shows white too: the label
    # is in the backdrop's colours and none of the ring's, but it meets no opening
    rgb, p, other, rest, ring = _photo(np.random.default_rng(3))
    label = ring & (np.mgrid[:H, :W][0] > 318) & (np.abs(np.mgrid[:H, :W][1] - 180) < 30)
    rgb[label] = WHITE
    cup_white = other & (np.mgrid[:H, :W][0] < 90)
    rgb[cup_white] = WHITE
    p[rest] = 0.0  # the opening cleared whole: nothing is left of it
    assert not opening_rest.after_parting(rgb, p, other).any()


def test_nothing_without_an_opening():
    rgb, p, other, _, _ = _photo(np.random.default_rng(4))
    p[_disc(240, 180, 55)] = 1.0  # a disc: no hole in the outline
    assert not opening_rest.after_parting(rgb, p, other).any()


def _model_p(img) -> np.ndarray:
    try:
        return cutout.predict_work(img, "u2netp", None)[1]
    except Exception as exc:  # noqa: BLE001 - no model installed here
        pytest.skip(f"u2netp not available: {exc}")


def test_ring_on_coffee_keeps_no_crema_in_its_hole():
    sc = scene("ring", "coffee", (900, 1200))
    from PIL import Image

    work = sc.image.resize((480, 640), Image.Resampling.BOX)
    p = _model_p(work)
    rgb = np.asarray(work)
    truth = np.asarray(Image.fromarray(sc.alpha).resize(work.size, Image.Resampling.BILINEAR))
    hole = openings(truth)
    off = steps.after_model(rgb, p, {"opening_rest": False}) > 0.5
    on = steps.after_model(rgb, p, {}) > 0.5
    assert off[hole].mean() > 0.3  # the crema stays without it
    assert on[hole].mean() < 0.1
    assert iou(on.astype(np.float32), truth) > iou(off.astype(np.float32), truth) + 0.1


@pytest.mark.parametrize("kind, bg", [("box", "coffee"), ("bottle", "astronaut")])
def test_a_parted_product_without_an_opening_is_left_alone(kind, bg):
    from PIL import Image

    sc = scene(kind, bg, (900, 1200))
    work = sc.image.resize((480, 640), Image.Resampling.BOX)
    p = _model_p(work)
    rgb = np.asarray(work)
    assert np.array_equal(
        steps.after_model(rgb, p, {"opening_rest": False}), steps.after_model(rgb, p, {})
    )
