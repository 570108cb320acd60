"""Block means as Pillow's reduce gives them (Reduce.c): of float maps, of masked colours and
masks side by side (local_means.block_fields), and of an RGB image at a few cells (qa.halo)."""

from __future__ import annotations

import numba
import numpy as np

from ..compiled import readonly
from .floats import F32


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
def _finish_fields(acc, rows, step, w, out, by):  # pragma: no cover - compiled
    """One row of masked_blocks' output from its tiles' sums (acc: per block count, r, g, b)
    over `rows` rows of a map `w` wide: the same rounding, partial tiles included."""
    for bx in range(out.shape[1]):
        x0, x1 = bx * step, min(bx * step + step, w)
        n = rows * (x1 - x0)
        mult, amend = np.int64(_reduce_multiplier(n)), n // 2
        out[by, bx, 0] = F32((255 * acc[bx, 0] + amend) * mult >> 24) / F32(255.0)
        out[by, bx, 1] = F32((acc[bx, 1] + amend) * mult >> 24)
        out[by, bx, 2] = F32((acc[bx, 2] + amend) * mult >> 24)
        out[by, bx, 3] = F32((acc[bx, 3] + amend) * mult >> 24)
        acc[bx, 0] = acc[bx, 1] = acc[bx, 2] = acc[bx, 3] = 0


@numba.njit(cache=True, nogil=True)
def halved_fields(rgb, inner, outer, near, far, step_near, step_far):  # pragma: no cover
    """qa.halo's two block_fields (masked_blocks) of the source reduced 2x by Pillow (reduce(2):
    each half-size pixel the rounded mean of its 2x2 tile, partial at the right and bottom),
    from the full-size source in one pass, without the half-size copy: near = masked_blocks
    of it with `inner` by step_near, far = with `outer` by step_far (inner, outer: bool on
    the half-size grid). The same integer sums, so the same bits."""
    h2, w2 = inner.shape
    h, w = rgb.shape[0], rgb.shape[1]
    half = np.empty((w2, 3), np.int64)
    acc_near = np.zeros((near.shape[1], 4), np.int64)
    acc_far = np.zeros((far.shape[1], 4), np.int64)
    mults = np.zeros(5, np.int64)  # tiles of 1, 2 or 4 pixels
    for n in (1, 2, 4):
        mults[n] = np.int64(_reduce_multiplier(n))
    rows_near = rows_far = 0
    for y in range(h2):
        y0, y1 = 2 * y, min(2 * y + 2, h)
        top, bottom = rgb[y0], rgb[y1 - 1]
        tall = y1 - y0
        if tall == 2:  # Pillow's reduce(2) of this row of tiles: whole ones (sum + 2) >> 2
            flat_top, flat_bottom = top.reshape(w * 3), bottom.reshape(w * 3)
            flat_half = half.reshape(w2 * 3)
            for x in range(w // 2):
                i, o = 6 * x, 3 * x
                flat_half[o] = (
                    np.int64(flat_top[i])
                    + np.int64(flat_top[i + 3])
                    + np.int64(flat_bottom[i])
                    + np.int64(flat_bottom[i + 3])
                    + 2
                ) >> 2
                flat_half[o + 1] = (
                    np.int64(flat_top[i + 1])
                    + np.int64(flat_top[i + 4])
                    + np.int64(flat_bottom[i + 1])
                    + np.int64(flat_bottom[i + 4])
                    + 2
                ) >> 2
                flat_half[o + 2] = (
                    np.int64(flat_top[i + 2])
                    + np.int64(flat_top[i + 5])
                    + np.int64(flat_bottom[i + 2])
                    + np.int64(flat_bottom[i + 5])
                    + 2
                ) >> 2
        else:
            for x in range(w // 2):
                for c in range(3):
                    ss = np.int64(top[2 * x, c]) + np.int64(top[2 * x + 1, c])
                    half[x, c] = (ss + 1) * mults[2] >> 24
        if w % 2:  # the last, partial column of tiles
            x = w2 - 1
            n = tall
            for c in range(3):
                ss = np.int64(top[2 * x, c])
                if tall == 2:
                    ss += np.int64(bottom[2 * x, c])
                half[x, c] = (ss + n // 2) * mults[n] >> 24
        line_in, line_out = inner[y], outer[y]
        for bx in range(acc_near.shape[0]):
            c0 = c1 = c2 = c3 = 0
            for x in range(bx * step_near, min(bx * step_near + step_near, w2)):
                m = np.int64(line_in[x])
                c0 += m
                c1 += m * half[x, 0]
                c2 += m * half[x, 1]
                c3 += m * half[x, 2]
            acc_near[bx, 0] += c0
            acc_near[bx, 1] += c1
            acc_near[bx, 2] += c2
            acc_near[bx, 3] += c3
        for bx in range(acc_far.shape[0]):
            c0 = c1 = c2 = c3 = 0
            for x in range(bx * step_far, min(bx * step_far + step_far, w2)):
                m = np.int64(line_out[x])
                c0 += m
                c1 += m * half[x, 0]
                c2 += m * half[x, 1]
                c3 += m * half[x, 2]
            acc_far[bx, 0] += c0
            acc_far[bx, 1] += c1
            acc_far[bx, 2] += c2
            acc_far[bx, 3] += c3
        rows_near += 1
        rows_far += 1
        if rows_near == step_near or y == h2 - 1:
            _finish_fields(acc_near, rows_near, step_near, w2, near, y // step_near)
            rows_near = 0
        if rows_far == step_far or y == h2 - 1:
            _finish_fields(acc_far, rows_far, step_far, w2, far, y // step_far)
            rows_far = 0


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


def warm() -> None:
    """The layouts local_means and qa.halo pass."""
    canvas = np.zeros((4, 6, 3), np.uint8)
    region = readonly(np.zeros((2, 2, 3), np.uint8))
    split_blocks(region, np.zeros((2, 2), np.float32), 4, np.empty((1, 1, 9), np.float32))
    alpha_map = readonly(np.full((2, 2), 0.5, np.float32))  # qa.halo passes a read-only view
    reduce_float(alpha_map, 2, 2, np.empty((1, 1), np.float32))
    reduce_float(np.zeros((2, 2), np.float32), 2, 2, np.empty((1, 1), np.float32))
    masked_blocks(region, np.ones((2, 2), bool), 2, np.empty((1, 1, 4), np.float32))
    masks = np.ones((1, 1), bool)  # halo_masks' own; the source read-only (qa.halo)
    fields = np.empty((1, 1, 4), np.float32)
    halved_fields(region, masks, masks, fields, fields, 2, 4)
    ys, xs = np.zeros(1, np.int64), np.zeros(1, np.int64)
    block_means_at(canvas[1:3, 1:3], ys, xs, 2, np.empty((1, 3), np.uint8))  # the canvas's region
