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
pass), and it never takes the product's sure core. The same cut settles a large region the
first pass found and the real pass lost (`lost`: an opening half in the sure product).

`settle` finishes the large openings found: the colour models stop short of an opening's rim
where the 5x5 smoothing mixes in the product (a band along a shackle's inner edge on the moon)
or where the scene behind matches the product's colours in their coarse bins (a brick's face,
the rocket's white body, a neutral grey camera behind a bluish grey shackle). A cut seeded with
the found opening as sure background gives it the rest up to the product's inner edge, where
the photo has its edge. It cuts twice: once as GrabCut learns its colour models (from all the
seeds, the undecided band counted as product: it holds part of what is to be found, and a cut
along a band of mixed pixels on a light sweep is found only so) and once with models learnt
from the sure sides alone and frozen (a part of the scene the first models took in, a grey
face behind the shackle, is then the background's); what either gives the opening goes.
"""

from __future__ import annotations

import numpy as np

ITERATIONS = 1  # GrabCut's: one settles these (three moved 0.5% of an opening, at 3x the cost)
AROUND = 10  # px (reduced copy) of product around a region the cut may also decide (6: the
# dark half of a shackle's opening on brick, the padlock's own grey, stayed product)
PAD = 12  # px of context around a region's box that the cut sees
RNG_SEED = 0  # OpenCV's generator, for GrabCut's k-means (see cut)
AGREE = 0.5  # the least share of a cut opening that the colour models found background-like
SHARE = 0.03  # of the product's area: the least a lost region or a cut's openings are


def joined(rgb, p, ratio: np.ndarray, outside, smallest: float, keep=None, on=True) -> np.ndarray:
    """The openings joined to the edge's fuzz, from the first pass's ratio (its product model is
    the outline band's, which the opening is not in); nothing when not `on`."""
    product = p > 0.5
    if not on:
        return np.zeros_like(product)
    core = cores(ratio, product, outside, smallest, keep)
    if not core.any():
        return core
    return cut(rgb, p, core, outside, smallest, SHARE * product.sum(), keep)


def lost(rgb, p, regions: np.ndarray, outside, smallest: float, keep=None) -> np.ndarray:
    """Regions the first pass found and the real pass lost, settled by the cut: a shackle's
    opening on brick, half in the sure product, its brick a part of the product's model. Only
    large ones (SHARE): a padlock's printed keyhole, dark like the moon's pits, passes the
    first pass too. Such a region deep in the outline, with no scene in the cut's box, is the
    cut's background sample itself (cut's `enclosed`)."""

    if not regions.any():
        return regions
    least = SHARE * float((p > 0.5).sum())
    regions = _large(regions, least)
    if not regions.any():
        return regions
    return cut(rgb, p, regions, outside, smallest, least, keep, enclosed=True)


def settle(rgb, p, found: np.ndarray, keep=None, both=True) -> np.ndarray:
    """Product pixels (p > 0.5) beside the large openings in `found` (each SHARE of the product
    or more, enclosed by the rest of it) that a graph cut seeded with them as background gives
    to the background (either of two cuts, see the module's docstring; only the frozen one
    unless `both`: QA's check, at half the cost): joined to an opening, and leaving it
    enclosed. (A keyhole is small: it is neither settled nor grown into the body.)"""
    import cv2

    from .openings import fill_holes, joined_to

    product = p > 0.5
    rest = product & ~found
    opening = _large(found & fill_holes(rest), SHARE * float(product.sum()))
    if not opening.any():
        return np.zeros_like(product)
    sl, seeds = _seeds(p, rest, opening, keep)
    if not (seeds == cv2.GC_FGD).any():  # no sure product to learn its colours from
        return np.zeros_like(product)
    back = np.zeros_like(product)
    either = _grabcut(rgb[sl], seeds.copy(), frozen=True)
    if both:
        either |= _grabcut(rgb[sl], seeds)
    back[sl] = either & rest[sl]
    new = joined_to(back, opening)
    return new & fill_holes(rest & ~new)


def _grabcut(rgb: np.ndarray, seeds: np.ndarray, frozen=False) -> np.ndarray:
    """The pixels GrabCut gives to the background, from `seeds` (its mask, changed in place);
    frozen: its colour models learnt from the sure seeds alone and kept through the cut."""
    import cv2

    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    image = np.ascontiguousarray(rgb)
    # GrabCut seeds its colour models by k-means from OpenCV's global generator: seeded here,
    # a photo's cut does not depend on what was cut before it in the process
    cv2.setRNGSeed(RNG_SEED)
    if frozen:  # the models from the sure pixels alone, laid out as a one-column image
        sure = (seeds == cv2.GC_BGD) | (seeds == cv2.GC_FGD)
        sample = np.ascontiguousarray(image[sure][:, None])
        labels = np.ascontiguousarray(seeds[sure][:, None])
        cv2.grabCut(sample, labels, None, bgd, fgd, 0, cv2.GC_INIT_WITH_MASK)
        cv2.grabCut(image, seeds, None, bgd, fgd, 1, cv2.GC_EVAL_FREEZE_MODEL)
    else:
        cv2.grabCut(image, seeds, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    return (seeds == cv2.GC_BGD) | (seeds == cv2.GC_PR_BGD)


def cores(ratio: np.ndarray, product, outside, smallest: float, keep=None) -> np.ndarray:
    """The parts off the outline (less thin links) of the background-like regions (ratio > 0)
    that touch the outside: a region the colour models can only call edge fuzz."""
    import cv2

    from .openings import OFF_EDGE, THIN, grow, shrink

    weak = product & (ratio > 0.0)
    if keep is not None:
        weak &= ~keep
    n, labels = cv2.connectedComponents(weak.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(product)
    touching = np.zeros(n, bool)
    touching[labels[grow(outside, 2) & weak]] = True
    touching[0] = False
    core = touching[labels] & ~grow(outside, OFF_EDGE)
    core &= grow(shrink(core, THIN), THIN)
    return _large(core, smallest)


def _large(mask: np.ndarray, least: float) -> np.ndarray:
    """The connected parts (8-connected) of `mask` of at least `least` pixels."""
    from .openings import components

    _, parts, area = components(mask)
    big = area >= least  # a table of the parts (not np.isin's search): the same pixels
    big[0] = False
    return big[parts]


def _seeds(p: np.ndarray, sure: np.ndarray, near: np.ndarray, keep=None):
    """(slice, GrabCut seeds) over `near`'s box grown by PAD: background, probably background
    where the model saw something (p > 0.05) outside its outline (p > 0.5), product on `sure`,
    probably product on `sure` within AROUND of `near`, product under a `keep` stroke."""
    import cv2

    from .openings import box_of, grow

    sl = box_of(grow(near, PAD))  # near is not empty
    seeds = np.full(sure[sl].shape, cv2.GC_BGD, np.uint8)
    seeds[(p[sl] > 0.05) & (p[sl] <= 0.5)] = cv2.GC_PR_BGD
    seeds[sure[sl]] = cv2.GC_FGD
    seeds[sure[sl] & grow(near, AROUND)[sl]] = cv2.GC_PR_FGD
    if keep is not None:
        seeds[keep[sl]] = cv2.GC_FGD
    return sl, seeds


def cut(
    rgb: np.ndarray,
    p: np.ndarray,
    core: np.ndarray,
    outside,
    smallest: float,
    least=0.0,
    keep=None,
    enclosed=False,
):
    """Pixels of the product (p > 0.5) that a graph cut around `core` gives to the background
    and that are openings: off the outline, each at least `smallest`, mostly in `core`, all
    together at least `least` (a printed keyhole alone, dark like the moon's pits, is none).
    enclosed: where the cut's box holds under `smallest` sure background (an opening deep in
    a wide outline: a frame's, the model having taken the motorcycle behind it too), `core` is
    seeded as probable background, so that the cut learns the scene from it."""
    import cv2

    from .openings import OFF_EDGE, components, grow

    product = p > 0.5
    # the openings kept are mostly (AGREE) in `core`: together at most |core| / AGREE pixels,
    # so a core under AGREE * least can give none (no cut made; each cut seeds OpenCV's
    # generator itself, so the cuts after it do not change)
    if float(np.count_nonzero(core)) < AGREE * max(least, 1):
        return np.zeros_like(product)
    sl, seeds = _seeds(p, product, core, keep)
    if enclosed and (seeds == cv2.GC_BGD).sum() < smallest:
        seeds[core[sl]] = cv2.GC_PR_BGD
    background = (seeds == cv2.GC_BGD) | (seeds == cv2.GC_PR_BGD)
    if background.all() or not background.any():  # GrabCut needs samples of both
        return np.zeros_like(product)
    back = np.zeros_like(product)
    back[sl] = _grabcut(rgb[sl], seeds) & product[sl]
    off = back & ~grow(outside, OFF_EDGE)
    n, labels, area = components(off)
    inside = np.bincount(labels[core], minlength=n)
    ok = (area >= smallest) & (inside >= AGREE * area)
    ok[0] = False
    if area[ok].sum() < max(least, 1):
        return np.zeros_like(product)
    opening = ok[labels]
    # each opening with the fuzz the cut joined to it (back to the outline)
    return opening | (grow(opening, OFF_EDGE) & back)
