"""QA figures' whole-map loops: faint's body and count (qa.faint), and colour_drift's and
purity's looks at the output region in one pass (highlights.steps' neighbour_steps lives in
canvas.py beside edge_pairs, whose pair distance it shares)."""

from __future__ import annotations

import numba
import numpy as np

from ..compiled import readonly
from .floats import F32


@numba.njit(cache=True, nogil=True)
def _flush(touched, whole, spans, one_block, sums, touch, strong, cy):  # pragma: no cover
    """A block row's marks from its rows' OR of the body (touched) and of the body in its
    whole rows (whole): a block is touched where any of its columns (spans: each block's first
    and last) is, strong where one of its whole columns (one_block) is in a whole row; by
    running counts of both (sums: (2, w + 1) scratch); the lines cleared."""
    n = len(touched)
    a, b = sums[0], sums[1]
    for x in range(n):
        a[x + 1] = a[x] + touched[x]
        b[x + 1] = b[x] + (whole[x] & one_block[x])
        touched[x] = 0
        whole[x] = 0
    mark, firm = touch[cy], strong[cy]
    for cx in range(spans.shape[1]):
        lo, hi = spans[0, cx], spans[1, cx] + 1
        mark[cx] |= a[hi] != a[lo]
        firm[cx] |= b[hi] != b[lo]


@numba.njit(cache=True, nogil=True)
def faint_body(
    alpha, cells, spans, row_cells, touch, strong, step, uncertain, sampled
):  # pragma: no cover - compiled
    """qa.faint_remains' first looks at a float32 alpha in one pass: the body's (alpha > 0.5)
    box (top, bottom, left, right; bottom/right exclusive; top -1 where there is none), its
    pixel count and whether any pixel is soft (0 < alpha <= 0.5); and which blocks of
    cv2.resize's INTER_AREA reduction a body pixel weighs in (touch), and in which one weighs
    whole in both directions (strong: the block's mean is then 255 / k^2 or more). cells
    (2, w) and row_cells (2, h): qa._area_weights' blocks of each column and row (the spare
    last block w' or h' where it lies in one block only), spans (2, w'): each block's first
    and last column; touch, strong: (h' + 1, w' + 1)
    uint8, all 0. Branch-free per pixel (the loops vectorise): the rows' marks are ORed per
    block row and spread to the blocks once per block row.
    And qa.uncertainty's looks at every step-th pixel of every step-th row (kernels.canvas.
    uncertain_count's): uncertain[y // step, x // step] = 0.1 < alpha < 0.9 (float32), and
    sampled (int64, 4) = the box (top, bottom, left, right; inclusive, in the sampled grid;
    top -1 where there is none) of the sampled pixels over 0.5."""
    h, w = alpha.shape
    half, zero = F32(0.5), F32(0.0)
    spare_y = touch.shape[0] - 1
    count = 0
    soft = np.uint8(0)
    columns = np.zeros(w, np.uint8)  # columns holding body
    top, bottom = -1, 0
    spare_x = touch.shape[1] - 1
    one_block = np.empty(w, np.uint8)  # a whole column: in one block only
    for x in range(w):
        one_block[x] = cells[1, x] == spare_x
    lines = np.zeros((2, w), np.uint8)  # this block row's and the next's: rows' OR
    wholes = np.zeros((2, w), np.uint8)  # the same over whole rows
    body = np.empty(w, np.uint8)
    sums = np.zeros((2, w + 1), np.int32)
    current, at = 0, 0  # the block row lines[at] collects (lines[1 - at]: the next)
    low, high = F32(0.1), F32(0.9)
    sampled_w = uncertain.shape[1]
    sampled[0], sampled[1], sampled[2], sampled[3] = -1, -1, sampled_w, -1
    for y in range(h):
        row = alpha[y]
        a, b = row_cells[0, y], row_cells[1, y]
        while a > current:  # block rows this row is past: done (their lines cleared)
            _flush(lines[at], wholes[at], spans, one_block, sums, touch, strong, current)
            at = 1 - at
            current += 1
        n = 0
        for x in range(w):
            v = row[x]
            inside = np.uint8(v > half)
            body[x] = inside
            n += inside
            soft |= np.uint8(v > zero) & (inside ^ np.uint8(1))
        if y % step == 0:  # a sampled row: uncertainty's looks
            line = uncertain[y // step]
            for i in range(sampled_w):
                v = row[i * step]
                line[i] = (v > low) & (v < high)
            if n:
                first_i, last_i = -1, -1
                for i in range(sampled_w):
                    if body[i * step]:
                        first_i = i
                        break
                for i in range(sampled_w - 1, first_i - 1, -1):
                    if body[i * step]:
                        last_i = i
                        break
                if first_i >= 0:
                    if sampled[0] < 0:
                        sampled[0] = y // step
                    sampled[1] = y // step
                    sampled[2] = min(sampled[2], first_i)
                    sampled[3] = max(sampled[3], last_i)
        if n == 0:
            continue
        if top < 0:
            top = y
        bottom = y + 1
        count += n
        first, second = lines[at], lines[1 - at]
        for x in range(w):
            columns[x] |= body[x]
            first[x] |= body[x]
        if b != spare_y:  # a row in two blocks: the next block row's too
            for x in range(w):
                second[x] |= body[x]
        else:
            whole = wholes[at]
            for x in range(w):
                whole[x] |= body[x]
    _flush(lines[at], wholes[at], spans, one_block, sums, touch, strong, current)
    if current + 1 < spare_y:
        _flush(lines[1 - at], wholes[1 - at], spans, one_block, sums, touch, strong, current + 1)
    left, right = 0, w
    while left < w and columns[left] == 0:
        left += 1
    while right > left and columns[right - 1] == 0:
        right -= 1
    return top, bottom, left, right, count, soft != 0


@numba.njit(cache=True, nogil=True)
def area_means(
    alpha, cells, weights, row_cells, row_weights, ys, xs, spans, row_spans, out
):  # pragma: no cover
    """The INTER_AREA mean (before rounding, in float64) of the body (255 where alpha > 0.5)
    over blocks (ys, xs): out[i] = sum of 255 * row weight * column weight over its body
    pixels (spans, row_spans: each block's first and last source column and row)."""
    half = F32(0.5)
    for i in range(len(ys)):
        cy, cx = ys[i], xs[i]
        total = 0.0
        for y in range(row_spans[0, cy], row_spans[1, cy] + 1):
            wy = row_weights[0, y] if row_cells[0, y] == cy else row_weights[1, y]
            part = 0.0
            for x in range(spans[0, cx], spans[1, cx] + 1):
                if alpha[y, x] > half:
                    part += weights[0, x] if cells[0, x] == cx else weights[1, x]
            total += part * wy
        out[i] = 255.0 * total


@numba.njit(cache=True, nogil=True)
def faint_count(alpha, near, rows, cols, least):  # pragma: no cover - compiled
    """qa.faint_remains' count: pixels with 0 < alpha <= 0.5 whose block (near[rows[y],
    cols[x]], the dilated body on k x k blocks as cv2's nearest resize maps it back) is 0, and
    of those how many have alpha > least (float32). The block row spread to the pixels once
    per block row; branch-free per pixel."""
    h, w = alpha.shape
    half, zero = F32(0.5), F32(0.0)
    far = seen = 0
    open_line = np.empty(w, np.uint8)  # 1 where the pixel's block is 0
    last = -1
    for y in range(h):
        if rows[y] != last:
            last = rows[y]
            line = near[last]
            for x in range(w):
                open_line[x] = line[cols[x]] == 0
        row = alpha[y]
        for x in range(w):
            v = row[x]
            hit = np.int64(v > zero) & np.int64(v <= half) & np.int64(open_line[x])
            far += hit
            seen += hit & np.int64(v > least)
    return far, seen


@numba.njit(cache=True, nogil=True)
def drift_and_white(source, canvas, levels, shadow, box):  # pragma: no cover - compiled
    """colour_drift's and purity's looks at the output region in one pass: (how many opaque
    pixels, levels 255, differ between source (h,w,3 uint8) and the canvas' region box
    (l, t, r, b) of a C-contiguous (H,W,3 uint8) canvas; how many of the region's pixels are
    background, levels 0 and no shadow (an empty `shadow`: none); how many of those are
    exactly white). Per row the bytes are compared flat (the loop vectorises), then read per
    pixel."""
    l, t, r, _ = box
    h, w = levels.shape
    has_shadow = shadow.shape[0] > 0
    changed = inside = white = 0
    differ = np.empty(w * 3, np.uint8)
    width = canvas.shape[1] * 3
    for y in range(h):
        src = source[y].reshape(w * 3)
        out = canvas[t + y].reshape(width)[3 * l : 3 * r]
        lv = levels[y]
        for i in range(w * 3):
            differ[i] = src[i] ^ out[i]
        row_changed = row_in = row_white = 0
        for x in range(w):
            m = lv[x]
            d = differ[3 * x] | differ[3 * x + 1] | differ[3 * x + 2]
            a = out[3 * x] & out[3 * x + 1] & out[3 * x + 2]
            row_changed += np.int64((m == 255) & (d != 0))
            bg = np.int64(m == 0)
            if has_shadow:
                bg &= np.int64(not shadow[y, x])
            row_in += bg
            row_white += bg & np.int64(a == 255)
        changed += row_changed
        inside += row_in
        white += row_white
    return changed, inside, white


@numba.njit(cache=True, nogil=True, inline="always")
def _halo_pixel(a, prod, old, back):  # pragma: no cover - compiled
    """qa.halo's expected colour's move toward the old background at one pixel, in float32
    as numpy computes it: (toward (3), gap)."""
    one = F32(1.0)
    t0 = old[0] - (a * prod[0] + (one - a) * back[0])
    t1 = old[1] - (a * prod[1] + (one - a) * back[1])
    t2 = old[2] - (a * prod[2] + (one - a) * back[2])
    return t0, t1, t2, np.sqrt((t0 * t0 + t1 * t1) + t2 * t2)


@numba.njit(cache=True, nogil=True)
def halo_known(a, prod, old, mass_f, mass_b, back):  # pragma: no cover - compiled
    """How many band pixels qa.halo can judge: both local masses over 1e-3 and a gap to the
    old background over 40 (float32 thresholds, as numpy compares float32 with a Python
    float)."""
    least, far = F32(1e-3), F32(40.0)
    known = 0
    for i in range(a.shape[0]):
        _, _, _, gap = _halo_pixel(a[i], prod[i], old[i], back)
        known += (mass_f[i] > least) & (mass_b[i] > least) & (gap > far)
    return known


@numba.njit(cache=True, nogil=True)
def halo_verdict(a, prod, old, mass_f, mass_b, back, got, off_blend, mostly):  # pragma: no cover
    """qa.halo's verdict over the band in one pass, the same float32 operations in the same
    order as its numpy lines (channel sums ((c0 + c1) + c2), constants as float32): (haloed
    pixels among the known, known pixels)."""
    least, far, ten, tenth = F32(1e-3), F32(40.0), F32(10.0), F32(0.1)
    one, zero = F32(1.0), F32(0.0)
    b0, b1, b2 = back[0], back[1], back[2]
    haloed = known = 0
    for i in range(a.shape[0]):
        p, o = prod[i], old[i]
        t0, t1, t2, gap = _halo_pixel(a[i], p, o, back)
        if not ((mass_f[i] > least) & (mass_b[i] > least) & (gap > far)):
            continue
        known += 1
        ai = a[i]
        g0, g1, g2 = F32(got[i, 0]), F32(got[i, 1]), F32(got[i, 2])
        m0 = g0 - (ai * p[0] + (one - ai) * b0)
        m1 = g1 - (ai * p[1] + (one - ai) * b1)
        m2 = g2 - (ai * p[2] + (one - ai) * b2)
        shift = ((m0 * t0 + m1 * t1) + m2 * t2) / max(gap, one)
        s0, s1, s2 = p[0] - b0, p[1] - b1, p[2] - b2
        span_sq = max((s0 * s0 + s1 * s1) + s2 * s2, one)
        c0, c1, c2 = o[0] - b0, o[1] - b1, o[2] - b2  # the old background off the blends
        k = min(max(((c0 * s0 + c1 * s1) + c2 * s2) / span_sq, zero), one)
        f0, f1, f2 = c0 - k * s0, c1 - k * s1, c2 - k * s2
        off_gap = np.sqrt((f0 * f0 + f1 * f1) + f2 * f2)
        c0, c1, c2 = g0 - b0, g1 - b1, g2 - b2  # the output off the blends
        k = min(max(((c0 * s0 + c1 * s1) + c2 * s2) / span_sq, zero), one)
        e0, e1, e2 = c0 - k * s0, c1 - k * s1, c2 - k * s2
        off_shift = ((e0 * f0 + e1 * f1) + e2 * f2) / max(off_gap, one)
        tinted = (off_gap > off_blend) & (off_shift > ten) & (off_shift > tenth * off_gap)
        haloed += (shift > ten) & (shift > tenth * gap) & (tinted | (shift > mostly * gap))
    return haloed, known


def warm() -> None:
    """The layouts qa.faint and highlights.sharpness pass."""
    alpha = np.full((2, 2), 0.5, np.float32)
    cells, weights = np.zeros((2, 2), np.int64), np.zeros((2, 2))
    touch, box = np.zeros((2, 2), np.uint8), np.zeros(4, np.int64)
    faint_body(alpha, cells, cells, cells, touch, touch, 1, touch, box)
    faint_body(readonly(alpha), cells, cells, cells, touch, touch, 1, touch, box)
    at, out = np.zeros(1, np.int64), np.zeros(1)
    area_means(alpha, cells, weights, cells, weights, at, at, cells, cells, out)
    area_means(readonly(alpha), cells, weights, cells, weights, at, at, cells, cells, out)
    index, near = np.zeros(2, np.int64), np.zeros((1, 1), np.uint8)
    faint_count(alpha, near, index, index, F32(0.05))
    faint_count(readonly(alpha), near, index, index, F32(0.05))
    a, colours, back = (
        np.zeros(1, np.float32),
        np.zeros((1, 3), np.float32),
        np.zeros(3, np.float32),
    )
    halo_known(a, colours, colours, a, a, back)
    halo_verdict(a, colours, colours, a, a, back, np.zeros((1, 3), np.uint8), F32(40.0), F32(0.5))
    canvas, levels = np.zeros((4, 6, 3), np.uint8), np.zeros((2, 2), np.uint8)
    for source in (np.zeros((2, 2, 3), np.uint8), readonly(np.zeros((2, 2, 3), np.uint8))):
        drift_and_white(source, canvas, levels, np.zeros((0, 0), bool), (1, 1, 3, 3))
        drift_and_white(source, canvas, levels, np.zeros((2, 2), bool), (1, 1, 3, 3))
