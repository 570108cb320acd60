"""Openings the model filled: regions inside the product's outline that are really background.

u2netp sees the photo at 320 px and takes a closed hole (a ring's, a mug handle's, the gaps of a
chair back) as part of the object. After the model, and before the edge is refined, this module
builds two colour-and-texture models at work resolution: the sure background (well outside the
model's mask, near the product) and the sure product (well inside it). Pixels inside the mask
that the background model explains much better than the product's are candidates; a connected
candidate region is cleared only when it also looks like a place where the background shows
through, not like a part of the product that happens to share its colour:

- it is large enough to matter (a speck of matching colour is noise, or a highlight);
- it is mostly background-like through and through (a printed label on a white product has text
  inside it: those islands are product, so the panel is kept);
- it is no printed panel: a flat field with marks on it in a colour the backdrop hardly has (an
  off-white label on a light grey shelf wall, its text smoothed into the region: printed_panel);
- there is a visible step between it and the product around it (a white product on a white
  backdrop shades smoothly into a band that matches the backdrop's colour: no step, kept);
- on a plain backdrop, its colour is the backdrop's own colour continued under the product (a
  label's slightly different white is not); where it is that colour almost exactly and the
  product around it is not, that is the step (a grey padlock's shackle opening on the moon).

A region that touches the outside is the edge's fuzz, cleared only when the models are sure of
it; when it is an opening joined to the fuzz (a padlock's shackle opening, through the model's
soft rim along the shackle), its part off the outline is judged on its own. What is found,
less the product's own light areas (their rim shades softly into the product, an opening's is
its sharp inner edge: imaging.highlights, a padlock's gloss streak on a scene with white in
it), is then settled up to the product's inner edge by a graph cut (joined_openings.settle: the
models stop short of it, or take a part of the scene behind for product). No step may clear
most of the product (step_masks): one that would has taken the product for background.

The cleared pixels become 0 in the model's map, so the refinement then settles their edge on
the full-resolution source exactly as it does the outer edge. `match_regions` is also what QA's
`bg_inside` measures on the finished output (with looser limits: it reports, it does not cut).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from . import backdrop_fit, highlights, local_backdrop, product_colours
from . import joined_openings as _joined
from .compiled import loops, readonly

L_BINS, AB_STEP, AB_BINS, TEX_EDGES = 10, 8.0, 16, (1.5, 4.0, 10.0)
FIRST_RATIO = 0.5  # the first pass's bar (see match_regions)
PRIOR = 0.5  # pseudo-count per bin, after smoothing: unseen colours are not certain either way
MARGIN = 0.006  # of the long side: how far the sure background and product stay off the edge


@dataclass(frozen=True)
class Limits:
    """How sure a region must be before it counts (the cutter is stricter than QA)."""

    ratio: float = 1.6  # mean log-likelihood ratio bg:product over a 5x5 window, per pixel
    min_share: float = 0.002  # of the product's area
    min_pixels: int = 24
    solid: float = 0.9  # share of the filled region that is candidate (text islands count against)
    step: float = 7.0  # Lab distance between the region's rim and the product's rim around it
    plain_de: float = 4.0  # on a plain backdrop: distance to the backdrop's continued colour
    touching_ratio: float = 2.5  # stricter for regions that touch the outside (the edge fuzz)
    sure_ratio: float = 3.0  # on texture: a region this sure needs no colour step
    sure_solid: float = 0.8  # and may hold this many islands
    joined: bool = True  # openings joined to the edge's fuzz settled by a graph cut
    panels: bool = True  # printed panels kept (QA's bg_inside has its own: qa.printed_panels)


CUT = Limits()
REPORT = Limits(ratio=1.3, step=6.0, joined=False, panels=False)


def warm() -> None:
    """Import OpenCV and run the step once on a tiny map, at worker start (workers fork from a
    warmed template: the import is paid once, not per worker and not in the first job)."""
    rgb = np.zeros((40, 40, 3), np.uint8)
    p = np.zeros((40, 40), np.float32)
    p[10:30, 10:30] = 1.0
    match_regions(rgb, p)


def lab(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def texture(lightness: np.ndarray) -> np.ndarray:
    """Local standard deviation of L* over 5x5 (texture: gravel and grass are busy, paint is not)."""
    import cv2

    mean = cv2.blur(lightness, (5, 5))
    sq = cv2.blur(lightness * lightness, (5, 5))
    return np.sqrt(np.maximum(sq - mean * mean, 0.0))


def bins(lab_px: np.ndarray, tex: np.ndarray) -> np.ndarray:
    """One histogram bin per pixel: L* (10), a* and b* (16 each, 8 units), texture (4); in one
    compiled pass where there is numba (kernels.histogram_bins: the same float32 steps)."""
    kernels = loops()
    fits = lab_px.dtype == tex.dtype == np.float32 and lab_px.ndim == 3 and tex.ndim == 2
    if kernels is not None and fits:
        out = np.empty(tex.shape, np.int32)
        edges = np.asarray(TEX_EDGES, np.float32)
        kernels.histogram_bins(lab_px, tex, L_BINS, AB_STEP, AB_BINS, edges, out)
        return out
    li = np.clip((lab_px[..., 0] / 10.0).astype(np.int32), 0, L_BINS - 1)
    ai = np.clip(((lab_px[..., 1] + 64.0) / AB_STEP).astype(np.int32), 0, AB_BINS - 1)
    bi = np.clip(((lab_px[..., 2] + 64.0) / AB_STEP).astype(np.int32), 0, AB_BINS - 1)
    ti = (tex > TEX_EDGES[0]).astype(np.int32) + (tex > TEX_EDGES[1]) + (tex > TEX_EDGES[2])
    return ((li * AB_BINS + ai) * AB_BINS + bi) * 4 + ti


def _density(index: np.ndarray, where: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    n = L_BINS * AB_BINS * AB_BINS * 4
    hist = np.bincount(index[where], minlength=n).astype(np.float32)
    hist = ndimage.uniform_filter(hist.reshape(L_BINS, AB_BINS, AB_BINS, 4), (3, 3, 3, 1))
    hist = hist.ravel() + PRIOR / n * max(1.0, float(hist.sum()))
    return np.log(hist / hist.sum())


def margin(shape) -> int:
    """px that the sure background and the sure product keep off the model's edge, for a map of
    `shape` (its soft rim and the pixels beside it belong to neither colour model)."""
    return max(2, round(MARGIN * max(shape)))


@functools.cache
def _disk(r: int) -> np.ndarray:
    """The disk of radius r as a structuring element (made once per radius, read-only: the
    steps after the model ask for a few radii hundreds of times a photo)."""
    y, x = np.ogrid[-r : r + 1, -r : r + 1]
    return readonly((x * x + y * y <= r * r).astype(np.uint8))  # shared: made once per r


DISK_COMPILED = 5  # from this radius on, grow/shrink run compiled.loops().disk_within (faster)


def _disk_within(mask: np.ndarray, r: int, erode: bool) -> np.ndarray | None:
    """cv2's dilation/erosion of a bool mask by _disk(r), compiled (the same pixels, in a pass
    per column of the disk rather than per pixel of it), or None where it does not apply."""
    if r < DISK_COMPILED or r > 254 or mask.dtype != bool or mask.ndim != 2:
        return None
    kernels = loops()
    if kernels is None:
        return None
    out = np.empty(mask.shape, np.uint8)
    kernels.disk_within(np.ascontiguousarray(mask).view(np.uint8), r, erode, out)
    return out.view(bool)


def grow(mask: np.ndarray, r: int) -> np.ndarray:
    import cv2

    if r <= 0:
        return mask
    fast = _disk_within(mask, r, False)
    return cv2.dilate(mask.view(np.uint8), _disk(r)).view(bool) if fast is None else fast


def shrink(mask: np.ndarray, r: int) -> np.ndarray:
    import cv2

    if r <= 0:
        return mask
    fast = _disk_within(mask, r, True)
    if fast is not None:
        return fast
    return cv2.erode(mask.view(np.uint8), _disk(r), borderValue=0).view(bool)


def joined_to(mask: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """The pixels of `mask` in the parts of `mask | seed` (8-connected) that hold `seed` (by a
    table of the parts, not np.unique / np.isin's sorting: busy photos have thousands)."""
    import cv2

    n, labels = cv2.connectedComponents((mask | seed).view(np.uint8), connectivity=8)
    held = np.zeros(n, bool)
    held[labels[seed]] = True
    held[0] = False
    return mask & held[labels]


def components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(n, labels, area) of mask's 8-connected parts: cv2.connectedComponents' labels and each
    label's pixel count (connectedComponentsWithStats' CC_STAT_AREA, int32) by a bincount, for
    the steps that ask the stats for the area alone: the same labels, and WithStats took three
    times as long (its stats pass: 2 ms on a 640 px work map, 0.6 this way)."""
    import cv2

    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    kernels = loops()
    if kernels is None:
        return n, labels, np.bincount(labels.ravel(), minlength=n).astype(np.int32)
    area = np.empty(n, np.int32)  # the same counts, one compiled pass (no int64 copy)
    kernels.label_sizes(labels, n, area)
    return n, labels, area


def box_of(mask: np.ndarray, pad: int = 0):
    """The slices of mask's bounding box grown by pad px (inside the map), or None where it is
    empty (fill_holes of a mask inside a box is the same on the box: its holes lie in it, off
    its rim)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    h, w = mask.shape
    return (
        slice(max(0, int(rows[0]) - pad), min(h, int(rows[-1]) + pad + 1)),
        slice(max(0, int(cols[0]) - pad), min(w, int(cols[-1]) + pad + 1)),
    )


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """mask with every region it encloses filled (scipy's binary_fill_holes, by a flood of the
    outside from a 1 px frame: several times faster)."""
    import cv2

    h, w = mask.shape
    outside = np.zeros((h + 2, w + 2), np.uint8)
    outside[1:-1, 1:-1] = mask
    flood = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2)
    return outside[1:-1, 1:-1] != 2


@dataclass
class Models:
    """Per-pixel features and the two colour models of one crop; `fit` sets the product's."""

    lab: np.ndarray
    tex: np.ndarray  # local deviation of L* (texture)
    index: np.ndarray  # each pixel's histogram bin
    log_bg: np.ndarray  # the sure background's log density per bin
    sure_bg: np.ndarray
    raw: np.ndarray | None = None  # log P(bg) - log P(product), per pixel
    ratio: np.ndarray | None = None  # the same smoothed over 5x5
    _continued: object = False  # not worked out yet
    reduced_of: tuple | None = None  # (p, k, p's copy): the map `find` reduced (reduced_map)

    def fit(self, sure_fg: np.ndarray) -> None:
        import cv2

        self.raw = (self.log_bg - _density(self.index, sure_fg)).astype(np.float32)[self.index]
        self.ratio = cv2.blur(self.raw, (5, 5))

    @property
    def continued(self) -> np.ndarray | None:
        """The backdrop's colour continued under the product, on a plain backdrop (None on a
        textured one); worked out when a candidate region first needs it."""
        if self._continued is False:
            self._continued = _continued(self.lab, self.sure_bg)
        return self._continued


def build(rgb: np.ndarray, sure_bg: np.ndarray, sure_fg: np.ndarray) -> Models | None:
    """Colour/texture models of the sure background and sure product; None if either is thin."""
    if sure_bg.sum() < 200 or sure_fg.sum() < 200:
        return None
    lab_px = lab(rgb)
    tex = texture(lab_px[..., 0])
    index = bins(lab_px, tex)
    models = Models(lab_px, tex, index, _density(index, sure_bg), sure_bg)
    models.fit(sure_fg)
    return models


def _continued(lab_px: np.ndarray, sure_bg: np.ndarray) -> np.ndarray | None:
    """On a plain backdrop (its pixels within dE 3 of their own smooth surround, 85% of them),
    its colour continued smoothly everywhere (normalised Gaussian on a ~48 px grid); else None."""
    import cv2

    h, w = sure_bg.shape
    step = max(1, max(h, w) // 48)
    small = (max(1, w // step), max(1, h // step))
    weight = cv2.resize(sure_bg.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    colour = cv2.resize(lab_px * sure_bg[..., None], small, interpolation=cv2.INTER_AREA)
    sigma = 0.12 * max(small)
    mass = cv2.GaussianBlur(weight, (0, 0), sigma)
    est = cv2.GaussianBlur(colour, (0, 0), sigma) / np.maximum(mass, 1e-6)[..., None]
    est = cv2.resize(est, (w, h), interpolation=cv2.INTER_LINEAR)
    pick = np.flatnonzero(sure_bg.ravel())[::7]  # an even sample is enough for the verdict
    far = lab_px.reshape(-1, 3)[pick] - est.reshape(-1, 3)[pick]
    return est if float((np.sqrt((far * far).sum(axis=1)) < 3.0).mean()) >= 0.85 else None


def match_regions(
    rgb: np.ndarray, p: np.ndarray, limits: Limits = CUT, keep=None, report=None
) -> tuple[np.ndarray, float]:
    """Pixels of the product (p > 0.5) that belong to regions where the background shows.

    rgb: (h,w,3) uint8 of the same pixels as p (a float map in [0, 1]); keep: pixels that are
    product whatever they look like (a reviewer's stroke); report: a dict that receives the
    colour/texture `models` it built (repairs.faint_parts reuses them). Returns (mask, share
    of the product's pixels it covers).
    """
    product = p > 0.5
    area = int(product.sum())
    if area < 100:
        return np.zeros_like(product), 0.0
    gap = margin(p.shape)
    sure_bg = (p < 0.05) & ~grow(product, gap)
    sure_fg = shrink(p > 0.95, gap)
    filled = fill_holes(product)
    band = sure_fg & ~shrink(filled, _band_width(filled))
    models = build(rgb, sure_bg, band if band.sum() >= 200 else sure_fg)
    if report is not None:
        report["models"] = models  # for the repairs after this step (the same copy)
    if models is None:
        return np.zeros_like(product), 0.0
    outside = ~filled  # the background around the outline
    exact = np.zeros_like(product)
    if limits.joined and models.continued is not None:
        exact = backdrop_fit.showing(models.lab, sure_bg, product, outside, keep)
    # The product's model holds the openings it filled (a ring's hole is a third of its "sure
    # product"), which halves their likelihood ratio: a first pass with a low bar finds them,
    # and the product's model is fitted again without them before the real pass. (The real
    # pass's regions are a subset of the first's: nothing found first, nothing to find.) The
    # first pass's product model is the sure product in a band along the outline: an opening
    # is inside the outline, off it, so a big one (a picture frame's, most of the product)
    # is not in that model, where it is most of the whole interior's.
    first_limits = replace(limits, ratio=FIRST_RATIO)
    first = _regions(models, product, outside, area, first_limits, keep)
    smallest = max(limits.min_pixels, limits.min_share * area)
    joined = _joined.joined(rgb, p, models.ratio, outside, smallest, keep, limits.joined)
    joined |= exact
    if not first.any():
        # a frame's sides may be thinner than the band: its opening then is in the model;
        # once more with half the band, for an opening the models are sure of on texture
        # (a thin band is a thin sample: a bottle's neck under a face passed for one)
        thin = sure_fg & ~shrink(filled, max(2, _band_width(filled) // 2))
        if thin.sum() < 200:
            return joined, float(joined.sum() / area)
        models.fit(thin)
        first = _regions(models, product, outside, area, first_limits, keep, only_sure=True)
        if not first.any():
            return joined, float(joined.sum() / area)
    held = sure_fg & ~grow(first, gap)
    if models.continued is not None:
        held &= _distance(models.lab, models.continued, held) >= PLAIN_SURE_DE
    sample = held if held.sum() >= 200 else sure_fg  # the product's pixels its model is fitted on
    models.fit(sample)
    found = _regions(models, product, outside, area, limits, keep)
    if found.any() and models.continued is None:
        found = _trim_like_product(_trim_rim(found, models.raw), models.lab, product)
    if limits.joined and models.continued is None:  # on texture (as is _trim_rim)
        lost = first & ~grow(found | joined, 1)
        joined |= _joined.lost(rgb, p, lost, outside, smallest, keep)
    found |= joined
    if found.any():  # a gloss streak the models took for one is the product's (highlights)
        found &= ~highlights.soft_parts(models.lab, found, product, models.ratio)
    if limits.joined and found.any():
        found |= _joined.settle(rgb, p, found, keep)
        if models.continued is None:  # the backdrop's colours just around the product
            found |= local_backdrop.regions(models, product, outside, found, keep)
        off = product_colours.off_colour(models, found, product, sample)
        if report is not None:
            report["off_colour"] = off  # for the repairs' regrowth (the same copy)
        found |= product_colours.rest(found, off, product, keep)
    return found, float(found.sum() / area)


def _trim_rim(found: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """The found regions less their rim pixels that look like product on their own, on a
    textured background: the 5x5 smoothing of the ratio carries a region over its true edge,
    into the product (a frame's inner edge on brick eaten by a few px at full resolution). Not
    on a plain backdrop: there the rim's mixed pixels look like neither model, and they are
    the backdrop's (kept, they made a halo around a frame's opening on the light sweep)."""
    rim = found & ~shrink(found, RIM)
    return found & ~(rim & (raw <= 0.0))


def _trim_like_product(found: np.ndarray, lab_px: np.ndarray, product: np.ndarray) -> np.ndarray:
    """The found regions less their rim pixels whose colour is the product's right beside
    them (within RIM_DE of the mean over 7x7 of the product outside the regions): where the
    product's paint also passes for background (a dark frame's shadowed side on a star field),
    the global models cannot tell, its neighbour can."""
    import cv2

    rim = found & ~shrink(found, RIM)
    if not rim.any():
        return found
    beside = (product & ~found).astype(np.float32)
    mass = cv2.blur(beside, (7, 7))
    near = cv2.blur(lab_px * beside[..., None], (7, 7)) / np.maximum(mass, 1e-6)[..., None]
    d = lab_px[rim] - near[rim]
    like = np.zeros_like(found)
    like[rim] = (np.sqrt((d * d).sum(axis=1)) < RIM_DE) & (mass[rim] > 0.05)
    return found & ~like


RIM_DE = 4.0  # CIELAB distance to the product beside it under which a rim pixel is product
RIM = 2  # px (at the reduced size) of a found region's rim that _trim_rim looks at
BAND = 0.12  # the outline band's width, of the square root of the outlined area


def _band_width(filled: np.ndarray) -> int:
    return max(3, round(BAND * float(np.sqrt(filled.sum()))))


def _regions(
    models: Models, product, outside, area: int, limits: Limits, keep, only_sure=False
) -> np.ndarray:
    # hysteresis: regions where the background is at least as likely, holding sure pixels
    weak = product & (models.ratio > 0.0)
    if keep is not None:
        weak &= ~keep
    out = np.zeros_like(product)
    smallest = max(limits.min_pixels, limits.min_share * area)
    if weak.sum() < smallest:
        return out
    loose = weak  # before the plain backdrop's colour test: its misses are no product islands
    strong = weak & (models.ratio > limits.ratio)
    if models.continued is not None:
        # on a plain backdrop, its own colour continued under the product is evidence enough
        # where the models are torn (a grey padlock's shackle opening on a grey-blue sweep)
        d = _distance(models.lab, models.continued, weak)
        weak = weak & (d < limits.plain_de)
        strong = weak & ((models.ratio > limits.ratio) | (d < PLAIN_SURE_DE))
    touching = np.zeros_like(product)
    for region, sl in _candidates(weak, strong, smallest):
        verdict = _accepts(models, region, product[sl], outside[sl], sl, limits, loose[sl])
        if verdict is None:
            touching[sl] |= region
        elif verdict and (verdict == SURE or not only_sure):
            out[sl] |= _cleared(region, product[sl], loose[sl], verdict)
    if not touching.any():
        return out
    # a region joined to the outside only through the edge's fuzz (a padlock's shackle opening,
    # through the model's soft rim along the shackle): its parts off the outline that pass the
    # cutter's bar even in the first pass (a gloss streak the band's model half explains joins
    # the opening at a corner: it is split off, not taken for one), less thin links, on their
    # own, each grown back over the region's pixels beside it
    core = touching & ~grow(outside, OFF_EDGE)
    bar = max(limits.ratio, CUT.ratio)
    seeds = core & (models.ratio > bar)
    seeds &= grow(shrink(seeds, THIN), THIN)
    for seed, sl in _candidates(seeds, seeds, smallest):
        region = grow(seed, THIN) & core[sl]
        if float(np.median(models.ratio[sl][region])) < OFF_EDGE_RATIO:
            continue  # a light gloss streak run to the edge, on a micrograph's light patches
        verdict = _accepts(models, region, product[sl], outside[sl], sl, limits, loose[sl])
        if verdict and (verdict == SURE or not only_sure):
            out[sl] |= _cleared(region, product[sl], loose[sl], verdict)
    return out


PLAIN_SURE_DE = 2.5  # CIELAB distance to a plain backdrop's continued colour that is sure
OFF_EDGE = 4  # px (reduced copy) off the outline where a touching region's parts are looked at
OFF_EDGE_RATIO = 2.0  # the least median ratio of such a part, in either pass (a gloss: 1.8)
THIN = 3  # px: half the width of a line that is no part of such a region


def _candidates(weak: np.ndarray, strong: np.ndarray, smallest: float):
    """(region, slice) per connected region of `weak` large enough and half `strong`: their
    sizes, strong pixels and boxes in one compiled pass over the labels (kernels.label_boxes;
    without numba bincounts and scipy's find_objects, for the chosen regions alone)."""
    import cv2
    from scipy import ndimage

    kernels = loops()
    corners = None
    if kernels is None or weak.dtype != bool or strong.dtype != bool:
        n, labels, size = components(weak)
        strong = np.bincount(labels[strong], minlength=n)
    else:  # sizes, strong counts and boxes in one compiled pass over the labels
        n, labels = cv2.connectedComponents(weak.view(np.uint8), connectivity=8)
        size, counts = np.empty(n, np.int32), np.empty(n, np.int64)
        corners = np.empty((n, 4), np.int64)
        kernels.label_boxes(labels, n, strong, size, counts, corners)
        strong = counts
    chosen = np.flatnonzero((size >= smallest) & (strong >= 0.5 * size))
    chosen = chosen[chosen > 0]
    if len(chosen) == 0:
        return
    if corners is None:
        found = ndimage.find_objects(labels, int(chosen[-1]))
        boxes = [(r.start, r.stop, c.start, c.stop) for r, c in (found[i - 1] for i in chosen)]
    else:
        boxes = corners[chosen].tolist()
    pad = 8
    for i, (top, bottom, left, right) in zip(chosen, boxes, strict=True):
        sl = (slice(max(0, top - pad), bottom + pad), slice(max(0, left - pad), right + pad))
        yield labels[sl] == i, sl


def _cleared(region, product, loose, verdict) -> np.ndarray:
    """What an accepted region clears: a sure region on texture goes with its islands (the
    stars in it), a region on a plain backdrop with its islands that look like background but
    stray from its continued colour (the moon's craters)."""
    if verdict == SURE:
        return fill_holes(region) & product
    return region | (fill_holes(region) & loose)


def _distance(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> np.ndarray:
    """|a - b| (CIELAB) at `where`, +inf elsewhere."""
    out = np.full(where.shape, np.inf, np.float32)
    d = a[where] - b[where]
    out[where] = np.sqrt((d * d).sum(axis=1))
    return out


COMMON_BG = float(np.log(1e-3))  # the background model's density over which a bin is common
SURE = 2  # _accepts' verdict for a region the models are sure of on texture


def _accepts(
    models: Models, region, product, outside, sl, limits: Limits, loose
) -> bool | int | None:
    """Whether a candidate region is background showing through: True, SURE (on texture, with
    its islands), False, or None when it touches the outside without the certainty asked of
    the edge's fuzz (its parts off the outline may still be). loose: the pixels that look like
    background before the plain backdrop's colour test."""
    filled = fill_holes(region)
    ratio = models.ratio[sl]
    median = float(np.median(ratio[region]))
    touching = bool((grow(filled, 2) & outside).any())
    if touching and median < limits.touching_ratio:
        return None
    # a textured background's own sprinkles (stars) make islands too; an enclosed region the
    # models are sure of on texture may hold more of them than a label's text
    sure = not touching and models.continued is None and median >= limits.sure_ratio
    # islands in the background's common colours and textures are no product print (the
    # mortar of brick seen through a shackle's opening; a label's text is not in the backdrop)
    common = models.log_bg[models.index[sl]] > COMMON_BG
    solid = (region | (filled & (loose | common))).sum()
    if solid < (limits.sure_solid if sure else limits.solid) * filled.sum():
        return False  # islands of product inside (the text of a label)
    if limits.panels and not touching and printed_panel(models, region, sl):
        return False  # a label, its text smoothed into it, in a colour near the backdrop's
    rim_out = grow(filled, 6) & product & ~grow(filled, 1)
    rim_in = filled & ~shrink(filled, 3)
    if rim_out.sum() < 8 or rim_in.sum() < 8:
        return False
    lab_px = models.lab[sl]
    step = float(np.linalg.norm(lab_px[rim_in].mean(axis=0) - lab_px[rim_out].mean(axis=0)))
    # the product side of the rim must not itself look like background
    product_side = float((ratio[rim_out] > limits.ratio).mean())
    if product_side >= 0.5:
        return False
    # on a textured background an opening may share the product's mean colour and differ by
    # its texture and its sprinkles (a dark frame on a star field): the models' verdict, when
    # it is sure on both sides and the region is the busier side, is the step
    tex = models.tex[sl]
    if (
        sure
        and float(np.median(ratio[rim_out])) < 0.0
        and float(tex[region].mean()) > 2.0 * float(tex[rim_out].mean()) + 0.5
    ):
        return SURE
    return step >= limits.step or _backdrop_continued(models, region, rim_out, sl)


def _backdrop_continued(models: Models, region, rim_out, sl) -> bool:
    """On a plain backdrop: the region is the backdrop's continued colour (median within
    PLAIN_SURE_DE) and the product around it is not (twice that off): a grey shackle's opening
    on the moon's grey surface, a step of 6 between means that differ little."""
    if models.continued is None:
        return False
    lab_px, continued = models.lab[sl], models.continued[sl]
    inside = np.median(_distance(lab_px, continued, region)[region])
    around = np.median(_distance(lab_px, continued, rim_out)[rim_out])
    return bool(inside <= PLAIN_SURE_DE and around >= 2.0 * PLAIN_SURE_DE)


PANEL_MARK_DE = 20.0  # CIELAB distance from a region's median colour that makes a pixel a mark
PANEL_MARKS = 0.02  # the least share of marks on a printed panel (a box's label: 0.076)
PANEL_FLAT_DE = 5.0  # CIELAB distance from the median within which a panel's field is flat
PANEL_FLAT = 0.8  # the least share of such pixels (the box's label: 0.89; the logo's scales <0.65)
PANEL_NEAR_DE = 3.0  # CIELAB distance from the field's colour at which the backdrop has it
PANEL_NEAR = 0.005  # the most share of the sure background that has it (an opening: >= 0.04)


def printed_panel(models: Models, region: np.ndarray, sl=np.s_[:, :]) -> bool:
    """Whether a region (of the models' map, or of its window `sl`) is a panel printed on the
    product, not the background seen through it: a flat field (over PANEL_FLAT of the pixels
    of its convex hull within PANEL_FLAT_DE of their median) with marks on it (over PANEL_MARKS
    of them PANEL_MARK_DE off it: text), in a colour the backdrop hardly has (under PANEL_NEAR
    of the sure background within PANEL_NEAR_DE of it). The histogram models see L* in 10-unit
    bins smoothed over three, and the 5x5 ratio smooths a label's thin text into it: a box's
    off-white label (L* 96) passed for a light grey shelf wall (L* 89; the nearest backdrop
    pixels dE 8 off), for marble (3.9) and a white sweep (3.6), none of the backdrop within 3.
    An opening shows the backdrop: where it is a flat field with marks (a page of text, marble's
    veins, a star field) 0.1-0.8 of the backdrop lies that near; a textured one is no field."""
    # the hull holds the text the region left out: its islands, and a line run to its side
    inner = shrink(hull(region), 2)
    if inner.sum() < 24:
        return False
    median = flat_with_marks(models.lab[sl][inner])
    if median is None:
        return False
    pick = np.flatnonzero(models.sure_bg.ravel())[::4]  # an even sample is enough
    if pick.size == 0:
        return False
    backdrop = models.lab.reshape(-1, 3)[pick]
    near = np.square(backdrop - median).sum(axis=1) < PANEL_NEAR_DE * PANEL_NEAR_DE
    return float(near.mean()) < PANEL_NEAR


def flat_with_marks(colours: np.ndarray):
    """The median of `colours` (CIELAB, n x 3: a region's inner pixels) where they are a flat
    field with marks on it, as a printed panel is (over PANEL_FLAT of them within PANEL_FLAT_DE
    of the median, over PANEL_MARKS of them PANEL_MARK_DE off it: text); else None (no print on
    it, or no flat field under the print: texture, a scene). The cutter's printed_panel and QA's
    printed_panels both ask this first."""
    median = np.median(colours, axis=0)
    off = np.sqrt(np.square(colours - median).sum(axis=1))
    if (off > PANEL_MARK_DE).mean() < PANEL_MARKS or (off < PANEL_FLAT_DE).mean() < PANEL_FLAT:
        return None
    return median


def hull(mask: np.ndarray) -> np.ndarray:
    """mask's convex hull, filled: the hull of each row's first and last pixel (the same
    polygon, from a few hundred points rather than every pixel)."""
    import cv2

    out = np.zeros(mask.shape, np.uint8)
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return out.view(bool)
    lines = mask[rows]
    first = lines.argmax(axis=1)
    last = mask.shape[1] - 1 - lines[:, ::-1].argmax(axis=1)
    ends = np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)])
    cv2.fillConvexPoly(out, cv2.convexHull(ends.astype(np.int32)), 1)
    return out.view(bool)


SIDE = 320  # openings worth clearing are large: the models run on a copy this size


def reduced(a, k: int):
    """An rgb image, float map or mask on the copy reduced by the whole factor k (Pillow's
    reduce: block means; a mask where most of a block is set), as find's copy is made; None
    stays None."""
    if a is None:
        return None
    if a.dtype == bool:
        return np.asarray(Image.fromarray(a.view(np.uint8) * np.uint8(255)).reduce(k)) > 127
    if a.ndim == 3:
        return np.asarray(Image.fromarray(np.ascontiguousarray(a), "RGB").reduce(k))
    return np.asarray(Image.fromarray(np.ascontiguousarray(a, np.float32), "F").reduce(k))


def reduced_map(p: np.ndarray, k: int, models=None) -> np.ndarray:
    """reduced(p, k), or the copy `find` made of this very p (the same object, by the same k)
    for `models`, its report's colour models: the steps after it read p's copy again."""
    made = None if models is None else models.reduced_of
    if made is not None and made[0] is p and made[1] == k:
        return made[2]
    return reduced(p, k)


def find(
    rgb: np.ndarray, p: np.ndarray, limits: Limits = CUT, keep=None, side: int = SIDE, report=None
):
    """match_regions on a copy reduced by a whole factor to about `side` px (long side; block
    means, Pillow's reduce), the mask brought back to p's size (nearest neighbour, inside
    p > 0.5): a few ms on a 640 px work map or a 2000 px output region, and the refinement then
    settles the new edge on the full-resolution source anyway. (found mask, share)"""
    import cv2

    h, w = p.shape
    k = max(h, w) // side
    if k <= 1:
        return match_regions(rgb, p, limits, keep, report)
    small_rgb, small_p = reduced(rgb, k), reduced(p, k)
    small_keep = None
    if keep is not None:
        small_keep = np.asarray(Image.fromarray(keep.view(np.uint8) * np.uint8(255)).reduce(k)) > 0
    found, share = match_regions(small_rgb, small_p, limits, small_keep, report)
    if report is not None and report.get("models") is not None:
        report["models"].reduced_of = (p, k, small_p)  # the steps after reuse the copy
    if not found.any():
        return np.zeros((h, w), bool), 0.0
    back = cv2.resize(found.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)
    back &= p > 0.5
    if keep is not None:
        back &= ~keep
    return back, share
