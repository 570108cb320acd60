"""Repairs after the openings step (imaging.openings): what the model left that the openings
step's own regions do not cover, and what the steps dropped that is product after all.

- soft remnants: the model's soft pixels inside a cleared (or textured) opening;
- strays: separate small pieces of a busy photo the model also took;
- dropped parts: pieces the steps cleared that the model was sure of and that hold on to the
  product (a chair leg cut where it crosses a brick joint, a frame's side on grass), regrown;
- faint parts: what the model hardly saw in the product's colours, grown; not a piece the
  photo's edges cut off from the product that juts out of it (another object in the product's
  colours standing behind it: joined_parts.seamed).
"""

from __future__ import annotations

import numpy as np

from .openings import box_of, components, fill_holes, shrink


def soft_remnants(p: np.ndarray, found: np.ndarray, keep=None, rgb=None) -> np.ndarray:
    """The model's soft pixels (p <= 0.5, not 0) inside a cleared opening: once the opening is
    background, they are too. Left soft, the refinement's guide turns them into patches of the
    old background's texture at the opening's edge (gravel stones at a ring's inner rim). The
    same for an opening the model left open itself where the background showing is textured
    (a mug handle's on grass); on a plain backdrop the soft pixels are the edge's
    anti-aliasing, which the guide settles well, so they stay."""
    import cv2

    solid = (p > 0.5) & ~found
    out = np.zeros(p.shape, bool)
    box = box_of(solid)  # the holes lie inside it, off its rim: worked out there alone
    if box is None:
        return out
    solid = solid[box]
    holes = fill_holes(solid) & ~solid
    n, labels = cv2.connectedComponents(holes.view(np.uint8), connectivity=4)
    if n <= 1:
        return out
    cleared = np.zeros(n, bool)  # a table of the holes (no sorting): the same pixels
    cleared[labels[found[box]]] = True
    if rgb is not None:
        cleared[textured_holes(rgb[box], labels, n, shrink(holes, 2))] = True
    cleared[0] = False
    out[box] = cleared[labels] & (p[box] > 0.0)
    if keep is not None:
        out &= ~keep
    return out


TEXTURED = 8.0  # std of the luma (0-255) over a hole's core (2 px off its rim)


def textured_holes(rgb: np.ndarray, labels: np.ndarray, n: int, core: np.ndarray) -> np.ndarray:
    """Labels of the holes whose core (2 px off the rim, away from the anti-aliased product
    edge; the model may be unsure all over a hole: no pixel under 0.05) is textured."""
    if not core.any():
        return np.zeros(0, np.int32)
    luma = rgb[core].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    ids = labels[core]
    count = np.bincount(ids, minlength=n).astype(np.float64)
    mean = np.bincount(ids, luma, n) / np.maximum(count, 1)
    var = np.bincount(ids, luma * luma, n) / np.maximum(count, 1) - mean * mean
    return np.flatnonzero((count >= 8) & (np.sqrt(np.maximum(var, 0.0)) > TEXTURED))


STRAY_SHARE = 0.1  # a separate piece under this share of the largest is not part of the product
# Not more on size alone: coins a model takes beside a product on a coin photo are 11-20% of it,
# but so is the second item of a kit (a box and its bottle), which is product; a colour rule
# alone did not part them (the coins' histogram overlaps the background's by 0.24, a kit's
# bottle on a light sweep 0.12). The model's own confidence does, with the colour models: it
# is sure (p > 0.95) of half to 93% of a kit's item, of 0-23% of a coin or a cat's ear it took
# that the colour models call background; such a piece goes up to UNSURE_SHARE.
UNSURE_SHARE = 0.25  # of the largest: the most an unsure, background-like piece may be
UNSURE = 0.3  # the most share of such a piece the model is sure of
LIKE_BG = 1.0  # its least median log-likelihood ratio background:product (openings' models)
RAMP = 2.0  # work px: the product's own soft ramp off its outline, kept by leftovers


def strays(p: np.ndarray, keep=None, models=None) -> np.ndarray:
    """Separate pieces of the mask much smaller than the main one: a salient-object model also
    takes a bit of a busy photo (a cat's eye beside the product), which then stretches the
    product's box (placement, fill) though it barely moves the IoU. Pieces a `keep` stroke
    touches stay. models: the openings step's colour models (openings.find's `report`), on a
    copy of p reduced by a whole factor: with them, larger pieces the model is unsure of and
    that look like the background go too."""

    n, labels, area = components(p > 0.5)
    if n <= 2:
        return np.zeros(p.shape, bool)
    sizes = area[1:]
    small = np.flatnonzero(sizes < STRAY_SHARE * sizes.max()) + 1
    if models is not None:
        small = np.union1d(small, _unsure_pieces(p, labels, n, sizes, models))
    if keep is not None:
        held = np.unique(labels[keep & (labels > 0)])
        small = np.setdiff1d(small, held)
    if len(small) == 0:
        return np.zeros(p.shape, bool)
    chosen = np.zeros(n, bool)  # a table of the pieces (not np.isin's search): the same pixels
    chosen[small] = True
    return chosen[labels]


def leftovers(outline: np.ndarray, p: np.ndarray, gone: np.ndarray, other, keep=None, made=None):
    """What another object leaves once the steps dropped it (gone: the pixels of `outline`, the
    outline the steps saw, p > 0.5 with the parts they made product, that the strays and subject
    steps set to 0 on p): the pieces of p's outline the drop left apart from the product (foam
    that the faint parts step joined to the cup: under STRAY_SHARE of the largest piece, the
    strays step's rule, on pieces that were joined to what went, or that the steps made product
    (`made`) with none of the model's outline: faint parts apart from it) and the soft pixels
    (0 < p <= 0.5) nearer to those pieces and `other` (what the subject step dropped: an object
    the model outlined whole) than to the product's outline and over RAMP off it (a saucer's
    rim, a pink fringe), with the soft pixels over RAMP off it that hold on to them (the saucer
    running on beside the product), which the refinement would turn into a faint ghost. Not around
    the strays step's own pieces: where the model is unsure of the whole product (a chair on
    tissue), they may be its parts and their soft pixels the rest of it. Pixels a `keep` stroke
    holds stay. The pixels to set to 0 on p."""
    import cv2

    product = p > 0.5
    out = np.zeros(p.shape, bool)
    n, labels, sizes = components(product)
    if n > 2:
        _, joined = cv2.connectedComponents(outline.view(np.uint8), 8)
        theirs = np.unique(joined[gone])
        near = np.unique(labels[product & np.isin(joined, theirs[theirs > 0])])
        if made is not None:  # pieces wholly made by the steps, none of the model's own
            own = np.bincount(labels[product & ~made], minlength=n)
            near = np.union1d(near, np.flatnonzero(own == 0))
        small = near[(near > 0) & (sizes[near] < STRAY_SHARE * sizes[1:].max())]
        out = np.isin(labels, small)
    if not (other.any() or out.any()):
        return out  # the strays step's pieces alone: no rim goes (see above)
    soft = (p > 0.0) & ~product
    to_gone = cv2.distanceTransform(1 - (other | out).view(np.uint8), cv2.DIST_L2, 3)
    to_product = cv2.distanceTransform((~product | out).view(np.uint8), cv2.DIST_L2, 3)
    off = soft & (to_product > RAMP)
    rim = off & (to_gone < to_product)
    if rim.any():  # and the faint parts it holds on to (a saucer running on past the product)
        n, labels = cv2.connectedComponents(off.view(np.uint8), connectivity=8)
        held = np.unique(labels[rim])
        rim |= np.isin(labels, held[held > 0])
    out |= rim
    if keep is not None:
        out &= ~keep
    return out


def _unsure_pieces(p: np.ndarray, labels, n: int, sizes, models) -> np.ndarray:
    """Labels of the pieces under UNSURE_SHARE of the largest that the model is sure of on
    under UNSURE of their pixels and whose median ratio (on the models' reduced copy, sampled
    at each block's centre) is over LIKE_BG."""
    sure = np.bincount(labels[p > 0.95], minlength=n)[1:] / sizes  # counts: exact
    pick = np.flatnonzero((sizes < UNSURE_SHARE * sizes.max()) & (sure < UNSURE)) + 1
    small = _on_copy(labels, models.ratio.shape)
    if len(pick) == 0 or small is None:
        return np.zeros(0, np.int64)
    pick = pick[np.bincount(small.ravel(), minlength=n)[pick] > 0]  # on the copy too
    if len(pick) == 0:
        return pick
    return pick[_medians(models.ratio, small, pick, n) > LIKE_BG]


def _medians(values: np.ndarray, labels: np.ndarray, pick: np.ndarray, n: int) -> np.ndarray:
    """scipy.ndimage.median(values, labels, pick) for pick's labels (sorted, each present), the
    same values (each label's sorted values, its middle two averaged in values' dtype), from
    those labels' pixels alone: scipy sorts the whole copy, the main piece with them."""
    chosen = np.zeros(n, bool)
    chosen[pick] = True
    at = chosen[labels]
    ids, vals = labels[at], values[at]
    order = np.lexsort((vals, ids))
    vals = vals[order]
    count = np.bincount(ids, minlength=n)[pick]
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    step = (count - 1) // 2
    return (vals[first + step] + vals[first + count - 1 - step]) / 2.0


def _on_copy(labels: np.ndarray, shape) -> np.ndarray | None:
    """labels sampled at each block's centre of a copy of `shape` reduced by a whole factor
    (openings.find's); None if `shape` is no such copy."""
    sh, sw = shape
    k = labels.shape[0] // sh
    if k < 1 or labels.shape[1] // sw != k:
        return None
    return labels[k // 2 :: k, k // 2 :: k][:sh, :sw]


SURE = 0.9  # the model's alpha over which a pixel is product to it
LINK = 0.1  # the model's alpha over which a dropped piece still holds on to the product


def dropped_parts(p: np.ndarray, cleared: np.ndarray, off=None):
    """Pixels of `cleared` to give back: the pieces the steps dropped that the model was sure
    of, that the rest does not enclose (an opening) and that hold on to what stays (through
    the model's own soft pixels, p > LINK). off: the openings step's map of the colours the
    product has none of (product_colours.off_colour, on its reduced copy), if it has one: a
    piece mostly in those colours is background (the grey moon between a brown chair's legs)."""
    import cv2

    product = p > 0.5
    kept = product & ~cleared
    if not kept.any():
        return np.zeros(p.shape, bool)
    dropped = cleared & product
    box = box_of(product)  # both lie in the outline's box: the usual case's test there alone
    if not (dropped[box] & ~fill_holes(kept[box])).any():
        return np.zeros(p.shape, bool)  # openings only (the usual case): nothing to give back
    enclosed = fill_holes(kept)
    n, labels = cv2.connectedComponents(dropped.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros(p.shape, bool)
    # counts of the parts' pixels (exact as the float sums of 0/1 weights were), tables set
    # by the labels themselves (no sorted np.unique): the same verdicts
    sure = np.bincount(labels[p > SURE], minlength=n)
    size = np.bincount(labels.ravel(), minlength=n)
    linked_area = (p > LINK) & ~(cleared & ~dropped)
    m, link_labels = cv2.connectedComponents(linked_area.view(np.uint8), connectivity=8)
    holding = np.zeros(m, bool)
    holding[link_labels[kept]] = True
    holding[0] = False
    attached = np.zeros(n, bool)
    attached[labels[holding[link_labels] & dropped]] = True
    inside = np.bincount(labels[enclosed], minlength=n)
    back = attached & (sure >= 0.8 * size) & (inside < 0.5 * size)
    small = None if off is None else _on_copy(labels, off.shape)
    if small is not None:
        sampled = np.bincount(small.ravel(), minlength=n)
        back &= np.bincount(small.ravel(), off.ravel(), n) < 0.5 * np.maximum(sampled, 1)
    back[0] = False
    return back[labels]


GROW_RATIO = 2.0  # mean log-likelihood ratio product:background (5x5) a faint part must reach
GROW_SHARE = 0.02  # most share of the sure background that may look like that (separation)
GROW_MOST = 0.6  # the faint parts' most area, of the product's
APART_DE = 15.0  # CIELAB distance a faint part's mean colour keeps from the background's mean
WIDEN_DE = 12.0  # CIELAB distance to a faint part's mean colour that widens it to its sides
UNGLUED_THICK = 0.012  # of the copy's long side: the least depth of a seamed piece dropped from
# the faint parts (QA's foreign_part asks for joined_parts.THICK: a scissors' blade cut off
# from its handle by their step is that thin; here only what the colour models grew is at stake)
UNGLUED_SHARE = 0.3  # a grown part that much in seamed pieces is dropped whole


def faint_parts(
    rgb: np.ndarray, p: np.ndarray, cleared: np.ndarray, keep=None, models=None
) -> np.ndarray:
    """Parts of the product the model hardly saw (p <= 0.5: a chair's legs on brick, thin and
    far from the seat it found) that hold on to what it did see and whose colour the product's
    model explains much better than the background's: pixels to make product. Only where the
    two models are well apart (the sure background has almost nothing of the product's look;
    not on a busy photo), on a textured background, and on a reduced copy like openings.find.
    models: the openings step's models of that copy (openings.find's `report`), if it has them.
    """
    import cv2

    from . import openings

    h, w = p.shape
    k = max(1, max(h, w) // openings.SIDE)
    small_p = openings.reduced_map(p, k, models)
    ready = models is not None and models.lab.shape[:2] == small_p.shape
    if ready and models.ratio is not None and models.continued is not None:
        return np.zeros(p.shape, bool)  # a plain backdrop (below): nothing else to work out
    small_cleared = openings.reduced(cleared, k)
    kept = (small_p > 0.5) & ~small_cleared
    area = int(kept.sum())
    if area < 100:
        return np.zeros(p.shape, bool)
    gap = openings.margin(small_p.shape)
    sure_bg = (small_p < 0.05) & ~openings.grow(kept, gap)
    sure_fg = openings.shrink((small_p > 0.95) & ~small_cleared, gap)
    if models is None or models.lab.shape[:2] != small_p.shape:  # else the openings step's
        models = openings.build(openings.reduced(rgb, k), sure_bg, sure_fg)
    if models is None or float((models.ratio[sure_bg] < -GROW_RATIO).mean()) > GROW_SHARE:
        return np.zeros(p.shape, bool)
    if models.continued is not None:  # a plain backdrop: the model's edge is right there, and
        return np.zeros(p.shape, bool)  # its shading beside the product is not product
    # product-like over 5x5 and on its own: the smoothing alone carries it a few px past the edge
    like = (models.ratio < -GROW_RATIO) & (models.raw < 0.0)
    like &= ~kept & ~openings.grow(small_cleared, 1)
    grown = openings.joined_to(like, kept)
    if not grown.any() or grown.sum() > GROW_MOST * area:
        return np.zeros(p.shape, bool)
    colour = models.lab[grown].mean(axis=0)
    if np.linalg.norm(colour - models.lab[sure_bg].mean(axis=0)) < APART_DE:
        return np.zeros(p.shape, bool)  # grey on grey: its histogram bins apart, not its look
    # to the part's full width: the 5x5 windows at its sides hold background texture (another
    # bin than the product's smooth paint), so there the colour alone, near the part's own, says
    near = openings.grow(grown, 3) & ~kept & ~grown
    d = models.lab[near] - colour
    near[near] = np.sqrt((d * d).sum(axis=1)) < WIDEN_DE
    grown = _unglued(grown | near, kept, small_p.shape, rgb, k)
    back = cv2.resize(grown.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)
    return back & (p <= 0.5)


def _unglued(grown: np.ndarray, kept: np.ndarray, shape, rgb: np.ndarray, k: int) -> np.ndarray:
    """`grown` without the pieces the photo's edges cut off from the product that jut out of
    its hull (joined_parts.seamed): a flat object in the product's colours standing behind it
    (a brown pack on a shelf behind a brown bag), which the colour models call product."""
    import cv2

    from . import openings
    from .joined_parts import seamed

    small_rgb = openings.reduced(rgb, k)
    glued = seamed(kept | grown, small_rgb[: shape[0], : shape[1]], UNGLUED_THICK)
    if not glued.any():
        return grown
    n, labels = cv2.connectedComponents(grown.view(np.uint8), connectivity=8)
    size = np.bincount(labels.ravel(), minlength=n)
    held = np.bincount(labels.ravel(), glued.ravel(), n)
    drop = held >= UNGLUED_SHARE * size  # a part the piece is most of goes whole, rim and all
    drop[0] = False
    return openings.joined_to(grown & ~drop[labels] & ~openings.grow(glued, 2), kept)
