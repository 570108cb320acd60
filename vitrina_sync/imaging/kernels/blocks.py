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
            _block_field(out, by, bx, (y1 - y0) * (x1 - x0), count, s0, s1, s2)


@numba.njit(cache=True, nogil=True)
def _block_field(out, by, bx, n, count, s0, s1, s2):  # pragma: no cover - compiled
    """One block of masked_blocks' output from its tile's sums over n pixels (count of the
    mask's, r, g, b): Pillow's reduce rounding (sum plus half the tile, times its float32
    reciprocal, >> 24)."""
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
        _block_field(out, by, bx, rows * (x1 - x0), acc[bx, 0], acc[bx, 1], acc[bx, 2], acc[bx, 3])
        acc[bx, 0] = acc[bx, 1] = acc[bx, 2] = acc[bx, 3] = 0


@numba.njit(cache=True, nogil=True)
def halved_fields(rgb, inner, outer, near, far):  # pragma: no cover - compiled
    """qa.halo's two block_fields (masked_blocks) of the source reduced 2x by Pillow (reduce(2):
    each half-size pixel the rounded mean of its 2x2 tile, partial at the right and bottom),
    from the full-size source in one pass, without the half-size copy: near = masked_blocks
    of it with `inner` by 2, far = with `outer` by 4 (inner, outer: bool on the half-size
    grid). The same integer sums, so the same bits. Rows are read flat
    and the lines padded with zeros past their end (the last block's missing pixels weigh 0)."""
    h2, w2 = inner.shape
    h, w = rgb.shape[0], rgb.shape[1]
    pad = 4
    half = np.zeros((w2 + pad) * 3, np.int64)
    weight_near = np.zeros(w2 + pad, np.int64)
    weight_far = np.zeros(w2 + pad, np.int64)
    acc_near = np.zeros((near.shape[1], 4), np.int64)
    acc_far = np.zeros((far.shape[1], 4), np.int64)
    rows_near = rows_far = 0
    for y in range(h2):
        y0, y1 = 2 * y, min(2 * y + 2, h)
        top, bottom = rgb[y0].reshape(w * 3), rgb[y1 - 1].reshape(w * 3)
        tall = y1 - y0
        if tall == 2:  # Pillow's reduce(2) of this row of tiles: whole ones (sum + 2) >> 2
            for x in range(w // 2):
                i, o = 6 * x, 3 * x
                for c in range(3):
                    half[o + c] = (
                        np.int64(top[i + c])
                        + np.int64(top[i + 3 + c])
                        + np.int64(bottom[i + c])
                        + np.int64(bottom[i + 3 + c])
                        + 2
                    ) >> 2
        else:  # the last row of tiles, one row tall: (sum + 1) >> 1
            for x in range(w // 2):
                i, o = 6 * x, 3 * x
                for c in range(3):
                    half[o + c] = (np.int64(top[i + c]) + np.int64(top[i + 3 + c]) + 1) >> 1
        if w % 2:  # the last column of tiles, one pixel wide
            o = 3 * (w2 - 1)
            for c in range(3):
                if tall == 2:
                    half[o + c] = (np.int64(top[o * 2 + c]) + np.int64(bottom[o * 2 + c]) + 1) >> 1
                else:
                    half[o + c] = np.int64(top[o * 2 + c])
        line_in, line_out = inner[y], outer[y]
        for x in range(w2):
            weight_near[x] = line_in[x]
            weight_far[x] = line_out[x]
        for bx in range(near.shape[1]):  # blocks of 2
            x = 2 * bx
            a, b = weight_near[x], weight_near[x + 1]
            acc_near[bx, 0] += a + b
            for c in range(3):
                acc_near[bx, 1 + c] += a * half[3 * x + c] + b * half[3 * x + 3 + c]
        for bx in range(far.shape[1]):  # blocks of 4
            x = 4 * bx
            a, b, e, f = weight_far[x], weight_far[x + 1], weight_far[x + 2], weight_far[x + 3]
            acc_far[bx, 0] += a + b + e + f
            for c in range(3):
                i = 3 * x + c
                acc_far[bx, 1 + c] += (
                    a * half[i] + b * half[i + 3] + e * half[i + 6] + f * half[i + 9]
                )
        rows_near += 1
        rows_far += 1
        if rows_near == 2 or y == h2 - 1:
            _finish_fields(acc_near, rows_near, 2, w2, near, y // 2)
            rows_near = 0
        if rows_far == 4 or y == h2 - 1:
            _finish_fields(acc_far, rows_far, 4, w2, far, y // 4)
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
    halved_fields(region, masks, masks, fields, fields)
    ys, xs = np.zeros(1, np.int64), np.zeros(1, np.int64)
    block_means_at(canvas[1:3, 1:3], ys, xs, 2, np.empty((1, 3), np.uint8))  # the canvas's region
