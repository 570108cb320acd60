"""opening_rest reads the product's own colours off the seam parted cut: the outline band within
one band of what parted took holds what the other object left joined to the product (the
astronaut's face between a bag's straps, in the colours of the head parted took), which read as
the product's own and kept it. Where the whole band lies by the seam (a ring the other object
surrounds) the band is read as before."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import iou, openings, scene
from test_opening_rest import _disc, _model_p, _photo

from vitrina_sync.imaging import opening_rest, steps


def _work(kind, bg):
    from PIL import Image

    sc = scene(kind, bg, (900, 1200))
    work = sc.image.resize((480, 640), Image.Resampling.BOX)
    p = _model_p(work)
    truth = np.asarray(Image.fromarray(sc.alpha).resize(work.size, Image.Resampling.BILINEAR))
    return np.asarray(work), p, truth


def test_the_face_between_a_bags_straps_goes_with_the_head():
    """bag-on-astronaut (tune): parted takes the head off, the face between the straps stayed
    (in the colours of the outline band there): 480x640 IoU 0.814 -> 0.927, kept in the straps'
    openings 0.397 -> 0.045."""
    rgb, p, truth = _work("bag", "astronaut")
    hole = openings(truth)
    on = steps.after_model(rgb, p, {}) > 0.5
    off = steps.after_model(rgb, p, {"opening_rest": False}) > 0.5
    assert off[hole].mean() > 0.3
    assert on[hole].mean() < 0.1
    assert iou(on.astype(np.float32), truth) > 0.9


@pytest.mark.parametrize("kind, bg", [("mug", "coffee"), ("box", "astronaut"), ("bag", "coffee")])
def test_parted_scenes_the_seam_rule_does_not_touch(kind, bg):
    """Parted acts on all three; the rest of an opening stays as without the step: the cup's white
    rim in a white mug's handle (the mug's own colour, off the seam too), a box without an
    opening, a bag whose straps cross the cup (given back by thin_parts.crossing)."""
    rgb, p, _ = _work(kind, bg)
    on, off = steps.after_model(rgb, p, {}), steps.after_model(rgb, p, {"opening_rest": False})
    assert np.array_equal(on, off)


def test_a_product_in_the_other_objects_colours_keeps_them_off_the_seam():
    """A white ring over a white cup, the cup taken off above the ring only: the ring's band off
    the seam is white, so the white left in its opening is the product's colour and stays."""
    white = (245, 245, 243)
    rgb, p, other, _, _ = _photo(np.random.default_rng(5), ring_colour=white, inner=white)
    above = other & (np.mgrid[: p.shape[0], : p.shape[1]][0] < 200)
    assert not opening_rest.after_parting(rgb, p, above).any()


def test_a_ring_the_other_object_surrounds_still_loses_its_crema():
    """The whole band of the ring lies by the seam (the cup all around it): the band is read
    whole, as before, and the crema in the hole goes."""
    rgb, p, other, rest, ring = _photo(np.random.default_rng(1))
    assert (other & ~_disc(240, 180, 100)).any()
    out = opening_rest.after_parting(rgb, p, other)
    assert out[rest].mean() > 0.9 and (out & ring).sum() <= 0.01 * ring.sum()
