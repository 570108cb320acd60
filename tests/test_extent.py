"""imaging.extent: faint loose parts glued at the product's extreme are cleared (the aspect
stays the product's), parts the model believed (straps, legs, points) are not."""

import numpy as np
import pytest

from vitrina_sync.imaging import extent, steps


def box(mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return cols[0], rows[0], cols[-1] + 1, rows[-1] + 1


def body(shape=(320, 240)):
    p = np.zeros(shape, np.float32)
    p[60:260, 60:180] = 1.0  # the product's sure body
    return p


def with_rim(p, value):
    """A coin's rim under the body: a thin arc, 5 px wide, 45 px below the body's bottom."""
    y, x = np.mgrid[0 : p.shape[0], 0 : p.shape[1]]
    r = np.hypot(x - 120, y - 262)
    p[(r > 40) & (r < 45) & (y > 258) & (p == 0)] = value
    return p


def test_faint_rim_glued_below_is_cleared_and_the_box_is_the_body_s():
    p = with_rim(body(), 0.58)
    out = extent.without_faint_ends(p)
    assert box(p > 0.5)[3] > 300  # the rim stretched the box
    assert box(out > 0.5) == (60, 60, 180, 260)
    assert (out[60:260, 60:180] == 1.0).all()


def test_faint_sliver_along_a_side_is_cleared():
    p = body()
    p[70:250, 180:186] = 0.6  # a mortar line glued along the right side
    assert box(extent.without_faint_ends(p) > 0.5)[2] == 180


@pytest.mark.parametrize("value", [0.8, 0.95])
def test_a_believed_strap_is_kept(value):
    p = body()
    y, x = np.mgrid[0:320, 0:240]
    r = np.hypot(x - 120, y - 60)
    p[(r > 40) & (r < 44) & (y < 60)] = value  # a handle arching over the top
    out = extent.without_faint_ends(p)
    assert out is p


def test_chair_legs_and_scissors_points_are_kept():
    p = body()
    p[260:315, 64:68] = 0.95  # legs: thin, solid
    p[260:315, 172:176] = 0.95
    for i in range(40):  # a point tapering off the left side, soft at its tip
        w = max(1, 6 - i // 7)
        p[150 - w : 150 + w, 59 - i] = 0.78
    assert extent.without_faint_ends(p) is p


def test_the_same_rim_believed_is_kept():
    p = with_rim(body(), 0.8)
    assert extent.without_faint_ends(p) is p


def test_a_keep_stroke_is_never_cleared():
    p = with_rim(body(), 0.58)
    keep = np.zeros(p.shape, bool)
    keep[290:] = True
    out = extent.without_faint_ends(p, keep)
    assert (out[keep & (p > 0.5)] == p[keep & (p > 0.5)]).all()
    assert (out[262:290] <= 0.5).all()


def test_no_body_no_change():
    p = np.full((100, 80), 0.6, np.float32)
    assert not extent.faint_ends(p).any()


def test_after_model_clears_a_faint_rim_the_steps_leave():
    p = with_rim(body(), 0.58)
    rgb = np.full(p.shape + (3,), 200, np.uint8)
    rgb[p > 0.5] = (40, 60, 150)
    out = steps.after_model(rgb, p, {})
    assert box(out > 0.5)[3] <= 262
    assert (out[60:260, 60:180] > 0.5).all()
