"""Whole-region byte loops compiled with numba (cache=True, nogil): one pass each where numpy
needs several region-sized temporaries, with the same integer and boolean results.

Imported lazily through `loops()`: numba is a heavy import (it comes with rembg), and
refine.warm() loads these from numba's cache before the first job, for the array layouts the
modes pass (views of the canvas are "A" layout, the region's own arrays "C").
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def any_changed(source, output, where):  # pragma: no cover - compiled
    """Whether some pixel with `where` set differs between two (h,w,3) uint8 images."""
    h, w = where.shape
    for y in range(h):
        for x in range(w):
            if where[y, x] and (
                source[y, x, 0] != output[y, x, 0]
                or source[y, x, 1] != output[y, x, 1]
                or source[y, x, 2] != output[y, x, 2]
            ):
                return True
    return False


@numba.njit(cache=True, nogil=True)
def copy_where(out, source, where):  # pragma: no cover - compiled
    """out[where] = source[where] for (h,w,3) uint8 images."""
    h, w = where.shape
    for y in range(h):
        for x in range(w):
            if where[y, x]:
                out[y, x, 0] = source[y, x, 0]
                out[y, x, 1] = source[y, x, 1]
                out[y, x, 2] = source[y, x, 2]


@numba.njit(cache=True, nogil=True)
def count_white(image, mask, shadow, box):  # pragma: no cover - compiled
    """Inside box (l, t, r, b): pixels with mask 0 and no shadow (an empty `shadow`: none), and
    how many of them are exactly white (255, 255, 255)."""
    l, t, r, b = box
    inside = white = 0
    has_shadow = shadow.shape[0] > 0
    for y in range(t, b):
        for x in range(l, r):
            if mask[y, x] == 0 and not (has_shadow and shadow[y, x]):
                inside += 1
                if image[y, x, 0] == 255 and image[y, x, 1] == 255 and image[y, x, 2] == 255:
                    white += 1
    return inside, white


def warm() -> None:
    """Load (or compile) each kernel for the layouts the modes pass: the region's own arrays
    ("C" layout) against views of the canvas ("A"); other layouts compile on first use."""
    canvas = np.zeros((4, 6, 3), np.uint8)
    view, packed = canvas[1:3, 1:3], np.zeros((2, 2, 3), np.uint8)
    where = np.ones((2, 2), bool)
    any_changed(packed, view, where)
    copy_where(view, packed, where)
    count_white(canvas, np.zeros((4, 6), np.uint8), np.zeros((0, 0), bool), (1, 1, 3, 3))
