"""Whole-region loops over (h,w,3) uint8 images, one pass where numpy needs several
region-sized temporaries: QA's comparisons (changed pixels, exact white) and compositing's
copies and edge blend; and the float32 CIELAB neighbour pairs (edge_pairs, neighbour_steps)."""

from __future__ import annotations

import numba
import numpy as np

from ..compiled import readonly
from .floats import F32


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
    how many of them are exactly white (255, 255, 255). Row by row over the box's slices
    (indexed from 0: the sums vectorise)."""
    l, t, r, b = box
    inside = white = 0
    has_shadow = shadow.shape[0] > 0
    for y in range(t, b):
        px, m = image[y, l:r], mask[y, l:r]
        n = r - l
        row_in = row_white = 0
        if has_shadow:
            sh = shadow[y, l:r]
            for x in range(n):
                bg = np.int64((m[x] == 0) & (not sh[x]))
                row_in += bg
                row_white += bg & np.int64((px[x, 0] & px[x, 1] & px[x, 2]) == 255)
        else:
            for x in range(n):
                bg = np.int64(m[x] == 0)
                row_in += bg
                row_white += bg & np.int64((px[x, 0] & px[x, 1] & px[x, 2]) == 255)
        inside += row_in
        white += row_white
    return inside, white


@numba.njit(cache=True, nogil=True)
def uncertain_count(p, step):  # pragma: no cover - compiled
    """qa.uncertainty's counts on p[::step, ::step] (a float32 map), without the copies: (pixels
    with 0.1 < v < 0.9 inside the box of those with v > 0.5, the box's size); (-1, 0) where
    no pixel is over 0.5. float32 thresholds, as numpy compares them."""
    h, w = (p.shape[0] + step - 1) // step, (p.shape[1] + step - 1) // step
    half, low, high = F32(0.5), F32(0.1), F32(0.9)
    top, bottom, left, right = h, -1, w, -1
    for y in range(h):
        row = p[y * step]
        first = -1
        for x in range(w):  # the row's first pixel over 0.5, then its last
            if row[x * step] > half:
                first = x
                break
        if first < 0:
            continue
        last = first
        for x in range(w - 1, first, -1):
            if row[x * step] > half:
                last = x
                break
        top = min(top, y)
        bottom = y
        left = min(left, first)
        right = max(right, last)
    if bottom < 0:
        return -1, 0
    count = 0
    for y in range(top, bottom + 1):
        row = p[y * step]
        for x in range(left, right + 1):
            v = row[x * step]
            count += (v > low) & (v < high)
    return count, (bottom - top + 1) * (right - left + 1)


@numba.njit(cache=True, nogil=True)
def _pair_sq(a, i, b, j):  # pragma: no cover - compiled
    """The squared CIELAB distance of pixel i of row a and pixel j of row b (float32 rows
    (w, 3)), ((d0 * d0 + d1 * d1) + d2 * d2) in float32 as numpy's einsum sums it."""
    d0 = a[i, 0] - b[j, 0]
    d1 = a[i, 1] - b[j, 1]
    d2 = a[i, 2] - b[j, 2]
    return (d0 * d0 + d1 * d1) + d2 * d2


@numba.njit(cache=True, nogil=True)
def edge_pairs(lab_px, bar, line):  # pragma: no cover - compiled
    """kept_openings.edge_pixels in one pass: line (h,w bool, all False) set at both pixels of
    each pair of 8-neighbours (right, down, down-right, down-left) whose squared CIELAB
    distance (_pair_sq) is at least bar (float32). Rows as slices indexed from 0 (no
    negative-index checks)."""
    h, w = line.shape
    for y in range(h):
        here, mark = lab_px[y], line[y]
        for x in range(w - 1):  # right
            if _pair_sq(here, x, here, x + 1) >= bar:
                mark[x] = True
                mark[x + 1] = True
        if y + 1 >= h:
            continue
        below, under = lab_px[y + 1], line[y + 1]
        for x in range(w):  # down
            if _pair_sq(here, x, below, x) >= bar:
                mark[x] = True
                under[x] = True
        for x in range(w - 1):  # down-right, and down-left from x + 1
            if _pair_sq(here, x, below, x + 1) >= bar:
                mark[x] = True
                under[x + 1] = True
            if _pair_sq(here, x + 1, below, x) >= bar:
                mark[x + 1] = True
                under[x] = True


@numba.njit(cache=True, nogil=True)
def neighbour_steps(lab_px, out):  # pragma: no cover - compiled
    """highlights.steps in one pass: out (h,w float32, all 0) = each pixel's largest float32
    CIELAB distance to one of its 8 neighbours, the root of edge_pairs' sums (_pair_sq), over
    the same four pairs (right, down, down-right, down-left)."""
    h, w, _ = lab_px.shape
    for y in range(h):
        here, mark = lab_px[y], out[y]
        for x in range(w - 1):  # right
            far = np.sqrt(_pair_sq(here, x, here, x + 1))
            mark[x] = max(mark[x], far)
            mark[x + 1] = max(mark[x + 1], far)
        if y == h - 1:
            continue
        below, under = lab_px[y + 1], out[y + 1]
        for x in range(w):  # down, down-right, down-left
            far = np.sqrt(_pair_sq(here, x, below, x))
            mark[x] = max(mark[x], far)
            under[x] = max(under[x], far)
            if x < w - 1:
                far = np.sqrt(_pair_sq(here, x, below, x + 1))
                mark[x] = max(mark[x], far)
                under[x + 1] = max(under[x + 1], far)
            if x > 0:
                far = np.sqrt(_pair_sq(here, x, below, x - 1))
                mark[x] = max(mark[x], far)
                under[x - 1] = max(under[x - 1], far)


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
    uncertain_count(alpha, 1)
    edge_pairs(np.zeros((2, 2, 3), np.float32), F32(1.0), np.zeros((2, 2), bool))
    neighbour_steps(np.zeros((2, 2, 3), np.float32), np.zeros((2, 2), np.float32))
