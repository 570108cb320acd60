"""A closer look for a product inside the backdrop's own salient thing.

u2netp outlines what stands out of the whole photo. When the backdrop is itself one large
salient thing (the Shepp-Logan phantom's ellipse, a retina's disc, the cup of a coffee photo)
with the product lying inside it, the first map outlines the backdrop's thing whole: a big,
solid outline spanning most of the frame both ways, the product somewhere in it (box on the
phantom: IoU 0.46). The product is what a seller centred; the model on the frame's central crop
(SHARE of each side, the backdrop's thing cut by the crop's sides, the product whole inside it)
outlines the product alone (box on the phantom: 0.999 on the crop).

Cheap test first (`big`): the outline's box spans SPAN of the frame's width and height and its
filled outline is FULL of the frame, and (`apart`) the outline in the frame's middle differs in
colour from what the crop leaves out (RIM_DE): 4 of the speed benchmark's 96 photos (the bag and
the bottle on the coffee photo, twice each; the bottle's crop map taken; none of the 48 held-out
ones), 0 of bench_closeups' 132 (16 of them are `big`: one product filling the frame, of one
colour). Then one model run on the crop, whose map is taken (`taken`) only where it is a product whole inside the crop (touching
none of its sides, so a product filling the frame, which the crop cuts, never is), holding the
frame's middle, lying inside the first outline, a small part of it (at most PART: the crop did
part the product from something else) and apart from what it drops in colour (RISE_DE: mean
colours; EVEN_SAME: the share of the dropped part in the product's own colours): the rest of a
product whose label the crop outlined is of the product's colours."""

from __future__ import annotations

import numpy as np

from .openings import fill_holes, grow
from .subject import CENTRE, EVEN_SAME, RISE_DE, _in_colours, _lab, _predict, centred

SPAN = 0.8  # the least share of the frame's width and of its height the first outline's box spans
FULL = 0.38  # the least share of the frame the first outline (holes filled) covers (the cup and
# the bottle on the coffee photo 0.40; the phantom's ellipse 0.64)
SHARE = 0.85  # the crop the model looks at again: each side's share of the frame, centred
PART = 0.6  # the most share of the first outline (filled, in the crop) the crop's outline is
LEAST = 0.03  # and the least (a speck is no product)
INVENTED = 0.05  # the most share of the crop's outline off the first outline (3 px grown)
RIM_DE = 22.0  # the least colour difference (8-bit CIELAB, mean colours) between the outline in
# the frame's middle and the outline the crop leaves out, where the model runs (the phantom's
# ellipse around the box 35, the colour wheel around the bag 31; close-ups of one product 6-15)


def big(p: np.ndarray) -> bool:
    """Whether the first outline (p > 0.5) is large and solid enough to be a backdrop's own
    salient thing with the product inside it (SPAN, FULL)."""
    product = p > 0.5
    if not product.any():
        return False
    h, w = product.shape
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    if (rows[-1] + 1 - rows[0]) < SPAN * h or (cols[-1] + 1 - cols[0]) < SPAN * w:
        return False
    return bool(fill_holes(product).sum() >= FULL * h * w)


def apart(rgb: np.ndarray, p: np.ndarray) -> bool:
    """Whether the first outline (p > 0.5) in the frame's middle (CENTRE) differs in colour by
    RIM_DE from the outline the crop (SHARE) leaves out: another thing around the product. A
    close-up of one product, which the crop cuts, is of one colour (no run); one whose middle
    the outline does not hold (a frame's opening) is not looked at either."""
    product = p > 0.5
    ml, mt, mr, mb = centred(p.shape, CENTRE)
    middle = rgb[mt:mb, ml:mr][product[mt:mb, ml:mr]]
    l, t, r, b = centred(p.shape, SHARE)
    outer = product.copy()
    outer[t:b, l:r] = False
    rim = rgb[outer]
    if not len(middle) or not len(rim):
        return False
    return float(np.linalg.norm(_lab(rim).mean(axis=0) - _lab(middle).mean(axis=0))) >= RIM_DE


def taken(rgb: np.ndarray, first: np.ndarray, crop: np.ndarray, box) -> bool:
    """Whether the crop's outline (bool, over the crop `box` of the work copy rgb) is the
    product inside the first outline (bool, the whole frame): see the module's doc."""
    l, t, r, b = box
    if not crop.any() or crop[0].any() or crop[-1].any() or crop[:, 0].any() or crop[:, -1].any():
        return False
    there = first[t:b, l:r]
    filled, whole = fill_holes(crop), fill_holes(there).sum()
    if not LEAST * whole <= filled.sum() <= PART * whole:
        return False
    ml, mt, mr, mb = centred(first.shape, CENTRE)
    if not filled[mt - t : mb - t, ml - l : mr - l].any():
        return False  # not what the seller centred
    if (crop & ~grow(there, 3)).sum() > INVENTED * crop.sum():
        return False
    dropped = there & ~grow(filled, 3)
    own, apart = rgb[t:b, l:r][crop], rgb[t:b, l:r][dropped]
    if not len(apart):
        return False
    de = float(np.linalg.norm(_lab(apart).mean(axis=0) - _lab(own).mean(axis=0)))
    return de >= RISE_DE and _in_colours(apart, own) < EVEN_SAME


def look(rgb: np.ndarray, p: np.ndarray, model: str) -> np.ndarray:
    """The model's map, or the crop's where the first outline is `big` and the crop's outline is
    `taken` (0 outside the crop). rgb: the work copy; p: the model's alpha on it. The model
    runs only where the first outline is `big` and `apart`."""
    if not big(p) or not apart(rgb, p):
        return p
    box = centred(p.shape, SHARE)
    l, t, r, b = box
    crop = _predict(rgb[t:b, l:r], model)
    if crop is None or not taken(rgb, p > 0.5, crop > 0.5, box):
        return p
    out = np.zeros_like(p)
    out[t:b, l:r] = crop
    return out
