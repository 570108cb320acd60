"""Faint remains (qa.faint, qa.faint_remains): the finished alpha's soft pixels off the product's
body, a grey smudge on the white, as a share of the product's area."""

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


def test_a_smudge_between_a_chair_s_legs_is_flagged():
    """tune-4's chair on the moon: the model half-believed the moon's dark streak between the
    legs; the output keeps it at alpha 0.05-0.5 over 0.37 of the product's area, far from any
    leg, a grey smudge on the white. Right by IoU (0.996), and only faint measures it."""
    sc = scene("chair", "moon", (900, 1200), 58)
    out, alpha, value = white(sc)
    assert value >= 0.99
    assert out.qa["faint"] > 0.2 and "faint remains" in " ".join(out.qa["flags"])
    far, _ = qa.faint_remains(alpha)
    img = np.asarray(out.image).astype(int)
    smudge = img[far & (alpha > 0.2)]
    assert len(smudge) > 5000 and (smudge < 235).any(axis=-1).mean() > 0.9  # grey on the white


def test_a_clean_cut_reads_no_faint_remains():
    """A box on a green screen: the soft edge hugs the outline, nothing lies apart from it."""
    sc = scene("box", "green", (900, 1200))
    out, alpha, value = white(sc)
    assert value >= 0.99 and out.qa["faint"] == 0.0
    assert ((alpha > 0) & (alpha < 1)).sum() > 1000  # it has a soft edge, not counted


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


def test_a_thin_leg_s_own_soft_edge_is_no_faint_remains():
    """On a large canvas the body is dilated on blocks; a block is body where any pixel of it is,
    so a leg 2 px wide keeps its 2 px soft edge near it (it read 0.036 when a block needed half its
    pixels to be body), while a smudge as far from the leg is still seen."""
    a = np.zeros((2000, 2000), np.float32)
    a[1700:1800, 600:1400] = 1.0  # a seat
    a[200:1700, 1000:1002] = 1.0  # a thin leg rising from it
    a[200:1700, 1002:1004] = 0.3  # the leg's soft edge
    assert qa.faint(a) == 0.0
    a[200:1700, 1100:1104] = 0.3  # a smudge 100 px off the leg
    far, share = qa.faint_remains(a)
    assert share > 0.05 and far[1000, 1101] and not far[1000, 1003]


def test_the_compiled_figure_is_faint_remains_share_bit_for_bit():
    """qa.faint's compiled passes (the blocks' INTER_AREA means worked out from their weights,
    the dilation read through cv2's nearest mapping) give faint_remains' share exactly, and
    uncertainty's figure off the same pass, on sizes whose blocks do and do not divide
    them."""
    from vitrina_sync.imaging import compiled

    rng = np.random.default_rng(16)
    for h, w in [(1200, 900), (1770, 921), (1301, 643), (601, 1999), (2400, 37), (650, 650)]:
        for _ in range(3):
            a = np.zeros((h, w), np.float32)
            cy, cx = rng.integers(0, h), rng.integers(0, w)
            a[max(0, cy - h // 4) : cy + h // 4, max(0, cx - w // 5) : cx + w // 5] = 1.0
            specks = rng.random((h, w)) < 0.003
            a[specks] = rng.integers(1, 160, int(specks.sum())) / np.float32(255)
            want = qa.faint_remains(a)[1]
            assert qa.faint(a) == want and type(qa.faint(a)) is type(want)
            both = qa.faint_and_uncertainty(a)  # white mode's one pass for both
            assert both == (want, qa.uncertainty(a)) and type(both[1]) is float
    kernels = compiled.loops()
    if kernels is not None:
        assert qa._faint_compiled(a, kernels) == (qa.faint_remains(a)[1], qa.uncertainty(a))
        assert qa._faint_compiled(np.zeros((900, 700), np.float32), kernels) == (0.0, 1.0)
