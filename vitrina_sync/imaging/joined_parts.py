"""Joined parts: pieces of another object the cut-out took along with the product, in colours the
product has too.

The colour figures (bg_inside, outgrowth) ask whether a piece looks like the old background;
a piece of a third object glued to the product's outline in the product's own colours looks
like neither side's model and passes them (a cat's black pupil joined to a dark frame's side:
IoU 0.94, read ok). Two things still tell such a piece from the product, each on a qa.ShapeCopy
of the finished alpha and its source:

- doubt: the finished alpha over the product is opaque, edges aside; a thick piece kept as
  product (alpha over 0.5) but left partly transparent (under OPAQUE) is one the model and the
  refinement were not sure of. Counted where it lies outside the convex hull of the opaque
  product (it juts out of the product, as a glued piece does), is at least THICK deep (a
  soft edge, a thin handle the copy blurs, the fog in a chair back's gaps are bands a few px
  wide, or lie inside the hull) and meets the opaque product at a seam, a step in the photo's
  colour over SEAM (a grey bottle's base the model doubted on a grey sweep continues the
  bottle's grey: no seam);
- texture: a thick piece whose inside (EDGE px off the outline) is busy (5x5 mean Sobel
  gradient over TEX_LEAST and TEX_RATIO times the product's median) where the product is
  smooth, jutting out of the convex hull of the rest: another photo's texture in the product's
  colour. A printed label lies inside the hull; a product busy all over has a busy median;
- seam: a thick piece the photo's edges (Canny at EDGE_LOW/EDGE_HIGH on the copy: a step of a
  few CIELAB units) cut off from the rest of the product, jutting out of the rest's convex
  hull: a flat, opaque object in the product's colours standing behind it (held-out-6's bag on
  a shop shelf kept a brown pack behind its top edge, 3% of its area: IoU 0.94, read ok). A
  part of the product in its own colour continues it with no edge between; parts the photo
  does divide (a label, a panel) lie inside the hull.

QA's `foreign_part` (`share`) is the share of the product's area (alpha > 0.5 on the copy) in
such pieces. The texture rule counts in the copy's pixels (its 5x5 gradient, its opening, the
edge's EDGE px); a region 480-639 px long is kept whole (k 1), where a head of hair kept over
a box is busy only in patches too thin for a thick piece (0, against 0.13 on the 352 px copy
of the same output at 900x1200): there the texture is looked at again on ShapeCopy.coarse's
half-size copy, and the larger share counts (fine grain, gravel glued on, shows on the whole
copy only).
"""

from __future__ import annotations

import numpy as np

OPAQUE = 0.95  # alpha at or over this is opaque product
SOFT_OPEN = 2  # px of the copy: the opening that leaves only thick undecided regions
THICK = 0.02  # of the copy's long side: the least depth (distance to its rim) of a doubtful piece
OUT_OF_HULL = 0.5  # the least share of a doubtful piece outside the opaque product's hull
SEAM = 3.0  # CIELAB: the least step from the opaque product into a doubtful piece
SEAM_BAND = 4  # px of the copy either side of that boundary the step is read on
EDGE = 3  # px of the copy inside the outline the texture rule leaves out (the outline's step)
TEX_LEAST = 12.0  # grey levels: the least 5x5 mean Sobel gradient of a busy pixel
TEX_RATIO = 3.0  # and over this many times the product's own (its median inside)
EDGE_LOW, EDGE_HIGH = 10, 20  # Canny's thresholds on the copy: a seam of a few CIELAB units
PIECE_LEAST = 0.005  # of the product's area: a smaller piece the seam rule does not look at


def doubtful(alpha: np.ndarray, product: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Pixels of thick, partly transparent pieces of the product that jut out of the opaque
    product's convex hull, at a seam (the doubt rule above)."""
    opaque = alpha >= OPAQUE
    found = jutting(product & (alpha < OPAQUE), opaque)
    if not found.any():
        return found
    return _at_seam(found, opaque, rgb)


def canny(rgb: np.ndarray) -> np.ndarray:
    """The photo's edges (cv2.Canny at EDGE_LOW/EDGE_HIGH, bool) seamed cuts the product along
    (qa.ShapeCopy.edges keeps them for kept_opening's backdrop texture too)."""
    import cv2

    return cv2.Canny(np.ascontiguousarray(rgb), EDGE_LOW, EDGE_HIGH).view(bool)


def seamed(product: np.ndarray, rgb: np.ndarray, least: float = THICK, edges=None) -> np.ndarray:
    """Pixels of thick pieces (`least` of the copy's long side deep, what the edges leave) the
    photo's edges cut off from the rest of the product that jut out of the rest's convex hull
    (the seam rule above). edges: rgb's Canny edges at EDGE_LOW/EDGE_HIGH, where the caller
    has them (qa.ShapeCopy.edges)."""
    import cv2

    from .openings import _disk, grow

    if edges is None:
        edges = canny(rgb)
    cut = (product & ~grow(edges, 1)).view(np.uint8)
    thick = cv2.morphologyEx(cut, cv2.MORPH_OPEN, _disk(SOFT_OPEN))  # rims along edges go
    _, labels, stats, _ = cv2.connectedComponentsWithStats(thick, connectivity=4)
    size = stats[:, cv2.CC_STAT_AREA].copy()
    size[0] = 0
    big = size >= PIECE_LEAST * size.sum()
    if big.sum() <= 1:  # one piece (most outputs: no edge runs across the product)
        return np.zeros(product.shape, bool)
    body = labels == int(size.argmax())
    big[size.argmax()] = False
    found = np.zeros(product.shape, bool)
    for piece in _pieces(jutting(big[labels], body, least), labels):
        found |= jutting(piece, (labels > 0) & ~piece, least)
    return found


def _pieces(found: np.ndarray, labels: np.ndarray):
    """The whole pieces of `labels` that hold pixels of `found`, one mask each."""
    for i in np.unique(labels[found]):
        if i > 0:
            yield labels == i


def _at_seam(found: np.ndarray, rest: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """The pieces of `found` the photo steps into from `rest`: their mean CIELAB colours 2-4
    px either side of the boundary over SEAM apart (a product's own doubtful base continues
    its colour across: 0.5; a cat's pupil on a dark frame: 8)."""
    import cv2

    from .openings import grow, lab

    n, labels = cv2.connectedComponents(found.view(np.uint8), connectivity=8)
    colours = lab(rgb)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        piece = labels == i
        rest_side = rest & grow(piece, SEAM_BAND) & ~grow(piece, 1)
        piece_side = piece & grow(rest, SEAM_BAND) & ~grow(rest, 1)
        if rest_side.sum() < 5 or piece_side.sum() < 5:
            keep[i] = True  # no boundary with the opaque product to read: it counts as found
            continue
        step = colours[rest_side].mean(axis=0) - colours[piece_side].mean(axis=0)
        keep[i] = float(np.linalg.norm(step)) > SEAM
    return keep[labels]


def textured(rgb: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Pixels of thick busy pieces of a smooth product that jut out of the convex hull of the
    rest (the texture rule above). The outline's own step and a few px inside it are left out:
    only the inside's texture counts."""
    import cv2

    from .openings import grow, shrink

    inside = shrink(product, EDGE)
    if int(inside.sum()) < 100:
        return np.zeros(product.shape, bool)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)
    gradient = cv2.magnitude(
        cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    )
    busy = cv2.blur(gradient, (5, 5))
    level = float(np.median(busy[inside]))  # the product's own texture
    odd = inside & (busy > max(TEX_LEAST, TEX_RATIO * level))
    return jutting(odd, product & ~grow(odd, EDGE + 1))  # the piece's rim goes with it


def jutting(odd: np.ndarray, rest: np.ndarray, least: float = THICK) -> np.ndarray:
    """Of the thick pieces of `odd` (what an opening with a disk of SOFT_OPEN leaves) at least
    `least` (of the copy's long side) deep and mostly (OUT_OF_HULL) outside the convex hull of
    `rest` (the product they are judged against), the pixels outside that hull."""
    found = thick_parts(odd, SOFT_OPEN, least)
    if found is None:  # most outputs: opaque and smooth up to a thin edge
        return np.zeros(odd.shape, bool)
    labels, deep = found
    pick, outside = out_of_hull(labels, deep, rest, OUT_OF_HULL)
    return pick[labels] & outside


def thick_parts(odd: np.ndarray, radius: int, least: float):
    """The pieces of `odd` (bool) that an opening with a disk of `radius` px leaves, 8-connected,
    and which of them are at least `least` of the map's long side deep (distance to their rim):
    (labels, deep: a bool per label, the background's False), or None where none is deep.
    QA's `jutting` and the cutter's imaging.glued both start here."""
    import cv2

    from .openings import _disk

    thick = cv2.morphologyEx(odd.view(np.uint8), cv2.MORPH_OPEN, _disk(radius))
    if not thick.any():
        return None
    depth = cv2.distanceTransform(thick, cv2.DIST_L2, 3)
    far = depth >= least * max(odd.shape)
    if not (far & (thick > 0)).any():  # no piece that deep (most maps): no labels needed
        return None
    n, labels = cv2.connectedComponents(thick, connectivity=8)
    deep = np.zeros(n, bool)
    deep[labels[far]] = True
    deep[0] = False
    return (labels, deep) if deep.any() else None


def out_of_hull(labels: np.ndarray, chosen: np.ndarray, rest: np.ndarray, share: float):
    """(the `chosen` pieces (a bool per label) with at least `share` of their pixels outside the
    convex hull of `rest`, that outside)."""
    from .openings import hull

    outside = ~hull(rest)
    n = len(chosen)
    size = np.bincount(labels.ravel(), minlength=n)
    out = np.bincount(labels.ravel(), outside.ravel(), n)
    return chosen & (out >= share * np.maximum(size, 1)), outside


def share(shape) -> float:
    """QA's `foreign_part`: the share of the output's product (alpha > 0.5) in pieces joined to
    it that are not the product (doubtful, textured or seamed), on a qa.ShapeCopy of the
    finished alpha and its source."""
    from .qa import LEAST_PRODUCT

    alpha = shape.alpha
    product, area = shape.product, shape.area  # the copy's, shared with the other figures
    if area < LEAST_PRODUCT:
        return 0.0
    rgb = shape.rgb
    found = doubtful(alpha, product, rgb) | textured(rgb, product)
    found |= seamed(product, rgb, edges=shape.edges())  # kept_opening's Canny, where it ran
    figure = float(found.sum()) / area
    coarse = shape.coarse()
    if coarse is not shape and coarse.area >= LEAST_PRODUCT:
        # texture at a second, coarser scale where the copy is kept whole over COARSE_SIDE:
        # fine grain (gravel glued on) shows on the whole copy, coarse strands (a head of hair
        # kept over a box, 532 px: busy pixels too patchy for a thick piece) on the half
        busy = textured(coarse.rgb, coarse.product)
        figure = max(figure, float(busy.sum()) / coarse.area)
    return figure
