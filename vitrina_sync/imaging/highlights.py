"""Highlights the colour models take for openings: a light area of the product itself.

A padlock's white gloss streak on a scene with white in it (binary blobs, a printed page) is as
likely background as product to the colour models, and it is inside the outline: an opening, to
them. What tells it from one is its edge. An opening's rim is the product's inner edge, an
object boundary: across it the colour changes within a pixel or two. A gloss, a reflection, a
soft shadow of light shades into the product's own colour over several pixels all along its
long sides.

Each pixel of the product beside a found region is measured by how much of the colour range
in the window around it (7x7) one step between neighbours makes: near 1 at an object's edge
(or where the scene's texture shows), about a third on a soft ramp. A region soft along most
of its rim is product whole (the streak on binary blobs); else its pixels are given to their
nearest rim pixel, and the soft parts, large enough and joined to the rest of the region only
along a short stretch, are (the streak meeting the shackle's opening at a corner on a page).
Only a part that looks like light on the product: lighter than its rim, of the rim's colour
mixed with white (a gloss does not change the hue), with the product just past its rim the
product's to the colour models. Not where the product's own outline is as soft (a photo out of
focus: softness then tells nothing), and not along a rim with no colour range to measure (a
white product on a white sweep: other tests decide there).
"""

from __future__ import annotations

import numpy as np

WINDOW = 7  # px (reduced copy): the window a rim pixel's range and steepest step are taken in
WIDE = 15  # px: the window where the first has no colour range to measure
SOFT = 0.45  # steepest neighbour step / range under which a rim pixel is on a soft ramp
LEAST_RANGE = 6.0  # CIELAB range in the window under which a rim pixel is not measured
SOFT_AROUND = 0.6  # the least share of soft rim pixels around one (7x7) for it to count
WHOLE = 0.7  # the share of a region's rim that, soft, makes all of it product
CONTACT = 0.3  # the most of a soft part's rim that may be the rest of its region
OUTLINE = 0.5  # the product's outline's median sharpness under which nothing is dropped
HUE = 6.0  # CIELAB a*b* distance of a highlight's colour to its rim's mixed with white
BEYOND = 7  # px past a highlight's rim (its ramp and the product past it) that the colour
# models must call product, by the median
LEAST_SOFT = 8  # soft rim pixels under which a region is not looked at further
LEAST = 24  # px: smaller soft parts are left as they are

NEIGHBOUR_PAIRS = (  # each pair of 8-neighbours once, as the slices of its two pixels: right,
    # down, down-right, down-left (kept_openings.edge_pixels reads them too)
    (np.s_[:, :-1], np.s_[:, 1:]),
    (np.s_[:-1, :], np.s_[1:, :]),
    (np.s_[:-1, :-1], np.s_[1:, 1:]),
    (np.s_[:-1, 1:], np.s_[1:, :-1]),
)


def steps(lab_px: np.ndarray) -> np.ndarray:
    """Each pixel's largest CIELAB distance to one of its 8 neighbours (one compiled pass
    where there is numba: kernels.canvas.neighbour_steps, the same sums)."""
    from .compiled import loops

    h, w, _ = lab_px.shape
    out = np.zeros((h, w), np.float32)
    kernels = loops()
    if kernels is not None and lab_px.dtype == np.float32 and lab_px.flags.c_contiguous:
        kernels.neighbour_steps(lab_px, out)
        return out
    for a, b in NEIGHBOUR_PAIRS:
        d = lab_px[a] - lab_px[b]
        far = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
        np.maximum(out[a], far, out=out[a])
        np.maximum(out[b], far, out=out[b])
    return out


def sharpness(
    lab_px: np.ndarray, where: np.ndarray, window: int = WINDOW
) -> tuple[np.ndarray, np.ndarray]:
    """(steepest neighbour step / colour range, colour range) over the `window` around each
    pixel of `where`: near 1 at an object's edge, about a third on a soft ramp."""
    import cv2

    kernel = np.ones((window, window), np.uint8)
    steepest = cv2.dilate(steps(lab_px), kernel)[where]
    spread = cv2.dilate(lab_px, kernel)[where] - cv2.erode(lab_px, kernel)[where]
    spread = np.sqrt(np.einsum("ij,ij->i", spread, spread))
    return steepest / np.maximum(spread, 1e-3), spread


def soft_parts(
    lab_px: np.ndarray, found: np.ndarray, product: np.ndarray, bg_ratio: np.ndarray | None = None
) -> np.ndarray:
    """The parts of `found` (openings, on the reduced copy) that are the product's own light
    areas by their soft rim (see the module's docstring); empty where there are none.
    bg_ratio: the colour models' log ratio background:product per pixel (openings.Models'
    ratio), where known: a highlight's rim is the product's."""
    import cv2

    out = np.zeros_like(found)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(found.view(np.uint8), 8)
    outline = None  # the product's outline's sharpness, worked out when first needed
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= LEAST) + 1:
        x, y, bw, bh, _ = (int(v) for v in stats[i])
        pad = max(WIDE // 2, BEYOND) + 1
        sl = np.s_[max(0, y - pad) : y + bh + pad, max(0, x - pad) : x + bw + pad]
        near = None if bg_ratio is None else bg_ratio[sl]
        soft = _soft_of(lab_px[sl], labels[sl] == i, found[sl], product[sl], near)
        if not soft.any():
            continue
        if outline is None:
            outline = _outline_sharpness(lab_px, product)
        if outline >= OUTLINE:
            out[sl] |= soft
    return out


def _soft_of(lab_px, region, found, product, bg_ratio) -> np.ndarray:
    """The parts of one found region whose rim is soft: all of it where most of its rim is,
    else the parts that meet the rest of the region along a short stretch only."""
    from .openings import fill_holes, grow

    none = np.zeros_like(region)
    rim = grow(fill_holes(region), 1) & product & ~found  # its islands are no rim
    if rim.sum() < 8:
        return none
    rim, soft = _rim_softness(lab_px, rim)
    if soft.sum() < LEAST_SOFT:
        return none
    free = product & ~found
    if soft.sum() >= WHOLE * rim.sum():
        return region if _highlight(lab_px, region, rim, bg_ratio, free) else none
    for part in _soft_stretches(region, rim, soft):
        beside = grow(part, 1) & ~part
        if int((beside & region).sum()) > CONTACT * int((beside & rim).sum()):
            continue  # a stretch of an opening's rim that happens to be soft
        if _highlight(lab_px, part, beside & rim, bg_ratio, free):
            none |= part
    return none


def _rim_softness(lab_px, rim) -> tuple[np.ndarray, np.ndarray]:
    """(the rim pixels measured, those of them on a soft ramp): a pixel with no colour range
    over WINDOW is measured over WIDE (on a highlight's plateau, its whitest core found, the
    ramp is further out), and not at all where it has none there either."""
    ratio, spread = sharpness(lab_px, rim)
    flat = spread < LEAST_RANGE
    if flat.any():
        wide = np.zeros_like(rim)
        wide[rim] = flat
        ratio[flat], spread[flat] = sharpness(lab_px, wide, WIDE)
    measured = spread >= LEAST_RANGE
    rim = rim.copy()
    rim[rim] = measured
    soft = np.zeros_like(rim)
    soft[rim] = ratio[measured] < SOFT
    return rim, soft


def _soft_stretches(region, rim, soft):
    """The parts of the region nearest to soft stretches of its rim (each pixel goes with its
    nearest rim pixel: a Voronoi split), less slivers, each of at least LEAST px."""
    import cv2

    from .openings import grow, shrink

    around = cv2.blur(soft.astype(np.float32), (7, 7)) / np.maximum(
        cv2.blur(rim.astype(np.float32), (7, 7)), 1e-6
    )
    soft = soft & (around >= SOFT_AROUND)  # a lone soft pixel on a sharp rim is no stretch
    _, nearest = cv2.distanceTransformWithLabels(
        (~rim).view(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    is_soft = np.zeros(int(nearest.max()) + 1, bool)
    is_soft[nearest[rim]] = soft[rim]
    area = region & is_soft[nearest]
    area = grow(shrink(area, 1), 1) & region  # less the slivers between two sharp stretches
    _, parts, stats, _ = cv2.connectedComponentsWithStats(area.view(np.uint8), 8)
    for j in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= LEAST) + 1:
        yield parts == j


def _highlight(lab_px, part, rim, bg_ratio, free) -> bool:
    """Whether the part looks like light on the product around it: lighter than its rim, its
    a*b* the rim's moved toward neutral (the product's colour mixed with white: within HUE of
    that line), and the product (`free`: not found) just beyond its rim the product's to the
    colour models, where they are given."""
    inner, outer = np.median(lab_px[part], axis=0), np.median(lab_px[rim], axis=0)
    if inner[0] <= outer[0]:
        return False
    if bg_ratio is not None:  # past its rim (where the found region ends, the ratio is 0)
        from .openings import grow

        beyond = grow(part, BEYOND) & ~grow(part, 1) & free
        if not beyond.any() or float(np.median(bg_ratio[beyond])) >= 0.0:
            return False
    ab, towards = inner[1:], outer[1:]
    t = float(np.clip(ab @ towards / max(float(towards @ towards), 1e-6), 0.0, 1.0))
    return float(np.linalg.norm(ab - t * towards)) <= HUE


def _outline_sharpness(lab_px: np.ndarray, product: np.ndarray) -> float:
    """The median sharpness of the pixels just outside the product's outline (its object edge:
    near 1 in a photo in focus)."""
    from .openings import grow

    ys, xs = np.nonzero(product)
    if ys.size == 0:
        return 1.0
    pad = WINDOW  # the window's reach past the ring, which is 1 px past the outline
    sl = np.s_[
        max(0, ys.min() - pad) : ys.max() + pad + 1, max(0, xs.min() - pad) : xs.max() + pad + 1
    ]
    ring = grow(product[sl], 1) & ~product[sl]
    if ring.sum() < 8:
        return 1.0
    ratio, spread = sharpness(lab_px[sl], ring)
    measured = ratio[spread >= LEAST_RANGE]
    return float(np.median(measured)) if measured.size else 1.0
