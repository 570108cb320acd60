"""k-means rounds on 8-bit colours (imaging.parted's colour mixtures), whole: each round's
centres, each sample to its nearest with its products with them (numpy's x @ centres.T) made in
the loop, and the next round's per-cluster counts and sums."""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic


@intrinsic
def _fma(typingctx, a, b, c):  # pragma: no cover - compiled
    """a * b + c rounded once (LLVM's fma: the instruction, or libm's exact fma without it)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@numba.njit(cache=True, nogil=True)
def kmeans_rounds(x, labels, k, rounds):  # pragma: no cover
    """parted._mixture's k-means rounds whole (up to `rounds`, until no label changes) from
    labels (intp, 0 to k - 1), updated in place. Each sample's squares summed as numpy's row
    sum adds them ((x0*x0 + x1*x1) + x2*x2), each cluster's count and sums (float64, in sample
    order, as np.bincount adds them; exact on 8-bit samples); then each round as the numpy
    round writes it: the live centres sums / counts, their
    squares summed as numpy's row sum adds them ((c0*c0 + c1*c1) + c2*c2), each sample's
    products with them as OpenBLAS's dgemm makes x @ centres.T, with fused multiply-adds
    (fma(x2, c2, fma(x1, c1, x0 * c0)): the same bits on every product of the project photos'
    samples, 260 M checked, for 2 to 5 centres; with one live centre every sample goes to it
    whatever the product), each sample to live[argmin_j((squares[i] - 2.0 * prod) +
    centre_sq[j])] (the first least, as np.argmin), counts and sums refilled in sample order
    (as np.bincount). No matmul per round (nor OpenBLAS's threads spinning: ~2x its CPU).
    Returns the rounds run."""
    n = x.shape[0]
    squares = np.empty(n)
    counts = np.zeros(k, np.int64)
    sums = np.zeros((k, 3))
    for i in range(n):
        x0, x1, x2 = x[i, 0], x[i, 1], x[i, 2]
        squares[i] = (x0 * x0 + x1 * x1) + x2 * x2
        c = labels[i]
        counts[c] += 1
        sums[c, 0] += x0
        sums[c, 1] += x1
        sums[c, 2] += x2
    live = np.empty(k, np.int64)
    centres = np.empty((k, 3))
    centre_sq = np.empty(k)
    for r in range(rounds):
        m = 0
        for c in range(k):
            if counts[c] != 0:
                live[m] = c
                m += 1
        for j in range(m):
            c = live[j]
            for d in range(3):
                centres[j, d] = sums[c, d] / counts[c]
            centre_sq[j] = (centres[j, 0] * centres[j, 0] + centres[j, 1] * centres[j, 1]) + (
                centres[j, 2] * centres[j, 2]
            )
        changed = False
        counts[:] = 0
        sums[:] = 0.0
        for i in range(n):
            s = squares[i]
            x0, x1, x2 = x[i, 0], x[i, 1], x[i, 2]
            at = 0
            best = 0.0
            for j in range(m):
                prod = _fma(x2, centres[j, 2], _fma(x1, centres[j, 1], x0 * centres[j, 0]))
                v = (s - 2.0 * prod) + centre_sq[j]
                if j == 0 or v < best:
                    best = v
                    at = j
            c = live[at]
            if labels[i] != c:
                labels[i] = c
                changed = True
            counts[c] += 1
            sums[c, 0] += x0
            sums[c, 1] += x1
            sums[c, 2] += x2
        if not changed:
            return r + 1
    return rounds


def warm() -> None:
    """The layouts parted._mixture passes."""
    kmeans_rounds(np.zeros((1, 3)), np.zeros(1, np.intp), 2, 1)
