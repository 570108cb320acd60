"""Faint ends: background the steps after the model leave glued at an extreme of the product,
half believed by the model (a coin's rim under a padlock once the coin's face is cleared as an
opening, a brick's mortar line along a side), which stretches the product's box and so its
aspect although the IoU hardly moves (issue 16: aspect drift, bench/bench_masks.py).

A part stands on its own where it lies past REACH px of the sure body (p >= BODY, specks
opened away). Such a loose part is cleared only where it pushes the outline's box out past the
body's and the model's p stayed low all through it (90th percentile under FAINT). A strap, a
chair's leg or a scissors' point is as loose and as thin, but the model believed it: on the
ground-truth sets their p90 is 0.76 and more, the glued remains' 0.64 and less.
"""

from __future__ import annotations

import numpy as np

BODY = 0.9  # the least work-map p of the product's sure body
SPECK = 1  # px: sure pixels under 2 * SPECK + 1 wide are no body
REACH = 3  # work px: the body's soft rim, past which a part stands on its own
FAINT = 0.7  # a loose part whose p's 90th percentile is under this is background's remains


def _opened(mask: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, disc).astype(bool)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def faint_ends(p: np.ndarray, keep=None) -> np.ndarray:
    """Pixels of the work map's product (p > 0.5) to clear: the faint loose parts that reach
    past the body's box (see the module), with their faint joint to the body (within REACH + 1
    px of them, p under FAINT, not body). keep: a reviewer's keep mask, never cleared."""
    import cv2

    product = p > 0.5
    body = _opened(p >= BODY, SPECK)
    none = np.zeros(p.shape, bool)
    if not body.any():
        return none
    left, top, right, bottom = _box(body)
    past = product.copy()
    past[max(top - REACH, 0) : bottom + REACH, max(left - REACH, 0) : right + REACH] = False
    if not past.any():  # the outline within the body's box: the common case, fast
        return none
    away = cv2.distanceTransform((~body).astype(np.uint8), cv2.DIST_L2, 3)
    loose = product & (away > REACH)
    count, labels = cv2.connectedComponents(loose.astype(np.uint8), connectivity=8)
    faint = np.zeros(count, bool)
    for i in np.unique(labels[past & loose]):
        if i and np.percentile(p[labels == i], 90) < FAINT:
            faint[i] = True
    clear = faint[labels]
    if not clear.any():
        return none
    joint = cv2.dilate(clear.astype(np.uint8), np.ones((2 * REACH + 3,) * 2, np.uint8))
    clear |= joint.astype(bool) & product & ~body & (p < FAINT)
    if keep is not None:
        clear &= ~keep
    return clear


def without_faint_ends(p: np.ndarray, keep=None) -> np.ndarray:
    """p with faint_ends cleared (a copy where any is; p itself where none)."""
    clear = faint_ends(p, keep)
    if not clear.any():
        return p
    p = p.copy()
    p[clear] = 0.0
    return p
