"""Per edge pixel: refine's two-colour step (alpha from the local product and background colours)
and what edge_colour makes of its fit (the product's own colour, colours off the line)."""

from __future__ import annotations

import numba
import numpy as np

from ..compiled import readonly
from .floats import F32, NEAR_ONE, ONE, SNAP, SNAP_SPAN, TINY, ZERO, clip01


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
        trust = clip01((np.sqrt(gap2) - F32(20.0)) / F32(40.0)) * clip01(
            (F32(30.0) - residual) / F32(25.0)
        )
        trust = trust * clip01((F32(12.0) - spread) / F32(9.0))
        if not (mf > F32(1e-3) and mb > F32(1e-3)):
            trust = ZERO
        proj = clip01((clip01(proj) - SNAP) / SNAP_SPAN)
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
        trust = clip01((a - F32(0.2)) / F32(0.6))
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
def _bin(v, offset, step, top):  # pragma: no cover - compiled
    """np.clip(((v + offset) / step).astype(np.int32), 0, top) for one float32 value."""
    i = np.int32((v + offset) / step)  # float32 arithmetic, truncated toward zero as astype
    return min(max(i, np.int32(0)), np.int32(top))


@numba.njit(cache=True, nogil=True)
def histogram_bins(lab, tex, l_bins, ab_step, ab_bins, edges, out):  # pragma: no cover - compiled
    """openings.bins in one pass, the same bin per pixel: lab (h, w, 3) and tex (h, w) float32,
    edges the three texture edges (float32); out int32 (h, w)."""
    h, w = tex.shape
    zero, ten, off = F32(0.0), F32(10.0), F32(64.0)
    step = F32(ab_step)
    e0, e1, e2 = F32(edges[0]), F32(edges[1]), F32(edges[2])
    for y in range(h):
        for x in range(w):
            li = _bin(lab[y, x, 0], zero, ten, l_bins - 1)
            ai = _bin(lab[y, x, 1], off, step, ab_bins - 1)
            bi = _bin(lab[y, x, 2], off, step, ab_bins - 1)
            t = tex[y, x]
            ti = np.int32(t > e0) + np.int32(t > e1) + np.int32(t > e2)
            out[y, x] = ((li * ab_bins + ai) * ab_bins + bi) * 4 + ti


def warm() -> None:
    """The layouts refine and edge_colour pass."""
    region = readonly(np.zeros((2, 2, 3), np.uint8))
    alpha, ys, xs = np.full((2, 2), 0.5, np.float32), np.zeros(1, np.int64), np.zeros(1, np.int64)
    fg, mass = np.zeros((1, 3), np.float32), np.zeros(1, np.float32)
    two_colour(
        np.zeros((1, 9), np.float32), region, alpha, ys, xs, fg, fg.copy(), mass, mass.copy()
    )
    edge_estimates(region, alpha, ys, xs, fg, fg, mass, mass, ys.copy(), xs.copy(), fg.copy())
    off_the_line(region, alpha, ys, xs, fg, fg, mass, mass, F32(1.0), fg.copy())
    edges = np.array((1.5, 4.0, 10.0), np.float32)  # openings.bins' layouts
    histogram_bins(
        np.zeros((2, 2, 3), np.float32),
        np.zeros((2, 2), np.float32),
        10,
        8.0,
        16,
        edges,
        np.empty((2, 2), np.int32),
    )
