"""Highlights the colour models take for openings: a light area of the product itself.

A padlock's white gloss streak on a scene with white in it (binary blobs, a printed page) is as
likely background as product to the colour models, and it is inside the outline: an opening, to
them. What tells it from one is its edge. An opening's rim is the product's inner edge, an
object boundary: across it the colour changes within a pixel or two. A gloss, a reflection, a
soft shadow of light shades into the product's own colour over several pixels all along its
long sides.

Each pixel of the product beside a found region is measured by how much of the colour range
in the window around it (7x7) one step between neighbours makes: near 1 at an object's edge
(or where the scene's texture shows), about a fifth on a soft ramp. The region's pixels are
given to their nearest such rim pixel; the parts whose rim is soft, large enough and joined to
the rest of the region only along a short stretch (a streak meeting the shackle's opening at a
corner) are product. Not where the product's own outline is as soft (a photo out of focus:
softness then tells nothing), and not where the rim has no colour range to measure (a white
product on a white sweep: other tests decide there).
"""

from __future__ import annotations

import numpy as np

WINDOW = 7  # px (reduced copy): the window a rim pixel's range and steepest step are taken in
SOFT = 0.45  # steepest neighbour step / range under which a rim pixel is on a soft ramp
LEAST_RANGE = 6.0  # CIELAB range in the window under which a rim pixel is not measured
SOFT_AROUND = 0.6  # the least share of soft rim pixels around one (7x7) for it to count
CONTACT = 0.3  # the most of a soft part's rim that may be the rest of its region
OUTLINE = 0.5  # the product's outline's median sharpness under which nothing is dropped
LEAST = 24  # px: smaller soft parts are left as they are


def steps(lab_px: np.ndarray) -> np.ndarray:
    """Each pixel's largest CIELAB distance to one of its 8 neighbours."""
    h, w, _ = lab_px.shape
    out = np.zeros((h, w), np.float32)
    for a, b in (  # each neighbour pair once: right, down, down-right, down-left
        (np.s_[:, :-1], np.s_[:, 1:]),
        (np.s_[:-1, :], np.s_[1:, :]),
        (np.s_[:-1, :-1], np.s_[1:, 1:]),
        (np.s_[:-1, 1:], np.s_[1:, :-1]),
    ):
        d = lab_px[a] - lab_px[b]
        far = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
        np.maximum(out[a], far, out=out[a])
        np.maximum(out[b], far, out=out[b])
    return out


def sharpness(lab_px: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(steepest neighbour step / colour range, colour range) over the WINDOW around each pixel
    of `where`: near 1 at an object's edge, about a fifth on a soft ramp."""
    import cv2

    kernel = np.ones((WINDOW, WINDOW), np.uint8)
    steepest = cv2.dilate(steps(lab_px), kernel)[where]
    spread = cv2.dilate(lab_px, kernel)[where] - cv2.erode(lab_px, kernel)[where]
    spread = np.sqrt(np.einsum("ij,ij->i", spread, spread))
    return steepest / np.maximum(spread, 1e-3), spread


def soft_parts(lab_px: np.ndarray, found: np.ndarray, product: np.ndarray) -> np.ndarray:
    """The parts of `found` (openings, on the reduced copy) that are the product's own light
    areas by their soft rim (see the module's docstring); empty where there are none."""
    import cv2

    out = np.zeros_like(found)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(found.view(np.uint8), 8)
    outline = None  # the product's outline's sharpness, worked out when first needed
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= LEAST) + 1:
        x, y, bw, bh, _ = (int(v) for v in stats[i])
        pad = WINDOW
        sl = np.s_[max(0, y - pad) : y + bh + pad, max(0, x - pad) : x + bw + pad]
        soft = _soft_of(lab_px[sl], labels[sl] == i, found[sl], product[sl])
        if not soft.any():
            continue
        if outline is None:
            outline = _outline_sharpness(lab_px, product)
        if outline >= OUTLINE:
            out[sl] |= soft
    return out


def _soft_of(lab_px, region, found, product) -> np.ndarray:
    """The parts of one found region whose rim is soft and which meet the rest of the region
    along a short stretch only."""
    import cv2

    from .openings import grow, shrink

    rim = grow(region, 1) & product & ~found
    if rim.sum() < 8:
        return np.zeros_like(region)
    ratio, spread = sharpness(lab_px, rim)
    soft = np.zeros_like(rim)
    soft[rim] = (ratio < SOFT) & (spread >= LEAST_RANGE)
    if not soft.any():
        return soft
    around = cv2.blur(soft.astype(np.float32), (7, 7)) / np.maximum(
        cv2.blur(rim.astype(np.float32), (7, 7)), 1e-6
    )
    soft &= around >= SOFT_AROUND
    if not soft.any():
        return soft
    # each pixel of the region goes with its nearest rim pixel (a Voronoi split of the region)
    _, nearest = cv2.distanceTransformWithLabels(
        (~rim).view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    is_soft = np.zeros(int(nearest.max()) + 1, bool)
    is_soft[nearest[rim]] = soft[rim]
    area = region & is_soft[nearest]
    area = grow(shrink(area, 1), 1) & region  # less the slivers between two sharp stretches
    out = np.zeros_like(region)
    _, parts, stats, _ = cv2.connectedComponentsWithStats(area.view(np.uint8), 8)
    for j in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= LEAST) + 1:
        part = parts == j
        beside = grow(part, 1) & ~part
        contact = int((beside & region).sum())
        if contact <= CONTACT * int((beside & rim).sum()) and _lighter(lab_px, part, beside & rim):
            out |= part
    return out


def _lighter(lab_px, part, rim) -> bool:
    """Whether the part is lighter than the product around it (a highlight, not a shadow)."""
    return float(np.median(lab_px[..., 0][part])) > float(np.median(lab_px[..., 0][rim]))


def _outline_sharpness(lab_px: np.ndarray, product: np.ndarray) -> float:
    """The median sharpness of the pixels just outside the product's outline (its object edge:
    near 1 in a photo in focus)."""
    from .openings import grow

    ring = grow(product, 1) & ~product
    if ring.sum() < 8:
        return 1.0
    ratio, spread = sharpness(lab_px, ring)
    measured = ratio[spread >= LEAST_RANGE]
    return float(np.median(measured)) if measured.size else 1.0
