"""A stroke fixes the whole wrong region it touches (imaging.touch_cut): on ground-truth scenes
with the model's mistakes made by hand (a ring's hole kept, a chair's leg dropped), then once
through the white pipeline with the real u2netp model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from synthetic import iou, openings, scene

from vitrina_sync.imaging import compose, touch_cut
from vitrina_sync.imaging.openings import fill_holes
from vitrina_sync.imaging.steps import Constraints
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.modes.white import WhiteMode

SIZE = (600, 800)  # source; the work map is half of it, as a 1200 px photo's is at 640
WORK = (300, 400)
ACROSS_HOLE = {"kind": "remove", "width": 20, "points": [[270, 400], [330, 400]]}


def work_of(sc, p_source: np.ndarray):
    """(work rgb, work map) of a scene and a mask over its source, as the pipeline has them."""
    rgb = np.asarray(sc.image.resize(WORK, Image.Resampling.BOX))
    p = np.asarray(Image.fromarray(p_source.astype(np.float32), "F").resize(WORK, Image.BOX))
    return rgb, np.ascontiguousarray(p, np.float32)


def pinned(p: np.ndarray, cons: Constraints) -> np.ndarray:
    """What steps.after_model does with the strokes: their pixels, nothing more."""
    remove, keep = cons.at_work(WORK)
    p = p.copy()
    if remove is not None:
        p[remove] = 0.0
    if keep is not None:
        p[keep] = 1.0
    return p


def cut(sc, p_source, strokes):
    rgb, p = work_of(sc, p_source)
    cons = Constraints.from_strokes(strokes, SIZE)
    before = pinned(p, cons)
    return before, touch_cut.apply(rgb, before, cons, sc.image)


@pytest.fixture(scope="module")
def ring():
    return scene("ring", "gravel", SIZE)


@pytest.fixture(scope="module")
def truth_work(ring):
    return work_of(ring, ring.alpha)[1]


def test_one_remove_stroke_clears_the_whole_kept_hole(ring, truth_work):
    """The model kept the ring's hole (gravel): a 20 px stroke across it clears all of it, where
    pinning clears the stroke's own pixels only."""
    before, after = cut(ring, fill_holes(ring.alpha > 0.5), [ACROSS_HOLE])
    hole = openings(truth_work)
    assert iou(before, truth_work) < 0.8 and (before[hole] > 0.5).mean() > 0.8
    assert iou(after, truth_work) > 0.97
    assert (after[hole] > 0.5).mean() < 0.03


def test_far_away_regions_are_untouched_and_a_rerun_is_identical(ring):
    """A second wrong region (a patch of gravel taken as product, away from the ring) that no
    stroke touches stays as the model left it, bit for bit; the same input gives the same bytes."""
    wrong = fill_holes(ring.alpha > 0.5)
    wrong[40:140, 40:140] = True  # top-left corner: gravel
    before, after = cut(ring, wrong, [ACROSS_HOLE])
    _, again = cut(ring, wrong, [ACROSS_HOLE])
    assert again.tobytes() == after.tobytes()
    far = np.zeros(WORK[::-1], bool)
    far[:100, :100] = True
    assert (after[far] == before[far]).all() and (after[20:70, 20:70] == 1.0).all()
    assert (before != after).sum() > 3000  # the hole did change


def test_one_keep_stroke_regrows_a_dropped_leg():
    """The model dropped a chair's leg (brown on grass): one stroke along its middle, narrower
    than the leg, brings back the whole leg and nothing of the grass beside it."""
    sc = scene("chair", "grass", SIZE)
    w, h = SIZE
    t = 0.035 * w
    leg = np.zeros(sc.alpha.shape, bool)
    leg[int(0.5 * h + 1.4 * t) + 2 :, int(0.3 * w) - 3 : int(0.3 * w + t) + 3] = True
    x = 0.3 * w + t / 2
    stroke = {"kind": "keep", "width": 0.5 * t, "points": [[x, 0.56 * h], [x, 0.88 * h]]}
    before, after = cut(sc, (sc.alpha > 0.5) & ~leg, [stroke])
    truth = work_of(sc, sc.alpha)[1]
    leg_work = work_of(sc, leg & (sc.alpha > 0.5))[1] > 0.5
    assert (before[leg_work] > 0.5).mean() < 0.6
    assert (after[leg_work] > 0.5).mean() > 0.95
    assert iou(after, truth) > iou(before, truth) + 0.02
    beside = work_of(sc, leg)[1] > 0.5
    beside &= truth <= 0.0
    assert (after[beside] > 0.5).mean() < 0.1


def test_a_stroke_the_cut_cannot_believe_is_plain_pinning(monkeypatch):
    """A remove stroke across the middle of a flat red box on flat green, and a keep stroke on
    the flat green beside it: no colour edge where either would put a new edge, so the strokes
    pin their own pixels and nothing else changes (believing any edge, the cut would)."""
    sc = scene("box", "green", SIZE)
    strokes = [
        {"kind": "remove", "width": 16, "points": [[260, 600], [340, 600]]},
        {"kind": "keep", "width": 16, "points": [[60, 600], [100, 600]]},
    ]
    before, after = cut(sc, sc.alpha > 0.5, strokes)
    assert after.tobytes() == before.tobytes()
    monkeypatch.setattr(touch_cut, "GRADIENT", 0.0)
    _, credulous = cut(sc, sc.alpha > 0.5, strokes)
    assert (credulous != before).sum() > 100


def test_through_the_white_pipeline_the_hole_clears_and_the_colours_stay_locked(ring):
    """u2netp (openings step and second look off: it keeps the hole) and one stroke: with the cut
    the whole hole is background, with pinning most of it is still gravel; the product's pixels
    are the source's resampled, bit for bit, and a re-run gives the same bytes."""
    mode = WhiteMode()
    base = {"canvas": [800, 800], "fill": 0.85, "model": "u2netp"}
    base.update(openings=False, second_look=False)

    def run(**extra):
        ctx = ModeContext("SKU-1", "f" * 12, {**base, **extra}, {}, strokes=[ACROSS_HOLE])
        return mode.process(LoadedImage(ring.image, "PNG"), ctx)

    out, pin = run(), run(touch_cut=False)
    g = out.extra["geometry"]
    region = compose.Region(tuple(g["region"]), tuple(g["region_source"]))
    l, t, r, b = region.canvas
    truth = np.zeros((800, 800), np.float32)
    hole_img = Image.fromarray((openings(ring.alpha) * 255).astype(np.uint8))
    truth[t:b, l:r] = np.asarray(compose.resample_region(hole_img, region)) / 255.0
    hole = truth > 0.99
    mask = np.asarray(out.mask)
    assert hole.sum() > 10000
    assert (mask[hole] > 127).mean() < 0.02
    assert (np.asarray(pin.mask)[hole] > 127).mean() > 0.5
    source = np.zeros((800, 800, 3), np.uint8)
    source[t:b, l:r] = np.asarray(compose.resample_region(ring.image, region))
    opaque = mask == 255
    assert opaque.sum() > 50000
    assert (np.asarray(out.image)[opaque] == source[opaque]).all()
    again = run()
    assert again.mask.tobytes() == out.mask.tobytes()
    assert again.image.tobytes() == out.image.tobytes()
