"""Pillow's resize (BOX, LANCZOS) of (h,w,3) uint8 images with Pillow's exact bytes
(Resample.c: the taps in float64, fixed-point 8-bit passes); imaging.resample drives them."""

from __future__ import annotations

import math

import numba
import numpy as np

from ..compiled import readonly

PRECISION_BITS = 22  # Pillow's Resample.c for 8-bit images: 32 - 8 - 2
BOX, LANCZOS = 0, 1  # the filters filter_taps knows (Pillow's BOX and LANCZOS)


@numba.njit(cache=True, nogil=True)
def _sinc(x):  # pragma: no cover - compiled
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x


@numba.njit(cache=True, nogil=True)
def filter_taps(kind, in_size, in0, span, out_size):  # pragma: no cover - compiled
    """Pillow's precompute_coeffs + normalize_coeffs_8bpc for BOX or LANCZOS along one axis:
    per output pixel the first input pixel, the number of taps and the taps as fixed-point
    int32. in0 and span (= in1 - in0) are the box's C floats, as Pillow computes them, in
    float64."""
    scale = span / out_size
    filterscale = max(1.0, scale)
    support = (0.5 if kind == BOX else 3.0) * filterscale
    ksize = math.ceil(support) * 2 + 1
    first = np.empty(out_size, np.int64)
    count = np.empty(out_size, np.int64)
    taps = np.zeros((out_size, ksize), np.int32)
    w = np.empty(ksize, np.float64)
    one = 1 << PRECISION_BITS
    for xx in range(out_size):
        center = in0 + (xx + 0.5) * scale
        ww = 0.0
        ss = 1.0 / filterscale
        xmin = max(int(center - support + 0.5), 0)  # int(): C's cast, truncation toward zero
        xmax = min(int(center + support + 0.5), in_size) - xmin
        for x in range(xmax):
            u = (x + xmin - center + 0.5) * ss
            if kind == BOX:
                k = 1.0 if -0.5 < u <= 0.5 else 0.0
            else:
                k = _sinc(u) * _sinc(u / 3) if -3.0 <= u < 3.0 else 0.0
            w[x] = k
            ww += k
        for x in range(xmax):
            k = w[x] / ww if ww != 0.0 else w[x]
            taps[xx, x] = int(-0.5 + k * one) if k < 0 else int(0.5 + k * one)
        first[xx] = xmin
        count[xx] = max(xmax, 0)
    return first, count, taps


@numba.njit(cache=True, nogil=True)
def _clip8(v):  # pragma: no cover - compiled
    v = v >> PRECISION_BITS
    return np.uint8(min(max(v, 0), 255))


@numba.njit(cache=True, nogil=True)
def resample_rows(src, y0, first, count, taps, out):  # pragma: no cover - compiled
    """Pillow's ImagingResampleHorizontal_8bpc for (h, w, 3) uint8: out's rows are src's rows
    y0, y0 + 1, ... filtered along x. Thirty-two rows at a time are laid out column by column in
    a small buffer, so each tap is one multiply-add over 96 contiguous values (vectorised) where
    Pillow loops over 3 channels; integer sums, so the same bits in any order."""
    rows, out_w = out.shape[0], out.shape[1]
    if rows == 0 or out_w == 0:
        return
    lo = first[0]
    hi = lo
    for xx in range(out_w):
        hi = max(hi, first[xx] + count[xx])
    block = 32
    buf = np.empty((hi - lo, block * 3), np.int32)
    done = np.empty((out_w, block * 3), np.uint8)  # the block's results, column by column
    acc = np.empty(block * 3, np.int32)
    half = np.int32(1 << (PRECISION_BITS - 1))
    for r0 in range(0, rows, block):
        nb = min(block, rows - r0)
        n3 = nb * 3
        block_in = src[y0 + r0 : y0 + r0 + nb, lo:hi]  # indexed from 0: no negative-index checks
        for x in range(hi - lo):
            for r in range(nb):
                for c in range(3):
                    buf[x, r * 3 + c] = block_in[r, x, c]
        for xx in range(out_w):
            for i in range(n3):
                acc[i] = half
            base = first[xx] - lo
            for t in range(count[xx]):
                k = taps[xx, t]
                for i in range(n3):
                    acc[i] += buf[base + t, i] * k
            column = done[xx]
            for i in range(n3):  # clipped over 96 contiguous values (vectorised) ...
                column[i] = _clip8(acc[i])
        for r in range(nb):  # ... and laid back out row by row
            row = out[r0 + r]
            for xx in range(out_w):
                for c in range(3):
                    row[xx, c] = done[xx, r * 3 + c]


@numba.njit(cache=True, nogil=True)
def resample_columns(src, first, count, taps, out):  # pragma: no cover - compiled
    """Pillow's ImagingResampleVertical_8bpc for (h, w, c) uint8 (src C-contiguous; c = 3, or
    1 for a grey image): each output row is a sum of whole input rows, one vectorised
    multiply-add per tap."""
    n = src.shape[1] * src.shape[2]
    flat_in = src.reshape(src.shape[0], n)
    flat_out = out.reshape(out.shape[0], n)
    acc = np.empty(n, np.int32)
    half = np.int32(1 << (PRECISION_BITS - 1))
    for yy in range(out.shape[0]):
        for i in range(n):
            acc[i] = half
        for t in range(count[yy]):
            k = taps[yy, t]
            row = first[yy] + t
            for i in range(n):
                acc[i] += flat_in[row, i] * k
        for i in range(n):
            flat_out[yy, i] = _clip8(acc[i])


def warm() -> None:
    """The layouts imaging.resample passes: the region read-only from Pillow, rows first or
    columns first."""
    region = readonly(np.zeros((2, 2, 3), np.uint8))
    first, count, taps = filter_taps(LANCZOS, 2, 0.0, 2.0, 3)
    rows = np.empty((2, 3, 3), np.uint8)
    resample_rows(region, 0, first, count, taps, rows)
    resample_rows(rows, 0, first, count, taps, np.empty((2, 3, 3), np.uint8))  # columns first
    resample_columns(rows, first, count, taps, np.empty((3, 3, 3), np.uint8))
    resample_columns(region, first, count, taps, np.empty((3, 2, 3), np.uint8))
