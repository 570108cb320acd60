"""The closer look for a product inside the backdrop's own salient thing (imaging/inner.py), with
the real model on ground-truth scenes at work resolution: the box inside the phantom's ellipse
and the bag on the colour wheel are found on the frame's central crop; plain photos never cost
the model's run, and a close-up whose product fills the frame keeps its first map."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import counted_predictions
from synthetic import iou, scene

from vitrina_sync.imaging import cutout, inner

SIZE = (480, 640)  # the work copy's size of a 900x1200 photo


def _model_p(img, side: int = 640) -> np.ndarray:
    try:
        return cutout.predict_work(img, "u2netp", None, side)[1]
    except Exception as exc:  # noqa: BLE001 - no model installed here
        pytest.skip(f"u2netp not available: {exc}")


@pytest.mark.parametrize(
    "kind, bg", [("box", "shepp_logan_phantom"), ("bag", "colorwheel"), ("bottle", "coffee")]
)
def test_the_product_inside_the_backdrops_salient_thing_is_found(monkeypatch, kind, bg):
    looked = counted_predictions(monkeypatch, inner)
    sc = scene(kind, bg, SIZE)
    p = _model_p(sc.image)
    assert iou(p, sc.alpha) < 0.7  # the model outlined the ellipse / the wheel with it
    assert inner.big(p)
    out = inner.look(np.asarray(sc.image), p, "u2netp")
    assert len(looked) == 1
    assert iou(out, sc.alpha) > 0.95
    l, t, r, b = inner.centred(p.shape, inner.SHARE)
    assert not out[:t].any() and not out[b:].any()
    assert not out[:, :l].any() and not out[:, r:].any()


@pytest.mark.parametrize("bg", ["light", "green", "gravel", "brick", "grass"])
@pytest.mark.parametrize("kind", ["box", "bottle", "mug"])
def test_plain_photos_cost_no_look(monkeypatch, kind, bg):
    looked = counted_predictions(monkeypatch, inner)
    sc = scene(kind, bg, SIZE)
    p = _model_p(sc.image)
    assert not inner.big(p)
    assert inner.look(np.asarray(sc.image), p, "u2netp") is p
    assert not looked


@pytest.mark.parametrize("kind, bg, zoom", [("mug", "light", 0.6), ("bag", "grass", 0.7)])
def test_a_product_filling_the_frame_keeps_its_map(monkeypatch, kind, bg, zoom):
    """Big enough for the look (the outline spans the frame), but of one colour: no run; and
    were the model to run, the crop cuts the product, its outline there touches the crop's
    sides and is not taken."""
    looked = counted_predictions(monkeypatch, inner)
    sc = scene(kind, bg, SIZE, 0, zoom)
    p = _model_p(sc.image)
    rgb = np.asarray(sc.image)
    assert inner.big(p) and not inner.apart(rgb, p)
    assert inner.look(rgb, p, "u2netp") is p
    assert not looked
    box = inner.centred(p.shape, inner.SHARE)
    l, t, r, b = box
    crop = inner._predict(rgb[t:b, l:r], "u2netp") > 0.5
    assert not inner.taken(rgb, p > 0.5, crop, box)


def test_taken_refuses_a_label_of_the_products_colours():
    """A crop outline that is a part of the first outline in its colours is not another
    product: a red panel on a red body (the dropped part in the product's colours)."""
    rgb = np.full((200, 200, 3), 235, np.uint8)
    rgb[10:190, 10:190] = (180, 30, 30)
    rgb[80:120, 80:120] = (175, 35, 28)
    first = np.zeros((200, 200), bool)
    first[10:190, 10:190] = True
    box = inner.centred(first.shape, inner.SHARE)
    l, t, r, b = box
    crop = np.zeros((b - t, r - l), bool)
    crop[80 - t : 120 - t, 80 - l : 120 - l] = True
    assert not inner.taken(rgb, first, crop, box)
    rgb[80:120, 80:120] = (40, 60, 200)  # a blue product inside the red thing: taken
    assert inner.taken(rgb, first, crop, box)


def test_the_look_at_a_1024_px_work_copy_keeps_the_crops_shape(monkeypatch):
    """white.isnet and white.birefnet work at 1024 px: the central crop of that copy (870 px
    long) is predicted at its own size, not reduced to 640 first (a map of another shape than
    the crop raised ValueError in `taken` on bottle-on-coffee, so the row failed)."""
    looked = counted_predictions(monkeypatch, inner)
    sc = scene("bottle", "coffee", (768, 1024))
    p = _model_p(sc.image, 1024)
    assert p.shape == (1024, 768) and inner.big(p)
    out = inner.look(np.asarray(sc.image), p, "u2netp")
    assert len(looked) == 1 and out.shape == p.shape
    assert iou(out, sc.alpha) > 0.95  # the bottle found on the crop, as at 640 px
