"""QA's `lost_part`: a part of the product the photo clearly shows, left out of the output (a
chair's back posts, cut by the frame's top, dropped with the beige backdrop)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from synthetic import scene

from vitrina_sync.imaging import qa

LIMIT = qa.DEFAULTS["lost_part_max"]


def close_up(bg: str):
    """The chair filling the frame, its back's posts cut by the top (bench_closeups' @0.7)."""
    return scene("chair", bg, (600, 800), 0, 0.7)


def without_back(alpha: np.ndarray) -> np.ndarray:
    """The chair's alpha with everything above its seat cleared: the back's posts lost."""
    wide = np.flatnonzero((alpha > 0.5).mean(axis=1) > 0.3)  # the seat's rows span it
    lost = alpha.copy()
    lost[: wide[0]] = 0.0
    return lost


def lost_part(sc, alpha, image=None) -> float:
    src = np.asarray(sc.image if image is None else image)
    return qa.lost_part(src, np.ascontiguousarray(alpha, np.float32))


@pytest.mark.parametrize("bg", ["beige", "light", "gravel", "grass"])
def test_right_output_passes(bg):
    sc = close_up(bg)
    assert lost_part(sc, sc.alpha) <= LIMIT / 5


def test_lost_back_posts_are_flagged():
    sc = close_up("beige")
    share = lost_part(sc, without_back(sc.alpha))
    assert share > 4 * LIMIT
    figures = {"lost_part": share}
    assert any(f.startswith("lost part ") for f in qa.flags(figures, qa.DEFAULTS, None))


@pytest.mark.parametrize("kind,spread", [("chair", 0.12), ("greybottle", 0.03)])
def test_contact_shadow_is_not_a_lost_part(kind, spread):
    """A dark shadow where the product stands (the backdrop dimmed to 30%), outside the
    product: on the grey bottle (dark grey, like the shadow) it reads 0.004-0.007 of the
    product's area as a lost part unless the backdrop's shade is told apart."""
    sc = scene(kind, "beige", (600, 800))
    h, w = sc.alpha.shape
    rows = np.flatnonzero((sc.alpha > 0.5).any(axis=1))
    cols = np.flatnonzero((sc.alpha > 0.5).any(axis=0))
    cx, half = (cols.min() + cols.max()) / 2, (cols.max() - cols.min()) / 2
    y, x = np.mgrid[0:h, 0:w]
    blob = np.exp(-(((x - cx) / (1.1 * half)) ** 2) - ((y - rows.max()) / (spread * h)) ** 2)
    dimmed = sc.background * (1.0 - 0.7 * blob)[..., None]
    a = sc.alpha[..., None]
    image = np.clip(sc.product * a + dimmed * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    assert lost_part(sc, sc.alpha, Image.fromarray(image)) <= LIMIT / 5
