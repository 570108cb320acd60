"""k-means rounds on 8-bit colours (imaging.parted's colour mixtures): each sample to its nearest
centre, with the next round's per-cluster counts and sums, in one pass."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def nearest_centres(x, squares, prod, centre_sq, live, labels, counts, sums):  # pragma: no cover
    """One k-means assignment as parted._mixture's numpy round writes it: each sample i to
    live[argmin_j((squares[i] - 2.0 * prod[i, j]) + centre_sq[j])] (the first least, as
    np.argmin), into labels in place; counts (int64, k) and sums (float64, k x 3) refilled for
    the new labels (exact: x holds 8-bit values). prod: x @ centres.T, as numpy's matmul gave
    it. The same operations in the same order per element (no contraction into fused
    multiply-adds), so the same bits. Returns whether any label changed."""
    n, m = prod.shape
    changed = False
    counts[:] = 0
    sums[:] = 0.0
    for i in range(n):
        s = squares[i]
        best = (s - 2.0 * prod[i, 0]) + centre_sq[0]
        at = 0
        for j in range(1, m):
            v = (s - 2.0 * prod[i, j]) + centre_sq[j]
            if v < best:
                best = v
                at = j
        c = live[at]
        if labels[i] != c:
            labels[i] = c
            changed = True
        counts[c] += 1
        sums[c, 0] += x[i, 0]
        sums[c, 1] += x[i, 1]
        sums[c, 2] += x[i, 2]
    return changed


def warm() -> None:
    """The layouts parted._mixture passes."""
    x, prod = np.zeros((1, 3)), np.zeros((1, 2))
    nearest_centres(
        x,
        np.zeros(1),
        prod,
        np.zeros(2),
        np.arange(2, dtype=np.int64),
        np.zeros(1, np.intp),
        np.zeros(2, np.int64),
        np.zeros((2, 3)),
    )
