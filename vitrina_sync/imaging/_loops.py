"""Loops compiled with numba (cache=True, nogil), each giving the same bits as its numpy/scipy
twin (kept as the fallback): whole-region byte loops (one pass where numpy needs several
region-sized temporaries), the edge band's bilinear gather and sparse Gaussian (refine.py) and
the masks' dilation/erosion by a few pixels (one distance transform instead of iterated passes).

Imported lazily through `loops()`: numba is a heavy import (it comes with rembg), and
refine.warm() loads these from numba's cache before the first job, for the array layouts the
modes pass (views of the canvas are "A" layout, the region's own arrays "C").
"""

from __future__ import annotations

import math

import numba
import numpy as np

F32 = np.float32  # constants below in float32, as numpy casts Python floats against float32 arrays
SNAP = F32(0.04)  # refine.SNAP
SNAP_SPAN = F32(1.0 - 2.0 * 0.04)
TINY, NEAR_ONE = F32(0.5 / 255.0), F32(1.0 - 0.5 / 255.0)
ZERO, ONE = F32(0.0), F32(1.0)


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
def gather(flat, i00, i01, i10, i11, fy, fx, out):  # pragma: no cover - compiled
    """Bilinear samples of the (h*w, c) float32 map `flat` at four neighbour indices and
    weights (sampling.Grid): the same float32 operations in the same order as Grid's numpy
    path, so the same bits."""
    one = np.float32(1.0)
    for j in range(i00.shape[0]):
        wx, wy = fx[j], fy[j]
        ox, oy = one - wx, one - wy
        # unsigned row indices: numba skips its negative-index fix-up (~2x faster here)
        a, b = np.uint64(i00[j]), np.uint64(i01[j])
        c0, d = np.uint64(i10[j]), np.uint64(i11[j])
        for c in range(flat.shape[1]):
            top = flat[a, c] * ox + flat[b, c] * wx
            bottom = flat[c0, c] * ox + flat[d, c] * wx
            out[j, c] = top * oy + bottom * wy


@numba.njit(cache=True, nogil=True)
def reduce_float(src, xs, ys, out):  # pragma: no cover - compiled
    """Pillow's reduce((xs, ys)) of an "F" image (Reduce.c, ImagingReduceNxN_32bpc and its
    corners): float32 sums of pixel pairs of row pairs added into a double, times 1/(xs*ys);
    partial tiles at the right and bottom edges summed pixel by pixel; so the same bits."""
    h, w = src.shape
    mult = 1.0 / (ys * xs)
    if xs == 2 and ys == 2:  # qa.halo's reduction: the loop below with its bounds known
        for y in range(h // 2):
            for x in range(w // 2):
                ss = ((src[2 * y, 2 * x] + src[2 * y, 2 * x + 1]) + src[2 * y + 1, 2 * x]) + src[
                    2 * y + 1, 2 * x + 1
                ]
                out[y, x] = (0.0 + np.float64(ss)) * mult  # 0.0 +: as the sum starts (-0.0)
        _reduce_float_edges(src, xs, ys, out)
        return
    for y in range(h // ys):
        y0 = y * ys
        for x in range(w // xs):
            x0 = x * xs
            ss = 0.0
            yy = y0
            while yy < y0 + ys - 1:
                xx = x0
                while xx < x0 + xs - 1:
                    ss += np.float64(
                        ((src[yy, xx] + src[yy, xx + 1]) + src[yy + 1, xx]) + src[yy + 1, xx + 1]
                    )
                    xx += 2
                if xs & 1:
                    ss += np.float64(src[yy, xx] + src[yy + 1, xx])
                yy += 2
            if ys & 1:
                xx = x0
                while xx < x0 + xs - 1:
                    ss += np.float64(src[yy, xx] + src[yy, xx + 1])
                    xx += 2
                if xs & 1:
                    ss += np.float64(src[yy, xx])
            out[y, x] = ss * mult
    _reduce_float_edges(src, xs, ys, out)


@numba.njit(cache=True, nogil=True)
def _reduce_float_edges(src, xs, ys, out):  # pragma: no cover - compiled
    """reduce_float's corners: the last (partial) column and row of blocks."""
    h, w = src.shape
    if w % xs:
        m = 1.0 / ((w % xs) * ys)
        x = w // xs
        for y in range(h // ys):
            ss = 0.0
            for yy in range(y * ys, y * ys + ys):
                for xx in range(x * xs, w):
                    ss += np.float64(src[yy, xx])
            out[y, x] = ss * m
    if h % ys:
        m = 1.0 / (xs * (h % ys))
        y = h // ys
        for x in range(w // xs):
            ss = 0.0
            for yy in range(y * ys, h):
                for xx in range(x * xs, x * xs + xs):
                    ss += np.float64(src[yy, xx])
            out[y, x] = ss * m
    if w % xs and h % ys:
        m = 1.0 / ((w % xs) * (h % ys))
        ss = 0.0
        for yy in range((h // ys) * ys, h):
            for xx in range((w // xs) * xs, w):
                ss += np.float64(src[yy, xx])
        out[h // ys, w // xs] = ss * m


@numba.njit(cache=True, nogil=True)
def _reduce_multiplier(scale):  # pragma: no cover - compiled
    """Pillow's division_UINT32(scale, 8) (Reduce.c): 2**32 / (256 * scale), in float32."""
    return np.uint64(np.float32(4294967296.0) / np.float32(256 * scale))


@numba.njit(cache=True, nogil=True)
def _reduce_row(sums, h_rows, step, out, c0, spread, by):  # pragma: no cover - compiled
    """One row of block fields (local_means.block_fields) from per-column sums (w, 4: r, g, b, count)
    over h_rows rows: Pillow's 8-bit reduce rounding, ((sum + scale // 2) * multiplier) >> 24 for
    each block of `scale` pixels (partial blocks at the right edge included), of the masked
    colours and of the mask as 0/255; written at channels c0.. of out as block_fields has them,
    in float32: mass (mask / 255), the three means, and with spread their mean square."""
    w = sums.shape[0]
    shift = np.uint64(24)
    for bx in range(out.shape[1]):
        x0 = bx * step
        x1 = min(x0 + step, w)
        scale = h_rows * (x1 - x0)
        mult = _reduce_multiplier(scale)
        amend = np.uint64(scale // 2)
        s0 = s1 = s2 = s3 = np.uint64(0)
        for x in range(x0, x1):
            s0 += sums[x, 0]
            s1 += sums[x, 1]
            s2 += sums[x, 2]
            s3 += sums[x, 3]
        mass = F32(((s3 * np.uint64(255) + amend) * mult) >> shift) / F32(255.0)
        n0 = F32(((s0 + amend) * mult) >> shift)
        n1 = F32(((s1 + amend) * mult) >> shift)
        n2 = F32(((s2 + amend) * mult) >> shift)
        cell = out[by, bx]
        cell[c0], cell[c0 + 1], cell[c0 + 2], cell[c0 + 3] = mass, n0, n1, n2
        if spread:
            cell[c0 + 4] = ((n0 * n0 + n1 * n1) + n2 * n2) / max(mass, F32(1e-6))


@numba.njit(cache=True, nogil=True)
def split_blocks(rgb, alpha, step, out):  # pragma: no cover - compiled
    """local_means.split_fields in one pass over the region: block means over step x step tiles of two
    masked copies of `rgb` (h,w,3 uint8), the pixels with alpha >= 1 and those with alpha <= 0
    (zero elsewhere), and of the two masks, as block_fields gives them side by side (out: h',w',9
    float32; the background's with its mean square). The same sums and rounding as Pillow's
    reduce(step) of each pasted copy and "L" mask (local_means._masked_blocks), partial tiles at the
    edges included, and the same float32 steps after, so the same bits."""
    h, w = alpha.shape
    f_sums = np.zeros((w, 4), np.uint32)
    b_sums = np.zeros((w, 4), np.uint32)
    for by in range(out.shape[0]):
        y0 = by * step
        y1 = min(y0 + step, h)
        f_sums[:] = 0
        b_sums[:] = 0
        for y in range(y0, y1):
            for x in range(w):
                a = alpha[y, x]
                if a >= 1.0:
                    f_sums[x, 0] += rgb[y, x, 0]
                    f_sums[x, 1] += rgb[y, x, 1]
                    f_sums[x, 2] += rgb[y, x, 2]
                    f_sums[x, 3] += 1
                elif a <= 0.0:
                    b_sums[x, 0] += rgb[y, x, 0]
                    b_sums[x, 1] += rgb[y, x, 1]
                    b_sums[x, 2] += rgb[y, x, 2]
                    b_sums[x, 3] += 1
        _reduce_row(f_sums, y1 - y0, step, out, 0, False, by)
        _reduce_row(b_sums, y1 - y0, step, out, 4, True, by)


@numba.njit(cache=True, nogil=True)
def gather_rows_cols(flat, rows, dy, fy, cols, dx, fx, ys, xs, out):  # pragma: no cover
    """gather() on a separable grid (sampling.Grid with per-row and per-column tables): the four
    neighbour indices and the weights of pixel j come from row ys[j] and column xs[j] of the
    tables, added here instead of as four index arrays; the same float32 operations, so the
    same bits."""
    for j in range(ys.shape[0]):
        a, b, c0, d, wx, wy = _corners(rows, dy, fy, cols, dx, fx, ys[j], xs[j])
        ox, oy = ONE - wx, ONE - wy
        for c in range(flat.shape[1]):
            top = flat[a, c] * ox + flat[b, c] * wx
            bottom = flat[c0, c] * ox + flat[d, c] * wx
            out[j, c] = top * oy + bottom * wy


@numba.njit(cache=True, nogil=True, inline="always")
def _corners(rows, dy, fy, cols, dx, fx, y, x):  # pragma: no cover - compiled
    """A separable grid's four neighbour cells of pixel (y, x) (unsigned: no negative-index
    fix-up) and its two weights."""
    a = np.uint64(rows[y] + cols[x])
    c0 = a + np.uint64(dy[y])
    return a, a + np.uint64(dx[x]), c0, c0 + np.uint64(dx[x]), fx[x], fy[y]


@numba.njit(cache=True, nogil=True)
def mark_rows_cols(need, rows, dy, cols, dx, ys, xs):  # pragma: no cover - compiled
    """need[i] = True at the four neighbour cells of every pixel of a separable grid."""
    for j in range(ys.shape[0]):
        y, x = ys[j], xs[j]
        a = rows[y] + cols[x]
        need[a] = True
        need[a + dx[x]] = True
        need[a + dy[y]] = True
        need[a + dy[y] + dx[x]] = True


@numba.njit(cache=True, nogil=True)
def guided_apply(flat, rows, dy, fy, cols, dx, fx, ys, xs, region, alpha, q):  # pragma: no cover
    """The guided filter's alpha at region pixels (ys, xs): its fields (flat: mean b, mean a
    (3) per work cell) sampled bilinearly as gather_rows_cols does, q = b + a . guide (the
    region's colour / 255), mapped past SNAP and clipped to [0, 1], written to alpha and q;
    numpy's float32 operations in refine_alpha's order, so the same bits."""
    scale = np.float32(255.0)
    for j in range(ys.shape[0]):
        px, py = ys[j], xs[j]
        a, b, c0, d, wx, wy = _corners(rows, dy, fy, cols, dx, fx, px, py)
        ox, oy = ONE - wx, ONE - wy
        v = np.float32(0.0)
        for c in range(4):
            top = flat[a, c] * ox + flat[b, c] * wx
            bottom = flat[c0, c] * ox + flat[d, c] * wx
            sample = top * oy + bottom * wy
            if c == 0:
                v = sample
            else:
                v += sample * (np.float32(region[px, py, c - 1]) / scale)
        v = _clip01((v - SNAP) / SNAP_SPAN)
        alpha[px, py] = v
        q[j] = v


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


@numba.njit(cache=True, nogil=True, inline="always")
def _clip01(v):  # pragma: no cover - compiled
    return min(max(v, ZERO), ONE)


@numba.njit(cache=True, nogil=True)
def two_colour(samples, region, alpha, ys, xs, fg, bg, mass_f, mass_b):  # pragma: no cover
    """refine._two_colour after its gather, one pixel at a time: the local product and
    background colours from the smoothed fields (samples: n x 9, as split_fields stacks them),
    the position of each pixel between them, how far it may be trusted, and its new alpha, in
    place. fg, bg, mass_f, mass_b receive what edge_colours reuses. The same float32 operations
    in the same order as the numpy twin (refine._two_colour_numpy), so the same bits."""
    for i in range(ys.shape[0]):
        s = samples[i]
        mf, mb = s[0], s[4]
        nf, nb = max(mf, F32(1e-6)), max(mb, F32(1e-6))
        f0, f1, f2 = s[1] / nf, s[2] / nf, s[3] / nf
        b0, b1, b2 = s[5] / nb, s[6] / nb, s[7] / nb
        spread = np.sqrt(max(s[8] / nb - ((b0 * b0 + b1 * b1) + b2 * b2), ZERO) / F32(3.0))
        fg[i, 0], fg[i, 1], fg[i, 2], mass_f[i] = f0, f1, f2, mf
        bg[i, 0], bg[i, 1], bg[i, 2], mass_b[i] = b0, b1, b2, mb
        d0, d1, d2 = f0 - b0, f1 - b1, f2 - b2
        gap2 = max((d0 * d0 + d1 * d1) + d2 * d2, F32(1e-6))
        y, x = ys[i], xs[i]
        p0, p1, p2 = F32(region[y, x, 0]), F32(region[y, x, 1]), F32(region[y, x, 2])
        e0, e1, e2 = p0 - b0, p1 - b1, p2 - b2
        proj = ((e0 * d0 + e1 * d1) + e2 * d2) / gap2
        r0, r1, r2 = e0 - proj * d0, e1 - proj * d1, e2 - proj * d2
        residual = np.sqrt((r0 * r0 + r1 * r1) + r2 * r2)
        trust = _clip01((np.sqrt(gap2) - F32(20.0)) / F32(40.0)) * _clip01(
            (F32(30.0) - residual) / F32(25.0)
        )
        trust = trust * _clip01((F32(12.0) - spread) / F32(9.0))
        if not (mf > F32(1e-3) and mb > F32(1e-3)):
            trust = ZERO
        proj = _clip01((_clip01(proj) - SNAP) / SNAP_SPAN)
        q = alpha[y, x]
        blended = trust * proj + (ONE - trust) * q
        if not (q > F32(0.25) and q < F32(0.75)):
            blended = max(blended, q) if q >= F32(0.5) else min(blended, q)
        if blended < TINY:
            blended = ZERO
        elif blended > NEAR_ONE:
            blended = ONE
        alpha[y, x] = blended


@numba.njit(cache=True, nogil=True)
def masked_blocks(rgb, weight, step, out):
    """local_means._masked_blocks in one pass, as block_fields stacks it: out[..., 0] the block
    means of the 0/255 mask over 255, out[..., 1:4] those of rgb pasted on black where
    `weight`; Pillow's reduce of both (8-bit sums plus half the tile, times its float32
    reciprocal, >> 24; partial tiles at the right and bottom edges), so the same bits."""  # pragma: no cover - compiled
    h, w = weight.shape
    for by in range(out.shape[0]):
        y0, y1 = by * step, min(by * step + step, h)
        for bx in range(out.shape[1]):
            x0, x1 = bx * step, min(bx * step + step, w)
            count, s0, s1, s2 = 0, 0, 0, 0
            for y in range(y0, y1):
                for x in range(x0, x1):
                    if weight[y, x]:
                        count += 1
                        s0 += np.int64(rgb[y, x, 0])
                        s1 += np.int64(rgb[y, x, 1])
                        s2 += np.int64(rgb[y, x, 2])
            n = (y1 - y0) * (x1 - x0)
            mult, amend = np.int64(_reduce_multiplier(n)), n // 2
            out[by, bx, 0] = F32((255 * count + amend) * mult >> 24) / F32(255.0)
            out[by, bx, 1] = F32((s0 + amend) * mult >> 24)
            out[by, bx, 2] = F32((s1 + amend) * mult >> 24)
            out[by, bx, 3] = F32((s2 + amend) * mult >> 24)


@numba.njit(cache=True, nogil=True)
def block_means_at(rgb, ys, xs, step, out):
    """Pillow's reduce(step) of an RGB image (see masked_blocks), only at the reduced grid's
    cells (ys, xs): out[i] the tile's rounded means (uint8)."""  # pragma: no cover - compiled
    h, w = rgb.shape[:2]
    for i in range(ys.shape[0]):
        y0, x0 = ys[i] * step, xs[i] * step
        y1, x1 = min(y0 + step, h), min(x0 + step, w)
        n = (y1 - y0) * (x1 - x0)
        mult, amend = np.int64(_reduce_multiplier(n)), n // 2
        for c in range(3):
            ss = 0
            for y in range(y0, y1):
                for x in range(x0, x1):
                    ss += np.int64(rgb[y, x, c])
            out[i, c] = (ss + amend) * mult >> 24


@numba.njit(cache=True, nogil=True)
def off_the_line(region, alpha, ys, xs, inner, back, mass_f, mass_b, limit, colours):
    """edge_colour.off_the_line on the two-colour fit's pixels, as edge_estimates keeps them (each
    with 0 < alpha < 1, in order: colours' rows): where the pixel lies over sqrt(limit) from
    the segment between its F and B (both masses known), its colour becomes F. Returns how
    many rows it read. The same float32 operations as the numpy path (einsum's sums of three
    products are sequential from 0)."""  # pragma: no cover - compiled
    k = 0
    gap = np.empty(3, np.float32)
    line = np.empty(3, np.float32)
    for i in range(ys.shape[0]):
        y, x = ys[i], xs[i]
        a = alpha[y, x]
        if not (a > ZERO and a < ONE):
            continue
        if k == colours.shape[0]:
            return -1  # more such pixels than rows: not edge_estimates' pixels
        dot, norm = ZERO, ZERO
        for c in range(3):
            gap[c] = F32(region[y, x, c]) - back[i, c]
            line[c] = inner[i, c] - back[i, c]
            dot += gap[c] * line[c]
            norm += line[c] * line[c]
        t = min(max(dot / max(norm, ONE), ZERO), ONE)
        off = ZERO
        for c in range(3):
            rest = gap[c] - t * line[c]
            off += rest * rest
        if off > limit and mass_f[i] > F32(1e-3) and mass_b[i] > F32(1e-3):
            for c in range(3):
                colours[k, c] = inner[i, c]
        k += 1
    return k


@numba.njit(cache=True, nogil=True)
def edge_estimates(region, alpha, ys, xs, inner, back, mass_f, mass_b, keep_ys, keep_xs, out):
    """edge_colour.edge_colours on the two-colour fit's pixels: for each with 0 < alpha < 1, the
    product's own colour (I = a F + (1 - a) B solved for F, leaning on the local product colour
    where alpha is small); kept pixels are written in order. Returns how many. The same float32
    operations as the numpy path."""  # pragma: no cover - compiled
    k = 0
    for i in range(ys.shape[0]):
        y, x = ys[i], xs[i]
        a = alpha[y, x]
        if not (a > ZERO and a < ONE):
            continue
        na = max(a, F32(1e-3))
        trust = _clip01((a - F32(0.2)) / F32(0.6))
        back_ok, inner_ok = mass_b[i] > F32(1e-3), mass_f[i] > F32(1e-3)
        for c in range(3):
            pixel = F32(region[y, x, c])
            solved = min(max((pixel - (ONE - a) * back[i, c]) / na, ZERO), F32(255.0))
            if not back_ok:
                solved = pixel
            if inner_ok:
                solved = trust * solved + (ONE - trust) * inner[i, c]
            out[k, c] = solved
        keep_ys[k], keep_xs[k] = y, x
        k += 1
    return k


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
    """qa.halo's three masks of an alpha map, from four capped taxicab distance transforms run
    side by side (each as taxicab_within): band = within `width` of the hard edge (alpha > 0.5)
    on either side, or partly transparent (0.01 < alpha < 0.99); inner = erode(alpha >= 0.99,
    width); outer = not dilate(alpha > 0.01, width). The same pixels as the separate masks."""
    h, w = alpha.shape
    cap = width + 1
    # fields: 0 grow(hard) 1 shrink(hard) 2 shrink(opaque) 3 grow(visible); a grown set has
    # the image's outside at `cap` (absent), a shrunk one at 0 (border value 0)
    d = np.empty((4, h, w), np.int32)
    outside = np.array([cap, 0, 0, cap], np.int32)
    for y in range(h):
        for x in range(w):
            a = alpha[y, x]
            seeds = (a > 0.5, not a > 0.5, not a >= 0.99, a > 0.01)
            for k in range(4):
                if seeds[k]:
                    d[k, y, x] = 0
                else:
                    up = d[k, y - 1, x] if y > 0 else outside[k]
                    left = d[k, y, x - 1] if x > 0 else outside[k]
                    d[k, y, x] = min(cap, min(up, left) + 1)
    band = np.empty((h, w), np.bool_)
    inner = np.empty((h, w), np.bool_)
    outer = np.empty((h, w), np.bool_)
    for y in range(h - 1, -1, -1):
        for x in range(w - 1, -1, -1):
            for k in range(4):
                v = d[k, y, x]
                if v > 0:
                    down = d[k, y + 1, x] if y < h - 1 else outside[k]
                    right = d[k, y, x + 1] if x < w - 1 else outside[k]
                    d[k, y, x] = min(v, min(down, right) + 1)
            a = alpha[y, x]
            ring = d[0, y, x] <= width and d[1, y, x] <= width  # grown, not kept by shrinking
            band[y, x] = ring or (a > 0.01 and a < 0.99)
            inner[y, x] = d[2, y, x] > width
            outer[y, x] = d[3, y, x] > width
    return band, inner, outer


PRECISION_BITS = 22  # Pillow's Resample.c for 8-bit images: 32 - 8 - 2


@numba.njit(cache=True, nogil=True)
def _sinc(x):  # pragma: no cover - compiled
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x


BOX, LANCZOS = 0, 1  # the filters filter_taps knows (Pillow's BOX and LANCZOS)


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
    """Pillow's ImagingResampleVertical_8bpc for (h, w, 3) uint8 (src C-contiguous): each
    output row is a sum of whole input rows, one vectorised multiply-add per tap."""
    n = src.shape[1] * 3
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
    """Load (or compile) each kernel for the layouts the modes pass: the region's own arrays
    ("C" layout) against views of the canvas ("A"); other layouts compile on first use."""
    canvas = np.zeros((4, 6, 3), np.uint8)
    view, packed = canvas[1:3, 1:3], np.zeros((2, 2, 3), np.uint8)
    where = np.ones((2, 2), bool)
    region = packed.view()
    region.flags.writeable = False  # np.asarray of a Pillow image, as the modes pass regions
    any_changed(packed, view, where)
    any_changed(region, view, where)
    split_blocks(region, np.zeros((2, 2), np.float32), 4, np.empty((1, 1, 9), np.float32))
    copy_where(view, packed, where)
    count_white(canvas, np.zeros((4, 6), np.uint8), np.zeros((0, 0), bool), (1, 1, 3, 3))
    taxicab_within(where, 1, False)
    taxicab_within(where, 1, True)
    edge_seeds(np.zeros((2, 2), np.float32))
    mask_pixels(where)
    frozen = where.copy()
    frozen.flags.writeable = False  # pixel_list's masks: made here, or read-only from Pillow
    mask_pixels(frozen)
    alpha_map = np.full((2, 2), 0.5, np.float32)
    alpha_map.flags.writeable = False  # qa.halo passes a read-only view
    halo_masks(alpha_map, 1)
    reduce_float(alpha_map, 2, 2, np.empty((1, 1), np.float32))
    reduce_float(np.zeros((2, 2), np.float32), 2, 2, np.empty((1, 1), np.float32))
    alpha, ys, xs = np.full((2, 2), 0.5, np.float32), np.zeros(1, np.int64), np.zeros(1, np.int64)
    fg, mass = np.zeros((1, 3), np.float32), np.zeros(1, np.float32)
    two_colour(
        np.zeros((1, 9), np.float32), region, alpha, ys, xs, fg, fg.copy(), mass, mass.copy()
    )
    edge_estimates(region, alpha, ys, xs, fg, fg, mass, mass, ys.copy(), xs.copy(), fg.copy())
    off_the_line(region, alpha, ys, xs, fg, fg, mass, mass, F32(1.0), fg.copy())
    masked_blocks(region, where, 2, np.empty((1, 1, 4), np.float32))
    block_means_at(view, ys, xs, 2, np.empty((1, 3), np.uint8))  # qa.halo: the canvas's region
    table, weight = np.zeros(1, np.int64), np.zeros(1, np.float32)
    tables = (table, table, weight, table, table, weight, table, table)  # a 1-pixel grid
    gather_rows_cols(np.zeros((1, 4), np.float32), *tables, np.empty((1, 4), np.float32))
    mark_rows_cols(np.zeros(1, np.bool_), table, table, table, table, table, table)
    guided_apply(np.zeros((1, 4), np.float32), *tables, region, alpha, weight.copy())
    blend_edge(canvas, 1, 1, alpha, table, table, fg)
    copy_opaque(view, region, alpha)
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
    first, count, taps = filter_taps(LANCZOS, 2, 0.0, 2.0, 3)
    rows = np.empty((2, 3, 3), np.uint8)
    resample_rows(region, 0, first, count, taps, rows)
    resample_rows(rows, 0, first, count, taps, np.empty((2, 3, 3), np.uint8))  # columns first
    resample_columns(rows, first, count, taps, np.empty((3, 3, 3), np.uint8))
    resample_columns(region, first, count, taps, np.empty((3, 2, 3), np.uint8))
