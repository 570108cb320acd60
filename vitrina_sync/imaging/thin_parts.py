"""Thin parts of the product the model saw only faintly and the cut dropped: a bag's straps on
a shop shelf (p 0.1-0.6 along a 5 px strap, broken up, its pieces cleared as strays), leaving
stubs at the body's edge. u2netp at 320 px answers weakly along thin structures on texture;
the evidence that such an answer is the product and not the shelf is that it runs on from the
kept product in the product's own colour, as a line: the backdrop's own product-coloured
things (a brown pack beside a brown bag) are blocks, not lines.

`given_back` is a "+" step of steps.step_masks (pixels to make product), at work resolution.
"""

from __future__ import annotations

import numpy as np

from . import openings

FAINT_P = 0.05  # the least model answer along a lost part (a strap on the shelf: median 0.17)
ALIKE_DE = 15.0  # CIELAB distance to the product's colour where the part leaves it
BLOCK = 4  # px: a product-coloured region wider than 2*BLOCK+1 is a thing of the backdrop
RING = 3  # px off the outline that the edge's own fuzz reaches; a part reaches past it
REACH = 24  # px (work copy): the least a part reaches off the outline (straps: 28-171)
LEAST_PX = 20  # the least pixels of a part past the ring
WIDTH = (2.5, 8.0)  # a part's mean width (area over half its rim; a strap: 4.3-4.8): under it
# an edge of another thing (a coin's rim: 2), over it a patch, not a line
WINDING = 2.5  # the most a line's length is of its span (a strap's two legs: 1.8; grass: 7)
ENDS_APART = 12  # px: a loop's two ends on the outline lie at least this far apart
FREE_REACH = 2 * REACH  # px: a line with one end free reaches this far (a strap whose other leg
# crosses a pack of its colour: 171; a fold of a suit beside a brown bag: 34)
RIDGE = 0.5  # the most of a part's answer the model gives beside it (see _ridges)
JOINT = 3  # px off the parts where the product's colour is read (the stubs they leave from)


def given_back(rgb: np.ndarray, p: np.ndarray, cleared: np.ndarray, strays=None) -> np.ndarray:
    """Pixels to make product: faint (p > FAINT_P) outside the product's outline, in the
    product's colour where they leave it, on no block of that colour, in lines (WIDTH,
    WINDING) that leave the product and come back to it (a strap, a handle: both ends on the
    outline ENDS_APART px or more apart) reaching REACH px or more off it, or with one end
    free reaching FREE_REACH: a short line in the product's colour with a free end is as
    likely the backdrop's (a fold of a suit beside a brown bag); and the model's answer a
    ridge along each (_ridges). What the steps before cleared stays cleared (an opening, a
    remnant, an outgrowth), but for `strays`: pieces apart from the product, which a strap's
    stronger pieces are."""

    product = (p > 0.5) & ~cleared
    out = np.zeros(p.shape, bool)
    if not product.any():
        return out
    stays = cleared if strays is None else cleared & ~strays
    faint = (p > FAINT_P) & ~stays & ~openings.fill_holes(product)
    lines = _lines_off(rgb, product, faint)
    if lines is not None:
        box, found = lines
        out[box] = _ridges(found, p[box], product[box])
    return out


def _lines_off(rgb: np.ndarray, product: np.ndarray, candidates: np.ndarray):
    """(the box, the candidates in the product's colour joined to it that form lines: `_parts`'
    loops and long free ends, with what joins them) where some candidate lies REACH px or more
    off the product; None where none does (the usual case, cheap)."""
    import cv2

    # px to the outline, read at the candidates only: worked out on the box of the product and
    # them (a chamfer distance's shortest path lies in the box of its two ends), 0 elsewhere;
    # the same values up to float32 rounding (OpenCV sums its steps along other paths), and
    # no sum of its steps lies within 0.01 of a bar they are compared with (test)
    near = openings.box_of(product | candidates)
    inside = cv2.distanceTransform((~product[near]).view(np.uint8), cv2.DIST_L2, 3)
    if not (candidates[near] & (inside > REACH)).any():  # the candidates lie in the box
        return None
    off = np.zeros(product.shape, np.float32)
    off[near] = inside
    far = _parts(candidates, off, lines=False)  # at the ring and far off: what may be a part
    if not far.any():
        return None
    box = openings.box_of(far, REACH + BLOCK + JOINT + 2)
    like = _product_coloured(rgb[box], candidates[box], product[box], far[box])
    found = openings.joined_to(like, openings.grow(product[box], 1))
    loops = _parts(found, off[box], lines=True)
    if not loops.any():
        return None
    return box, openings.joined_to(found, loops)


def _ridges(parts: np.ndarray, p: np.ndarray, product: np.ndarray) -> np.ndarray:
    """The parts the model's answer rises along: its mean in a band BLOCK px around the part
    (off the product) under RIDGE of its median on the part (straps on the shelf: 0.24; the
    product-coloured streak of a spoon the model half took: 0.82)."""
    import cv2

    n, labels = cv2.connectedComponents(parts.view(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        part = labels == i
        around = openings.grow(part, BLOCK) & ~part & ~product
        keep[i] = not around.any() or p[around].mean() < RIDGE * np.median(p[part])
    return keep[labels]


def _parts(joined: np.ndarray, off: np.ndarray, lines: bool) -> np.ndarray:
    """The parts of `joined` past the ring that reach REACH px off the outline with LEAST_PX
    pixels; with lines, only lines (WIDTH, WINDING) with both ends on the outline."""
    import cv2

    past = joined & (off > RING)
    if lines:  # the parts' boxes too
        n, labels, stats, _ = cv2.connectedComponentsWithStats(past.view(np.uint8), 8)
        area = stats[:, cv2.CC_STAT_AREA]
    else:  # the area alone (the whole work map: connectedComponents is cheaper)
        n, labels, area = openings.components(past)
    if n <= 1:
        return np.zeros(joined.shape, bool)
    ends = past & (off <= RING + 1.5)  # where a part leaves the product
    ok = area >= LEAST_PX
    ok &= np.bincount(labels[past & (off >= REACH)], minlength=n) > 0
    ok &= np.bincount(labels[ends], minlength=n) > 0
    ok[0] = False
    if lines and ok.any():
        rim = past & ~openings.shrink(past, 1)  # a line's rim: twice its length
        length = np.bincount(labels[rim], minlength=n) / 2.0
        width = area / np.maximum(length, 1.0)
        span = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
        ok &= (width >= WIDTH[0]) & (width <= WIDTH[1]) & (length <= WINDING * span)
        reach = np.zeros(n)
        np.maximum.at(reach, labels[past], off[past])
        ok &= _ends_apart(labels, ends, n) | (reach >= FREE_REACH)
    return ok[labels]


def _ends_apart(labels: np.ndarray, ends: np.ndarray, n: int) -> np.ndarray:
    """Per part: whether it leaves the product and comes back: its pixels at the outline in two
    or more separate pieces (a strap's two legs) spread over ENDS_APART px or more (not one
    stretch along the outline: a spoon's tip lying against a cup's rim)."""
    import cv2

    _, pieces = cv2.connectedComponents(ends.view(np.uint8), connectivity=8)
    ys, xs = np.nonzero(ends)
    which = labels[ys, xs]
    pairs = np.unique(which.astype(np.int64) * (pieces.max() + 1) + pieces[ys, xs])
    apart = np.bincount(pairs // (pieces.max() + 1), minlength=n) >= 2
    spread = np.zeros(n, bool)
    for coord in (ys, xs):
        low, high = np.full(n, 1 << 30), np.full(n, -1)
        np.minimum.at(low, which, coord)
        np.maximum.at(high, which, coord)
        spread |= high - low >= ENDS_APART
    return apart & spread


_SQUARED = np.stack(  # 8-bit Lab's steps squared in CIELAB units: L 100/255 per step, a and b 1
    [np.square(np.arange(256, dtype=np.float32) * k) for k in (100.0 / 255.0, 1.0, 1.0)], axis=-1
).reshape(1, 256, 3)


def _product_coloured(rgb, faint: np.ndarray, product: np.ndarray, far: np.ndarray) -> np.ndarray:
    """The faint pixels within ALIKE_DE of the product's colour where the far parts leave it
    (the median over the product's pixels at their joint: a bag's strap's stubs) and on no
    block of that colour (a brown pack on the shelf behind a brown bag)."""
    import cv2

    joint = product & openings.grow(far, RING + JOINT) & ~openings.grow(~product, 1)
    if not joint.any():
        return np.zeros(faint.shape, bool)
    lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)  # 8 bit: L in 0-255
    ref = np.round(np.median(lab[joint], axis=0))
    gap = cv2.absdiff(lab, np.full(lab.shape, ref, np.uint8))
    squared = cv2.LUT(gap, _SQUARED)  # CIELAB units squared, per channel
    alike = cv2.transform(squared, np.ones((1, 3), np.float32)) < ALIKE_DE * ALIKE_DE
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BLOCK + 1, 2 * BLOCK + 1))
    block = cv2.morphologyEx((alike & ~product).view(np.uint8), cv2.MORPH_OPEN, disk) > 0
    return faint & alike & ~openings.grow(block, 1)


def crossing(rgb: np.ndarray, model: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Pixels to give back: lines in the product's colour that the model was sure of (p > 0.5
    in `model`, its map) and the clearing steps took (p <= 0.5 now), leaving the product and
    coming back to it (`_parts`' lines) or free-ended and long: a bag's straps across the
    coffee cup, taken with the crema by the openings step (a 5 px strap on its 320 px copy is
    smoothed into the opening) and with the cup by imaging.parted (its cut runs at half
    scale). Where the model saw the opening whole, its answer is no ridge along the strap (it
    is 1 on both sides): the colour and the line's shape are the evidence here; the model's
    own outline is where they are looked for."""

    product = p > 0.5
    out = np.zeros(p.shape, bool)
    if not product.any():
        return out
    lost = (model > 0.5) & ~product & ~openings.fill_holes(product)
    if not lost.any():
        return out
    lines = _lines_off(rgb, product, lost)
    if lines is not None:
        box, found = lines
        out[box] = found
    return out
