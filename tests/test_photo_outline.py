"""A wider framing that outlines the photo itself (imaging.photo_outline, used by
imaging.reframe.better): on an even texture filling the photo the padded copy is one rectangle of
texture, which u2netp outlines; that map is not taken over a first map that saw the product
whole inside the frame. Real u2netp on ground-truth scenes for the end-to-end cases."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import scene
from test_reframe import output_iou

from vitrina_sync.imaging import photo_outline


def _maps():
    first = np.zeros((400, 300), np.float32)
    first[120:280, 100:200] = 1.0  # the product, whole inside the frame
    return first


def test_a_wider_map_running_out_of_the_frame_over_a_product_seen_inside_it_is_the_photo():
    first, wider = _maps(), np.zeros((400, 300), np.float32)
    wider[60:, :] = 1.0  # most of the frame, running out of three sides
    assert photo_outline.outlines_photo(first, wider)


def test_a_wider_map_inside_the_frame_is_not_the_photo():
    """A ring on grass at 0.65: the wider map is the ring, off every side of the frame."""
    first, wider = _maps(), np.zeros((400, 300), np.float32)
    wider[40:360, 30:270] = 1.0
    assert not photo_outline.outlines_photo(first, wider)


def test_a_first_map_cut_by_the_frame_lets_the_wider_run_out():
    """A box on light at 0.62: the product runs out of the frame in the first map already (or
    comes within MARGIN of it), so a wider map running out of the frame may be the product."""
    first, wider = np.zeros((400, 300), np.float32), np.zeros((400, 300), np.float32)
    first[50:400, 40:260] = 1.0
    wider[30:, :] = 1.0
    assert not photo_outline.outlines_photo(first, wider)
    first[:] = 0.0
    first[5:390, 40:260] = 1.0  # 5 px off the top: within MARGIN (0.03 of 400 = 12 px)
    assert not photo_outline.outlines_photo(first, wider)


def test_a_first_map_that_lost_the_product_is_reframe_lost_s_case():
    first, wider = np.zeros((400, 300), np.float32), np.zeros((400, 300), np.float32)
    first[200:205, 150:155] = 1.0  # 0.02% of the frame: reframe.lost judges it
    wider[:, :] = 1.0
    assert not photo_outline.outlines_photo(first, wider)


@pytest.mark.parametrize("kind,bg,seed", [("padlock", "tiles", 111)])
def test_a_product_on_an_even_texture_keeps_its_first_map(white, kind, bg, seed):
    """The padlock on wall tiles (held-out-7 s111): the first map is right (ringed by the tiles'
    colour, so reframe looks wider), the wider map is the photo's rectangle of tiles, running
    out of two sides (bench_masks 900x1200: IoU 0.279 -> 0.998)."""
    sc = scene(kind, bg, (900, 1200), seed)
    assert output_iou(white, sc) >= 0.95


@pytest.mark.parametrize(
    "kind,bg,seed,zoom", [("box", "light", 0, 0.62), ("ring", "grass", 0, 0.65)]
)
def test_close_ups_still_take_the_wider_map(white, kind, bg, seed, zoom):
    """tune-6's close-ups whose wider map reframe takes (the box cut by the frame, first map
    0.646; the ring whose first map outlined the grass inside it, 0.001) stay right."""
    sc = scene(kind, bg, (900, 1200), seed, zoom)
    assert output_iou(white, sc) >= 0.95
