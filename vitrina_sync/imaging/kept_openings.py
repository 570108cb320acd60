"""QA's kept_opening figure: openings the output keeps as product, with something seen through.

A padlock's shackle opening kept whole shows what lies behind it: a coin, part of a camera.
bg_inside misses such a region when it is joined to the outside through the model's soft rim,
or when the background's model explains it only half (a coin the sure background around the
product holds a few of): the openings detector then waits for a certainty a reporter need not.
This figure asks what a reviewer sees instead: inside the outline, off it, a region that

- the scene around the product explains better than the product's own colours do (its sure
  pixels along the outline, where no opening is; the colour/texture models of
  imaging.openings, those bg_inside built where it ran first);
- is cut into parts along the photo's edges, and keeps only the parts set off from the product
  around them by such an edge along most of their rim (a gloss streak shades into the body and
  meets the opening at a corner: it is split off and dropped; an opening's rim is the product's
  inner edge);
- is enclosed by the product (a shackle's leg beside a cleared opening is not);
- on a plain backdrop, is that backdrop's colour continued under the product (a label's white on
  a white sweep differs from it by 4-5 dE; the sweep seen through an opening by under 3);
- covers at least 1% of the product (a keyhole, a logo's letters are smaller).

The figure is the share of the product's area in such regions, and the largest one's box: the
place to look (qa.json's kept_opening_box). An opening the output cleared only in part counts
too: the product beside it that a graph cut seeded with it as background gives to the
background (joined_openings.settle's frozen cut, as the cutter settles its openings: a lobe of
a grey camera behind a bluish shackle), less lines under 2 THICK px wide (the mixed pixels of a
right edge; a thin band along the inner edge too), as a share of that opening (the issue's
bar, 2% of the opening's area), where that is larger. Measured on the 320 px copy bg_inside and
soft_holes share.

On a textured backdrop the colour models cannot always tell: a dark frame's opening full of a
night sky, at 450x600 (the sky's noise unaveraged), shares the frame's colour bins once they
are smoothed, and its rim steps by 9 dE only (IoU 0.34, read ok). What still tells is the
backdrop's own texture (`_kept_busy`, on ShapeCopy.coarse's copy): a region off the outline
whose density of the photo's sharp edges (Canny at joined_parts' seam thresholds, less the
lines a soft ramp makes, a gloss streak's sides: highlights.sharpness under its SOFT; over a
BUSY_WINDOW square) is the sure background's, within BUSY_LIKE either way, where the
product's outline band is at most BUSY_LIKE of it, enclosed by the product, and whose median
colour lies within SEEN_DE of the backdrop continued under it (qa._continued_under: the star
field 4.7; a box's label over the astronaut 35-49, a print over coffee, are not). A plain
backdrop is left to the continued-colour test above. Filled openings at 450x600: that frame
0.69, a ring's on gravel or brick 0.34, a frame's on gravel 0.66; right outputs 0.

The cutter's counterpart for one such case (`objects_seen`): on a plain backdrop, another
object lying on it behind the product (a clock under a hoop) fills the opening with what is
neither the product nor the backdrop's colour, and openings.match_regions keeps to that colour
there (a white label on a white product differs from the sweep by 4-5 dE only). Where the same
object shows beside the product too, its pixels off the backdrop's colour are a model of it.
"""

from __future__ import annotations

import numpy as np

from . import highlights
from .highlights import NEIGHBOUR_PAIRS
from .openings import grow

RATIO = 0.5  # a pixel's bg:product log-likelihood ratio (5x5) over which it is the scene's
MEDIAN_RATIO = 0.8  # on texture: the least median ratio of a region (the coin seen: 1.1)
OFF_EDGE = 4  # px off the outline: the edge's own fuzz is the halo's business
EDGE_STEP = 12.0  # CIELAB distance to a neighbour that makes a pixel an edge in the photo
EDGE_REACH = 2  # px from the region's rim within which the edge must lie
CRISP = 0.5  # the least share of the rim along such an edge
PLAIN_DE = 3.0  # on a plain backdrop: the region's median distance to its continued colour
MIN_SHARE = 0.01  # of the product's area: smaller regions are print, keyholes, specks
ENCLOSED = 0.2  # the most of a region's surround (2 px) that may be no product
THICK = 2  # px: half the width of a line beside a cleared opening that counts as no kept part
BUSY_WINDOW = 9  # px of the coarse copy: the window edge density is read over
BUSY_LIKE = 0.5  # a region's edge density within this factor of the backdrop's (either way)
SEEN_DE = 10.0  # CIELAB: the most a region's median lies off the backdrop continued under it


def edge_pixels(lab_px: np.ndarray, step: float) -> np.ndarray:
    """Pixels with a CIELAB distance of at least `step` to one of their 8 neighbours (both
    pixels of each such pair)."""
    from .compiled import loops

    h, w, _ = lab_px.shape
    line = np.zeros((h, w), bool)
    bar = np.float32(step * step)
    kernels = loops()
    if kernels is not None and lab_px.dtype == np.float32:
        kernels.edge_pairs(lab_px, bar, line)  # one pass, the same sums
        return line
    for a, b in NEIGHBOUR_PAIRS:
        d = lab_px[a] - lab_px[b]
        far = np.einsum("ijk,ijk->ij", d, d) >= bar
        line[a] |= far
        line[b] |= far
    return line


def kept_openings(shape, models=None) -> tuple[float, tuple[int, int, int, int] | None]:
    """(share of the product's area in openings kept with the scene seen through them, or of
    an opening cleared in part its kept part's share, whichever is larger; that region's box
    (l, t, r, b) in the output region's pixels, or None).

    shape: qa.ShapeCopy of the output's source and alpha; models: imaging.openings' Models of
    that copy, where bg_inside built them (refitted here to the product's outline band)."""
    product, area = shape.product, shape.area  # the copy's, shared with the other figures
    if area < 400:
        return 0.0, None
    filled = shape.filled
    whole = _kept_whole(shape, models, product, filled) + (shape.k,)
    part = _kept_part(shape, product, filled) + (shape.k,)
    coarse = shape.coarse()
    busy = _kept_busy(coarse) + (coarse.k,)
    share, box, k = max(whole, part, busy, key=lambda found: found[0])
    if box is None:
        return 0.0, None
    l, t, r, b = box
    return share, (l * k, t * k, min(r * k, shape.width), min(b * k, shape.height))


def _kept_whole(shape, models, product, filled):
    """(share of the product in openings kept whole, the largest one's box on the copy)."""
    import cv2

    area = int(product.sum())
    inside = shape.inside()  # px to the outside (of `filled`, the copy's own: made once)
    models = _fitted(shape, models, filled, inside)
    if models is None:
        return 0.0, None
    line = edge_pixels(models.lab, EDGE_STEP)  # the photo's edges
    inner = product & (inside > OFF_EDGE)
    seen = inner & (models.ratio > RATIO) & ~line  # split along the edges (a gloss meets it)
    crisp = _crisp_parts(seen, product & ~seen, grow(line, EDGE_REACH))
    if not crisp.any():
        return 0.0, None
    joined = (grow(crisp, 1) & inner).view(np.uint8)  # parts apart by an edge line: one region
    _, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    smallest = max(24, MIN_SHARE * area)
    kept, best = 0, (0, None)
    for i in np.flatnonzero(stats[1:, 4] >= smallest) + 1:  # label 0: the rest
        x, y, bw, bh, _ = (int(v) for v in stats[i])
        sl = np.s_[max(0, y - 3) : y + bh + 3, max(0, x - 3) : x + bw + 3]
        size = _kept(models, labels[sl] == i, crisp[sl], product[sl], sl, smallest)
        kept += size
        if size > best[0]:
            best = (size, (x, y, x + bw, y + bh))
    return (kept / area, best[1]) if best[1] is not None else (0.0, None)


def _kept_busy(shape):
    """(share of the product in regions the textured backdrop's own texture fills, the largest
    one's box on the copy): see the module's docstring. shape: a copy at ShapeCopy.coarse's
    scale."""
    import cv2

    from .joined_parts import SOFT_OPEN
    from .openings import _continued, _disk
    from .qa import _continued_under

    product, area = shape.product, shape.area
    sure_bg = shape.sure_bg()  # the copy's, shared with the figures after
    if area < 400 or int(sure_bg.sum()) < 200:
        return 0.0, None
    colours = shape.lab()  # bg_inside's, where its models are of this copy
    edges = shape.edges().copy()  # Canny at joined_parts' thresholds (foreign_part's too)
    # steps, not ramps: a gloss streak's soft sides make Canny's lines too (a padlock's on a
    # printed page as many as the page's blurred print), none of them sharp (the steepest
    # step under highlights.SOFT of the colour range around: 0 of them; of a star field's,
    # gravel's, grass', a printed page's, coffee's 86-100% are sharp)
    ratio, _ = highlights.sharpness(colours, edges)
    edges[edges] = ratio >= highlights.SOFT
    density = cv2.blur(edges.astype(np.float32), (BUSY_WINDOW, BUSY_WINDOW))
    backdrop = float(density[sure_bg].mean())
    inside = shape.inside()  # _kept_whole's, where this is its copy
    rim = product & (inside > OFF_EDGE) & (inside <= OFF_EDGE + BUSY_WINDOW)
    if not rim.any():
        return 0.0, None
    own = float(density[rim].mean())  # the product's own along its outline
    busy = product & (inside > OFF_EDGE + BUSY_WINDOW // 2) & (density > BUSY_LIKE * backdrop)
    busy = cv2.morphologyEx(busy.view(np.uint8), cv2.MORPH_OPEN, _disk(SOFT_OPEN))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(busy, connectivity=8)
    size = stats[:, cv2.CC_STAT_AREA]
    level = np.bincount(labels.ravel(), density.ravel(), n) / np.maximum(size, 1)
    chosen = [
        i
        for i in range(1, n)
        if size[i] >= max(24, MIN_SHARE * area)
        and BUSY_LIKE * backdrop <= level[i] <= backdrop / BUSY_LIKE
        and own < BUSY_LIKE * level[i]
    ]  # as busy as the backdrop (either way), and busier than the product's outline band
    enclosed = []
    for i in chosen:
        x, y, w, h = (int(v) for v in stats[i, :4])
        sl = np.s_[max(0, y - 3) : y + h + 3, max(0, x - 3) : x + w + 3]
        if _open_around(labels[sl] == i, product[sl]) <= ENCLOSED:
            enclosed.append(i)
    if not enclosed:  # most outputs: no region busy as the backdrop, or none enclosed
        return 0.0, None
    if _continued(colours, sure_bg) is not None:
        return 0.0, None  # a plain backdrop: kept_openings' own test of its continued colour
    kept, best = 0, (0, None)
    for i in enclosed:
        region = labels == i
        x, y, w, h = (int(v) for v in stats[i, :4])
        behind = _continued_under(colours, sure_bg, region, max(w, h) / 2.0)
        if behind is None:
            continue
        if float(np.linalg.norm(np.median(colours[region], axis=0) - behind)) > SEEN_DE:
            continue  # a label, a print: not the backdrop's colour continued
        kept += int(region.sum())
        if int(region.sum()) > best[0]:
            best = (int(region.sum()), (x, y, x + w, y + h))
    return (kept / area, best[1]) if best[1] is not None else (0.0, None)


def _kept_part(shape, product, filled):
    """(the largest share of an opening the output cleared in part that it keeps, that kept
    part's box on the copy): the part as joined_openings.settle finds it, less thin lines."""
    import cv2

    from .joined_openings import settle
    from .openings import shrink

    holes = filled & ~product
    if not holes.any():
        return 0.0, None
    kept = settle(shape.rgb, filled.astype(np.float32), holes, both=False)
    kept &= grow(shrink(kept, THICK), THICK)
    if not kept.any():
        return 0.0, None
    _, labels = cv2.connectedComponents((holes | kept).view(np.uint8), connectivity=8)
    best = (0.0, None)
    for i in np.unique(labels[kept]):
        part, opening = kept & (labels == i), holes & (labels == i)
        share = float(part.sum()) / float(part.sum() + opening.sum())
        if share > best[0]:
            ys, xs = np.nonzero(part)
            best = (share, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    return best


def _fitted(shape, models, filled, inside):
    """The colour models of the copy with the product's fitted to its sure pixels along the
    outline (where no opening is): bg_inside's, refitted, or built here; None if either side
    is too thin to model."""
    from .openings import _band_width, build, margin, shrink

    p = shape.alpha
    gap = margin(p.shape)  # as openings.match_regions
    sure_fg = shrink(p > 0.95, gap)
    band = sure_fg & (inside <= _band_width(filled))
    band = band if band.sum() >= 200 else sure_fg
    if models is None:
        return build(shape.rgb, shape.sure_bg(), band)  # the copy's, as colour_models takes it
    models.fit(band)
    return models


def _kept(models, joined, crisp, product, sl, smallest: float) -> int:
    """How many pixels of one joined region count as an opening kept (0: none): its crisp
    parts, when they are enough, the scene's and enclosed by the product."""
    region = joined & crisp
    size = int(region.sum())
    if size < smallest or not _scene_like(models, region, sl):
        return 0
    if _open_around(joined, product) > ENCLOSED:
        return 0  # beside a hole or the outside (a shackle's leg by its cleared opening)
    return size


def _open_around(region: np.ndarray, product: np.ndarray) -> float:
    """The share of the region's surround (2 px) that is no product: an opening kept whole is
    enclosed by the product (at most ENCLOSED of it open)."""
    surround = grow(region, 2) & ~region
    return float((~product[surround]).mean())


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


OBJECT_DE = 10.0  # CIELAB distance to the backdrop's continued colour: another object on it
OBJECT_PIXELS = 100  # (reduced copy) the least of such pixels in the sure background to model
OBJECT_RATIO = 1.6  # object:product log-likelihood ratio (5x5) of a pixel seen through
OBJECT_SHARE = 0.03  # of the product's area: the least such a region is (as joined_openings)
OBJECT_STEP = 7.0  # CIELAB step between the region's rim and the product's around it
COMMON = float(np.log(1e-3))  # the object's log density over which a colour bin is its own
SAMPLE = 5  # every SAMPLE-th sure background pixel is looked at first


def objects_seen(rgb: np.ndarray, p: np.ndarray, found: np.ndarray, models, keep=None):
    """Product pixels (p > 0.5, work resolution) where an object on a plain backdrop shows
    through an opening: regions off the outline and enclosed by the product, each OBJECT_SHARE
    of it or more, off the backdrop's continued colour, that the sure background's pixels off
    that colour (the object beside the product) explain better than the product's outline band,
    with a colour step to the product around them; settled to the opening's edge by
    joined_openings.settle. found: the openings found already; models: those openings.find
    built on its reduced copy (none on texture: nothing here, at no cost)."""
    import cv2

    if models is None or models.continued is None:
        return np.zeros(p.shape, bool)
    pick = np.flatnonzero(models.sure_bg.ravel())[::SAMPLE]  # an even sample: a cheap no
    d = models.lab.reshape(-1, 3)[pick] - models.continued.reshape(-1, 3)[pick]
    if int((np.einsum("ij,ij->i", d, d) > OBJECT_DE * OBJECT_DE).sum()) * SAMPLE < OBJECT_PIXELS:
        return np.zeros(p.shape, bool)
    from .openings import SIDE, reduced, reduced_map

    k = max(1, max(p.shape) // SIDE)
    small_p, small_found, small_keep = (
        reduced_map(p, k, models),
        reduced(found, k),
        reduced(keep, k),
    )
    if small_p.shape != models.lab.shape[:2]:
        return np.zeros(p.shape, bool)  # not the copy the models are of
    new = _seen(models, small_p, small_found, small_keep)
    if not new.any():
        return np.zeros(p.shape, bool)
    from .joined_openings import settle

    new |= settle(reduced(rgb, k), small_p, small_found | new, small_keep)
    h, w = p.shape
    back = cv2.resize(new.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)
    back &= p > 0.5
    return back if keep is None else back & ~keep


def _seen(models, p, found, keep) -> np.ndarray:
    """objects_seen's regions on the models' copy, before they are settled."""
    import cv2

    from .openings import _band_width, _density, fill_holes, margin, shrink

    product = p > 0.5
    lab_px, continued = models.lab, models.continued
    d = lab_px - continued
    far = np.einsum("ijk,ijk->ij", d, d) > OBJECT_DE * OBJECT_DE
    log_obj = _density(models.index, models.sure_bg & far)
    least = OBJECT_SHARE * product.sum()
    if ((log_obj[models.index] > COMMON) & product & far & ~found).sum() < least:
        return np.zeros_like(product)  # the object's colours are not in the product (craters)
    filled = fill_holes(product)
    inside = cv2.distanceTransform(filled.view(np.uint8), cv2.DIST_L2, 5)
    band = shrink(p > 0.95, margin(p.shape)) & (inside <= _band_width(filled)) & ~found
    if band.sum() < 200:
        return np.zeros_like(product)
    raw = (log_obj - _density(models.index, band)).astype(np.float32)
    ratio = cv2.blur(raw[models.index], (5, 5))
    seen = product & (inside > OFF_EDGE) & (ratio > OBJECT_RATIO) & far & ~found
    if keep is not None:
        seen &= ~keep
    _, labels, stats, _ = cv2.connectedComponentsWithStats(seen.view(np.uint8), connectivity=8)
    out = np.zeros_like(product)
    for i in np.flatnonzero(stats[1:, 4] >= least) + 1:
        region = fill_holes(labels == i)
        if (grow(region, 2) & ~filled).any():
            continue  # not enclosed: the object beside the product, taken with it
        rim_out = grow(region, 6) & product & ~grow(region, 1) & ~found
        rim_in = region & ~shrink(region, 3)
        if rim_out.sum() < 8 or float((ratio[rim_out] > OBJECT_RATIO).mean()) >= 0.5:
            continue  # the product around it looks like the object too
        step = np.linalg.norm(lab_px[rim_in].mean(axis=0) - lab_px[rim_out].mean(axis=0))
        if step >= OBJECT_STEP:
            out |= region & product
    return out
