"""A product filling the frame (imaging.reframe): a doubtful first map gets a second prediction
on the photo zoomed out; an ordinary photo is never looked at twice. Real u2netp on ground-truth
close-ups (synthetic.scene's `zoom`), no stubs of the model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from synthetic import iou, scene

from vitrina_sync.imaging import compose, cutout, reframe
from vitrina_sync.modes.base import LoadedImage, ModeContext

SETTINGS = {"default_model": "u2netp"}
SIZE = (600, 800)


def output_iou(mode, sc, **preset) -> float:
    params = {"canvas": [800, 800], "fill": 0.85, "model": "u2netp", **preset}
    out = mode.process(
        LoadedImage(sc.image, "PNG"), ModeContext("SKU-1", "f" * 12, params, SETTINGS)
    )
    g = out.extra["geometry"]
    region = compose.Region(tuple(g["region"]), tuple(g["region_source"]))
    truth = np.zeros((out.mask.height, out.mask.width), np.float32)
    l, t, r, b = region.canvas
    true = Image.fromarray((sc.alpha * 255 + 0.5).astype(np.uint8), "L")
    truth[t:b, l:r] = np.asarray(compose.resample_region(true, region), np.float32) / 255.0
    return iou(np.asarray(out.mask, np.float32) / 255.0, truth)


@pytest.mark.parametrize("zoom", [0.6, 0.7])
def test_a_ring_filling_the_frame_is_cut_out_not_the_grass_it_encloses(white, zoom):
    """A gold ring whose band reaches the photo's sides: u2netp outlines the grass disk inside
    it (at 0.6 confidently, at 0.7 undecided); zoomed out it outlines the ring, and the openings
    step clears the disk."""
    sc = scene("ring", "grass", SIZE, 0, zoom)
    without, with_ = output_iou(white, sc, reframe=False), output_iou(white, sc)
    assert without < 0.5 and with_ >= 0.95, (without, with_)


def test_a_zoomed_scene_is_the_central_share_enlarged_and_zoom_1_is_the_photo_as_drawn():
    plain, same = scene("box", "light", SIZE), scene("box", "light", SIZE, 0, 1.0)
    assert plain.name == same.name and plain.image.tobytes() == same.image.tobytes()
    close = scene("box", "light", SIZE, 0, 0.5)
    assert close.name == "box-on-light@0.5"
    width = lambda a: np.flatnonzero((a > 0.5).any(axis=0))
    assert abs(np.ptp(width(close.alpha)) - 2 * np.ptp(width(plain.alpha))) <= 4


@pytest.mark.parametrize(
    "kind,bg", [("ring", "grass"), ("box", "light"), ("chair", "grass"), ("mug", "white")]
)
def test_an_ordinary_photo_is_not_looked_at_twice(monkeypatch, kind, bg):
    """Products inside the frame (the project's and the issue's scenes): the first map is not
    doubtful, so the model runs once and the map is returned as it is."""
    sc = scene(kind, bg, SIZE)
    work, p = cutout.predict_work(sc.image, "u2netp", SETTINGS, 640)
    assert not reframe.doubtful(np.asarray(work), p)

    def no_second_prediction(*args, **kwargs):
        raise AssertionError("the model ran again on an ordinary photo")

    monkeypatch.setattr(reframe, "look_wider", no_second_prediction)
    assert reframe.apply(work, p, "u2netp", SETTINGS, 640) is p


def test_an_outline_ringed_by_one_colour_unlike_the_border_is_doubtful():
    """A grass-like noisy photo with a gold annulus: the map that outlines the disk inside the
    annulus is ringed by gold (doubtful); the map of the annulus with its disk is ringed by the
    noise that reaches the border (not doubtful)."""
    rng = np.random.default_rng(3)
    h, w = 320, 240
    rgb = rng.integers(60, 200, (h, w, 1), dtype=np.uint8).repeat(3, axis=2)
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    band = (r >= 40) & (r < 100)
    rgb[band] = (212, 170, 60)
    disk = (r < 40).astype(np.float32)
    assert reframe.ringed(rgb, disk)
    assert not reframe.ringed(rgb, (r < 100).astype(np.float32))


def test_the_padded_copy_holds_the_work_copy_in_its_middle_at_the_share():
    work = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 48, 3), np.uint8))
    wide, (px, py) = reframe.padded(work, 0.5)
    assert wide.size == (48 + 2 * px, 64 + 2 * py) and max(wide.size) in (127, 128, 129)
    inner = np.asarray(wide)[py : py + 64, px : px + 48]
    assert np.array_equal(inner, np.asarray(work))
    assert (np.asarray(wide)[0, px : px + 48] == np.asarray(work)[0]).all()  # edges replicated


@pytest.mark.parametrize("bg,zoom", [("beige", 0.8), ("beige", 0.7), ("light", 0.7)])
def test_a_chair_cut_by_the_frame_keeps_its_legs_to_the_edge(white, bg, zoom):
    """A chair whose legs run out of the photo's bottom on a plain backdrop: u2netp sees the
    legs fading out (0.2-0.45 at the edge), and the cut lost their lower part; made product
    where their colour is the chair's (run_outs), and with them the posts and legs of its
    colour the model did not see at all (colour_outs), the chair is whole (900x1200, reframe
    off -> on: IoU 0.735 -> 0.998 on beige at 0.8, 0.598 -> 0.995 at 0.7, 0.847 -> 0.993 on
    light at 0.7)."""
    sc = scene("chair", bg, (900, 1200), 0, zoom)  # at 600x800 the model sees them at 0.8
    without, with_ = output_iou(white, sc, reframe=False), output_iou(white, sc)
    assert without < 0.9 and with_ >= 0.95, (without, with_)


def test_faint_parts_inside_the_frame_are_not_run_outs():
    """A product inside the frame with a faint rim (the model's soft edge): nothing runs out of
    the frame, nothing is made product; the same faint bar reaching the frame's bottom is."""
    h, w = 200, 150
    rgb = np.full((h, w, 3), (230, 220, 200), np.uint8)
    rgb[40:120, 50:100] = (120, 70, 30)  # the product
    rgb[120:200, 60:70] = (120, 70, 30)  # a leg to the bottom edge
    p = np.zeros((h, w), np.float32)
    p[40:120, 50:100] = 1.0
    p[38:122, 48:102] = np.maximum(p[38:122, 48:102], 0.3)  # soft rim
    p[120:200, 60:70] = np.linspace(0.45, 0.2, 80, dtype=np.float32)[:, None]  # faint leg
    grown = reframe.run_outs(rgb, p)
    assert grown[120:200, 60:70].all() and not grown[:, :55].any() and not grown[:, 75:].any()
    p[120:200, 60:70] = 0.0
    assert not reframe.run_outs(rgb, p).any()


def _chair_on_a_sweep(h: int = 240, w: int = 180):
    """A brown chair filling the frame on a beige sweep (a vertical gradient): its seat rail,
    the posts and legs that run out of the frame's top and bottom, and a brown stand apart
    from it inside the frame; the model's map holds only the seat rail."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:] = np.linspace((236, 226, 208), (206, 192, 170), h).astype(np.uint8)[:, None]
    chair = np.zeros((h, w), bool)
    chair[100:116, 30:130] = True  # the seat rail
    chair[:, 40:48] = chair[:, 112:120] = True  # posts and legs, through the frame's top and bottom
    chair[:100, 76:84] = True  # the back's middle post, through the top
    rgb[chair] = (122, 74, 36)
    rgb[150:200, 150:170] = (122, 74, 36)  # something brown inside the frame, apart from it
    p = np.zeros((h, w), np.float32)
    p[100:116, 30:130] = 1.0
    return rgb, p, chair


def test_an_undecided_map_on_a_plain_backdrop_gets_what_runs_out_of_the_frame_in_its_colour():
    """The seat rail alone is outlined: the posts and legs of its colour, joined to it and
    reaching the frame's edge, are made product; the brown stand inside the frame is not, nor is
    anything on a textured background."""
    rgb, p, chair = _chair_on_a_sweep()
    grown = reframe.colour_outs(rgb, p)
    assert grown[chair & (p <= 0.5)].mean() > 0.98 and not grown[~chair].any()
    noisy = rgb.copy()
    rng = np.random.default_rng(0)
    back = ~chair
    noisy[back] = rng.integers(0, 255, (int(back.sum()), 3), dtype=np.uint8)
    assert not reframe.colour_outs(noisy, p).any()


def test_a_first_map_that_outlined_almost_nothing_has_lost_the_product():
    first, wider = np.zeros((100, 100), np.float32), np.zeros((100, 100), np.float32)
    first[50:52, 50:52] = 1.0  # 0.04% of the frame
    wider[10:90, 20:80] = 1.0
    assert reframe.lost(first, wider)
    beside = np.zeros_like(wider)
    beside[:, 60:] = 1.0  # something else beside what the first outlined
    assert not reframe.lost(first, beside)
    first[40:60, 40:60] = 1.0  # a seat's 4%: held, not lost
    assert not reframe.lost(first, wider)


@pytest.mark.parametrize(
    "kind,bg,seed,zoom", [("chair", "beige", 74, 0.75), ("frame", "gravel", 71, 0.6)]
)
def test_close_ups_whose_first_map_lost_the_product(white, kind, bg, seed, zoom):
    """A chair filling the frame on beige, whose first map holds only its seat rail (the posts
    and legs run out of the frame: colour_outs), and a dark frame on gravel whose first map
    outlined almost nothing (the wider framing's map, the frame with the gravel it encloses,
    is taken, and the openings step clears the gravel): 900x1200 IoU 0.001 -> 0.997 and
    0.000 -> 0.963 (bench_masks --set tune-6)."""
    sc = scene(kind, bg, (900, 1200), seed, zoom)
    without, with_ = output_iou(white, sc, reframe=False), output_iou(white, sc)
    assert without < 0.5 and with_ >= 0.95, (without, with_)


@pytest.mark.parametrize("bg", ["grass", "gravel"])
def test_a_frame_whose_inside_the_model_outlines_at_both_framings(white, bg):
    """A dark picture frame filling the photo: u2netp outlines the grass inside it at the first
    framing and at the wider one (`ringed`), the gravel inside it undecided at both and
    outlined from farther out (FARTHER); painted over in the frame's colour, that inside is a
    dark block the model outlines, and the frame is the block less the inside (900x1200: IoU
    0.248 -> 0.989 on grass, 0.032 -> 0.969 on gravel)."""
    sc = scene("frame", bg, (900, 1200), 0, 0.6)
    without, with_ = output_iou(white, sc, reframe=False), output_iou(white, sc)
    assert without < 0.5 and with_ >= 0.95, (without, with_)


def test_a_decided_outline_that_reaches_the_frame_gets_the_rest_of_its_colour(monkeypatch):
    """The model is sure of the seat rail and the back's middle post, which reaches the frame's
    top, and sees nothing of the other posts and legs (no faint run-out): the product is cut by
    the frame, so what runs out of it in the product's colour is made product, without another
    look at the photo; the brown stand inside the frame is not."""
    rgb, p, chair = _chair_on_a_sweep()
    p[:100, 76:84] = 1.0

    def no_second_prediction(*args, **kwargs):
        raise AssertionError("the model ran again on a decided map")

    monkeypatch.setattr(reframe, "look_wider", no_second_prediction)
    out = reframe.apply(Image.fromarray(rgb), p, "u2netp", SETTINGS, 640) > 0.5
    assert out[chair].mean() > 0.98 and not out[~chair].any()
    inside = p.copy()
    inside[:100, 76:84] = 0.0
    inside[60:100, 76:84] = 1.0  # the same post, stopping short of the frame
    assert reframe.apply(Image.fromarray(rgb), inside, "u2netp", SETTINGS, 640) is inside
