"""Openings joined to the outside: an opening the model filled whose background-like pixels
meet the edge's fuzz (a padlock's shackle opening on coins, through a soft corner where a leg
meets the body) is one region with the outline's fringe, and the colour models judge it as
edge fuzz; worse, its pixels are part of the sure product the product's model is fitted on,
which halves their likelihood ratio. A gloss streak on the body may touch it, and the models
cannot part the two (both bright, both busy over 5x5).

A graph cut parts them on better evidence than colour alone: OpenCV's GrabCut, seeded with the
sure background outside and the product away from the region as sure product, with the region
and the product near it left for the cut to decide. Its smoothness term cuts where the photo
has an edge (the shackle's sharp inner edge) and not along the soft shading of a gloss, so the
gloss stays with the body. What the cut gives to the background counts only off the outline,
as an opening, mostly where the colour models found the region (openings.match_regions' first
pass), and it never takes the product's sure core.
"""

from __future__ import annotations

import numpy as np

from .openings import OFF_EDGE, THIN, grow, shrink

ITERATIONS = 1  # GrabCut's: one settles these (three moved 0.5% of an opening, at 3x the cost)
AROUND = 6  # px (reduced copy) of product around a region that the cut may also decide
PAD = 12  # px of context around a region's box that the cut sees
AGREE = 0.5  # the least share of a cut opening that the colour models found background-like


def cores(ratio: np.ndarray, product, outside, smallest: float, keep=None) -> np.ndarray:
    """The parts off the outline (less thin links) of the background-like regions (ratio > 0)
    that touch the outside: a region the colour models can only call edge fuzz."""
    import cv2

    weak = product & (ratio > 0.0)
    if keep is not None:
        weak &= ~keep
    n, labels = cv2.connectedComponents(weak.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(product)
    touching = np.zeros(n, bool)
    touching[np.unique(labels[grow(outside, 2) & weak])] = True
    touching[0] = False
    core = touching[labels] & ~grow(outside, OFF_EDGE)
    core &= grow(shrink(core, THIN), THIN)
    _, parts, stats, _ = cv2.connectedComponentsWithStats(core.view(np.uint8), 8)
    big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= smallest)
    return np.isin(parts, big[big > 0])


def cut(rgb: np.ndarray, p: np.ndarray, core: np.ndarray, outside, smallest: float, keep=None):
    """Pixels of the product (p > 0.5) that a graph cut around `core` gives to the background
    and that are an opening: off the outline, at least `smallest`, mostly in `core`."""
    import cv2

    product = p > 0.5
    ys, xs = np.nonzero(grow(core, PAD))
    sl = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    seeds = np.full(product[sl].shape, cv2.GC_BGD, np.uint8)
    seeds[(p[sl] > 0.05) & ~product[sl]] = cv2.GC_PR_BGD
    seeds[product[sl]] = cv2.GC_FGD
    seeds[product[sl] & grow(core, AROUND)[sl]] = cv2.GC_PR_FGD
    if keep is not None:
        seeds[keep[sl]] = cv2.GC_FGD
    background = (seeds == cv2.GC_BGD) | (seeds == cv2.GC_PR_BGD)
    if background.all() or not background.any():  # GrabCut needs samples of both
        return np.zeros_like(product)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    image = np.ascontiguousarray(rgb[sl])
    cv2.grabCut(image, seeds, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    back = np.zeros_like(product)
    back[sl] = ((seeds == cv2.GC_BGD) | (seeds == cv2.GC_PR_BGD)) & product[sl]
    off = back & ~grow(outside, OFF_EDGE)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(off.view(np.uint8), 8)
    inside = np.bincount(labels[core], minlength=n)
    ok = (stats[:, cv2.CC_STAT_AREA] >= smallest) & (inside >= AGREE * stats[:, cv2.CC_STAT_AREA])
    ok[0] = False
    if not ok.any():
        return np.zeros_like(product)
    opening = ok[labels]
    # each opening with the fuzz the cut joined to it (back to the outline)
    return opening | (grow(opening, OFF_EDGE) & back)
