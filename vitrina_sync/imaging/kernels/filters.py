"""scipy's filters with scipy's bits (mode "reflect"): the uniform filter of a stack of planes
and the Gaussian only where needed (local_means.smooth_for); and the colour guided filter's
per-pixel maps and 3x3 systems (refine.guided_fields)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _reflect(i, n):  # pragma: no cover - compiled
    """Index i of a line of n under scipy's mode "reflect" (d c b a | a b c d | d c b a),
    repeated as needed."""
    i %= 2 * n
    return i if i < n else 2 * n - 1 - i


@numba.njit(cache=True, nogil=True)
def box_planes(src, r, out):  # pragma: no cover - compiled
    """scipy.ndimage.uniform_filter(src, (2r+1, 2r+1, 1), mode="reflect") of an (h,w,c) float32
    stack, all c planes in one pass each way: the same double running sums as scipy's
    NI_UniformFilter1D (the window's first sum in order, then + entering - leaving element,
    divided by the size on the way out, float32 between the two passes), so the same bits."""
    h, w, c = src.shape
    n = np.float64(2 * r + 1)
    wc = w * c
    flat = src.reshape(h, wc)
    mid = np.empty((h, wc), np.float32)
    tmp = np.zeros(wc)
    for ll in range(2 * r + 1):  # down the columns: every (x, plane) at once, row by row
        row = flat[_reflect(ll - r, h)]
        for j in range(wc):
            tmp[j] += row[j]
    for j in range(wc):
        mid[0, j] = tmp[j] / n
    for y in range(1, h):
        add, sub = flat[_reflect(y + r, h)], flat[_reflect(y - 1 - r, h)]
        for j in range(wc):
            tmp[j] += np.float64(add[j]) - np.float64(sub[j])
            mid[y, j] = tmp[j] / n
    first = np.empty(2 * r + 1, np.int64)
    for ll in range(2 * r + 1):
        first[ll] = _reflect(ll - r, w) * c
    adds, subs = np.zeros(w, np.int64), np.zeros(w, np.int64)
    for x in range(1, w):
        adds[x] = _reflect(x + r, w) * c
        subs[x] = _reflect(x - 1 - r, w) * c
    acc = np.zeros(c)
    flat_out = out.reshape(h, wc)
    for y in range(h):  # along the rows: the c planes of a pixel side by side
        line, dst = mid[y], flat_out[y]
        acc[:] = 0.0
        for k in first:
            for ch in range(c):
                acc[ch] += line[k + ch]
        for ch in range(c):
            dst[ch] = acc[ch] / n
        for x in range(1, w):
            a, b = adds[x], subs[x]
            for ch in range(c):
                acc[ch] += np.float64(line[a + ch]) - np.float64(line[b + ch])
                dst[x * c + ch] = acc[ch] / n


@numba.njit(cache=True, nogil=True)
def guided_stats(guide, p, out):  # pragma: no cover - compiled
    """The 13 maps the colour guided filter box-filters, per pixel side by side (h,w,13 float32):
    guide (3), p, guide * p (3), and the guide's products g0g0 g0g1 g0g2 g1g1 g1g2 g2g2; each a
    float32 product, as numpy's (refine.guided_coefficients)."""
    h, w = p.shape
    for y in range(h):
        for x in range(w):
            g0, g1, g2, v = guide[y, x, 0], guide[y, x, 1], guide[y, x, 2], p[y, x]
            o = out[y, x]
            o[0], o[1], o[2], o[3] = g0, g1, g2, v
            o[4], o[5], o[6] = g0 * v, g1 * v, g2 * v
            o[7], o[8], o[9] = g0 * g0, g0 * g1, g0 * g2
            o[10], o[11], o[12] = g1 * g1, g1 * g2, g2 * g2


@numba.njit(cache=True, nogil=True)
def guided_solve(boxed, eps, out):  # pragma: no cover - compiled
    """Per pixel of the box-filtered maps (guided_stats' order): the covariances, the 3x3 system
    (eps on its diagonal) solved by the adjugate, and b; out (h,w,4) = b, a0, a1, a2. The same
    float32 operations in the same order as refine.guided_coefficients/_solve_3x3."""
    h, w = out.shape[0], out.shape[1]
    e = np.float32(eps)
    for y in range(h):
        for x in range(w):
            m = boxed[y, x]
            m0, m1, m2, mp = m[0], m[1], m[2], m[3]
            c0, c1, c2 = m[4] - m0 * mp, m[5] - m1 * mp, m[6] - m2 * mp
            s00 = (m[7] - m0 * m0) + e
            s01 = m[8] - m0 * m1
            s02 = m[9] - m0 * m2
            s11 = (m[10] - m1 * m1) + e
            s12 = m[11] - m1 * m2
            s22 = (m[12] - m2 * m2) + e
            a00 = s11 * s22 - s12 * s12
            a01 = s02 * s12 - s01 * s22
            a02 = s01 * s12 - s02 * s11
            a11 = s00 * s22 - s02 * s02
            a12 = s01 * s02 - s00 * s12
            a22 = s00 * s11 - s01 * s01
            det = (s00 * a00 + s01 * a01) + s02 * a02
            x0 = ((a00 * c0 + a01 * c1) + a02 * c2) / det
            x1 = ((a01 * c0 + a11 * c1) + a12 * c2) / det
            x2 = ((a02 * c0 + a12 * c1) + a22 * c2) / det
            o = out[y, x]
            o[0] = mp - ((x0 * m0 + x1 * m1) + x2 * m2)
            o[1], o[2], o[3] = x0, x1, x2


@numba.njit(cache=True, nogil=True)
def smooth(src, taps, need, out):  # pragma: no cover - compiled
    """scipy.ndimage.gaussian_filter(src, (s, s, 0)) with correlate1d taps `taps`, evaluated only
    where `need` is set (local_means.smooth_for says why and how it keeps scipy's bits)."""
    h, w, channels = src.shape
    r = (taps.shape[0] - 1) // 2
    first = np.empty_like(src)  # pass 1 (axis 0), at cells within r columns of a need
    flat_src = src.reshape(h, w * channels)
    flat_first = first.reshape(h, w * channels)
    acc = np.empty(w * channels, np.float64)
    runs = np.empty((w + 1) // 2 + 1, np.int64)
    ends = np.empty_like(runs)
    for y in range(h):
        # runs of columns [start, end) with a needed cell within r columns, left to right
        n, near, inside = 0, 0, False
        for x in range(min(r, w)):
            near += need[y, x]
        for x in range(w):
            if x + r < w:
                near += need[y, x + r]
            if near > 0 and not inside:
                runs[n] = x
                inside = True
            elif near == 0 and inside:
                ends[n] = x
                n += 1
                inside = False
            if x - r >= 0:
                near -= need[y, x - r]
        if inside:
            ends[n] = w
            n += 1
        # per cell the same sequence of operations as scipy (centre tap first, then the pairs
        # from the outside in), over each run's cells and channels as one contiguous stretch
        # (slices indexed from 0: no negative-index checks, so the loops vectorise)
        for j in range(n):
            lo, hi = runs[j] * channels, ends[j] * channels
            sums, row = acc[lo:hi], flat_src[y, lo:hi]
            for i in range(hi - lo):
                sums[i] = np.float64(row[i]) * taps[r]
        for k in range(r, 0, -1):
            above, below, tap = _reflect(y - k, h), _reflect(y + k, h), taps[r - k]
            for j in range(n):
                lo, hi = runs[j] * channels, ends[j] * channels
                sums, up, down = acc[lo:hi], flat_src[above, lo:hi], flat_src[below, lo:hi]
                for i in range(hi - lo):
                    sums[i] += (np.float64(up[i]) + np.float64(down[i])) * tap
        for j in range(n):
            lo, hi = runs[j] * channels, ends[j] * channels
            sums, row = acc[lo:hi], flat_first[y, lo:hi]
            for i in range(hi - lo):
                row[i] = np.float32(sums[i])
    left = np.empty((w, r + 1), np.int64)  # reflected column indices, per column and tap
    right = np.empty((w, r + 1), np.int64)
    for x in range(w):
        for k in range(r + 1):
            left[x, k], right[x, k] = _reflect(x - k, w), _reflect(x + k, w)
    flat_out = out.reshape(h, w * channels)
    for y in range(h):  # pass 2 (axis 1), at the needed cells, run by run
        x = 0
        while x < w:
            if not need[y, x]:
                x += 1
                continue
            end = x
            while end < w and need[y, end]:
                end += 1
            # cells at least r from both borders read columns x - k and x + k, no reflection:
            # the run's cells and channels as one stretch, each tap one shifted read
            a, b = max(x, r), min(end, w - r)
            if a >= b:
                a = b = end
            for cell in range(x, end):
                if a <= cell < b:
                    continue
                for c in range(channels):  # near a border: reflected columns, per cell
                    total = np.float64(first[y, cell, c]) * taps[r]
                    for k in range(r, 0, -1):
                        pair = np.float64(first[y, left[cell, k], c]) + np.float64(
                            first[y, right[cell, k], c]
                        )
                        total += pair * taps[r - k]
                    out[y, cell, c] = np.float32(total)
            lo, hi = a * channels, b * channels
            sums, row = acc[: hi - lo], flat_first[y, lo:hi]
            for i in range(hi - lo):
                sums[i] = np.float64(row[i]) * taps[r]
            for k in range(r, 0, -1):
                shift, tap = k * channels, taps[r - k]
                left_row = flat_first[y, lo - shift : hi - shift]
                right_row = flat_first[y, lo + shift : hi + shift]
                for i in range(hi - lo):
                    sums[i] += (np.float64(left_row[i]) + np.float64(right_row[i])) * tap
            row = flat_out[y, lo:hi]
            for i in range(hi - lo):
                row[i] = np.float32(sums[i])
            x = end


def warm() -> None:
    """The layouts refine.guided_fields and local_means.smooth_for pass."""
    planes = np.zeros((2, 2, 13), np.float32)
    guided_stats(np.zeros((2, 2, 3), np.float32), np.zeros((2, 2), np.float32), planes)
    fit = np.empty((2, 2, 4), np.float32)
    guided_solve(planes, 1e-4, fit)
    box_planes(planes, 1, np.empty_like(planes))  # and the fit's 4 planes: the same signature
    taps = np.array([0.25, 0.5, 0.25])  # float64, as local_means.gaussian_weights gives them
    smooth(
        np.zeros((2, 2, 1), np.float32),
        taps,
        np.eye(2, dtype=bool),
        np.empty((2, 2, 1), np.float32),
    )
