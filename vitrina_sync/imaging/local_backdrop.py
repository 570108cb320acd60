"""Openings in the colours of the backdrop right around the product (issue 16, round 11).

The openings step's colour models are histograms of the whole sure background and of the sure
product. On a busy photo both are diluted: the product's model holds whatever the model outlined
with the product (the logo's white stroke in the bump it took above a frame, the disc it filled
between a bag's handles), so a part of an opening in those colours reads as product to them (the
white stroke crossing a frame's opening on the scikit-image logo stays, 0.10 of the opening).

What shows through an opening is the backdrop that lies just around the product. Here the sure
background in a ring around the outline (two outline bands wide) is taken as a set of exact
colours (CIELAB cells of CELL units, each with its neighbours); the product's pixels in those
colours form candidate regions. One is cleared only if it is enclosed (off the outside), solid,
has a colour step (>= STEP) to the product around it, that product is not itself in the ring's
colours (under LIKE of it: a white mug beside a white cup is not told apart this way), it is no
printed panel (a flat field with marks: a box's label), no soft light on the product
(highlights.soft_parts: a padlock's gloss), and it is the rest of openings already found: it
meets them, lies at least WITHIN in their convex hull (the stroke crossing a frame's opening;
not a coffee cup's rim beside the cup's inside the models found, the cup outlined with a ring),
and with them makes >= ALONE of the product (a padlock's dark keyhole, 1% of it, is in a busy
backdrop's dark colours too, and the colour models may have taken its rim).
"""

from __future__ import annotations

import numpy as np

CELL = 3.0  # CIELAB units per cell of the ring's colour set
L_CELLS, AB_CELLS = 34, 86
RING = 2  # the ring's width around the outline, in outline bands (openings._band_width)
LIKE = 0.3  # the most share of the product around a region that may be in the ring's colours
STEP = 7.0  # the least CIELAB step between a region's rim and the product around it
SOLID = 0.9  # the least share of a region's filled area in the ring's colours
LEAST_SHARE = 0.01  # of the product: the least region (a 0.4% sliver of the coffee in the cup a
# bag was outlined with, cleared, moved imaging.parted's cut: bag-on-coffee 0.961 -> 0.874)
WITHIN = 0.5  # the least share of a region in the hull of the openings it meets
ALONE = 0.03  # of the product: the least region with the found openings it meets


def _cells(lab_px: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    li = np.clip((lab_px[..., 0] / CELL).astype(np.int32), 0, L_CELLS - 1)
    ai = np.clip(((lab_px[..., 1] + 128.0) / CELL).astype(np.int32), 0, AB_CELLS - 1)
    bi = np.clip(((lab_px[..., 2] + 128.0) / CELL).astype(np.int32), 0, AB_CELLS - 1)
    return li, ai, bi


def colour_set(lab_px: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The cells of the colours at `where`, each with its 26 neighbours (a bool table: the
    occupied cells shifted by each neighbour's offset, the same as a 3x3x3 binary dilation of
    them, a few times faster)."""
    table = np.zeros((L_CELLS, AB_CELLS, AB_CELLS), bool)
    li, ai, bi = _cells(lab_px[where])
    cells = np.unique((li * AB_CELLS + ai) * AB_CELLS + bi)
    li, rest = np.divmod(cells, AB_CELLS * AB_CELLS)
    ai, bi = np.divmod(rest, AB_CELLS)
    for dl in (-1, 0, 1):
        lj = np.clip(li + dl, 0, L_CELLS - 1)
        for da in (-1, 0, 1):
            aj = np.clip(ai + da, 0, AB_CELLS - 1)
            for db in (-1, 0, 1):
                table[lj, aj, np.clip(bi + db, 0, AB_CELLS - 1)] = True
    return table


def in_set(table: np.ndarray, lab_px: np.ndarray) -> np.ndarray:
    li, ai, bi = _cells(lab_px)
    return table[li, ai, bi]


def regions(models, product: np.ndarray, outside: np.ndarray, found: np.ndarray, keep=None):
    """Pixels of the product (the openings step's reduced copy) in regions of the ring's exact
    colours that are background showing through (see the module's notes); models: the openings
    step's (lab, ratio, sure_bg)."""
    from . import highlights
    from .openings import _band_width, components, fill_holes, flat_with_marks, grow, hull, shrink

    out = np.zeros_like(product)
    area = int(product.sum())
    ring = models.sure_bg & grow(product, RING * _band_width(fill_holes(product)))
    if area < 100 or ring.sum() < 200:
        return out
    lab_px = models.lab
    table = colour_set(lab_px, ring)
    near = product & ~found & in_set(table, lab_px)
    if keep is not None:
        near &= ~keep
    smallest = max(24.0, LEAST_SHARE * area)
    _, labels, size = components(near)
    _, found_labels, found_size = components(found)
    found_size[0] = 0
    for i in np.flatnonzero(size >= smallest):
        if i == 0:
            continue
        region = labels == i
        # with the openings found that it meets, >= ALONE of the product (a padlock's keyhole
        # whose rim the colour models took is no opening's rest)
        met = np.unique(found_labels[grow(region, 2)])
        met = met[met > 0]
        if len(met) == 0 or size[i] + int(found_size[met].sum()) < ALONE * area:
            continue
        # within the hull of the openings it meets: the stroke crossing a frame's opening; a
        # coffee cup's rim beside the cup's inside found as an opening is not
        within = hull(np.isin(found_labels, met))
        if (region & within).sum() < WITHIN * region.sum():
            continue
        filled = fill_holes(region)
        if (grow(filled, 2) & outside).any() or region.sum() < SOLID * filled.sum():
            continue
        rim_out = grow(filled, 6) & product & ~grow(filled, 1) & ~found
        rim_in = filled & ~shrink(filled, 3)
        if rim_out.sum() < 8 or rim_in.sum() < 8:
            continue
        if float(in_set(table, lab_px[rim_out]).mean()) >= LIKE:
            continue
        if np.linalg.norm(lab_px[rim_in].mean(axis=0) - lab_px[rim_out].mean(axis=0)) < STEP:
            continue
        inner = shrink(hull(region), 2)
        if inner.sum() >= 24 and flat_with_marks(lab_px[inner]) is not None:
            continue  # a printed panel
        region &= ~highlights.soft_parts(lab_px, region, product, models.ratio)
        if region.sum() >= smallest:
            out |= region
    return out
