"""Masks by distance transform: dilation/erosion by a few pixels in one capped taxicab transform
(instead of iterated passes), by a disk (openings.grow/shrink) and qa.halo's three masks from
capped column distances (`_reach`), refine.edge_band's seeds, a mask's pixel list, and the
stored mask's 8-bit steps of an alpha."""

from __future__ import annotations

import numba
import numpy as np

from ..compiled import readonly
from .floats import F32


@numba.njit(cache=True, nogil=True)
def taxicab_within(mask, width, erode):  # pragma: no cover - compiled
    """scipy.ndimage.binary_dilation(mask, iterations=width) (erode False) or binary_erosion
    (erode True), default cross structure, border value 0, as one city-block distance transform.

    Iterating the cross `width` times reaches exactly the pixels within taxicab distance
    `width`, so dilation keeps the pixels within `width` of the set and erosion those farther
    than `width` from its complement, where the outside of the image counts as complement
    (border value 0). The two raster passes (up/left, then down/right) give exact taxicab
    distances; they are capped at width + 1, all that the answer needs."""
    h, w = mask.shape
    cap = width + 1
    outside = 0 if erode else cap  # distance of the pixels beyond the border
    d = np.empty((h, w), np.int32)
    for y in range(h):
        for x in range(w):
            if mask[y, x] != erode:  # a seed: in the set (dilation), outside it (erosion)
                d[y, x] = 0
            else:
                up = d[y - 1, x] if y > 0 else outside
                left = d[y, x - 1] if x > 0 else outside
                v = min(up, left) + 1
                d[y, x] = min(cap, v)
    out = np.empty((h, w), np.bool_)
    for y in range(h - 1, -1, -1):
        for x in range(w - 1, -1, -1):
            v = d[y, x]
            if v > 0:
                down = d[y + 1, x] if y < h - 1 else outside
                right = d[y, x + 1] if x < w - 1 else outside
                u = min(down, right) + 1
                if u < v:
                    v = u
                    d[y, x] = v
            out[y, x] = v > width if erode else v <= width
    return out


@numba.njit(cache=True, nogil=True)
def disk_within(mask, r, erode, out):  # pragma: no cover - compiled
    """cv2.dilate(mask, disk) (erode False) or cv2.erode(mask, disk, borderValue=0) (erode
    True) of a 2-D uint8 mask (set: not 0), disk = the pixels with x*x + y*y <= r*r
    (openings._disk), into out (uint8 0/1), for 0 < r < 255: the pixels within the disk's
    reach (`_reach`) of a set pixel, or for erosion those out of reach of an unset one (the
    image's outside counting as unset). O(pixels * (2r + 1)) byte compares, vectorised,
    against the disk's ~3r*r taps per pixel."""
    h, w = mask.shape
    seeds = np.empty((h, w), np.uint8)
    for y in range(h):
        line, seed = mask[y], seeds[y]
        for x in range(w):
            seed[x] = (line[x] == 0) == erode
    half = np.empty(r + 1, np.uint8)  # the disk's half-height dx columns off its centre
    for dx in range(r + 1):
        v = 0
        while (v + 1) * (v + 1) + dx * dx <= r * r:
            v += 1
        half[dx] = v
    _reach(seeds, half, erode, out)
    if erode:
        one = np.uint8(1)
        for y in range(h):
            row = out[y]
            for x in range(w):
                row[x] ^= one


@numba.njit(cache=True, nogil=True)
def _reach(seeds, half, outside, out):  # pragma: no cover - compiled
    """out (uint8 0/1) = the pixels with a seed (seeds: uint8 0/1) dx columns and at most
    half[|dx|] rows off, for |dx| < len(half) (half non-increasing, under 255); outside: the
    image's outside is all seeds. Per column, each pixel's distance to the nearest seed in its
    column, capped; then per row one pass per dx. Every pass runs along the rows, as slices
    indexed from 0 (no negative-index checks), so the loops vectorise."""
    h, w = seeds.shape
    r = half.shape[0] - 1
    cap = np.uint8(half[0] + 1)
    one = np.uint8(1)
    edge = np.uint8(0) if outside else cap
    near = np.empty((h, w), np.uint8)
    border = np.full(w, edge, np.uint8)
    for y in range(h):  # down: the nearest seed above (or here)
        seed, seen = seeds[y], near[y]
        above = near[y - 1] if y > 0 else border
        for x in range(w):
            step = above[x] + one if above[x] < cap else cap
            seen[x] = 0 if seed[x] else step
    for y in range(h - 1, -1, -1):  # up: or below
        seen = near[y]
        below = near[y + 1] if y < h - 1 else border
        for x in range(w):
            step = below[x] + one if below[x] < cap else cap
            seen[x] = min(seen[x], step)
    for y in range(h):
        row, seen = out[y], near[y]
        limit = half[0]
        for x in range(w):
            row[x] = seen[x] <= limit
        for dx in range(1, min(r + 1, w)):
            limit = half[dx]
            n = w - dx
            left, right = row[:n], row[dx:]
            ahead, behind = seen[dx:], seen[:n]
            for x in range(n):  # the seed dx columns right, and left
                left[x] |= ahead[x] <= limit
            for x in range(n):
                right[x] |= behind[x] <= limit
        if outside:
            for x in range(min(r, w)):  # the outside's columns within reach
                row[x] = one
                row[w - 1 - x] = one


@numba.njit(cache=True, nogil=True)
def mask_pixels(mask):  # pragma: no cover - compiled
    """np.nonzero of a 2-D bool mask (C layout): rows and columns in row-major order, int64;
    the count first (a vectorised sum), then one pass that writes them (no divisions)."""
    h, w = mask.shape
    flat = mask.reshape(h * w).view(np.uint8)
    n = 0
    for i in range(h * w):
        n += flat[i]
    ys = np.empty(n, np.int64)
    xs = np.empty(n, np.int64)
    k = 0
    for y in range(h):
        row = flat[y * w : (y + 1) * w]
        for x in range(w):
            if row[x]:
                ys[k] = y
                xs[k] = x
                k += 1
    return ys, xs


@numba.njit(cache=True, nogil=True)
def edge_seeds(p):  # pragma: no cover - compiled
    """refine.edge_band's seeds in one pass: soft pixels (0.02 < p < 0.98) and the hard mask's
    (p > 0.5) edge, its one-pixel cross dilation less its erosion (border value 0: a hard pixel
    on the image's border is an edge pixel). float32 thresholds, as numpy compares them."""
    h, w = p.shape
    out = np.empty((h, w), np.bool_)
    half, low, high = F32(0.5), F32(0.02), F32(0.98)
    for y in range(h):
        for x in range(w):
            v = p[y, x]
            if low < v < high:
                out[y, x] = True
                continue
            hard = v > half
            up = y > 0 and p[y - 1, x] > half
            down = y < h - 1 and p[y + 1, x] > half
            left = x > 0 and p[y, x - 1] > half
            right = x < w - 1 and p[y, x + 1] > half
            grown = hard or up or down or left or right
            inner = hard and up and down and left and right
            out[y, x] = grown and not inner
    return out


@numba.njit(cache=True, nogil=True)
def halo_masks(alpha, width):  # pragma: no cover - compiled
    """qa.halo's three masks of an alpha map (the same pixels as the separate masks, each a
    capped taxicab distance transform), from `_reach` with a diamond (half[dx] = width - |dx|:
    the taxicab ball), once per field: band = within `width` of the hard edge
    (alpha > 0.5) on either side, or partly transparent; inner = erode(alpha >= 0.99, width);
    outer = not dilate(alpha > 0.01, width) (a shrunk set has the image's outside as seeds)."""
    h, w = alpha.shape
    seeds = np.empty((4, h, w), np.uint8)
    for y in range(h):
        a_row = alpha[y]
        s0, s1, s2, s3 = seeds[0, y], seeds[1, y], seeds[2, y], seeds[3, y]
        for x in range(w):
            a = a_row[x]
            s0[x] = a > 0.5
            s1[x] = not a > 0.5
            s2[x] = not a >= 0.99
            s3[x] = a > 0.01
    half = np.empty(width + 1, np.uint8)
    for dx in range(width + 1):
        half[dx] = width - dx
    near = np.empty((4, h, w), np.uint8)
    _reach(seeds[0], half, False, near[0])  # grow(hard)
    _reach(seeds[1], half, True, near[1])  # not shrink(hard)
    _reach(seeds[2], half, True, near[2])  # not shrink(opaque)
    _reach(seeds[3], half, False, near[3])  # grow(visible)
    band = np.empty((h, w), np.bool_)
    inner = np.empty((h, w), np.bool_)
    outer = np.empty((h, w), np.bool_)
    for y in range(h):
        a_row = alpha[y]
        r0, r1, r2, r3 = near[0, y], near[1, y], near[2, y], near[3, y]
        b_row, i_row, o_row = band[y], inner[y], outer[y]
        for x in range(w):
            a = a_row[x]
            b_row[x] = (r0[x] != 0 and r1[x] != 0) or (a > 0.01 and a < 0.99)
            i_row[x] = r2[x] == 0
            o_row[x] = r3[x] == 0
    return band, inner, outer


@numba.njit(cache=True, nogil=True)
def quantise(alpha, levels, out):  # pragma: no cover - compiled
    """The stored mask's steps of a float32 alpha in one pass: levels = np.rint(alpha * 255) as
    uint8 and out = those steps / 255 (float32 arithmetic, as numpy's on float32 arrays)."""
    h, w = alpha.shape
    top = F32(255.0)
    for y in range(h):
        for x in range(w):
            v = np.rint(alpha[y, x] * top)
            levels[y, x] = np.uint8(v)
            out[y, x] = v / top


@numba.njit(cache=True, nogil=True)
def label_sizes(labels, n, out):  # pragma: no cover - compiled
    """np.bincount(labels.ravel(), minlength=n) into out (int32, n), labels int32 (h, w) in
    [0, n): cv2.connectedComponents' parts' pixel counts, without bincount's int64 copy."""
    out[:] = 0
    h, w = labels.shape
    for y in range(h):
        row = labels[y]
        for x in range(w):
            out[row[x]] += 1


@numba.njit(cache=True, nogil=True)
def label_boxes(labels, n, strong, sizes, counts, boxes):  # pragma: no cover - compiled
    """One pass over cv2.connectedComponents' labels (int32 (h, w), in [0, n)): per label its
    pixel count (sizes, int32: np.bincount(labels.ravel(), minlength=n)), its pixels where
    `strong` (bool (h, w)) is set (counts, int64: np.bincount(labels[strong], minlength=n)) and
    its box as (top, bottom, left, right), bottom and right exclusive (boxes, int64 (n, 4):
    scipy's find_objects' slices; (0, 0, 0, 0) for a label with no pixel)."""
    sizes[:] = 0
    counts[:] = 0
    h, w = labels.shape
    for i in range(n):
        boxes[i, 0] = h
        boxes[i, 1] = 0
        boxes[i, 2] = w
        boxes[i, 3] = 0
    for y in range(h):
        row, hard = labels[y], strong[y]
        for x in range(w):
            v = row[x]
            sizes[v] += 1
            if hard[x]:
                counts[v] += 1
            boxes[v, 0] = min(boxes[v, 0], y)
            boxes[v, 1] = y + 1
            boxes[v, 2] = min(boxes[v, 2], x)
            if x >= boxes[v, 3]:
                boxes[v, 3] = x + 1
    for i in range(n):
        if sizes[i] == 0:
            boxes[i, 0] = boxes[i, 1] = boxes[i, 2] = boxes[i, 3] = 0


@numba.njit(cache=True, nogil=True)
def split_codes(codes, band, hard):  # pragma: no cover - compiled
    """refine._band_and_hard's two maps from its 8-bit codes (the band in bit 1, the hard mask
    in bit 0): band = codes >= 2 (bool), hard = (codes & 1) as float32 0/1, in one pass."""
    h, w = codes.shape
    for y in range(h):
        row, b, a = codes[y], band[y], hard[y]
        for x in range(w):
            c = row[x]
            b[x] = c >= 2
            a[x] = np.float32(c & 1)


def warm() -> None:
    """The layouts refine, sampling.pixel_list and qa.halo pass."""
    where = np.ones((2, 2), bool)
    taxicab_within(where, 1, False)
    taxicab_within(where, 1, True)
    disk_within(where.view(np.uint8), 1, False, np.empty((2, 2), np.uint8))
    disk_within(where.view(np.uint8), 1, True, np.empty((2, 2), np.uint8))
    edge_seeds(np.zeros((2, 2), np.float32))
    labels = np.zeros((2, 2), np.int32)  # cv2.connectedComponents' labels (openings.components)
    label_sizes(labels, 1, np.empty(1, np.int32))
    codes = readonly(np.zeros((2, 2), np.uint8))  # refine._band_and_hard's, read-only (Pillow)
    split_codes(codes, np.empty((2, 2), np.bool_), np.empty((2, 2), np.float32))
    label_boxes(
        labels, 1, where, np.empty(1, np.int32), np.empty(1, np.int64), np.empty((1, 4), np.int64)
    )
    mask_pixels(where)
    mask_pixels(readonly(where))  # pixel_list's masks: made here, or read-only from Pillow
    halo_masks(readonly(np.full((2, 2), 0.5, np.float32)), 1)  # qa.halo passes a read-only view
    quantise(
        np.full((2, 2), 0.5, np.float32), np.empty((2, 2), np.uint8), np.empty((2, 2), np.float32)
    )
