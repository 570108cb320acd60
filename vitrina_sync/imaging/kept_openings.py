"""QA's kept_opening figure: openings the output keeps as product, with something seen through.

A padlock's shackle opening kept whole shows what lies behind it: a coin, part of a camera.
bg_inside misses such a region when it is joined to the outside through the model's soft rim,
or when the background's model explains it only half (a coin the sure background around the
product holds a few of): the openings detector then waits for a certainty a reporter need not.
This figure asks what a reviewer sees instead: inside the outline, off it, a wide region that

- the product's own colours (its sure pixels along the outline, where no opening is) explain
  worse than the scene around the product does (the colour/texture models of imaging.openings);
- is set off from the product around it by an edge in the photo along most of its rim (a gloss
  streak shades into the product: no edge; an opening's rim is the product's inner edge);
- on a plain backdrop, is that backdrop's colour continued under the product (a label's white on
  a white sweep differs from it by 4-5 dE; the sweep seen through an opening by under 3).

The figure is the share of the product's area in such regions; `where` gives the largest one's
box, the place to look. Measured on the 320 px copy bg_inside and soft_holes share.
"""

from __future__ import annotations

import numpy as np

RATIO = 0.5  # a pixel's bg:product log-likelihood ratio (5x5) over which it is the scene's
MEDIAN_RATIO = 0.8  # on texture: the least median ratio of a region (the coin seen: 1.1)
THIN = 5  # px (reduced copy): links and strips this thin are no opening
OFF_EDGE = 4  # px off the outline: the edge's own fuzz is the halo's business
EDGE_STEP = 12.0  # CIELAB distance to a neighbour that makes a pixel an edge in the photo
EDGE_REACH = 2  # px from the region's rim within which the edge must lie
CRISP = 0.5  # the least share of the rim along such an edge
PLAIN_DE = 3.0  # on a plain backdrop: the region's median distance to its continued colour
MIN_SHARE = 0.01  # of the product's area: smaller regions are print, keyholes, specks


def neighbour_step(lab_px: np.ndarray) -> np.ndarray:
    """Per pixel, the largest CIELAB distance to one of its 8 neighbours (edge of the frame:
    the pixel itself)."""
    h, w, _ = lab_px.shape
    pad = np.pad(lab_px, ((1, 1), (1, 1), (0, 0)), mode="edge")
    best = np.zeros((h, w), np.float32)
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each pair of neighbours once
        d = pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] - lab_px
        step = np.sqrt((d * d).sum(axis=2))
        best = np.maximum(best, step)
        # the same step seen from the other pixel of the pair
        back = np.zeros((h + 2, w + 2), np.float32)
        back[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] = step
        best = np.maximum(best, back[1:-1, 1:-1])
    return best


def kept_openings(shape, models=None) -> tuple[float, tuple[int, int, int, int] | None]:
    """(share of the product's area kept as product in openings with the scene seen through,
    the largest such region's box (l, t, r, b) in the region's pixels, or None).

    shape: qa.ShapeCopy of the output's source and alpha; models: imaging.openings' Models of
    that copy, where bg_inside built them (refitted here to the product's outline band)."""
    import cv2

    from .openings import _band_width, build, fill_holes, grow, shrink

    p = shape.alpha
    product = p > 0.5
    area = int(product.sum())
    if area < 400:
        return 0.0, None
    h, w = p.shape
    margin = max(2, round(0.006 * max(h, w)))  # as openings.match_regions
    filled = fill_holes(product)
    sure_fg = shrink(p > 0.95, margin)
    band = sure_fg & ~shrink(filled, _band_width(filled))  # where an opening is not
    band = band if band.sum() >= 200 else sure_fg
    if models is None:
        models = build(shape.rgb, (p < 0.05) & ~grow(product, margin), band)
    else:
        models.fit(band)
    if models is None:
        return 0.0, None
    line = neighbour_step(models.lab) >= EDGE_STEP  # the photo's edges
    inner = product & shrink(filled, OFF_EDGE)
    seen = inner & (models.ratio > RATIO) & ~line  # split along the edges (a gloss meets it)
    crisp = _crisp_parts(seen, product & ~seen, grow(line, EDGE_REACH))
    if not crisp.any():
        return 0.0, None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (grow(crisp, 1) & inner).view(np.uint8),
        8,  # parts apart by an edge line: one region
    )
    smallest = max(24, MIN_SHARE * area)
    kept, best = 0, (0, None)
    for i in range(1, n):
        x, y, bw, bh, size = (int(v) for v in stats[i])
        if size < smallest:
            continue
        sl = np.s_[y : y + bh, x : x + bw]
        region = (labels[sl] == i) & crisp[sl]
        size = int(region.sum())
        if size < smallest or not _scene_like(models, region, sl):
            continue
        kept += size
        if size > best[0]:
            best = (size, (x, y, x + bw, y + bh))
    if best[1] is None:
        return 0.0, None
    k = shape.k
    l, t, r, b = best[1]
    return kept / area, (l * k, t * k, min(r * k, shape.width), min(b * k, shape.height))


def _crisp_parts(seen: np.ndarray, around: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The connected parts of `seen` whose rim (their pixels of `around` beside them) lies
    along `edges` for at least CRISP of its length, in one pass over all parts."""
    import cv2

    n, labels = cv2.connectedComponents(seen.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(seen)
    beside = cv2.dilate(labels.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
    rim = around & (beside > 0)  # each rim pixel counts for the highest label beside it
    total = np.bincount(beside[rim], minlength=n)
    along = np.bincount(beside[rim & edges], minlength=n)
    good = along >= CRISP * np.maximum(total, 1)
    good[0] = False
    return good[labels]


def _scene_like(models, region, sl) -> bool:
    """Whether the region's pixels are the scene's: on a plain backdrop its continued colour,
    on texture the scene's model over the product's outline band (median ratio)."""
    continued = models.continued
    if continued is not None:
        d = models.lab[sl][region] - continued[sl][region]
        return float(np.median(np.sqrt((d * d).sum(axis=1)))) <= PLAIN_DE
    return float(np.median(models.ratio[sl][region])) >= MEDIAN_RATIO
