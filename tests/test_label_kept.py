"""A printed label whose colour is near the backdrop's is the product's (issue 16, held-out-6's
box on a shop shelf): the openings step keeps it, and still clears a true opening; QA's
`cut_panel` flags an output that cut it out. Real u2netp on ground-truth scenes, the step alone
and QA on the true alpha and on outputs wrong on purpose."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage
from synthetic import iou, scene
from test_openings import on_canvas, run

from vitrina_sync.imaging import openings as op
from vitrina_sync.imaging import qa

SIZE = (600, 800)


def label_box(sc) -> tuple[int, int, int, int]:
    """The label's (l, t, r, b): the product's off-white panel."""
    ys, xs = np.nonzero((sc.product.min(axis=2) > 225) & (sc.alpha >= 1.0))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_a_light_label_on_a_light_shelf_is_kept_through_the_pipeline(white):
    """The box's off-white label on a light grey shelf wall (the shelf's packs around it): the
    colour models took it for the wall (L* 96 vs 89, neighbouring bins) and cut it out as an
    opening, IoU 0.81. Kept, the outline is the box's own, with no hole in it."""
    sc = scene("box", "shelf", SIZE)
    out = run(white, sc.image)
    mask = np.asarray(out.mask, np.float32) / 255.0
    assert iou(mask, on_canvas(out, sc.alpha)) >= 0.98
    assert not (ndimage.binary_fill_holes(mask > 0.5) & (mask <= 0.5)).any()
    assert out.qa["de_p95"] < 1.0
    assert out.qa["cut_panel"] == 0.0 and not out.qa["flags"]


def test_the_pipeline_s_output_with_the_label_cut_fails_cut_panel(white, monkeypatch):
    """Round 7's output (the cutter without its panel check: the label cut out, IoU 0.81, QA
    ok) is flagged by cut_panel now."""
    monkeypatch.setattr(op, "CUT", replace(op.CUT, panels=False))
    sc = scene("box", "shelf", SIZE)
    out = run(white, sc.image)
    mask = np.asarray(out.mask, np.float32) / 255.0
    assert iou(mask, on_canvas(out, sc.alpha)) < 0.9  # the label is cut: the case is real
    assert out.qa["cut_panel"] > 0.15
    assert any(f.startswith("cut panel ") for f in out.qa["flags"])


@pytest.mark.parametrize(
    "kind,bg", [("box", "shelf"), ("bottle", "shelf"), ("box", "marble"), ("box", "white")]
)
def test_the_openings_step_keeps_a_printed_label_the_colour_models_take(kind, bg):
    """On the true alpha: the label's colour is within the models' neighbouring bins of the
    backdrop (a shelf's wall, marble, a white sweep), so the step alone took 0.19 of the product;
    a flat field with text on it in a colour the backdrop does not have is kept."""
    sc = scene(kind, bg, SIZE)
    src, alpha = np.asarray(sc.image), np.ascontiguousarray(sc.alpha, np.float32)
    found, share = op.find(src, alpha)
    l, t, r, b = label_box(sc)
    assert share == 0.0 and not found[t:b, l:r].any()


@pytest.mark.parametrize("bg", ["marble", "light", "shelf"])
def test_a_ring_s_hole_on_the_same_backdrops_is_still_cleared(bg):
    """The ring's hole filled (as u2netp fills it) shows the backdrop: cleared, about all of it
    (marble's veins are marks on a flat field too, but the backdrop has the field's colour)."""
    sc = scene("ring", bg, SIZE)
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)
    hole = filled.astype(bool) & (sc.alpha <= 0.5)
    found, _share = op.find(np.asarray(sc.image), filled)
    assert iou(found.astype(np.float32), hole.astype(np.float32)) > 0.85


def test_printed_panel_reads_the_label_and_not_the_opening():
    """The figure itself, on the largest region the step finds without it: the box's label on
    the shelf is a panel, the ring's hole on the same shelf is not."""
    from PIL import Image

    for kind, want in (("box", True), ("ring", False)):
        sc = scene(kind, "shelf", SIZE)
        alpha = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)
        k = max(alpha.shape) // op.SIDE
        rgb = np.asarray(sc.image.reduce(k))
        p = np.asarray(Image.fromarray(alpha, "F").reduce(k))
        report: dict = {}
        found = op.match_regions(rgb, p, replace(op.CUT, panels=False), report=report)[0]
        labels, n = ndimage.label(found)
        assert n > 0
        largest = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
        assert op.printed_panel(report["models"], largest) is want


@pytest.mark.parametrize(
    "kind,bg", [("box", "shelf"), ("bottle", "shelf"), ("box", "marble"), ("box", "white")]
)
def test_an_output_that_cut_the_label_out_fails_cut_panel(kind, bg):
    """The label's rectangle cut out (what the openings step did to held-out-6's box, and QA
    read ok): a hole through a flat field with text, in a colour the backdrop does not have."""
    sc = scene(kind, bg, SIZE)
    src = np.asarray(sc.image)
    right = np.ascontiguousarray(sc.alpha, np.float32)
    wrong = right.copy()
    l, t, r, b = label_box(sc)
    wrong[t:b, l:r] = 0.0
    assert qa.cut_panel(src, right) == 0.0
    share = qa.cut_panel(src, wrong)
    assert share > 0.15
    assert any(
        f.startswith("cut panel ") for f in qa.flags({"cut_panel": share}, qa.DEFAULTS, None)
    )


@pytest.mark.parametrize(
    "kind,bg",
    [
        ("ring", "shelf"),
        ("ring", "marble"),
        ("ring", "light"),
        ("ring", "gravel"),
        ("hoop", "text"),
    ],
)
def test_a_true_opening_cleared_reads_no_cut_panel(kind, bg):
    """A ring's hole cleared shows the backdrop (a page of text seen through a hoop is a flat
    field with marks too, in the backdrop's own colours): no panel cut."""
    sc = scene(kind, bg, SIZE)
    alpha = np.ascontiguousarray(sc.alpha, np.float32)
    hole = ndimage.binary_fill_holes(alpha > 0.5) & (alpha <= 0.5)
    assert hole.sum() > 0.02 * (alpha > 0.5).sum()  # a hole the figure looks at
    assert qa.cut_panel(np.asarray(sc.image), alpha) == 0.0
