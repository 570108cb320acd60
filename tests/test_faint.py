"""Faint remains (qa.faint_remains): the refined alpha's soft pixels off the product's body, a
grey smudge on the white. White mode clears them (preset `faint`) and reports their share."""

from __future__ import annotations

import numpy as np
from synthetic import iou, scene, truth_on_canvas, truth_outside

from vitrina_sync.imaging import qa
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.modes.white import WhiteMode

SETTINGS = {"default_model": "u2netp"}


def white(sc, **preset_keys):
    preset = {"canvas": [1200, 1200], "fill": 0.85, "model": "u2netp", **preset_keys}
    out = WhiteMode().process(LoadedImage(sc.image, "PNG"), ModeContext("b", "0", preset, SETTINGS))
    alpha = np.asarray(out.mask, np.float32) / 255.0
    value = iou(alpha, truth_on_canvas(out, sc.alpha), truth_outside(out, sc.alpha))
    return out, alpha, value


def test_a_smudge_between_a_chair_s_legs_is_cleared_and_flagged():
    """tune-4's chair on the moon: the model half-believed the moon's dark streak between the
    legs (alpha 0.05-0.5 over 0.37 of the product's area, far from any leg). The output is
    right by IoU (0.996) with or without it; cleared, the white between the legs is white, and
    QA flags what was cleared, for a person to check nothing of the product went with it."""
    sc = scene("chair", "moon", (900, 1200), 58)
    _, kept_alpha, kept_iou = white(sc, faint=False)
    cleared, alpha, value = white(sc)
    assert qa.faint(kept_alpha) > 0.2  # the smudge is in the output without the step
    assert qa.faint(alpha) < 0.01 and cleared.qa["faint"] > 0.2  # (the canvas: blocks shift)
    assert "faint remains" in " ".join(cleared.qa["flags"])
    assert value == kept_iou >= 0.99  # only alpha <= 0.5 changed
    assert np.array_equal(alpha > 0.5, kept_alpha > 0.5)
    smudge = (kept_alpha > 0.05) & (kept_alpha <= 0.5) & (alpha == 0)
    assert smudge.sum() > 0.2 * (alpha > 0.5).sum()
    # the composite there is the canvas's white now
    img = np.asarray(cleared.image)
    assert (img[smudge] == 255).all()


def test_a_clean_cut_keeps_its_soft_edge():
    """A box on a green screen: the soft edge hugs the outline, nothing is apart from it; the
    step changes no pixel of the mask and QA reads 0."""
    sc = scene("box", "green", (900, 1200))
    on, alpha, _ = white(sc)
    _, alpha_off, _ = white(sc, faint=False)
    assert on.qa["faint"] == 0.0 and "faint" not in " ".join(on.qa["flags"])
    assert np.array_equal(alpha, alpha_off)
    assert ((alpha > 0) & (alpha < 1)).sum() > 1000  # it has a soft edge to keep


def test_faint_remains_are_measured_off_the_body_only():
    """The figure: soft pixels within the reach of the body are its edge; past it, remains."""
    alpha = np.zeros((1200, 900), np.float32)
    alpha[200:1000, 200:700] = 1.0
    alpha[196:200, 200:700] = 0.4  # a soft edge 4 px wide
    assert qa.faint(alpha) == 0.0
    alpha[1040:1100, 300:400] = 0.3  # a patch 40 px below the body
    far, share = qa.faint_remains(alpha)
    assert far is not None and far[1050, 350] and not far[198, 300]
    assert abs(share - 6000 / (800 * 500)) < 1e-9
    alpha[1040:1100, 300:400] = 0.6  # over 0.5: a part of the body, not remains
    assert qa.faint(alpha) == 0.0
