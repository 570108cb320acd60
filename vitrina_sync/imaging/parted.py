"""Another salient object of a busy photo parted from the product by a graph cut, no model run.

On a busy photo u2netp outlines the product together with another object that stands out (the
coffee cup behind a box, the astronaut's head above a mug), at the same confidence (p = 1.0 on
both). Two things part them without running the model again. Where they stand: a seller
centres the product, so the outline's box made even about the frame's centre (subject's
`_even_box`) holds the product, and what the other object makes the outline reach out beyond
it is that object. And their colours: with what reaches out as the other object's samples and
the even box's middle as the product's, a GrabCut-style graph cut (cv2.grabCut: colour mixtures
of each, cut along the photo's edges) takes the rest of the other object off the product even
where it lies inside the even box (the cup's rim on both sides of a box, the head's chin behind
a mug's top).

It runs only where the outline's middle piece reaches out beyond that box (padded by
subject.EVEN_PAD) by EVEN_OUT of its area, where the photo around the outline is busy (BUSY: on
a plain backdrop the model has no other object to take, and a product placed off the centre
keeps every part, of whatever colour) and where that piece has a notch (SOLID: one convex whole,
a box placed off the centre on gravel or a hoop filling the frame, is one object). It keeps its
cut only where the cut keeps the product's middle (KEEPS_CORE: the outline in the frame's middle
third), drops most of what reaches out (DROPS_BEYOND: a bag's strap or a mug's handle is of the
product's colours and stays), drops what is not of the colours it keeps (SAME: a scissors'
second ring is the first's red) and runs along an edge of the photo (EDGE: not through a flat
colour); otherwise nothing changes. Small pieces it drops that the kept product encloses all
round (a label's letters) stay (SPECK). The cut's colour mixtures start from a k-means of fixed,
data-derived start (_mixture), so the cut does not depend on OpenCV's global generator.
Round 13, a second seed (_rise): where the outline is centred, so that nothing reaches out of
the even box (the other object straight above the product: a snake's head between a bag's
straps on the logo photo, a head behind a grey bottle's neck), the other object's samples are
the outline above the frame's middle third in colours the outline in the frame's central sixth
lacks (RISE_LEAST of it or more), and the cut is kept, past the same tests (SAME on what it
drops joined to the seed), only where what it drops spans rows the kept product spans too
(BESIDE: a cap, a lid or a top of another colour sits in rows of its own). bag-on-logo 0.767 ->
0.998, greybottle-on-greyastronaut-s157 0.663 -> 0.975 (both flagged `parted`, their seams
doubtful); ~1 ms more where the outline is centred and busy, the cut where the seed is found.
`doubtful` says whether its seam is for a person to check (QA's `parted`): a thin part of the
product runs into it, or a part in the product's colours went with the other object. It only
clears (never adds product), and the model does not run again: ~2-5 ms where it does not run,
~0.1-0.3 s of CPU where the cut runs (on the outline's box at half scale: cv2.grabCut ~90 ms
on the project photos, mostly its max-flow and its mixtures' exp; ~10 ms the colour mixtures'
start, compiled; ~5 ms `doubtful`). A smaller SCALE is faster but not the same cut (0.4: -13
ms a cut photo; ring-on-coffee 0.915 -> 0.738, frame-on-colorwheel-s73 0.392 -> 0.000).
"""

from __future__ import annotations

import numpy as np

from . import compiled
from .openings import grow, joined_to

SHRINK = 0.03  # the even box shrunk by this share of its long side for the cut's samples: what
# lies beyond it is the other object's (probably), what lies inside the product's (probably)
BUSY = 12.0  # the least mean colour spread (8-bit CIELAB, per channel std, averaged) of the
# photo around the outline (a band 4-16 px out) where another object may have been taken:
# a sweep or a flat backdrop under 6; gravel 13, the cat photo 16-19, the coffee and astronaut
# photos 24-39
DROPS_BEYOND = 0.6  # the least share of what reaches out beyond the padded even box the cut drops
KEEPS_CORE = 0.75  # the least share of the outline in the frame's middle third the cut keeps
# (0.94-1.00 on the sets; 0.78 for a bag on the coffee photo, whose middle third holds the cup
# between the bag's straps, which the cut drops)
SOLID = 0.97  # the most solidity (area over its convex hull's, openings filled) of the outline's
# middle piece where the cut runs: two objects, one behind the other, leave a notch where their
# outlines meet (a box or a bottle with the cup or the head: 0.86-0.95); one convex whole is one
# object (a box off the centre on gravel, a hoop filling the frame: 1.00)
EDGE = 8.0  # the least photo edge (Lab gradient, its lower quartile along the cut's seam) where
# the cut is kept: a seam between two objects follows their edge (19-50 on the sets); a cut
# through one object's flat colour (a hoop's gold: 0.8) does not
SAME = 0.85  # the most share of what the cut drops in the colours of what it keeps (subject's
# colour cubes): another object differs (the cup, the head: 0.00-0.28; the cup's crema behind a
# gold ring: 0.68); a part of the product does not (a scissors' second ring on gravel: 0.96)
SPECK = 0.005  # the most share of what the cut keeps a piece it drops inside it may have and
# be kept after all (a label's letters the cut's colour mixtures took for the other object's)
PIECE = 0.1  # the least share of what the cut drops a piece of it is judged by on its own (SAME)
SCALE = 0.5  # the cut runs on the outline's box at this scale (1/4 of the pixels: ~0.1 s)
ITERATIONS = 4  # GrabCut's rounds
THIN = 5.0  # work px: a part of the kept product within THIN_NEAR px of the seam no wider than
# twice this (its distance to the outline's side under THIN everywhere there) is a thin part
# the cut ran across (a bag's strap, a mug's handle, a scissors' blade near its tip): a seam
# along another object's side runs beside the product's whole width (box, bottle: 0 px of
# thin seam on the sets; straps 278, handle 17, blade 65)
THIN_NEAR = 6
THIN_SEAM = 4  # the least seam px beside a thin part for the seam to be doubtful
INTO = 2.0  # a thin part runs into the seam where its rim there (THIN_NEAR px of the seam's
# stretch) meets what the cut dropped this many times as often as the backdrop: the bag's
# strap stumps in the coffee cup the cut dropped, 5-10 times; a scissors' blade tips beside a
# face, the backdrop on their other side, 0.3-1.3
REACH = 8.0  # work px: what the cut dropped in the kept product's colours (subject's colour
# cubes), joined to it, reaching further out than this from it is a part of the product that
# went with the other object (a mug's white handle, 63 px; a white cup's rim behind a white
# mug, 125), or a doubt; a seam along another object's side leaves 1-3 px (its fuzz)
CORE = 1 / 6  # the second seed (_rise): the product's colours are those of the outline in the
# frame's central CORE of each side (the body of what the seller centred)
RISE_LEAST = 0.05  # the least share of the outline in colours the core lacks, above the frame's
# middle third, where the second seed runs (a snake's head between a bag's straps
# on the logo 0.10, the head above a grey bottle 0.27)
BESIDE = 0.3  # the least share of the rows what a cut from the second seed drops spans that
# hold the kept product too (see _beside): a snake's head between a bag's straps 0.81, a head behind
# a grey bottle's neck 0.63; a cap or a top a quarter or a third of a bottle of another colour
# 0.00-0.03 (the seed's own rows, before the cut: bag 0.68, grey bottle 0.96, caps 0.00-0.12)
REMAINS_REACH = 6  # work px beside what the cut drops where its soft remains go too
REMAINS_RIM = 3  # work px of the kept product's own soft edge they never take (as glued's)


def apart(rgb: np.ndarray, p: np.ndarray, keep=None) -> np.ndarray | None:
    """Pixels of p (the alpha after the openings steps, on the work copy rgb) that are another
    object the graph cut parts from the product, or None where it does not run or its cut is
    not kept (see the module's notes)."""
    import cv2

    from . import subject
    from .steps import LEAST_LEFT

    product = p > 0.5
    if not product.any():
        return None
    _, labels = cv2.connectedComponents(product.view(np.uint8), connectivity=8)
    central = subject._central(labels)
    if central is None:
        return None
    l, t, r, b = subject._even_box(central)
    side = max(r - l, b - t)
    if side < 32:
        return None
    m = round(subject.EVEN_PAD * side)
    padded = np.zeros(p.shape, bool)
    padded[max(0, t - m) : b + m, max(0, l - m) : r + m] = True
    beyond = central & ~padded
    ml, mt, mr, mb = subject.centred(p.shape, subject.CENTRE)
    rises = beyond.sum() < subject.EVEN_OUT * central.sum()  # centred: the second seed's case
    if rises:
        beyond = _rise(rgb, central, mt)
        if beyond is None:
            return None  # the outline is centred and of the core's colours: the product's
    middle = np.zeros(p.shape, bool)
    middle[mt:mb, ml:mr] = True
    middle &= central  # the product's middle: the outline in the frame's middle third
    if not middle.any():
        return None
    if _spread(rgb, product) < BUSY:
        return None  # a plain backdrop: no other object to take; an off-centre product's part
    if _solidity(central) > SOLID:
        return None  # one convex whole: one object, however it is placed
    if keep is not None and (keep & beyond).any():
        return None
    if rises:
        seeds = beyond
    else:
        s = round(SHRINK * side)
        inner = np.zeros(p.shape, bool)
        inner[t + s : max(t + s, b - s), l + s : max(l + s, r - s)] = True
        seeds = central & ~inner
    fg = _cut(rgb, product, seeds)
    if fg is None:
        return None
    seed = fg & middle
    if not seed.any():
        return None
    fg = joined_to(fg, seed) & product  # the product: the cut's piece holding the middle
    fg |= _specks_inside(fg, product)
    if (fg & middle).sum() < KEEPS_CORE * middle.sum():
        return None  # the cut took part of the product's middle: not parted by colour
    if (beyond & ~fg).sum() < DROPS_BEYOND * beyond.sum():
        return None  # what reaches out is joined to the product in its colours: no parting
    from .openings import fill_holes

    if fill_holes(fg).sum() < LEAST_LEFT * fill_holes(product).sum():
        return None
    dropped = product & ~fg
    if rises and _beside(fg, dropped, beyond) < BESIDE:
        return None  # a part on top of the body alone: a cap, a lid, a top of another colour
    # from the second seed, judged on what it drops joined to the seed (the head above a
    # bottle; a grey suit beside it goes with the head, and a part of the product's colours
    # joined to what goes is parted's doubt for QA)
    judged = joined_to(dropped, dropped & beyond) if rises else dropped
    if _most_alike(rgb, judged, fg) >= SAME:
        return None  # what it drops has the colours of what it keeps: a part of the product
    if _seam_edge(rgb, fg, dropped) < EDGE:
        return None  # the cut runs through flat colour, not along an edge between two objects
    other = dropped | (grow(dropped, 2) & ~grow(fg, 1) & (p > 0.0))
    if keep is not None:
        other &= ~keep
    # its soft remains (0 < p <= 0.5 within REMAINS_REACH, not at the kept product's own soft
    # edge): left, the refinement grows them back as a faint ghost of the other object
    remains = grow(other, REMAINS_REACH) & (p > 0.0) & (p <= 0.5)
    remains &= ~grow(product & ~other, REMAINS_RIM)
    if keep is not None:
        remains &= ~keep
    other |= remains
    return other if other.any() else None


def _rise(rgb: np.ndarray, central: np.ndarray, top: int) -> np.ndarray | None:
    """The second seed, where the outline is centred (the other object behind the product
    rising straight above it): the outline's pixels above the frame's middle third (rows
    under `top`) in colours (subject's colour cubes) the outline in the frame's central CORE
    lacks, or None where they are under RISE_LEAST of the outline or the outline's other pixels
    lie in under BESIDE of their rows. Only above: below the middle a product's own shading
    leaves colours its core lacks (a bag's brown gradient)."""
    from . import subject

    cl, ct, cr, cb = subject.centred(central.shape, CORE)
    core = rgb[ct:cb, cl:cr][central[ct:cb, cl:cr]]
    if not len(core):
        return None
    out = central.copy()
    out[top:] = False
    out[out] = ~subject._known_colours(core)[subject._cubes(rgb[out])]
    if out.sum() < RISE_LEAST * central.sum():
        return None
    rows = out.any(axis=1)  # before the cut (~65 ms), the rows test on the seed itself: the
    # product beside it in BESIDE of its rows (a cap's rows hold the cap alone: 0.00-0.12)
    if (rows & (central & ~out).any(axis=1)).sum() < BESIDE * rows.sum():
        return None
    return out


def _beside(kept: np.ndarray, dropped: np.ndarray, seeds: np.ndarray) -> float:
    """The share of the rows that the cut's dropped pieces holding `seeds` span where the kept
    product lies too: another object behind the product spans rows of it (a head behind a
    bottle's neck, a snake's head between a bag's straps); a cap, a lid or a top of another
    colour sits on top of the product, in rows of its own."""
    gone = joined_to(dropped, dropped & seeds)
    rows = gone.any(axis=1)
    if not rows.any():
        return 0.0
    return float((rows & kept.any(axis=1)).sum()) / float(rows.sum())


def doubtful(rgb: np.ndarray, p: np.ndarray, other: np.ndarray) -> bool:
    """Whether the seam of a cut (`other`: what apart took off p, the alpha it ran on) is
    doubtful, for a person to check: a thin part of the product runs into it (THIN_SEAM seam
    px beside a part thinner than 2 x THIN: a strap or a blade cut across) or what it dropped
    holds a part in the kept product's colours joined to it and reaching out beyond REACH (a
    handle taken with the head). A seam along the side of another object, of other colours,
    is neither (the cup behind a box, the head above a bottle)."""
    import cv2

    from . import subject

    product = p > 0.5
    kept, dropped = product & ~other, product & other
    if not kept.any() or not dropped.any():
        return False
    seam = kept & grow(dropped, 1)
    width = cv2.distanceTransform(kept.view(np.uint8), cv2.DIST_L2, 5)
    near = np.ones((2 * THIN_NEAR + 1, 2 * THIN_NEAR + 1), np.uint8)
    thin_seam = seam & (cv2.dilate(width, near) < THIN)
    if thin_seam.sum() >= THIN_SEAM and _runs_into(thin_seam, kept, dropped, p):
        return True
    like = np.zeros(p.shape, bool)
    like[dropped] = subject._known_colours(rgb[kept])[subject._cubes(rgb[dropped])]
    if not like.any():
        return False
    joined = joined_to(like, grow(kept, 1))
    if not joined.any():
        return False
    out = cv2.distanceTransform((~kept).view(np.uint8), cv2.DIST_L2, 5)
    return float(out[joined].max()) > REACH


def _runs_into(thin_seam: np.ndarray, kept: np.ndarray, dropped: np.ndarray, p) -> bool:
    """Whether THIN_SEAM px or more of the seam beside thin parts lie on stretches where the
    kept product's rim meets what the cut dropped INTO times as often as the backdrop (p <=
    0.5): the thin part runs into the other object (a strap's stump in the cup), not along its
    edge with the backdrop on its other side (a blade's tip beside a face)."""
    import cv2

    n, labels = cv2.connectedComponents(grow(thin_seam, 3).view(np.uint8), connectivity=8)
    rim = kept & grow(~kept, 1)
    to_dropped = np.bincount(labels[rim & grow(dropped, 1)], minlength=n)
    to_backdrop = np.bincount(labels[rim & grow(p <= 0.5, 1)], minlength=n)
    seam_px = np.bincount(labels[thin_seam], minlength=n)
    into = to_dropped >= INTO * to_backdrop
    into[0] = False
    return int(seam_px[into].sum()) >= THIN_SEAM


def _most_alike(rgb: np.ndarray, dropped: np.ndarray, kept: np.ndarray) -> float:
    """The most share in the colours of what the cut keeps (subject's colour cubes) of what it
    drops, taken whole and piece by piece (8-connected pieces of PIECE of it or more: a
    scissors' second red ring dropped with specks of gravel is of the kept ring's colours)."""
    import cv2

    from . import subject
    from .openings import box_of

    of, pixels = rgb[kept], rgb[dropped]
    if not len(of) or not len(pixels):
        return 1.0  # as subject._in_colours
    known = subject._known_colours(of)[subject._cubes(pixels)]  # per dropped pixel, in order
    most = float(known.mean())
    inside = dropped[box_of(dropped)]  # its pieces on its box (the same pixels, in order)
    _, labels = cv2.connectedComponents(inside.view(np.uint8), connectivity=8)
    pieces = labels[inside]
    areas = np.bincount(pieces)
    for i in np.flatnonzero(areas >= PIECE * len(pieces)):
        if i > 0:  # the piece's pixels, as rgb[labels == i] orders them
            most = max(most, float(known[pieces == i].mean()))
    return most


def _specks_inside(kept: np.ndarray, product: np.ndarray) -> np.ndarray:
    """The outline's pixels the cut drops in small pieces that the kept product encloses all
    round (a label's letters, a highlight: each under SPECK of what it keeps; not a speck in an
    opening, which lies beside pixels that are no product): not another object."""
    import cv2

    from .openings import box_of, fill_holes

    holes = fill_holes(kept) & ~kept & product
    box = box_of(holes, 1)  # judged on their box grown by 1 px (the same pieces and neighbours)
    if box is None:
        return holes
    inside, kept_there = holes[box], kept[box]
    _, labels = cv2.connectedComponents(inside.view(np.uint8), connectivity=8)
    areas = np.bincount(labels[inside], minlength=labels.max() + 1)
    small = np.flatnonzero(areas < SPECK * kept.sum())
    open_to = np.unique(labels[grow(~kept_there & ~inside, 1) & inside])  # beside no product:
    small = np.setdiff1d(small[small > 0], open_to)  # a speck of what the model saw in an opening
    out = np.zeros(holes.shape, bool)
    out[box] = np.isin(labels, small) & inside
    return out


def _solidity(mask: np.ndarray) -> float:
    """The mask's area (openings filled) over its convex hull's."""
    import cv2

    from .openings import fill_holes

    filled = fill_holes(mask).view(np.uint8)
    contours, _ = cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return 1.0
    hull = cv2.contourArea(cv2.convexHull(np.concatenate(contours)))
    return float(filled.sum()) / hull if hull > 0 else 1.0


def _seam_edge(rgb: np.ndarray, kept: np.ndarray, dropped: np.ndarray) -> float:
    """The photo's edge along the seam between what the cut keeps and what it drops: the lower
    quartile, on the seam's pixels, of the Lab gradient (Sobel, over 8; its largest within 2 px:
    the cut ran at half scale)."""
    import cv2

    from .openings import box_of

    seam = kept & grow(dropped, 1)
    box = box_of(grow(seam, 3))
    if box is None:
        return 0.0
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[box]), cv2.COLOR_RGB2LAB).astype(np.float32)
    gx, gy = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    g = np.sqrt((gx * gx + gy * gy).sum(axis=2)) / 8
    g = cv2.dilate(g, np.ones((5, 5), np.uint8))
    return float(np.percentile(g[seam[box]], 25))


def _spread(rgb: np.ndarray, product: np.ndarray) -> float:
    """The photo's colour spread around the outline: per channel std (8-bit CIELAB) in a band
    4-16 px out, averaged (on 1 px in 2 each way)."""
    from .reframe import _lab

    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    if not len(rows):
        return 0.0
    # the band lies within 16 px of the outline's box: grown there alone (the same pixels),
    # from an even row and column (the same 1 px in 2, in the same order)
    t, l = max(0, rows[0] - 16) & ~1, max(0, cols[0] - 16) & ~1
    box = slice(t, rows[-1] + 17), slice(l, cols[-1] + 17)
    band = grow(product[box], 16) & ~grow(product[box], 4)
    px = rgb[box][::2, ::2][band[::2, ::2]]
    if len(px) < 16:
        return 0.0
    return float(_lab(px).std(axis=0).mean())


def _cut(rgb: np.ndarray, product: np.ndarray, other: np.ndarray) -> np.ndarray | None:
    """GrabCut on the outline's box (grown by 12 px) at SCALE: outside the outline grown by 6 px
    sure background, the rest of its 6 px rim and `other` probably background, the outline
    probably product. The pixels it finds product (bool, full size), or None."""
    import cv2

    from .openings import box_of

    # the box of the outline grown by 12 px (the disk reaches 12 px along each axis), the start
    # mask made on it alone (it holds the whole outline: the same pixels)
    box = box_of(product, 12)
    if box is None:
        return None
    inside = product[box]
    msub = np.full(inside.shape, cv2.GC_BGD, np.uint8)
    msub[grow(inside, 6)] = cv2.GC_PR_BGD
    msub[inside] = cv2.GC_PR_FGD
    msub[other[box]] = cv2.GC_PR_BGD
    sub = np.ascontiguousarray(rgb[box][..., ::-1])
    hs, ws = msub.shape
    size = (max(8, round(ws * SCALE)), max(8, round(hs * SCALE)))
    small = cv2.resize(sub, size, interpolation=cv2.INTER_AREA)
    msmall = cv2.resize(msub, size, interpolation=cv2.INTER_NEAREST)
    if not ((msmall == cv2.GC_PR_FGD).any() and (msmall != cv2.GC_PR_FGD).any()):
        return None
    # the two colour mixtures start from a k-means of fixed, data-derived start (_mixture), not
    # OpenCV's k-means++ from its global generator: the same cut whatever the generator's state
    bgd, fgd = _models(small, msmall)
    try:
        cv2.grabCut(small, msmall, None, bgd, fgd, ITERATIONS, cv2.GC_EVAL)
    except cv2.error:
        return None
    found = ((msmall == cv2.GC_FGD) | (msmall == cv2.GC_PR_FGD)).astype(np.uint8) * 255
    found = cv2.resize(found, (ws, hs), interpolation=cv2.INTER_LINEAR) >= 128
    out = np.zeros(product.shape, bool)
    out[box] = found
    return out


COMPONENTS = 5  # GrabCut's components per colour mixture (OpenCV's GMM::componentsCount)
KMEANS_ROUNDS = 10  # its k-means rounds (OpenCV's kMeansItCount)


def _models(small: np.ndarray, msmall: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GrabCut's two colour mixtures (background, product) as OpenCV reads them, each from
    its pixels of the cut's start mask (GC_BGD and GC_PR_BGD the background's)."""
    import cv2

    px = small.reshape(-1, 3).astype(np.float64)
    bg = ((msmall == cv2.GC_BGD) | (msmall == cv2.GC_PR_BGD)).ravel()
    return _mixture(px[bg]), _mixture(px[~bg])


def _mixture(x: np.ndarray) -> np.ndarray:
    """A colour mixture of COMPONENTS Gaussians, as GrabCut starts one (k-means, then each
    cluster's weight, mean and covariance) but from a start fixed by the data: the samples cut
    into COMPONENTS equal parts along their principal axis. OpenCV's layout (1x65 float64):
    the weights, then the means (3 each), then the covariances (9 each)."""
    k = COMPONENTS
    model = np.zeros((1, k * 13))
    if len(x) == 0:
        return model
    centred = x - x.mean(axis=0)
    axis = np.linalg.eigh(centred.T @ centred)[1][:, -1]
    labels = _parts(centred @ axis, k)
    kernels = compiled.loops()
    if kernels is not None:  # the rounds below compiled, whole (the same bits; no matmul)
        kernels.kmeans_rounds(x, labels, k, KMEANS_ROUNDS)
    else:
        squares = (x * x).sum(axis=1)
        counts = np.bincount(labels, minlength=k)
        sums = np.stack([np.bincount(labels, x[:, i], k) for i in range(3)], axis=1)
        for _ in range(KMEANS_ROUNDS):
            live = np.flatnonzero(counts)
            centres = sums[live] / counts[live, None]
            prod, centre_sq = x @ centres.T, (centres * centres).sum(axis=1)
            new = live[(squares[:, None] - 2.0 * prod + centre_sq).argmin(axis=1)]
            if np.array_equal(new, labels):
                break
            labels = new
            counts = np.bincount(labels, minlength=k)
            sums = np.stack([np.bincount(labels, x[:, i], k) for i in range(3)], axis=1)
    counts = np.bincount(labels, minlength=k)
    for c in range(k):
        if counts[c] == 0:
            continue
        xs = x[labels == c]
        mean = xs.mean(axis=0)
        cov = (xs - mean).T @ (xs - mean) / len(xs)
        if np.linalg.det(cov) <= np.finfo(np.float64).eps:
            cov += 0.01 * np.eye(3)  # as OpenCV's learning does for a flat cluster
        model[0, c] = counts[c] / len(x)
        model[0, k + 3 * c : k + 3 * c + 3] = mean
        model[0, 4 * k + 9 * c : 4 * k + 9 * c + 9] = cov.ravel()
    return model


def _parts(v: np.ndarray, k: int) -> np.ndarray:
    """Each sample's part when v's samples, in order (ties by index, as a stable argsort), are
    cut into k equal parts: rank * k // n. From the k - 1 order statistics at the parts' bounds
    (np.partition), not a sort."""
    n = len(v)
    labels = np.zeros(n, np.intp)
    bounds = [b for b in ((j * n + k - 1) // k for j in range(1, k)) if b < n]
    if not bounds:
        return labels
    stats = np.partition(v, bounds)
    index = np.arange(n)
    for b in bounds:  # rank >= b: above the bound's value, or at it from its index on
        at = stats[b]
        same = v == at
        first = np.flatnonzero(same)[b - np.count_nonzero(v < at)]
        labels += (v > at) | (same & (index >= first))
    return labels
