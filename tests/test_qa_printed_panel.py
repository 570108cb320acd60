"""bg_inside on a printed panel that matches the background by chance (issue 16): the box's
white label over a photo of a white cup is the product's, not the photo seen through it; the
same rectangle cut as a window, with the photo behind it kept as product, is background."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import scene

from vitrina_sync.imaging import qa
from vitrina_sync.imaging.openings import REPORT, find

SIZE = (600, 800)


def label_box(sc) -> tuple[int, int, int, int]:
    """The box's white label (l, t, r, b), from the product's own colours."""
    ys, xs = np.nonzero((sc.product.min(axis=2) > 225) & (sc.alpha >= 1.0))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.mark.parametrize("bg", ["coffee", "astronaut"])
def test_a_white_label_matching_the_photo_s_white_is_no_bg_inside(bg):
    """The background's colour model calls the label background (find's share 0.19: the cup's
    white, the astronaut's suit); a flat panel with print on it, which the photo around does
    not continue into, is the product's (tune's box on coffee read 0.19 and was flagged)."""
    sc = scene("box", bg, SIZE)
    src, alpha = np.asarray(sc.image), np.ascontiguousarray(sc.alpha, np.float32)
    assert find(src, alpha, REPORT)[1] > 0.1  # the detector takes it: the case is not vacuous
    assert qa.background_inside(src, alpha) < qa.DEFAULTS["bg_inside_max"] / 2


@pytest.mark.parametrize("bg", ["coffee", "astronaut", "gravel"])
def test_the_label_cut_as_a_window_and_kept_fails_bg_inside(bg):
    """The label's rectangle a window onto the photo behind, kept as product: counted."""
    sc = scene("box", bg, SIZE)
    l, t, r, b = label_box(sc)
    src = np.asarray(sc.image).copy()
    src[t:b, l:r] = sc.background[t:b, l:r]
    alpha = np.ascontiguousarray(sc.alpha, np.float32)
    assert qa.background_inside(src, alpha) > 0.1


def test_printed_panels_leave_a_textured_opening():
    """A ring's hole full of gravel is no printed panel: it keeps all its share."""
    from scipy import ndimage

    sc = scene("ring", "gravel", SIZE)
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)
    src = np.asarray(sc.image)
    share = find(src, filled, REPORT)[1]
    assert share > 0.1 and qa.background_inside(src, filled) == share
