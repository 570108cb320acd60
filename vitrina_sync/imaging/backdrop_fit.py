"""A plain backdrop's colour fitted exactly: openings that show the backdrop itself.

On a plain backdrop (a studio sweep) an opening shows the sweep's own colour, continued under
the product. openings.match_regions tests that against a smooth estimate (a normalised
Gaussian, dE 1-2 off under a large product); a grey padlock on a grey-blue sweep of its own
colours differs from it by dE 2-3, so the estimate cannot part its shackle from its opening,
and the opening's pixels join the edge's fuzz. A sweep is a smooth gradient: a quadratic in x
and y, fitted to the sure background by least squares, predicts it within dE 0.4 (90% of its
pixels) everywhere, and the opening within the same; the padlock is 1.7 or more off it.
A region of the product that close to the fitted sweep, enclosed by product that is not, and
large, is the sweep showing through. White on white keeps its label (dE 3.6 or more off),
and a white mug's highlight that matches the sweep meets the outline (not enclosed).
"""

from __future__ import annotations

import numpy as np

FIT_DE = 0.5  # the most 90th-percentile distance of the sure background to its fit (plain)
EXACT_DE = 0.8  # CIELAB distance to the fit under which a pixel is the backdrop itself
AROUND_DE = 1.5  # the least median distance of the product around such a region
SHARE = 0.03  # of the product's area: the least such a region is


def fitted(lab: np.ndarray, sure_bg: np.ndarray) -> np.ndarray | None:
    """The backdrop's colour at every pixel (h, w, 3) from a quadratic fit to the sure
    background, or None when the fit is not that close (a textured or uneven backdrop)."""
    h, w = sure_bg.shape
    ys, xs = np.nonzero(sure_bg)
    if len(ys) < 200:
        return None
    pick = slice(None, None, max(1, len(ys) // 4000))  # an even sample is enough for six terms
    ys, xs = ys[pick], xs[pick]
    scale = float(max(h, w))

    def terms(y, x):
        y, x = y / scale, x / scale
        return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], -1)

    a, b = terms(ys.astype(np.float64), xs.astype(np.float64)), lab[ys, xs].astype(np.float64)
    try:  # the normal equations (6 x 6): lstsq's SVD took 7 ms for the same fit
        coef = np.linalg.solve(a.T @ a, a.T @ b)
    except np.linalg.LinAlgError:  # the sure background on one line: no surface to fit
        return None
    residual = np.sqrt(((b - a @ coef) ** 2).sum(axis=1))
    if float(np.percentile(residual, 90)) > FIT_DE:
        return None
    y = (np.arange(h, dtype=np.float32) / scale)[:, None, None]  # the same six terms,
    x = (np.arange(w, dtype=np.float32) / scale)[None, :, None]  # broadcast (no h x w x 6)
    c = coef.astype(np.float32)
    return c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * x * y + c[5] * y * y


def showing(lab: np.ndarray, sure_bg, product, outside, keep=None) -> np.ndarray:
    """Regions of the product that are the fitted backdrop itself (within EXACT_DE), enclosed
    by product that is not (its median AROUND_DE or more off), each SHARE of the product or
    more: the backdrop showing through an opening."""
    import cv2

    from .openings import grow

    backdrop = fitted(lab, sure_bg)
    if backdrop is None:
        return np.zeros_like(product)
    d = np.sqrt(((lab - backdrop) ** 2).sum(axis=2))
    exact = product & (d < EXACT_DE)
    if keep is not None:
        exact &= ~keep
    n, labels, stats, _ = cv2.connectedComponentsWithStats(exact.view(np.uint8), 8)
    out = np.zeros_like(product)
    least = SHARE * float(product.sum())
    touching = np.unique(labels[grow(outside, 1)])
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < least or i in touching:
            continue
        x, y, bw, bh = stats[i, :4]
        sl = (slice(max(0, y - 4), y + bh + 4), slice(max(0, x - 4), x + bw + 4))
        region = labels[sl] == i
        around = grow(region, 3) & ~region & product[sl]
        if around.any() and float(np.median(d[sl][around])) >= AROUND_DE:
            out[sl] |= region
    return out
