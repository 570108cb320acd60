"""Outgrowths: patches of the old background the product grew at its outline.

A salient-object model takes what stands out next to the product along with it: a rocket's
nose above a hoop, a stone of gravel at a frame's corner, a tuft of grass beside a padlock's
body. Such a patch is joined to the product, so the strays step (separate pieces) leaves it;
it sits on the outline, so the openings step (regions inside it) leaves it too; yet it moves
the product's box (aspect drift up to 0.14) while the IoU barely moves.

A part is an outgrowth when a morphological opening of the product's outline (a disk RADIUS of
the copy's long side) cuts it off, it holds on to what the opening leaves, and the colour
models of the openings step (imaging.openings: the sure background around the product against
the sure product) call it background through and through (median 5x5 ratio over LIKE_BG). True
thin parts are cut off by the opening too (a bag's handles, a bottle's neck, a chair's legs, a
frame's corners); they are the product's colours, or the model is sure of them (a patch of
background: under UNSURE), and stay; a corner the opening rounds off touches the rest all
along its arc, where a patch holds on by a neck (NECK), and stays too. A bag's grey handles
on a busy photo are the one thin part the models half call background (median up to 2.9).

The repair (`parts`, a step of imaging.steps) clears them on the model's map; QA's `outgrowth`
(`share`) measures what is left of them on the finished alpha.
"""

from __future__ import annotations

import numpy as np

RADIUS = 0.03  # of the copy's long side: the opening's disk (10 px on the 320 px copy)
LIKE_BG = 3.0  # the least median log-likelihood ratio background:product (5x5) over a part
UNSURE = 0.2  # the most share of a part the model is sure of (p > 0.95)
NECK = 0.3  # the most share of a part's pixels that touch the rest: a patch holds on by a neck
# (0.07-0.26 of it); the corner an opening rounds off a product touches it all along its arc
# (a dark frame's corners on a dark star field, which the models call background: 0.35 sharp,
# 0.47-0.52 as u2netp rounds them)
SMALLEST = 0.002  # of the product's area (and 24 px): a part under this is the edge's fuzz


def cut_off(kept: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(n, labels, touching) of the parts of `kept` that the opening cuts off and that hold on
    to what it leaves (8-connected; label 0 is the rest): touching counts each part's pixels
    next to the rest."""
    import cv2

    from .openings import _disk, fill_holes, grow

    r = max(2, round(RADIUS * max(kept.shape)))
    body = cv2.morphologyEx(fill_holes(kept).view(np.uint8), cv2.MORPH_OPEN, _disk(r)).view(bool)
    n, labels = cv2.connectedComponents((kept & ~body).view(np.uint8), connectivity=8)
    if n <= 1:
        return 0, labels, np.zeros(1, np.int64)
    touching = np.bincount(labels[grow(body, 1) & (labels > 0)], minlength=n)
    touching[0] = 0
    return n, np.where(touching[labels] > 0, labels, 0), touching


def background_parts(kept: np.ndarray, ratio: np.ndarray, sure=None) -> np.ndarray:
    """Pixels of the cut-off parts (cut_off) the models call background: each part at least
    SMALLEST of `kept`, under NECK of it touching the rest, its median `ratio` over LIKE_BG
    and, where `sure` (the model's sure pixels) is given, under UNSURE of it sure."""
    n, labels, touching = cut_off(kept)
    if n <= 1 or not labels.any():
        return np.zeros(kept.shape, bool)
    size = np.bincount(labels.ravel(), minlength=n)
    smallest = max(24.0, SMALLEST * float(kept.sum()))
    pick = np.flatnonzero((size >= smallest) & (touching <= NECK * size))
    pick = pick[pick > 0]
    if sure is not None and len(pick):
        held = np.bincount(labels.ravel(), sure.ravel(), n)
        pick = pick[held[pick] < UNSURE * size[pick]]
    if len(pick) == 0:
        return np.zeros(kept.shape, bool)
    at = labels > 0  # the parts are a sliver of the copy: their pixels only
    ids, values = labels[at], ratio[at]
    pick = pick[[float(np.median(values[ids == i])) > LIKE_BG for i in pick]]
    if len(pick) == 0:
        return np.zeros(kept.shape, bool)
    return np.isin(labels, pick)


def parts(p: np.ndarray, cleared: np.ndarray, keep=None, models=None) -> np.ndarray:
    """Pixels of the model's product (p > 0.5, not `cleared` already) to clear: outgrowths
    found on the openings step's reduced copy (models: openings.find's `report`; nothing
    without them), brought back to p's size. Pixels under a `keep` stroke stay."""
    import cv2

    from .openings import SIDE, reduced, reduced_map

    h, w = p.shape
    k = max(1, max(h, w) // SIDE)
    if models is None or models.ratio is None:
        return np.zeros(p.shape, bool)
    small_p = reduced_map(p, k, models)
    if small_p.shape != models.ratio.shape:  # not find's copy
        return np.zeros(p.shape, bool)
    small_cleared = reduced(cleared, k)
    found = background_parts((small_p > 0.5) & ~small_cleared, models.ratio, small_p > 0.95)
    if not found.any():
        return np.zeros(p.shape, bool)
    back = cv2.resize(found.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)
    back &= (p > 0.5) & ~cleared
    if keep is not None:
        back &= ~keep
    return back | _left_over(p, cleared | back, back, keep)


def _left_over(p: np.ndarray, cleared: np.ndarray, back: np.ndarray, keep=None) -> np.ndarray:
    """Pieces of the product that clearing `back` leaves on their own beside it, under a tenth
    of the largest (a patch's own product-coloured pixels, its rim between the copy's blocks):
    left, they would still stretch the product's box, which the placement is planned on."""
    import cv2

    from .openings import grow

    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        ((p > 0.5) & ~cleared).view(np.uint8), connectivity=8
    )
    if n <= 2:
        return np.zeros(p.shape, bool)
    sizes = stats[:, cv2.CC_STAT_AREA].copy()
    sizes[0] = 0
    beside = np.zeros(n, bool)
    beside[np.unique(labels[grow(back, 1)])] = True
    pick = beside & (sizes < 0.1 * sizes.max())
    pick[0] = False
    if keep is not None:
        pick[np.unique(labels[keep])] = False
    return pick[labels]


def share(shape) -> float:
    """QA's `outgrowth`: the share of the output's product (alpha > 0.5) in outgrowths, on a
    qa.ShapeCopy of the finished alpha and its source, with its colour models (bg_inside's and
    kept_opening's, refitted to the outline's band) or those the copy builds once
    (ShapeCopy.modelled_product, shared with lost_part). The finished alpha is settled (hardly a
    pixel between 0.05 and 0.95): the model's sureness says nothing there, so the colours alone
    decide."""
    modelled = shape.modelled_product()
    if modelled is None:
        return 0.0
    product, area, models = modelled
    return float(background_parts(product, models.ratio).sum()) / area
