"""Bilinear gathers through sampling.Grid's tables (four neighbour cells and two weights per
pixel), and the guided filter's alpha sampled the same way (refine.refine_alpha)."""

from __future__ import annotations

import numba
import numpy as np

from ..compiled import readonly
from .floats import ONE, SNAP, SNAP_SPAN, clip01


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
        v = clip01((v - SNAP) / SNAP_SPAN)
        alpha[px, py] = v
        q[j] = v


def warm() -> None:
    """The layouts sampling.Grid and refine pass (gather itself: refine.warm's grid)."""
    table, weight = np.zeros(1, np.int64), np.zeros(1, np.float32)
    tables = (table, table, weight, table, table, weight, table, table)  # a 1-pixel grid
    gather_rows_cols(np.zeros((1, 4), np.float32), *tables, np.empty((1, 4), np.float32))
    mark_rows_cols(np.zeros(1, np.bool_), table, table, table, table, table, table)
    region, alpha = readonly(np.zeros((2, 2, 3), np.uint8)), np.full((2, 2), 0.5, np.float32)
    guided_apply(np.zeros((1, 4), np.float32), *tables, region, alpha, weight.copy())
