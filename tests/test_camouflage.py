"""camouflage.camouflaged: a product's edge hidden in a textured background of its own colour
is told from one against a plain or differently coloured background."""

from __future__ import annotations

import numpy as np

from vitrina_sync.imaging import camouflage, refine


def _scene(product, background, texture: float, seed: int = 0):
    """A disc of `product` colour on `background`, both with Gaussian texture of std `texture`;
    the model's map a soft-edged disc, and the refinement's work band."""
    h, w = 240, 320
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    inside = r < 70
    rgb = np.where(inside[..., None], np.float32(product), np.float32(background))
    rgb = np.clip(rgb + rng.normal(0, texture, rgb.shape), 0, 255).astype(np.uint8)
    p = np.clip((72 - r) / 4, 0, 1).astype(np.float32)
    return rgb, p, refine.edge_band(p, 4)


def test_grey_product_on_grey_grass_is_camouflaged():
    assert camouflage.camouflaged(*_scene((120, 125, 118), (124, 122, 120), 18.0))


def test_plain_or_other_coloured_background_is_not():
    assert not camouflage.camouflaged(*_scene((120, 125, 118), (250, 250, 250), 2.0))
    assert not camouflage.camouflaged(*_scene((200, 40, 40), (40, 160, 60), 18.0))


def test_too_few_sure_pixels_on_a_side_trusts_the_guide():
    rgb, p, _ = _scene((120, 125, 118), (124, 122, 120), 18.0)
    band = np.zeros(p.shape, bool)
    band[10:14, 10:14] = True  # 16 pixels: under 50 of either side
    assert not camouflage.camouflaged(rgb, p, band)
