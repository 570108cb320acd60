"""Camouflaged edges: where the product's edge hides in a textured background of its own colour
(a grey bottle on grey grass), the guided filter would copy the background's texture into the
alpha (a fuzz that grows the product); refine.refine_alpha then keeps the model's own soft edge.
"""

from __future__ import annotations

import numpy as np

CAMOUFLAGE = 2.0  # edge step under this many times the background's fine texture: camouflaged


def camouflaged(work_rgb: np.ndarray, p_work: np.ndarray, work_band: np.ndarray) -> bool:
    """Whether the product's edge hides in a textured background of its own colour (a grey
    bottle on grey grass): the colour step from the sure product to the sure background along
    the edge (CIELAB, means) is smaller than the background's fine texture there (the median
    local 3x3 deviation, also in CIELAB). On a plain background, or one of another colour,
    the guide is trusted."""
    import cv2

    fg = work_band & (p_work > 0.9)
    bg = work_band & (p_work < 0.1)
    if np.count_nonzero(fg) < 50 or np.count_nonzero(bg) < 50:
        return False
    rows, cols = np.flatnonzero(work_band.any(axis=1)), np.flatnonzero(work_band.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    lab = cv2.cvtColor(np.ascontiguousarray(work_rgb[box], np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    # each side's pixels listed once (row-major, as a boolean index lists them) and gathered by
    # take: the same values in the same order, so the same means and median
    at_fg, at_bg = np.flatnonzero(fg[box]), np.flatnonzero(bg[box])
    colours = lab.reshape(-1, 3)
    step = colours.take(at_fg, axis=0).mean(axis=0) - colours.take(at_bg, axis=0).mean(axis=0)
    step = float(np.linalg.norm(step))
    # the local deviation is only read at the sure background's pixels: worked out there alone
    # (the same float32 operations per pixel, so the same values)
    mean = cv2.blur(lab, (3, 3)).reshape(-1, 3).take(at_bg, axis=0)
    square = cv2.blur(lab * lab, (3, 3)).reshape(-1, 3).take(at_bg, axis=0)
    local = np.sqrt(np.maximum(square - mean * mean, 0.0).sum(axis=1))
    texture = float(np.median(local))
    return texture > 2.0 and step < CAMOUFLAGE * texture
