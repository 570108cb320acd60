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
    if fg.sum() < 50 or bg.sum() < 50:
        return False
    rows, cols = np.flatnonzero(work_band.any(axis=1)), np.flatnonzero(work_band.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    lab = cv2.cvtColor(np.ascontiguousarray(work_rgb[box], np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    fg, bg = fg[box], bg[box]
    step = float(np.linalg.norm(lab[fg].mean(axis=0) - lab[bg].mean(axis=0)))
    mean = cv2.blur(lab, (3, 3))
    local = np.sqrt(np.maximum(cv2.blur(lab * lab, (3, 3)) - mean * mean, 0.0).sum(axis=2))
    texture = float(np.median(local[bg]))
    return texture > 2.0 and step < CAMOUFLAGE * texture
