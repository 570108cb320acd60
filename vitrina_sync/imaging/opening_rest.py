"""The rest of an opening, once imaging.parted has taken another object off the product.

On a busy photo u2netp outlines the product with another object behind it (a gold ring over
the coffee cup): the ring's opening shows the cup (its crema, its rim), and while the cup is
part of the outline the openings step's colour models hold the crema as product, so they clear
only the part of the opening in the cup's other colours (its dark body: half the ring's hole).
parted then takes the cup off by a graph cut, but the crema inside the ring stays: it lies
within the ring, joined to the kept product (ring-on-coffee: kept 0.56 of the opening).

Once the other object is gone, the photo tells the two apart by their exact colours: the
product's are those of its outline band (the ring's gold), the backdrop's are those of what
now lies around the product (the sure background in a ring two outline bands wide) and of what
parted took (the cup). A region of the kept product in the backdrop's colours and none of the
product's, that meets an opening the product already has (a hole in its outline, REST_OF of
it at least) and stays off its outline, is the rest of that opening; the kept pixels within
the convex hull of the two (a thin line of the cup's rim between them, a soft inner edge) go
with it where they are few (SLIVER). A region with no colour step to the product around it
(STEP) is not taken, nor anything of a product that has no opening: a box's white label over
the coffee photo is in the cup's colours and none of the red box's, and stays.

Round 13: the product's colours are read off the seam parted cut (its outline band within one
band of what parted took holds what the other object left joined to the product: the astronaut's
face between a bag's straps, in the colours of the head parted took; bag-on-astronaut 0.818 ->
0.936, kept opening 0.395 -> 0.040), or from the whole band where under BAND_LEAST of it is off
the seam (a ring the other object surrounds).

Runs only where parted took something off (one photo in many; 0 ms elsewhere): 2-17 ms of CPU
there (process_time on tune's busy scenes, the box shared), on the openings step's ~320 px copy.
tune: ring-on-coffee 0.738 -> 0.914 (kept opening 0.555 -> 0.003); no other scene of the sets
moved.
"""

from __future__ import annotations

import numpy as np

from . import local_backdrop
from .openings import (
    SIDE,
    _band_width,
    components,
    fill_holes,
    grow,
    hull,
    joined_to,
    lab,
    margin,
    reduced,
    shrink,
)

RING = 3  # the backdrop's sample: the sure background this many outline bands around the product
OPENING = 0.01  # of the kept product: the least opening (a hole in its outline) a region may meet
LEAST = 0.005  # of the kept product: the least region
REST_OF = 0.3  # the least share of the opening it meets a region is (the rest of an opening is a
# large part of it; a sliver along a hole's rim in the backdrop's colours is the rim's fuzz)
SLIVER = 0.5  # the most share of a region the kept pixels in the hull beside it may add
STEP = 7.0  # CIELAB: the least step between the region's rim and the product around it
OFF_EDGE = 2  # px (reduced copy) a region stays off the outline
BAND_LEAST = 50  # px (reduced copy): the least outline band the product's colours are read from
MEET = 1.0  # outline bands: a region this near an opening meets it (a line of the other
# object's rim in the product's colours too, the cup's white rim, may lie between them)


def after_parting(rgb: np.ndarray, p: np.ndarray, other: np.ndarray, keep=None) -> np.ndarray:
    """Pixels of p > 0.5 (the alpha after parted took `other` off; work copy rgb) that are the
    rest of an opening the product has (see the module's notes); all False where none is."""
    import cv2

    h, w = p.shape
    out = np.zeros((h, w), bool)
    k = max(1, max(h, w) // SIDE)
    small_rgb, small_p = reduced(rgb, k), reduced(p, k)
    small_other = reduced(other, k)
    kept = small_p > 0.5
    area = int(kept.sum())
    if area < 100:
        return out
    filled = fill_holes(kept)
    n, labels, size = components(filled & ~kept)
    size[0] = 0
    holes = np.isin(labels, np.flatnonzero(size >= OPENING * area)) if n > 1 else None
    if holes is None or not holes.any():
        return out
    lab_px = lab(small_rgb)
    gap = margin(small_p.shape)
    band = _band_width(filled)
    # the product's own colours: its outline band, off the openings (what is left in them lies
    # within a band of the outline too, in the handle of a mug)
    outline_band = shrink(kept, gap) & ~shrink(filled, band) & ~grow(holes, band)
    # and off the seam parted cut (one band from what it took): the band there holds what the
    # other object left joined to the product (the astronaut's face between a bag's straps, in
    # the colours of the head parted took); read whole where the seam runs along all of it
    off_seam = outline_band & ~grow(small_other, band)
    if off_seam.sum() >= BAND_LEAST:
        outline_band = off_seam
    around = (small_p < 0.05) & ~grow(kept, gap) & grow(kept, RING * band)
    backdrop = around | (small_other & ~kept)
    if outline_band.sum() < BAND_LEAST or backdrop.sum() < 200:
        return out
    theirs = local_backdrop.in_set(local_backdrop.colour_set(lab_px, backdrop), lab_px)
    ours = local_backdrop.in_set(local_backdrop.colour_set(lab_px, outline_band), lab_px)
    candidate = kept & theirs & ~ours & ~grow(~filled, OFF_EDGE)
    small_keep = None if keep is None else reduced(keep, k)
    if small_keep is not None:
        candidate &= ~small_keep
    # the candidate's pieces with a pixel near an opening (MEET)
    meet = max(2, round(MEET * band))
    candidate = joined_to(candidate, candidate & grow(holes, meet))
    if not candidate.any():
        return out
    found = np.zeros_like(kept)
    _, parts, part_size = components(candidate)
    for i in np.flatnonzero(part_size >= max(24.0, LEAST * area)):
        if i == 0:
            continue
        region = parts == i
        met = np.unique(labels[grow(region, meet) & holes])
        opening = np.isin(labels, met[met > 0])
        if region.sum() < REST_OF * opening.sum():
            continue
        whole = hull(region | opening)
        beside = kept & shrink(whole, 1) & ~region
        if small_keep is not None:
            beside &= ~small_keep
        if beside.sum() > SLIVER * region.sum():
            continue
        region |= beside
        rim_in = region & ~shrink(region | opening, 3)
        rim_out = grow(region, 6) & kept & ~region
        if rim_in.sum() < 8 or rim_out.sum() < 8:
            continue
        step = np.linalg.norm(lab_px[rim_in].mean(axis=0) - lab_px[rim_out].mean(axis=0))
        if step < STEP:
            continue
        found |= region
    if not found.any():
        return out
    out = cv2.resize(found.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)
    out &= p > 0.5
    if keep is not None:
        out &= ~keep
    return out
