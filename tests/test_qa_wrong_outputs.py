"""Deliberately wrong outputs, each of which QA must flag through the figure that names the
fault; and over the ground-truth sets, no `ok` for an output whose IoU with the truth is under
0.95 (real u2netp, the whole white-mode pipeline)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from synthetic import (
    EXTENSION,
    ISSUE_CASES,
    TUNE_3,
    iou,
    project_cases,
    scene,
    truth_on_canvas,
    truth_outside,
)

from vitrina_sync.imaging import kept_openings, qa
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.modes.white import WhiteMode

SETTINGS = {"default_model": "u2netp"}
SIZE = (600, 800)


def composite(sc, alpha, colours=None):
    """The scene's product over white with `alpha`; colours from the photo unless given."""
    fg = np.asarray(sc.image, np.float32) if colours is None else colours.astype(np.float32)
    a = alpha[..., None]
    return np.clip(fg * a + 255.0 * (1 - a) + 0.5, 0, 255).astype(np.uint8)


def verdict(sc, alpha, output):
    """qa.finish over the figures the fault could move (the others at passing values)."""
    src = np.asarray(sc.image)
    white = np.broadcast_to(np.full(3, 255, np.uint8), src.shape)
    de_mean, de_p95 = qa.colour_drift(src, output, alpha >= 1.0)
    figures = {
        "de_mean": de_mean,
        "de_p95": de_p95,
        "halo": qa.halo(src, output, alpha, white),
        "bg_inside": qa.background_inside(src, alpha),
        "border": qa.border(
            alpha, (0.0, 0.0, float(src.shape[1]), float(src.shape[0])), sc.image.size
        ),
        "soft_holes": qa.soft_holes(src, alpha),
        "kept_opening": qa.kept_opening(src, alpha)[0],
        "outgrowth": qa.outgrowth(src, alpha),
        "lost_part": qa.lost_part(src, alpha),
        "foreign_part": qa.foreign_part(src, alpha),
        "cut_panel": qa.cut_panel(src, alpha),
        "faint": qa.faint(alpha),
        "uncertainty": 0.02,
        "fill": 0.85,
        "purity": 1.0,
        "sharpness": 200.0,
        "headroom": 1.2,
    }
    return qa.finish(figures, {}, "", 0.85)


def flagged_by(report) -> set[str]:
    two_words = {
        "bg inside": "bg_inside",
        "soft holes": "soft_holes",
        "kept opening": "kept_opening",
        "lost part": "lost_part",
        "foreign part": "foreign_part",
        "cut panel": "cut_panel",
        "faint remains": "faint",
    }
    return {two_words.get(" ".join(f.split(" ")[:2]), f.split(" ")[0]) for f in report["flags"]}


def hue_shift(rgb: np.ndarray, degrees: float) -> np.ndarray:
    hsv = np.asarray(Image.fromarray(rgb).convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + round(degrees / 360 * 256)) % 256
    return np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"))


SCENES = [
    ("ring", "gravel"),
    ("ring", "green"),
    ("bluemug", "greygrad"),
    ("box", "green"),
    ("padlock", "immunohistochemistry"),
    ("scissors", "retina"),
    ("chair", "brick"),
    ("padlock", "coins"),
    ("padlock", "camera"),
    ("whitelabel", "white"),
]


@pytest.mark.parametrize("kind,bg", SCENES)
def test_the_right_output_passes(kind, bg):
    sc = scene(kind, bg, SIZE)
    report = verdict(sc, sc.alpha, composite(sc, sc.alpha, sc.product))
    assert report["flags"] == [], report["flags"]


@pytest.mark.parametrize(
    "kind,bg",
    [
        ("ring", "gravel"),
        ("ring", "brick"),
        ("ring", "green"),
        ("chair", "grass"),
        ("frame", "hubble_deep_field"),
    ],
)
def test_a_kept_hole_fails_bg_inside(kind, bg):
    """The issue's ring on gravel with its hole full of gravel (bg_inside read 0.0 before); a
    dark frame's opening full of stars (its mean colour the frame's: 0.0 before white-5)."""
    sc = scene(kind, bg, SIZE)
    filled = ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32)
    filled = np.maximum(filled, sc.alpha)
    report = verdict(sc, filled, composite(sc, filled))
    assert "bg_inside" in flagged_by(report) and report["bg_inside"] > 0.1


@pytest.mark.parametrize(
    "kind,bg,seed",
    [
        ("frame", "hubble_deep_field", 42),
        ("frame", "hubble_deep_field", 0),
        ("hoop", "hubble_deep_field", 41),
        ("frame", "gravel", 0),
        ("ring", "brick", 0),
    ],
)
def test_an_opening_kept_full_of_a_textured_backdrop_fails_kept_opening(kind, bg, seed):
    """At 450x600 a dark frame's opening kept full of the night sky read ok (IoU 0.34): frame
    and sky share the colour models' smoothed bins, and the rim steps 9 dE. The backdrop's
    own texture, its density of edges, fills the opening where the frame is smooth, in the
    backdrop's colour continued (kept_openings._kept_busy): flagged; the right output not."""
    sc = scene(kind, bg, (450, 600), seed)
    src = np.asarray(sc.image)
    filled = np.maximum(ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32), sc.alpha)
    opening = float(((filled > 0.5) & (sc.alpha <= 0.5)).sum()) / float((filled > 0.5).sum())
    share, box = kept_openings._kept_busy(qa.ShapeCopy(src, filled).coarse())
    assert share > 0.5 * opening and box is not None, (share, opening)
    report = verdict(sc, filled, composite(sc, filled))
    assert "kept_opening" in flagged_by(report), report["flags"]
    assert kept_openings._kept_busy(qa.ShapeCopy(src, sc.alpha).coarse())[0] == 0.0


@pytest.mark.xfail(
    strict=True,
    reason="known gap (round 15): on the colour wheel, an opening kept whole reads bg_inside 0 and "
    "kept_opening 0; the sure background around the product holds the wheel's saturated hues, "
    "the opening its white centre, which neither the colour models nor a smooth continuation "
    "(a normalised Gaussian; a quadratic fit leaves 32-34 dE on the background) predict",
)
@pytest.mark.parametrize("kind,seed", [("frame", 0), ("ring", 0)])
def test_an_opening_kept_over_the_colour_wheel_is_flagged(kind, seed):
    """IS-Net's frame-on-colorwheel-s73 (IoU 0.392) read ok through the pipeline; u2netp's was
    flagged only by bg_inside at 0.044 against its limit 0.02. The deliberately wrong output
    (the true shape, its opening filled) must fail bg_inside or kept_opening; the right one
    neither. This fails today (strict xfail): when it passes, take the marker off."""
    sc = scene(kind, "colorwheel", SIZE, seed)
    filled = np.maximum(ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32), sc.alpha)
    report = verdict(sc, filled, composite(sc, filled))
    assert flagged_by(report) & {"bg_inside", "kept_opening"}, report["flags"]
    right = verdict(sc, sc.alpha, composite(sc, sc.alpha))
    assert not flagged_by(right) & {"bg_inside", "kept_opening"}


@pytest.mark.parametrize(
    "kind,bg",
    [
        ("box", "astronaut"),
        ("box", "coffee"),
        ("box", "chelsea"),
        ("bottle", "astronaut"),
        ("whitelabel", "white"),
        ("padlock", "immunohistochemistry"),
        ("scissors", "retina"),
    ],
)
@pytest.mark.parametrize("size", [(450, 600), (600, 800)])
def test_a_print_on_the_product_over_a_busy_backdrop_is_no_backdrop_seen(kind, bg, size):
    """A box's label, busy with text, over the astronaut or coffee photo: as busy as the
    backdrop, but not its colour continued (35-70 dE off); a white label on white: a plain
    backdrop, left to the continued-colour test. No region of the right output counts."""
    sc = scene(kind, bg, size)
    assert kept_openings._kept_busy(qa.ShapeCopy(np.asarray(sc.image), sc.alpha).coarse()) == (
        0.0,
        None,
    )


@pytest.mark.parametrize("seed", [71, 22])
def test_a_gloss_streak_on_a_printed_page_is_no_backdrop_seen(seed):
    """held-out-4's padlock on a printed page (IoU 0.99): its gloss streak's soft ramps make
    as many of Canny's lines as the page's blurred print, in the page's light grey
    (kept_opening 0.08, 0.10-0.12 here). None of them is a sharp step (highlights.sharpness):
    a ramp, no texture. Joined to a padlock's shackle opening kept (on the camera photo) it
    would move kept_opening's box off the opening."""
    for size in [(600, 800), (900, 1200)]:
        sc = scene("padlock", "page", size, seed)
        shape = qa.ShapeCopy(np.asarray(sc.image), sc.alpha)
        assert kept_openings._kept_busy(shape.coarse()) == (0.0, None)


@pytest.mark.parametrize(
    "kind,bg,seed,flag",
    [("box", "astronaut", 0, "foreign_part"), ("frame", "hubble_deep_field", 42, "kept_opening")],
)
def test_the_wrong_outputs_halo_alone_flagged_stay_flagged_by_their_fault(kind, bg, seed, flag):
    """At 450x600 two wrong outputs were flagged by halo alone, from their rims (the narrowed
    halo reads 0.0015 and 0.0011): the astronaut's head kept over the box (IoU 0.86; its hair
    too patchy for a thick busy piece on the 532 px copy: foreign_part 0, 0.13 on the half
    copy, as at 900x1200) and the frame's opening kept full of stars (IoU 0.34: kept_opening
    0 by the colour models, 0.66 by the backdrop's texture). Each is flagged by its fault.
    imaging.parted now takes the head off the box (IoU 0.99): the wrong output is the one
    without it."""
    out, value = white_output(kind, bg, seed, (450, 600), parted=False)
    assert value < 0.95
    assert flag in flagged_by(out.qa), out.qa["flags"]


@pytest.mark.parametrize("bg", ["coins", "camera", "gravel"])
def test_a_kept_opening_with_something_behind_it_fails_kept_opening(bg):
    """held-out-2's padlock on coins and held-out-3's on a camera photo read ok with the
    shackle's opening kept whole (IoU 0.85, 0.88): a coin, a hand and a camera seen through
    it, which the background's model explains only half (bg_inside 0 here too). The figure
    says where to look: its box lies on the opening."""
    sc = scene("padlock", bg, SIZE)
    filled = np.maximum(ndimage.binary_fill_holes(sc.alpha > 0.5).astype(np.float32), sc.alpha)
    report = verdict(sc, filled, composite(sc, filled))
    assert "kept_opening" in flagged_by(report), report
    _, box = qa.kept_opening(np.asarray(sc.image), filled)
    ys, xs = np.nonzero((filled > 0.5) & (sc.alpha <= 0.5))  # the opening
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert xs.min() <= cx <= xs.max() and ys.min() <= cy <= ys.max(), (box, xs.min(), ys.min())
    src = np.asarray(sc.image)
    moved = qa.kept_opening_figures(src, filled, (100, 40))  # the region at (100, 40) on a canvas
    assert moved["kept_opening_box"] == [box[0] + 100, box[1] + 40, box[2] + 100, box[3] + 40]
    assert "kept_opening_box" not in qa.kept_opening_figures(src, sc.alpha, (100, 40))


@pytest.mark.parametrize("bg", ["camera", "rocket", "moon"])
def test_an_opening_cleared_in_part_fails_kept_opening(bg):
    """held-out-3's padlock on a camera photo read ok with 9% of its shackle's opening kept
    (lobes of a grey face and a camera at its top, under 1% of the product each: the figure
    counted only openings kept whole, and the colour models take those greys for the
    padlock's). The top fifth of the opening kept as product is flagged, its box on that part;
    the right output is not."""
    sc = scene("padlock", bg, SIZE)
    src = np.asarray(sc.image)
    hole = ndimage.binary_fill_holes(sc.alpha > 0.5) & (sc.alpha <= 0.5)
    ys = np.nonzero(hole)[0]
    top = hole & (np.arange(hole.shape[0])[:, None] < ys.min() + 0.2 * (ys.max() - ys.min()))
    wrong = np.maximum(sc.alpha, top.astype(np.float32))
    report = verdict(sc, wrong, composite(sc, wrong))
    assert "kept_opening" in flagged_by(report), report
    _, box = qa.kept_opening(src, wrong)
    tys, txs = np.nonzero(top)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert txs.min() <= cx <= txs.max() and tys.min() <= cy <= tys.max() + 2, (box, tys.max())
    assert qa.kept_opening(src, sc.alpha) == (0.0, None)


@pytest.mark.parametrize(
    "kind,bg",
    [("ring", "gravel"), ("box", "green"), ("bluemug", "greygrad"), ("padlock", "gravel")],
)
def test_a_grown_edge_fails_halo(kind, bg):
    """The mask 4 px too big all round: a rim of the old background survives (a grey padlock's
    on gravel too, whose rim is a blend of greys: most of the pixel is old background)."""
    sc = scene(kind, bg, SIZE)
    grown = ndimage.binary_dilation(sc.alpha > 0.5, iterations=4).astype(np.float32)
    report = verdict(sc, grown, composite(sc, grown))
    assert "halo" in flagged_by(report), report


@pytest.mark.parametrize("kind,bg", [("padlock", "gravel"), ("padlock", "grass")])
def test_an_edge_a_fraction_of_a_pixel_out_is_no_halo(kind, bg):
    """A right output whose edge pixels are a third of a pixel more opaque than the truth, in
    the photo's colours (tune-4's padlocks on gravel and grass, IoU 0.985 and 0.975, read halo
    0.075 and 0.087): the rim is a blend of the product and the new background, no colour the
    old background tints it with, and no pixel is mostly old background. Halo read 0.047 and
    0.062 here before; now 0.016 and 0.022, where the same padlock grown by 3 px reads 0.20."""
    sc = scene(kind, bg, SIZE)
    a = sc.alpha
    wide = np.clip(np.where((a > 0.0) & (a < 1.0), a + 0.3, a), 0.0, 1.0).astype(np.float32)
    report = verdict(sc, wide, composite(sc, wide))
    assert "halo" not in flagged_by(report) and report["halo"] < 0.025, report


@pytest.mark.parametrize("kind,bg", [("ring", "gravel"), ("box", "green"), ("bluemug", "greygrad")])
def test_shifted_colours_fail_de(kind, bg):
    sc = scene(kind, bg, SIZE)
    out = composite(sc, sc.alpha, hue_shift(sc.product, 10))
    report = verdict(sc, sc.alpha, out)
    assert "dE" in flagged_by(report), report["flags"]


@pytest.mark.parametrize("kind,bg", [("ring", "gravel"), ("box", "green"), ("bluemug", "gravel")])
def test_an_undecontaminated_soft_edge_fails_halo(kind, bg):
    """A soft edge ~6 px wide with the photo's own edge colours: the old background shows."""
    sc = scene(kind, bg, SIZE)
    blurred = ndimage.gaussian_filter((sc.alpha > 0.5).astype(np.float32), 2.5)
    soft = np.clip(blurred * 1.3 - 0.15, 0.0, 1.0)
    report = verdict(sc, soft, composite(sc, soft))
    assert "halo" in flagged_by(report), report


def test_something_else_that_fills_the_photo_fails_border():
    """held-out-2's scissors on a retina photo: the model took the retina's disc (IoU 0.07),
    cleanly, with no halo and no doubt; the disc runs into the photo's left and right edges."""
    sc = scene("scissors", "retina", SIZE, 28)
    disc = (np.asarray(sc.background, np.float32).max(axis=2) > 40).astype(np.float32)
    disc = np.maximum(disc, sc.alpha)
    report = verdict(sc, disc, composite(sc, disc))
    assert "border" in flagged_by(report) and report["border"] > 0.2, report


def test_a_product_cut_by_the_frame_fails_border():
    """The right cut of a product whose lower third is outside the photo."""
    sc = scene("bluemug", "greygrad", SIZE)
    shifted = np.zeros_like(sc.alpha)
    shifted[250:] = sc.alpha[:-250]
    report = verdict(sc, shifted, composite(sc, shifted))
    assert "border" in flagged_by(report), report


def test_a_part_left_out_fails_lost_part():
    """A chair filling the frame, its back's posts cut by the top, output without them (the
    close-up bench's chair-on-beige@0.7: IoU 0.84)."""
    sc = scene("chair", "beige", SIZE, 0, 0.7)
    seat = np.flatnonzero((sc.alpha > 0.5).mean(axis=1) > 0.3)[0]  # the seat's rows span it
    lost = sc.alpha.copy()
    lost[:seat] = 0.0
    report = verdict(sc, lost, composite(sc, lost))
    assert "lost_part" in flagged_by(report) and report["lost_part"] > 0.1, report


@pytest.mark.parametrize("bg", ["wood", "stripes", "beige"])
def test_faint_remains_apart_from_the_product_fail_faint(bg):
    """A chair that lost a leg among a backdrop's slats, the slats under its seat kept at
    alpha 0.1-0.4 (held-out-10's chair on a bamboo mat read ok so: IoU 0.86, faint 0.16).
    Every other figure passes it; the composite shows grey streaks on the white."""
    sc = scene("chair", bg, SIZE)
    alpha = sc.alpha.copy()
    solid = alpha > 0.5
    seat = np.flatnonzero(solid.mean(axis=1) > 0.3)[-1]  # the seat's last row
    cols = np.flatnonzero(solid[seat + 20 :].any(axis=0))
    left = cols[cols < cols.mean()]
    alpha[seat + 1 :, left.min() - 2 : left.max() + 3] = 0.0  # the left leg lost
    span = slice(cols.min() + 25, cols.max() - 25)
    streaks = np.zeros_like(alpha)
    streaks[seat + 10 : seat + 200, span] = 0.1 + 0.3 * (np.arange(span.stop - span.start) % 14 < 4)
    faint = np.maximum(alpha, streaks).astype(np.float32)
    report = verdict(sc, faint, composite(sc, faint))
    assert "faint" in flagged_by(report) and report["faint"] > 0.1, report


@pytest.mark.parametrize("sigma", [1.0, 2.5])
def test_a_soft_edge_that_hugs_the_product_is_no_faint_remains(sigma):
    """The right cut with its edge blurred (sigma 1 and 2.5 px: a soft, wide but honest edge;
    at 2.5 alpha 0.05 lies 4 px out, where the figure starts to count): the soft alpha lies at
    the outline, hardly any apart from it (a ring's hole at 2.5: 0.014)."""
    for kind, bg in (("chair", "wood"), ("ring", "gravel"), ("bag", "beige")):
        sc = scene(kind, bg, SIZE)
        soft = ndimage.gaussian_filter(sc.alpha, sigma).astype(np.float32)
        assert qa.faint(soft) < 0.02, (kind, bg, qa.faint(soft))
        report = verdict(sc, soft, composite(sc, soft))
        assert "faint" not in flagged_by(report), report


@pytest.mark.parametrize("bg", ["shelf", "green", "coffee"])
def test_a_label_cut_out_as_an_opening_fails_cut_panel(bg):
    """The box's off-white label cut out (held-out-6's box on a shelf read ok with it cut)."""
    sc = scene("box", bg, SIZE)
    ys, xs = np.nonzero((sc.product.min(axis=2) > 225) & (sc.alpha >= 1.0))
    cut = sc.alpha.copy()
    cut[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = 0.0
    report = verdict(sc, cut, composite(sc, cut))
    assert "cut_panel" in flagged_by(report) and report["cut_panel"] > 0.1, report


@pytest.mark.parametrize(
    "kind,bg,seed",
    [("padlock", "immunohistochemistry", 22), ("padlock", "slate", 24), ("ring", "green", 0)],
)
def test_a_highlight_cut_out_fails_soft_holes(kind, bg, seed):
    """held-out-2's padlock on a light micrograph: its gloss stripe (white fading smoothly into
    the grey body) was cut out as if it were an opening (IoU 0.83). The cut's rim lies where
    the photo has no edge. The same on a plain backdrop, and for a ring's gloss (the ring's
    true hole, a crisp edge, does not count)."""
    sc = scene(kind, bg, SIZE, seed)
    grey = np.asarray(sc.product, np.float32).mean(axis=2)
    body = ndimage.binary_erosion(sc.alpha >= 1.0, iterations=6)
    gloss = body & (grey > np.percentile(grey[body], 90) + 10)
    assert gloss.sum() > 0.01 * body.sum()  # the scene has a highlight to cut out
    cut = np.where(gloss, 0.0, sc.alpha).astype(np.float32)
    report = verdict(sc, cut, composite(sc, cut))
    assert "soft_holes" in flagged_by(report), report


def test_no_ok_over_an_output_under_095_iou_on_the_ground_truth_sets():
    """Every scene of the project's set, the issue's and tune-3 (white mode, real model,
    default preset): an output whose IoU with the truth is under 0.95 never reads `ok`."""
    mode = WhiteMode()
    mode.warm(SETTINGS)
    wrong_ok, low = [], 0
    for kind, bg, seed, _ in project_cases() + ISSUE_CASES + EXTENSION + TUNE_3:
        sc = scene(kind, bg, (450, 600), seed)
        preset = {"canvas": [600, 600], "fill": 0.85, "model": "u2netp"}
        out = mode.process(LoadedImage(sc.image, "PNG"), ModeContext("b", "0", preset, SETTINGS))
        truth = truth_on_canvas(out, sc.alpha)
        value = iou(np.asarray(out.mask, np.float32) / 255.0, truth, truth_outside(out, sc.alpha))
        if value < 0.95:
            low += 1
            if not out.qa["flags"]:
                wrong_ok.append((sc.name, round(value, 3)))
    # the set has hard cases (the busy photos): the check is not vacuous (white-11: 8 under
    # 0.95; white-12: 7, parted and inner_look cutting the bag and the bottle on coffee right)
    assert low >= 6
    assert wrong_ok == []


def white_output(kind, bg, seed, size=(900, 1200), **steps):
    """(white mode's output at the bench's size and canvas, its IoU with the truth). steps:
    preset keys that turn steps off (the wrong output a step now avoids, for its figure)."""
    sc = scene(kind, bg, size, seed)
    preset = {"canvas": [size[1], size[1]], "fill": 0.85, "model": "u2netp", **steps}
    out = WhiteMode().process(LoadedImage(sc.image, "PNG"), ModeContext("b", "0", preset, SETTINGS))
    truth, lost = truth_on_canvas(out, sc.alpha), truth_outside(out, sc.alpha)
    return out, iou(np.asarray(out.mask, np.float32) / 255.0, truth, lost)


def test_a_patch_of_the_backdrop_left_soft_beside_the_product_fails_uncertainty():
    """A light patch of the moon kept beside a grey bottle's neck (the model's map was sure of
    it: 0.08; its edge in the finished alpha is not: 0.11). The photo is sharp at the bottle's
    edges, so only the undecided alpha can tell: over the box (uncertainty) and as a thick
    doubtful piece jutting out of the bottle at a seam (foreign_part, 0.028). imaging.glued
    now clears that piece (IoU 0.99, read ok): the wrong output is the one without it."""
    out, value = white_output("greybottle", "moon", 13, glued=False)
    assert value < 0.95
    # and the patch's soft part apart from the neck, a smudge on the white (faint 0.064)
    assert flagged_by(out.qa) == {"uncertainty", "foreign_part", "faint"}, out.qa["flags"]
    out, value = white_output("greybottle", "moon", 13)
    # right, and nothing but the moon's crater left faint beside the neck (faint 0.05, at the
    # limit: a light smudge on the white) may be flagged
    assert value >= 0.98 and flagged_by(out.qa) <= {"faint"}, (value, out.qa["flags"])
    assert out.qa["uncertainty"] <= 0.09 and out.qa["foreign_part"] <= 0.02


@pytest.mark.parametrize("size", [(450, 600), (900, 1200)])
def test_the_model_s_doubt_the_steps_settled_is_no_uncertainty(size):
    """A frame on grass: the model's map was unsure (0.34 of the box); the openings and the
    refinement settled it (0.07 left), and the output is right: no uncertainty flag."""
    out, value = white_output("frame", "grass", 7, size)
    assert value >= 0.95
    assert out.qa["uncertainty"] < 0.08, out.qa["flags"]
    # the one flag left: faint (0.06-0.07), the grass blades kept soft outside the frame's sides,
    # which the composite shows as dark hairs on the white
    assert flagged_by(out.qa) <= {"faint"}, out.qa["flags"]


@pytest.mark.parametrize("size", [(450, 600), (900, 1200)])
def test_a_chair_on_a_clock_face_left_undecided_stays_flagged(size):
    """The chair's legs on the clock's face: 0.09 of the box undecided in the finished alpha
    (IoU 0.92 at 450x600, 0.95 at 900x1200): uncertainty flags it at both sizes."""
    out, _ = white_output("chair", "clock", 62, size)
    assert "uncertainty" in flagged_by(out.qa), out.qa["flags"]


def test_a_dark_shape_taken_from_black_keeps_its_halo():
    """held-out-5's scissors on the Shepp-Logan phantom: the model took the phantom's dark ellipse
    off the black ground (IoU 0.11), cleanly; halo is the only figure that reads it (0.06),
    from rim pixels darker than the dark product, toward the black: no blend of the product
    with white is that dark, so they stay haloed (0.049) where blends along the segment from
    the product to white, an edge a fraction of a pixel off, no longer count."""
    out, value = white_output("scissors", "shepp_logan_phantom", 95)
    assert value < 0.95
    assert "halo" in flagged_by(out.qa), out.qa["flags"]
