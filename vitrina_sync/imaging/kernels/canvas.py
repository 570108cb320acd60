"""Whole-region loops over (h,w,3) uint8 images, one pass where numpy needs several
region-sized temporaries: QA's comparisons (changed pixels, exact white) and compositing's
copies and edge blend."""

from __future__ import annotations

import numba
import numpy as np

from ..compiled import readonly


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


@numba.njit(cache=True, nogil=True)
def blend_edge(canvas, top, left, alpha, ys, xs, colours):  # pragma: no cover - compiled
    """compose.composite's edge pixels: colour * a + canvas * (1 - a), + 0.5, clipped to
    0..255 and truncated to 8 bits, at (ys + top, xs + left) of the canvas; numpy's float32
    operations, so the same bytes."""
    one, half, top_level = np.float32(1.0), np.float32(0.5), np.float32(255.0)
    for j in range(ys.shape[0]):
        a = alpha[ys[j], xs[j]]
        y, x = ys[j] + top, xs[j] + left
        for c in range(3):
            v = colours[j, c] * a + np.float32(canvas[y, x, c]) * (one - a)
            canvas[y, x, c] = np.uint8(min(max(v + half, np.float32(0.0)), top_level))


@numba.njit(cache=True, nogil=True)
def copy_opaque(out, source, alpha):  # pragma: no cover - compiled
    """out[alpha >= 1] = source[alpha >= 1] for (h,w,3) uint8 images, no mask built."""
    h, w = alpha.shape
    for y in range(h):
        for x in range(w):
            if alpha[y, x] >= 1.0:
                out[y, x, 0] = source[y, x, 0]
                out[y, x, 1] = source[y, x, 1]
                out[y, x, 2] = source[y, x, 2]


def warm() -> None:
    """The layouts the modes pass: the region's own arrays ("C", read-only from Pillow) against
    views of the canvas ("A")."""
    canvas = np.zeros((4, 6, 3), np.uint8)
    view, packed = canvas[1:3, 1:3], np.zeros((2, 2, 3), np.uint8)
    where, region = np.ones((2, 2), bool), readonly(packed)
    any_changed(packed, view, where)
    any_changed(region, view, where)
    copy_where(view, packed, where)
    count_white(canvas, np.zeros((4, 6), np.uint8), np.zeros((0, 0), bool), (1, 1, 3, 3))
    alpha, table = np.full((2, 2), 0.5, np.float32), np.zeros(1, np.int64)
    blend_edge(canvas, 1, 1, alpha, table, table, np.zeros((1, 3), np.float32))
    copy_opaque(view, region, alpha)
