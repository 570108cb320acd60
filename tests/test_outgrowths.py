"""Outgrowths (imaging/outgrowths.py): a patch of the old background joined to the product's
outline is cleared by the repair and flagged by QA's `outgrowth`; the product's true thin
parts (handles, legs, a neck, blades, a shackle, a frame's bars) are neither. On ground-truth
scenes, without the model: its map is the truth with a patch of the background added."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from synthetic import scene
from test_qa_wrong_outputs import composite, flagged_by, verdict

from vitrina_sync.imaging import openings, outgrowths, qa, steps

SIZE = (300, 400)
THIN = [
    ("bag", "grass"),
    ("bag", "gravel"),
    ("bag", "chelsea"),
    ("bottle", "grass"),
    ("chair", "brick"),
    ("scissors", "gravel"),
    ("padlock", "grass"),
    ("frame", "gravel"),
]


def _with_patch(sc, unsure: float = 0.75):
    """The truth with a square of the background joined to the product's right side (a
    third of the disk's width narrower than the opening), the model unsure of it."""
    product = sc.alpha > 0.5
    rows = np.flatnonzero(product.any(axis=1))
    y = (rows[0] + rows[-1]) // 2
    x = np.flatnonzero(product[y])[-1] + 1
    side = max(8, round(0.04 * max(sc.alpha.shape)))
    patch = np.zeros(product.shape, bool)
    patch[y - side // 2 : y + side // 2, x : x + side] = True
    patch &= ~product
    p = sc.alpha.copy()
    p[patch] = unsure
    return p, patch


def _cleared(rgb, p, keep=None):
    """The repair's own pixels, as if the openings step had cleared nothing (on some of these
    scenes it clears the square itself: the models are surer of it than of a real patch)."""
    report: dict = {}
    openings.find(rgb, p, openings.CUT, keep, report=report)
    return outgrowths.parts(p, np.zeros(p.shape, bool), keep, report.get("models"))


@pytest.mark.parametrize("kind,bg", THIN)
def test_the_product_s_thin_parts_are_kept(kind, bg):
    sc = scene(kind, bg, SIZE)
    rgb = np.asarray(sc.image)
    assert not _cleared(rgb, sc.alpha).any()
    assert not dict(steps.step_masks(rgb, sc.alpha, {}))["-outgrowths"].any()


@pytest.mark.parametrize(
    "kind,bg",
    [
        ("chair", "brick"),
        ("chair", "moon"),
        ("bottle", "grass"),
        ("frame", "gravel"),
        ("frame", "hubble_deep_field"),
    ],
)
def test_thin_parts_the_model_is_unsure_of_stay_by_their_colour(kind, bg):
    """Every part the opening cuts off (a chair's legs, a bottle's neck, a frame's corners) at
    p 0.75: the model's sureness says nothing, the colour models call them product."""
    sc = scene(kind, bg, SIZE)
    _, labels, _ = outgrowths.cut_off(sc.alpha > 0.5)  # SIZE is the openings step's copy
    thin = (labels > 0) & (sc.alpha > 0.5)
    assert thin.sum() > 50
    p = sc.alpha.copy()
    p[thin] = 0.75
    assert not _cleared(np.asarray(sc.image), p).any()


@pytest.mark.parametrize("kind,bg", [("frame", "gravel"), ("hoop", "grass"), ("box", "brick")])
def test_a_patch_of_the_background_joined_to_the_outline_is_cleared(kind, bg):
    sc = scene(kind, bg, SIZE)
    rgb = np.asarray(sc.image)
    p, patch = _with_patch(sc)
    cleared = _cleared(rgb, p)
    assert cleared[patch].mean() > 0.8  # its foot, where the disk still fits, may stay
    assert not (cleared & (sc.alpha > 0.5)).any()
    assert not (dict(steps.step_masks(rgb, p, {}))["-outgrowths"] & (sc.alpha > 0.5)).any()
    assert (steps.after_model(rgb, p, {})[patch] > 0.5).mean() < 0.2


def test_a_sure_patch_and_one_under_a_keep_stroke_stay():
    """The model sure of it: a part of the product in the background's colours (a handle);
    a reviewer's `keep` stroke over it: product, whatever it looks like."""
    sc = scene("frame", "gravel", SIZE)
    rgb = np.asarray(sc.image)
    p, patch = _with_patch(sc, unsure=1.0)
    assert not _cleared(rgb, p).any()
    p, patch = _with_patch(sc)
    keep = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    keep[patch] = 255
    out = steps.after_model(rgb, p, {}, steps.Constraints(keep=Image.fromarray(keep, "L")))
    assert (out[patch] == 1.0).all()


@pytest.mark.parametrize("kind,bg", [("frame", "gravel"), ("hoop", "grass"), ("ring", "brick")])
def test_a_patch_of_the_background_grown_on_the_output_fails_outgrowth(kind, bg):
    sc = scene(kind, bg, (600, 800))
    p, patch = _with_patch(sc, unsure=1.0)  # the finished alpha: settled, the patch opaque
    report = verdict(sc, p, composite(sc, p))
    assert "outgrowth" in flagged_by(report), report
    share = qa.outgrowth(np.asarray(sc.image), p)
    assert share >= 0.5 * patch.sum() / (p > 0.5).sum()


@pytest.mark.parametrize("kind,bg", THIN)
def test_a_right_output_with_thin_parts_has_no_outgrowth(kind, bg):
    sc = scene(kind, bg, (600, 800))
    assert qa.outgrowth(np.asarray(sc.image), sc.alpha) <= qa.DEFAULTS["outgrowth_max"]
