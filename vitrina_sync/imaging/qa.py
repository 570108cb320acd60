"""QA figures for one output, and the thresholds (per category) that turn them into flags.

Each figure answers one question a reviewer would otherwise answer by squinting:
- de_mean / de_p95: did the product's colours change? (CIEDE2000, source vs output, opaque part)
- halo: does the old background show as a fringe around the product?
- uncertainty: how much of the product's edge is still undecided in the finished alpha?
- bg_inside: is some of the old background kept as product, e.g. a ring's hole full of gravel?
  (Not a printed label that matches the background's colours by chance.)
- border: does the product run into the photo's edge (cut by the frame, or the model took
  something else: a disc that fills the photo)?
- soft_holes: did the cut punch holes where the photo has no edge (a highlight cut out as if it
  were an opening)?
- kept_opening: is an opening kept as product with something seen through it (a padlock's
  shackle opening showing a coin; a dark frame's full of the night sky, told by the sky's
  texture)? kept_opening_box says where (imaging/kept_openings.py).
- outgrowth: did the product grow a patch of the old background at its outline (a rocket's
  nose on a hoop, a stone at a frame's corner)? (imaging/outgrowths.py)
- foreign_part: did the product take a piece of another object along, joined to its outline
  in colours the product has too (a cat's pupil on a dark frame's side), which the colour
  figures cannot tell from the product? (imaging/joined_parts.py)
- lost_part: did the output lose a part of the product the photo clearly shows (a chair's back
  posts, cut by the frame's top, dropped with the backdrop)? Plain backdrops only.
- faint: did the output keep faint remains apart from the product (alpha under 0.5, off its
  body: a backdrop's slats under a chair's seat, half-believed), which the composite shows as
  a grey smudge on the white, and which often go with a part of the product lost among them?
- parted: did a step take another object off the product, judging pixels the model was sure
  of (imaging.parted's graph cut on a busy photo: the coffee cup behind a box)? The share of
  the outline it took off where its seam is doubtful (parted.doubtful: a thin part of the
  product, a strap, a handle or a blade, runs into the seam, or a part in the product's colours
  went with the other object), else 0; any is flagged. A seam along another object's side (the
  cup behind a box, the head above a bottle) reads 0.
- cut_panel: did the cut punch a hole through a panel printed on the product (a box's label
  cut out as an opening: a flat field with text, in a colour the backdrop does not have)?
- fill: how much of the canvas does the product span (vs the preset's fill)?
- purity: is the background really pure white (white mode)?
- sharpness: is the source photo itself sharp (the Laplacian at a fixed scale, over the crop and
  at its edges)?
- headroom: source pixels per output pixel (below 1 = upscaled).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PIL import Image

from .colour import delta_e_rgb
from .compiled import readonly
from .flag_names import CHECKS, FILL
from .local_means import local_mean_of
from .refine import (
    block_mean,
    channel_sum,
    dilate,
    erode,
    local_mean,
    loops,
    pixel_list,
    pixels_at,
)

DEFAULTS: dict[str, float] = {
    "de_mean_max": 1.0,
    "de_p95_max": 2.0,
    "halo_max": 0.03,
    "uncertainty_max": 0.09,
    "bg_inside_max": 0.02,
    "border_max": 0.03,
    "soft_holes_max": 0.01,
    "kept_opening_max": 0.02,
    "outgrowth_max": 0.005,
    "foreign_part_max": 0.02,
    "lost_part_max": 0.01,
    "parted_max": 0.0,
    "faint_max": 0.05,
    "cut_panel_max": 0.005,
    "fill_tolerance": 0.02,
    "purity_min": 0.999,
    "sharpness_min": 15.0,
    "headroom_min": 0.5,
}
PANEL_OFF_DE = 30.0  # a panel's distance from the background continued under it (an opening: <5)
LOST_PRODUCT_LIKE = -1.0  # the most 5x5 log-likelihood ratio bg:product of a lost part's pixels
LOST_OFF_BACKDROP = 12.0  # the least dE of a lost part's pixels from the backdrop continued
LOST_RING = 2  # px of the copy around the outline left out (the edge's fuzz, half product)
LOST_SHARE_LEAST = 0.002  # of the product's area: fewer product-coloured pixels off it, no look
SHAPE_SIDE = 320  # border and soft_holes look at a copy this size (long side)
COARSE_SIDE = 480  # the longest copy foreign_part looks at (ShapeCopy.coarse): 1.5 SHAPE_SIDE
LEAST_PRODUCT = 100  # px of the copy: a smaller product reads 0 on the figures of its colour models
SOFT_STEP = 0.5  # a hole's rim step under this share of the step a few px off it: no edge
UNCERTAINTY_SIDE = 1200  # uncertainty reads every k-th pixel of a larger map
SHARPNESS_SIDE = 512  # sharpness is measured with the product's long side at this many pixels
EDGE_STEP = 24.0  # grey levels a 5x5 neighbourhood spans at an edge sharpness looks at
EDGE_SHARPNESS_SHARE = 8.0  # the edges' mean squared Laplacian over this, vs the whole's variance
STEP_LEAST = 16.0  # grey levels a 5x5 neighbourhood spans where its Laplacian is read per level
STEP_SHARPNESS = 100.0  # the mean square of the Laplacian per level of the step, times this
HALO_OFF_BLEND = 40.0  # RGB levels the old background lies off every product-new background blend
HALO_MOSTLY = 0.5  # of the way to the old background: haloed whatever the colours (a grown edge)
FAINT_LEAST = 0.05  # alpha over this is kept (a 13 of 255 in the mask)
FAINT_REACH = 0.008  # of the product's long side: farther from its body is no soft edge
FAINT_LEAST_REACH = 4.0  # px: a small product's honest soft edge spans as much
FAINT_SIDE = 600  # faint_remains dilates the body on blocks of a larger alpha
FAINT_AMBIGUOUS = 0.05  # levels: a block's mean this near cv2's rounding edge is left to cv2
DE_SAMPLES = 200_000
HALO_FULL_SIDE = 1200  # above this many pixels the halo is measured on a 2x reduced grid  # CIEDE2000 on an even subsample: the figure, not every pixel, is needed


def thresholds(settings, category: str) -> dict[str, float]:
    """Defaults, overridden by settings["categories"][category] (a [categories.NAME] section)."""
    merged = dict(DEFAULTS)
    categories = (settings or {}).get("categories") or {}
    key = (category or "").strip().lower()
    for name, values in categories.items():
        if str(name).strip().lower() == key and isinstance(values, dict):
            merged.update({k: float(v) for k, v in values.items() if k in DEFAULTS})
    return merged


def colour_drift(
    source: np.ndarray, output: np.ndarray, opaque, changed: bool | None = None
) -> tuple[float, float]:
    """CIEDE2000 mean and p95 between source and output pixels where `opaque` (same geometry).
    changed: whether any opaque pixel differs, where the caller counted it already
    (region_looks; `opaque` may then be None where it is False)."""
    if changed is None and source.dtype == output.dtype == np.uint8:
        changed = _any_changed(source, output, opaque)
    if changed is False and source.dtype == output.dtype == np.uint8:
        return 0.0, 0.0  # every opaque pixel is bit-identical: dE is exactly 0 everywhere
    ys, xs = np.nonzero(opaque)
    if len(ys) == 0:
        return 0.0, 0.0
    step = max(1, len(ys) // DE_SAMPLES)
    got, want = output[ys[::step], xs[::step]], source[ys[::step], xs[::step]]
    changed = (got != want).any(axis=1)  # identical pixels differ by exactly 0: skip the maths
    de = np.zeros(len(got))
    if changed.any():
        de[changed] = delta_e_rgb(want[changed], got[changed])
    return float(de.mean()), float(np.percentile(de, 95))


def _any_changed(source: np.ndarray, output: np.ndarray, where: np.ndarray) -> bool:
    """Whether any pixel with `where` set differs between two uint8 RGB images (one compiled
    pass where there is numba; numpy's XOR over the region otherwise)."""
    kernels = loops()
    if kernels is not None and source.ndim == 3 and where.dtype == bool:
        return bool(kernels.any_changed(source, output, where))
    diff = np.bitwise_xor(source, output)
    changed = diff[..., 0] | diff[..., 1]
    changed |= diff[..., 2]
    return bool(((changed != 0) & where).any())


def region_looks(source, canvas, box, levels, shadow=None):
    """(whether any opaque pixel, levels 255, differs between source and the canvas' region
    box (l, t, r, b): colour_drift's `changed`; (background pixels there, levels 0 and not
    `shadow`, and how many are exactly white): purity's `in_box` counts) in one compiled
    pass, or None without numba or for other layouts. levels: the stored mask's steps over
    the region (255 <=> alpha exactly 1); shadow: a bool map of the region or None."""
    kernels = loops()
    l, t, r, b = (int(v) for v in box)
    if (
        kernels is None
        or levels is None
        or levels.dtype != np.uint8
        or source.dtype != np.uint8
        or canvas.dtype != np.uint8
        or canvas.ndim != 3
        or not canvas.flags.c_contiguous
        or not source.flags.c_contiguous
        or source.shape != (b - t, r - l, 3)
        or levels.shape != source.shape[:2]
    ):
        return None
    none = np.zeros((0, 0), bool) if shadow is None else shadow
    changed, inside, white = kernels.drift_and_white(source, canvas, levels, none, (l, t, r, b))
    return changed > 0, (int(inside), int(white))


def edge_ring(alpha: np.ndarray, width: int) -> np.ndarray:
    hard = alpha > 0.5
    return dilate(hard, width) & ~erode(hard, width)


def halo(
    source: np.ndarray,
    output: np.ndarray,
    alpha: np.ndarray,
    background: np.ndarray,
    images=None,
) -> float:
    """Share of edge-band output pixels pulled toward the old background's colour.

    The band is every partly transparent pixel plus a few pixels either side of the edge. For
    each: the colour we expect is the product's local colour blended with the new background
    by alpha; the old background's local colour comes from the source. A pixel counts as haloed
    when it has moved visibly (over 10 RGB levels and 10% of the gap) from the expected colour
    toward the old background, and either in a colour no blend of the product with the new
    background has (off the segment between them: a tint, or darker than a dark product over
    black) or more than HALO_MOSTLY of the way (a grown edge), whatever the colours. A right
    edge a fraction of a pixel wide of the truth moves its pixels along that segment (a dark
    frame's rim on beige, 0.068, or a grey padlock's on gravel, 0.075, counted that as halo; a
    frame on a light sweep 0.13): no halo (0.0, 0.010, 0.019). Pixels where the old background
    looks like the product or the new background cannot show a halo and are left out.
    `background` (h,w,3 uint8) may be one colour broadcast over the region (np.broadcast_to),
    which saves copying and reducing it.
    images: (source, output) as Pillow RGB images of the same pixels, where the caller has them:
    the half-size reduction then skips converting two region-sized arrays.
    """
    plain = background.ndim == 3 and background.strides[:2] == (0, 0)  # one colour, broadcast
    src_img, reduce_output, halved = None, 1, None
    kernels = loops()
    if max(alpha.shape) > HALO_FULL_SIDE:  # large outputs: measured at half size (same verdict)
        src_img, out_img = images or (None, None)
        if (
            kernels is not None
            and source.dtype == np.uint8
            and source.ndim == 3
            and source.flags.c_contiguous
        ):  # both local means' fields from the full-size source in one pass, below
            halved = readonly(source)
        elif source.dtype == np.uint8:  # the reduced image serves local_mean below as it is
            whole = Image.fromarray(source, "RGB") if src_img is None else src_img
            src_img = whole.reduce(2)  # block_mean's own reduction
            source = np.asarray(src_img)
        else:
            source = block_mean(source, 2)
        if kernels is not None and output.dtype == np.uint8 and output.ndim == 3:
            reduce_output = 2  # only the band's pixels are read: reduced there, below
        else:
            output = block_mean(output, 2, out_img)
        alpha = block_mean(alpha, 2)
        background = (
            np.broadcast_to(background[0, 0], alpha.shape + (3,))  # the block mean of one colour
            if plain
            else block_mean(background, 2)
        )
    width = max(2, round(0.004 * max(alpha.shape)))
    if kernels is not None and alpha.dtype == np.float32 and alpha.flags.c_contiguous:
        band, inner, outer = kernels.halo_masks(readonly(alpha), width)  # one pass for all three
    else:
        band = edge_ring(alpha, width) | ((alpha > 0.01) & (alpha < 0.99))
        inner, outer = erode(alpha >= 0.99, width), ~dilate(alpha > 0.01, width)
    ys, xs = pixel_list(band)
    if len(ys) == 0:
        return 0.0
    # the product's colour varies (labels, gloss): take it from close by; the background's from
    # a wider neighbourhood (a soft edge spreads over a few pixels)
    if halved is not None:  # block_fields of the half-size source (Pillow's reduce(2)) by 2
        # with `inner` and by 4 with `outer`, from the full-size source: the same sums
        h, w = inner.shape
        near = np.empty(((h - 1) // 2 + 1, (w - 1) // 2 + 1, 4), np.float32)
        far = np.empty(((h - 1) // 4 + 1, (w - 1) // 4 + 1, 4), np.float32)
        kernels.halved_fields(halved, inner, outer, near, far)
        prod, mass_f = local_mean_of(near, ys, xs, 1.5 * width, 2)
        old, mass_b = local_mean_of(far, ys, xs, 4.0 * width, 4)
    else:
        src = source
        if src_img is None and source.dtype == np.uint8:
            src_img = Image.fromarray(source, "RGB")
        prod, mass_f = local_mean(src, inner, ys, xs, 1.5 * width, step=2, image=src_img)
        old, mass_b = local_mean(src, outer, ys, xs, 4.0 * width, image=src_img)
    a = pixels_at(alpha, ys, xs)
    if (
        kernels is not None
        and plain
        and output.dtype == np.uint8
        and a.dtype == prod.dtype == old.dtype == mass_f.dtype == mass_b.dtype == np.float32
    ):  # the verdict below in one compiled pass (the same float32 operations)
        bands = (ys, xs, reduce_output)
        return _halo_compiled(kernels, a, prod, old, mass_f, mass_b, background, output, bands)
    a = a[:, None]
    # one colour broadcast: that colour for every pixel (same products, no gather)
    back = background[0, 0] if plain else pixels_at(background, ys, xs)
    expected = a * prod + (1.0 - a) * back.astype(np.float32)
    toward = old - expected
    gap = np.sqrt(channel_sum(toward**2))
    known = (mass_f > 1e-3) & (mass_b > 1e-3) & (gap > 40.0)
    if not known.any():
        return 0.0
    if reduce_output > 1:  # the same means as block_mean's Pillow reduce, at the band only
        got = np.empty((len(ys), 3), np.uint8)
        kernels.block_means_at(output, ys, xs, reduce_output, got)
    else:
        got = pixels_at(output, ys, xs)
    moved = got.astype(np.float32) - expected
    shift = channel_sum(moved * toward) / np.maximum(gap, 1.0)
    # tinted: moved off every blend of the product's colour with the new background's (the
    # segment between them) toward the old background; a blend, at any alpha, is no halo: an
    # edge a fraction of a pixel off, which a grey rim on a grey product or a light one over
    # white is, reads as edge, not as old background
    new_bg = back.astype(np.float32)
    span = prod - new_bg
    span_sq = np.maximum(channel_sum(span**2), 1.0)
    off = _off_blend(old - new_bg, span, span_sq)
    off_gap = np.sqrt(channel_sum(off**2))
    off_shift = channel_sum(_off_blend(got - new_bg, span, span_sq) * off) / np.maximum(
        off_gap, 1.0
    )
    tinted = (off_gap > HALO_OFF_BLEND) & (off_shift > 10.0) & (off_shift > 0.1 * off_gap)
    haloed = (shift > 10.0) & (shift > 0.1 * gap) & (tinted | (shift > HALO_MOSTLY * gap))
    return float(haloed[known].mean())


def _halo_compiled(kernels, a, prod, old, mass_f, mass_b, background, output, bands) -> float:
    """halo's verdict from its band's local colours (one background colour, broadcast), as
    its numpy lines give it, in compiled passes (kernels.figures.halo_known, halo_verdict):
    the output's band pixels are read only where some pixel is known."""
    ys, xs, reduce_output = bands
    back = np.ascontiguousarray(background[0, 0], np.float32)
    mass_f, mass_b = np.ascontiguousarray(mass_f), np.ascontiguousarray(mass_b)
    prod, old = np.ascontiguousarray(prod), np.ascontiguousarray(old)
    if kernels.halo_known(a, prod, old, mass_f, mass_b, back) == 0:
        return 0.0
    if reduce_output > 1:  # the same means as block_mean's Pillow reduce, at the band only
        got = np.empty((len(ys), 3), np.uint8)
        kernels.block_means_at(output, ys, xs, reduce_output, got)
    else:
        got = np.ascontiguousarray(pixels_at(output, ys, xs))
    limits = np.float32(HALO_OFF_BLEND), np.float32(HALO_MOSTLY)
    haloed, known = kernels.halo_verdict(a, prod, old, mass_f, mass_b, back, got, *limits)
    return float(haloed / known)


def _off_blend(colour: np.ndarray, span: np.ndarray, span_sq: np.ndarray) -> np.ndarray:
    """colour - the nearest of the blends s * span (s in [0, 1]), per row: what no blend of the
    product (span, relative to the new background) with the new background explains."""
    s = np.clip(channel_sum(colour * span) / span_sq, 0.0, 1.0)
    return colour - s[:, None] * span


class ShapeCopy:
    """The output region's source and alpha reduced by a whole factor k to about SHAPE_SIDE px
    (long side; Pillow's reduce, block means), made once for bg_inside and soft_holes: the copy
    openings.find makes of them (the same bytes), so find need not make it again."""

    def __init__(self, source: np.ndarray, alpha: np.ndarray, image=None, k: int | None = None):
        self.k = max(1, max(alpha.shape) // SHAPE_SIDE) if k is None else k
        self.height, self.width = alpha.shape
        self._source, self._alpha, self._image = source, alpha, image
        self._rgb = self._small_alpha = None
        self._product = self._area = self._filled = self._holes = self._lab = None
        self.models = None  # openings' colour models of the copy, once bg_inside built them
        self._built = False, None  # colour_models' own, where bg_inside built none of the copy
        self._coarse = None
        self._edges = self._inside = self._sure_bg = None

    def coarse(self) -> ShapeCopy:
        """This copy, or where its long side is over COARSE_SIDE (a region 480-639 px long, which
        the whole factor k = long // SHAPE_SIDE leaves whole), one reduced by the least factor
        that brings it under (a copy of 240-320 px): the scale a texture of coarse strands shows
        at (foreign_part's second look; kept_opening's backdrop texture). Copies of regions
        640 px and over are at that scale already (k >= 2: under 480 px): itself. Made once."""
        k = max(self.k, -(-max(self.height, self.width) // COARSE_SIDE))
        if k == self.k:
            return self
        if self._coarse is None:
            self._coarse = ShapeCopy(self._source, self._alpha, self._image, k)
        return self._coarse

    @property
    def alpha(self) -> np.ndarray:
        """Pillow's "F" reduce (compiled where there is numba: no copy into Pillow)."""
        if self._small_alpha is None:
            small = self._alpha  # k 1: the map as it came
            self._small_alpha = small if self.k == 1 else block_mean(small, self.k)
        return self._small_alpha

    @property
    def product(self) -> np.ndarray:
        """The product on the copy (alpha > 0.5), made once for every figure that reads it (they
        read it, never write it)."""
        if self._product is None:
            self._product = self.alpha > 0.5
        return self._product

    @property
    def area(self) -> int:
        """The product's pixels on the copy."""
        if self._area is None:
            self._area = int(self.product.sum())
        return self._area

    @property
    def filled(self) -> np.ndarray:
        """The product with every region it encloses filled (openings.fill_holes), made once."""
        if self._filled is None:
            from .openings import fill_holes

            self._filled = fill_holes(self.product)
        return self._filled

    def edges(self) -> np.ndarray:
        """The photo's edges on the copy (cv2.Canny at joined_parts' EDGE_LOW/EDGE_HIGH, bool),
        made once for kept_opening's backdrop texture and foreign_part's seams (read-only:
        a caller that marks them works on a copy)."""
        if self._edges is None:
            from .joined_parts import canny

            self._edges = readonly(canny(self.rgb))
        return self._edges

    def inside(self) -> np.ndarray:
        """Each pixel's distance to the outside of the filled product (cv2.distanceTransform,
        L2, 5x5 mask), made once for kept_opening's two looks (read-only)."""
        if self._inside is None:
            import cv2

            inside = cv2.distanceTransform(self.filled.view(np.uint8), cv2.DIST_L2, 5)
            self._inside = readonly(inside)
        return self._inside

    def sure_bg(self) -> np.ndarray:
        """The sure background on the copy: alpha under 0.05 and openings.margin off the
        product (as openings.match_regions takes it), made once (read-only)."""
        if self._sure_bg is None:
            from .openings import grow, margin

            alpha = self.alpha
            self._sure_bg = readonly((alpha < 0.05) & ~grow(self.product, margin(alpha.shape)))
        return self._sure_bg

    def holes(self):
        """(n, labels, stats) of the holes in the product (filled less product, 8-connected:
        cv2.connectedComponentsWithStats), made once for soft_holes and cut_panel; None where
        there is none."""
        if self._holes is None:
            import cv2

            holes = self.filled & ~self.product
            found = None
            if holes.any():
                n, labels, stats, _ = cv2.connectedComponentsWithStats(holes.view(np.uint8), 8)
                found = n, labels, stats
            self._holes = (found,)
        return self._holes[0]

    def lab(self) -> np.ndarray:
        """The copy's source in CIELAB (openings.lab): the colour models' own where they are of
        this copy (built from these pixels: the same values), else made once."""
        models = self.models if self.models is not None else self._built[1]
        if models is not None and models.lab.shape[:2] == self.alpha.shape:
            return models.lab
        if self._lab is None:
            from .openings import lab

            self._lab = lab(self.rgb)
        return self._lab

    def colour_models(self):
        """openings' colour models of the copy: bg_inside's (refitted by kept_opening) where
        they are of this copy, else built once from its sure sides (openings.margin off the
        outline); None if a side is too thin to model."""
        from .openings import build, margin, shrink

        models = self.models
        if (
            models is not None
            and models.ratio is not None
            and models.ratio.shape == self.alpha.shape
        ):
            return models
        done, built = self._built
        if not done:
            alpha = self.alpha
            built = build(self.rgb, self.sure_bg(), shrink(alpha > 0.95, margin(alpha.shape)))
            self._built = True, built
        return built

    def modelled_product(self):
        """(the product on the copy: alpha > 0.5, its area, colour_models()) for the figures
        read on the colour models (outgrowth, lost_part); None where the product is under
        LEAST_PRODUCT px or a side is too thin to model: they then read 0."""
        product, area = self.product, self.area
        if area < LEAST_PRODUCT:
            return None
        models = self.colour_models()
        return None if models is None else (product, area, models)

    @property
    def rgb(self) -> np.ndarray:
        """The source reduced, from its Pillow image where the caller had it."""
        if self._rgb is None and self.k == 1:
            self._rgb = self._source
        elif self._rgb is None:
            image = self._image
            if image is None:
                image = Image.fromarray(np.ascontiguousarray(self._source), "RGB")
            self._rgb = np.asarray(image.reduce(self.k))
        return self._rgb


def background_inside(source: np.ndarray, alpha: np.ndarray, image=None, shape=None) -> float:
    """Share of the output's product pixels (alpha > 0.5) that sit in regions matching the
    background model: openings kept as product (a ring's hole full of gravel), and grown edges.

    The same detector that clears openings before compositing (imaging.openings), on the
    finished alpha and the source pixels under it, with looser limits (`openings.REPORT`): a
    region the cutter was not sure enough to clear is still reported. Works on plain and on
    textured backgrounds (colour and texture models of the sure background around the product
    and of the sure product). On texture, less the printed panels the global colour model took
    by chance (a white label over a photo of a white cup: printed_panels). Measured on a copy
    whose long side is openings.SIDE px. image:
    the region's Pillow image, where the caller has it; shape: a ShapeCopy of both, shared.
    """
    from .openings import REPORT, SIDE, find

    if alpha.shape[0] < 8 or alpha.shape[1] < 8:
        return 0.0
    if shape is None:
        shape = ShapeCopy(source, alpha, image)
    report: dict = {}  # its models, for kept_opening on the same copy
    if SIDE == SHAPE_SIDE and shape.k > 1:  # find's own reduction, done here (and shared)
        found, share = find(shape.rgb, shape.alpha, REPORT, report=report)  # not reduced again
        shape.models = report.get("models")
    else:
        rgb, p = np.ascontiguousarray(source), np.asarray(alpha, np.float32)
        found, share = find(rgb, p, REPORT, report=report)
    models = report.get("models")
    if share == 0.0 or models is None or models.continued is not None:
        return share  # on a plain backdrop find's own continued-colour tests decided
    printed = printed_panels(found, models)
    return share * (1.0 - float(printed.sum()) / float(found.sum())) if printed.any() else share


def printed_panels(found: np.ndarray, models) -> np.ndarray:
    """The regions of `found` (openings' REPORT regions, on a textured background) that are a
    panel printed on the product, not the background seen through it: one flat colour with
    marks on it (its inner pixels: openings.flat_with_marks, a label's text) and of a colour
    the background around does not continue into (its median over PANEL_OFF_DE from the sure
    background continued under it, a normalised Gaussian of half the region's size). An
    opening shows what is behind the product, which its surround predicts; a white label on a
    box over a photo of a white cup matches the cup's white by chance (the global colour
    model), not the coffee and saucer around it. At 600x800, filled openings (their dE from the
    background continued): a ring's hole on gravel 3.6, on brick 4.9, a chair's on grass 2, a
    dark frame's full of stars 3.7 (a flat field with marks: only the surround tells); the
    box's label on coffee 70 (tune's box on coffee read 0.19 of the product and was flagged)."""
    import cv2

    from .openings import fill_holes, flat_with_marks, shrink

    n, labels, stats, _ = cv2.connectedComponentsWithStats(found.view(np.uint8), 8)
    out = np.zeros_like(found)
    lab_px, sure_bg = models.lab, models.sure_bg
    for i in range(1, n):
        w, h = (int(v) for v in stats[i, 2:4])
        region = labels == i
        inner = shrink(fill_holes(region), 2) & region
        if inner.sum() < 24:
            continue
        median = flat_with_marks(lab_px[inner])
        if median is None:
            continue  # no print on it, or no flat field under the print (texture, a scene)
        behind = _continued_under(lab_px, sure_bg, region, max(w, h) / 2.0)
        if behind is not None and np.linalg.norm(median - behind) > PANEL_OFF_DE:
            out |= region
    return out


def _continued_under(lab_px, sure_bg, region, sigma: float):
    """The sure background's mean colour continued under `region` (a normalised Gaussian of
    sigma px, on a grid of about sigma / 4 px cells: the mean, not its detail, is wanted), or
    None where no background is near."""
    import cv2

    step = max(1, int(sigma // 4))
    h, w = region.shape
    size = (max(1, w // step), max(1, h // step))
    weight = cv2.resize(sure_bg.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    colour = cv2.resize(lab_px * sure_bg[..., None], size, interpolation=cv2.INTER_AREA)
    under = cv2.resize(region.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    weight = cv2.GaussianBlur(weight, (0, 0), sigma / step)
    colour = cv2.GaussianBlur(colour, (0, 0), sigma / step)
    mass = float((weight * under).sum())
    if mass < 1e-3 * float(under.sum()):
        return None
    return (colour * under[..., None]).sum(axis=(0, 1)) / mass


def border(alpha: np.ndarray, region_source, source_size) -> float:
    """Share of the product's outline (alpha > 0.5) that lies on the source photo's edge.

    A product photographed whole is inside the frame; an outline along the edge is a product
    cut by the frame, or not the product at all (the model took a retina's disc that fills the
    photo, not the scissors on it). alpha: over the region, whose area in source pixels is
    `region_source` (l, t, r, b floats); source_size: the photo's (w, h). Measured on a grid of
    the photo reduced to SHAPE_SIDE px (long side), nearest sample of alpha per cell.
    """
    from .openings import shrink

    w, h = source_size
    k = min(1.0, SHAPE_SIDE / max(w, h))
    gw, gh = max(1, round(w * k)), max(1, round(h * k))
    l, t, r, b = region_source
    rh, rw = alpha.shape
    sx, sy = (np.arange(gw) + 0.5) * w / gw, (np.arange(gh) + 0.5) * h / gh
    cols, rows = (sx >= l) & (sx < r), (sy >= t) & (sy < b)
    grid = np.zeros((gh, gw), bool)
    if cols.any() and rows.any():
        cx = np.clip(((sx[cols] - l) / (r - l) * rw).astype(int), 0, rw - 1)
        cy = np.clip(((sy[rows] - t) / (b - t) * rh).astype(int), 0, rh - 1)
        grid[np.ix_(rows, cols)] = alpha[np.ix_(cy, cx)] > 0.5
    outline = int((grid & ~shrink(grid, 1)).sum())
    if outline == 0:
        return 0.0
    on_edge = int(grid[0].sum() + grid[-1].sum() + grid[1:-1, 0].sum() + grid[1:-1, -1].sum())
    return on_edge / outline


def soft_holes(source: np.ndarray, alpha: np.ndarray, image=None, shape=None) -> float:
    """Share of the product's area cut away as holes whose rim is no edge in the photo.

    A hole (an enclosed part of the outline with alpha <= 0.5) is an opening when the photo
    steps there: the colour 1-3 px inside the hole differs from the product's 1-3 px outside it
    about as much as a few px further on each side (a crisp edge; a ring's hole on gravel: 1.0
    of it, a padlock's shackle opening on grass or gravel 0.73-0.77). Where the near step is
    under SOFT_STEP of the far one, the colour runs on smoothly across the cut: the photo has no
    edge there, the cut made one (a padlock's gloss stripe cut out as background: 0.41-0.44).
    Holes under 0.2% of the product are left out (specks).
    On a copy reduced to about SHAPE_SIDE px (block means), CIELAB. image: `source` as a Pillow
    image, where the caller has it; shape: a ShapeCopy of both, shared with bg_inside (the
    source's copy is made only when a hole needs its colours).
    """
    if shape is None:
        shape = ShapeCopy(source, alpha, image)
    product, area = shape.product, shape.area
    holes = shape.holes() if area >= 100 else None
    if holes is None:
        return 0.0
    n, labels, stats = holes
    large = [i for i in range(1, n) if stats[i, 4] >= max(24, 0.002 * area)]
    if not large:  # most photos: no hole worth the colours (the source's copy is not made)
        return 0.0
    colours = shape.lab()  # bg_inside's, where it built its models of this copy
    soft = 0
    for i in large:
        if _soft_hole(labels, i, stats[i], product, colours):
            soft += int(stats[i, 4])
    return soft / area


def _soft_hole(labels, i, stat, product, colours) -> bool:
    """Whether hole i steps less across its rim than a few px off it (see soft_holes). Worked
    on the hole's box plus a margin wider than the bands reach (so the same pixels, in the
    same order, as on the whole map: the rest of the map is no hole)."""
    from .openings import grow, shrink

    x, y, w, h = (int(v) for v in stat[:4])
    pad = 8  # > grow(hole, 7)'s reach
    win = np.s_[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
    hole, product, colours = labels[win] == i, product[win], colours[win]
    bands = (  # (inside the hole, in the product beside it): near the rim, a few px off
        # near: 1-3 px either side; the rim's own pixels, a blend of both at the reduced size,
        # pull the two means together (a shackle's opening on grass read soft: 7 vs 13)
        (shrink(hole, 1) & ~shrink(hole, 3), grow(hole, 3) & ~grow(hole, 1) & product),
        (shrink(hole, 3) & ~shrink(hole, 6), grow(hole, 7) & ~grow(hole, 4) & product),
    )
    if min(int(m.sum()) for pair in bands for m in pair) < 8:
        return False
    near, far = (
        float(np.linalg.norm(colours[a].mean(axis=0) - colours[b].mean(axis=0))) for a, b in bands
    )
    return near < SOFT_STEP * far


def kept_opening(source: np.ndarray, alpha: np.ndarray, image=None, shape=None):
    """(share of the product kept in openings with the scene seen through them, the largest
    one's box (l, t, r, b) in the region's pixels or None): see imaging/kept_openings.py.
    shape: the ShapeCopy bg_inside used (its colour models are then reused)."""
    from .kept_openings import kept_openings

    if shape is None:
        shape = ShapeCopy(source, alpha, image)
    return kept_openings(shape, shape.models)


def kept_opening_figures(source: np.ndarray, alpha: np.ndarray, origin, shape=None) -> dict:
    """{"kept_opening": share, "kept_opening_box": [l, t, r, b]} (the box only where there is
    one), the box moved by origin (x, y): the region's place on the output canvas."""
    share, box = kept_opening(source, alpha, shape=shape)
    if box is None:
        return {"kept_opening": share}
    x, y = origin
    return {
        "kept_opening": share,
        "kept_opening_box": [box[0] + x, box[1] + y, box[2] + x, box[3] + y],
    }


def model_figures(source: np.ndarray, alpha: np.ndarray, origin, shape=None) -> dict:
    """The figures read on bg_inside's colour models of the copy, after it and in the order
    they refit and share them: kept_opening (its box moved by origin, kept_opening_figures),
    outgrowth, lost_part; then foreign_part, the shape's own. One list for every mode that
    reports them."""
    if shape is None:
        shape = ShapeCopy(source, alpha)
    figures = kept_opening_figures(source, alpha, origin, shape)
    figures["outgrowth"] = outgrowth(source, alpha, shape=shape)
    figures["lost_part"] = lost_part(source, alpha, shape=shape)
    figures["foreign_part"] = foreign_part(source, alpha, shape=shape)
    figures["cut_panel"] = cut_panel(source, alpha, shape=shape)
    return figures


def foreign_part(source: np.ndarray, alpha: np.ndarray, image=None, shape=None) -> float:
    """Share of the product in pieces of another object joined to its outline, whatever their
    colour: thick pieces jutting out of the product's convex hull that the finished alpha left
    partly transparent, or that are busy where the product is smooth (imaging/joined_parts.py).
    shape: the ShapeCopy the other figures used (its copies are then reused)."""
    from .joined_parts import share

    return share(ShapeCopy(source, alpha, image) if shape is None else shape)


def outgrowth(source: np.ndarray, alpha: np.ndarray, image=None, shape=None) -> float:
    """Share of the product in patches of the old background joined to its outline: see
    imaging/outgrowths.py. shape: the ShapeCopy bg_inside and kept_opening used (their colour
    models, fitted to the outline's band, are then reused)."""
    from .outgrowths import share

    return share(ShapeCopy(source, alpha, image) if shape is None else shape)


def lost_part(source: np.ndarray, alpha: np.ndarray, image=None, shape=None) -> float:
    """Share of the product's area (alpha > 0.5) the output left out although the photo shows
    it: pixels off the outline (past LOST_RING px), joined to it, that the colour models call
    product (ratio under LOST_PRODUCT_LIKE) and that are far from the backdrop continued under
    them (dE over LOST_OFF_BACKDROP; a shadow, the backdrop dimmed, is not). A chair's back
    posts cut by the frame's top, which the model saw at p < 0.07, dropped with the backdrop.
    Plain backdrops only (openings' `continued`, fitted without the product-coloured pixels,
    which a lost part is): on texture a patch of the product's colour is no evidence.
    shape: the ShapeCopy bg_inside used (its colour models are then reused)."""
    from .openings import _continued, grow

    if shape is None:
        shape = ShapeCopy(source, alpha, image)
    modelled = shape.modelled_product()
    if modelled is None:
        return 0.0
    product, area, models = modelled
    sure_bg = shape.sure_bg()
    like = (models.ratio < LOST_PRODUCT_LIKE) & ~grow(product, LOST_RING)
    if like.sum() <= LOST_SHARE_LEAST * area:  # too few to matter: the usual case, cheap
        return 0.0
    backdrop = _continued(models.lab, sure_bg & ~grow(models.ratio < 0.0, LOST_RING))
    if backdrop is None:
        return 0.0
    return float(_lost(models.lab, backdrop, like, product).sum()) / area


def _lost(lab_px: np.ndarray, backdrop: np.ndarray, like: np.ndarray, product) -> np.ndarray:
    """The parts of `like` (product-coloured pixels past the ring) far from the backdrop and
    from its shade, that reach the ring (joined to the outline)."""
    import cv2

    from .openings import grow

    at = np.nonzero(like)  # a few pixels of the copy: measured there only
    px, under = lab_px[at], backdrop[at]
    far = np.sqrt(np.square(px - under).sum(axis=1)) > LOST_OFF_BACKDROP
    dim = px[:, 0] / np.maximum(under[:, 0], 1.0)  # a shadow keeps the backdrop's hue
    shade = np.sqrt(np.square(px[:, 1:] - under[:, 1:] * dim[:, None]).sum(axis=1))
    lost = np.zeros(like.shape, bool)
    lost[at] = far & (shade > LOST_OFF_BACKDROP / 2)
    n, labels = cv2.connectedComponents(lost.view(np.uint8), connectivity=8)
    if n <= 1:
        return lost
    joined = np.unique(labels[grow(product, LOST_RING + 1) & lost])
    return np.isin(labels, joined[joined > 0])


def cut_panel(source: np.ndarray, alpha: np.ndarray, image=None, shape=None) -> float:
    """Share of the product's area cut away as holes through a printed panel of the product.

    A hole (an enclosed part of the outline with alpha <= 0.5, over 0.2% of the product) is
    through a printed panel where the source there is a flat field with marks on it in a colour
    the backdrop around the product does not have (openings.printed_panel, the backdrop being
    the sure background outside the outline): the photo shows no backdrop continued into it, it
    shows a label. A box's off-white label on a shelf's light grey wall, cut out: 0.19 of the
    product; a ring's hole cleared on the same shelf, on marble or a sweep: 0. The openings
    step keeps such panels; this is for outputs it did not make (a touch-up, another model).
    On a copy reduced to about SHAPE_SIDE px; shape: the ShapeCopy the other figures used."""
    from .openings import printed_panel

    if shape is None:
        shape = ShapeCopy(source, alpha, image)
    area, outline = shape.area, shape.filled
    holes = shape.holes() if area >= LEAST_PRODUCT else None
    if holes is None:
        return 0.0
    n, labels, stats = holes
    large = [i for i in range(1, n) if stats[i, 4] >= max(24, 0.002 * area)]
    models = shape.colour_models() if large else None
    if models is None:  # most photos: no hole worth the colours
        return 0.0
    backdrop = replace(models, sure_bg=models.sure_bg & ~outline)  # not what the holes show
    cut = sum(int(stats[i, 4]) for i in large if printed_panel(backdrop, labels == i))
    return cut / area


def uncertainty(p: np.ndarray) -> float:
    """Share of the alpha between 0.1 and 0.9 inside the object's bounding box.

    Measured on the finished alpha, not the model's own map: the model's doubt that the later
    steps settled (a frame on grass: 0.34 on the map, 0.07 left) is no fault; what stays
    undecided is (a patch of the moon kept beside a bottle's neck, its edge soft: 0.08 on the
    map, 0.11 left; a chair on a clock face, 0.20 on the map, 0.09 left, right by a hair at
    900x1200 and wrong at 450x600: flagged at both). A map over UNCERTAINTY_SIDE
    px is read at every k-th pixel (the share, at a quarter of the cost at 2000 px)."""
    step = -(-max(p.shape) // UNCERTAINTY_SIDE)
    kernels = loops()
    if kernels is not None and p.dtype == np.float32 and p.ndim == 2:
        count, size = kernels.uncertain_count(p, step)  # the same counts, without the copies
        return 1.0 if size == 0 else count / size
    if step > 1:
        p = p[::step, ::step]
    inside = p > 0.5
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if len(rows) == 0:  # the box from its rows and columns: no list of every pixel
        return 1.0
    box = p[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return float(((box > 0.1) & (box < 0.9)).mean())


def faint(alpha: np.ndarray) -> float:
    """Share of the product's area (alpha > 0.5) in faint remains: alpha between FAINT_LEAST and
    0.5 farther than FAINT_REACH of the product's long side (FAINT_LEAST_REACH px at least)
    from every pixel over 0.5 (faint_remains).

    The finished alpha's soft edge hugs the product (within a few px); what lies farther off
    is no edge: the composite shows it as a grey smudge on the white (a face beside a
    padlock's shackle, a page's words between a chair's legs, a moon's crater beside a bottle).
    A chair on a bamboo mat that lost a leg among the slats kept the slats under its seat at
    alpha 0.1-0.4 (0.18 of the product) and read ok on every other figure. They are flagged,
    not cleared: the undecided alpha is what uncertainty and halo read a wrong cut by (a
    chair's legs on a clock face, the phantom's ellipse taken for scissors), and a person sees
    at once whether the smudge is all there is."""
    return faint_and_uncertainty(alpha)[0]


def faint_and_uncertainty(alpha: np.ndarray) -> tuple[float, float]:
    """(faint(alpha), uncertainty(alpha)): white mode reads both off one compiled pass over
    the alpha where it can (_faint_compiled), else each on its own."""
    kernels = loops()
    if kernels is not None and alpha.dtype == np.float32 and alpha.ndim == 2:
        both = _faint_compiled(alpha, kernels)
        if both is not None:
            return both
    return faint_remains(alpha)[1], uncertainty(alpha)


def _faint_compiled(alpha: np.ndarray, kernels) -> tuple[float, float] | None:
    """(faint_remains' share, uncertainty) in two compiled passes over the alpha (the body's
    box and count, the blocks it weighs in and uncertainty's sampled pixels, then the count
    of far soft pixels through the blocks' dilation), without faint_remains' region-sized
    masks, the body's resize or the dilation brought back to full size: the same counts. A
    block is body where cv2's INTER_AREA mean of the body (255 each) rounds to 1 or more:
    where a body pixel weighs in it whole (255 / k^2 at least), else worked out over its
    pixels; a mean within FAINT_AMBIGUOUS of the rounding's edge, where two sums' float
    rounding could differ, is left to faint_remains. None for maps without blocks (under
    FAINT_SIDE px) or with blocks over 20 px (255 / k^2 under 0.6)."""
    import cv2

    h, w = alpha.shape
    k = -(-max(h, w) // FAINT_SIDE)
    if k == 1 or k > 20:
        return None
    small = (-(-h // k), -(-w // k))
    cells, weights, spans = _area_weights(w, small[1])
    row_cells, row_weights, row_spans = _area_weights(h, small[0])
    touch = np.zeros((small[0] + 1, small[1] + 1), np.uint8)  # a spare row and column
    strong = np.zeros_like(touch)
    step = -(-max(h, w) // UNCERTAINTY_SIDE)  # uncertainty's sampling
    uncertain = np.empty((-(-h // step), -(-w // step)), np.uint8)
    sampled = np.empty(4, np.int64)
    top, bottom, left, right, count, soft = kernels.faint_body(
        alpha, cells, spans, row_cells, touch, strong, step, uncertain, sampled
    )
    s_top, s_bottom, s_left, s_right = (int(v) for v in sampled)
    undecided = 1.0  # as uncertainty: no pixel over 0.5, no box
    if s_top >= 0:
        box = uncertain[s_top : s_bottom + 1, s_left : s_right + 1]
        undecided = int(np.count_nonzero(box)) / box.size
    if top < 0 or not soft:
        return 0.0, undecided
    blocks = strong[:-1, :-1]
    ys, xs = np.nonzero(touch[:-1, :-1] > blocks)  # a body pixel's part only: their means
    if len(ys):
        level = np.empty(len(ys))
        kernels.area_means(
            alpha, cells, weights, row_cells, row_weights, ys, xs, spans, row_spans, level
        )
        if (np.abs(level - 0.5) < FAINT_AMBIGUOUS).any():
            return faint_remains(alpha)[1], undecided
        blocks[ys, xs] = level > 0.5
    reach = max(FAINT_LEAST_REACH, FAINT_REACH * max(bottom - top, right - left))
    r = max(1, int(reach / k))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    near = cv2.dilate(np.ascontiguousarray(blocks), disk)
    # which block each pixel reads, as cv2's nearest resize to (w, h) maps them
    rows_at, cols_at = _nearest_index(small[0], h), _nearest_index(small[1], w)
    _, seen = kernels.faint_count(alpha, near, rows_at, cols_at, np.float32(FAINT_LEAST))
    return seen / count, undecided


def _area_weights(size: int, small: int) -> np.ndarray:
    """cv2.resize's INTER_AREA weights from a line of `size` pixels to `small` cells (its
    computeResizeAreaTab, float32 weights; a pixel's overlap under 1e-3 left out), per source
    pixel: (cells, weights), each (2, size): its first cell and weight, its second cell and
    weight (the spare cell `small` and 0: none); and spans (2, small): each cell's first and
    last source pixel."""
    scale = 1.0 / (small / size)  # cv2's scale_x = 1 / inv_scale_x
    cells = np.arange(small)
    start = cells * scale
    end = start + scale
    width = np.minimum(scale, size - start)
    last = np.minimum(np.floor(end).astype(np.int64), size - 1)
    first = np.minimum(np.ceil(start).astype(np.int64), last)
    left, right = first - start > 1e-3, end - last > 1e-3
    full = last - first
    src = np.concatenate(
        [
            first[left] - 1,
            np.repeat(first - np.cumsum(full) + full, full) + np.arange(full.sum()),
            last[right],
        ]
    )
    cell = np.concatenate([cells[left], np.repeat(cells, full), cells[right]])
    weight = np.concatenate(
        [
            (first - start)[left] / width[left],
            np.repeat(1.0 / width, full),
            np.minimum(np.minimum(end - last, 1.0), width)[right] / width[right],
        ]
    ).astype(np.float32)
    order = np.lexsort((cell, src))
    src, cell, weight = src[order], cell[order], weight[order]
    second = np.zeros(len(src), bool)
    second[1:] = src[1:] == src[:-1]  # a pixel across two cells: its second entry
    cells = np.full((2, size), small, np.int64)  # `small`: the spare cell (weight 0)
    weights = np.zeros((2, size))
    for slot, pick in enumerate((~second, second)):
        cells[slot, src[pick]], weights[slot, src[pick]] = cell[pick], weight[pick]
    spans = np.zeros((2, small), np.int64)  # each cell's first and last source pixel
    spans[0], spans[1] = size, -1
    np.minimum.at(spans[0], cell, src)
    np.maximum.at(spans[1], cell, src)
    return cells, weights, spans


def _nearest_index(small: int, size: int) -> np.ndarray:
    """The source index of each of `size` pixels that cv2.resize's INTER_NEAREST reads from a
    line of `small` (the resize of the indices themselves: exact in float32)."""
    import cv2

    line = np.arange(small, dtype=np.float32)[None, :]
    return cv2.resize(line, (size, 1), interpolation=cv2.INTER_NEAREST)[0].astype(np.int64)


def faint_remains(alpha: np.ndarray) -> tuple[np.ndarray | None, float]:
    """(the pixels of `alpha` at most 0.5 and over 0 that lie farther than the reach from every
    pixel over 0.5, or None where there are none; faint's share). The body is dilated by an
    ellipse the reach wide on blocks of k x k pixels (FAINT_SIDE px at most: 8 ms -> ~2 at
    1200 px), a block being body where any of its pixels is."""
    import cv2

    body = alpha > 0.5
    rows, cols = np.flatnonzero(body.any(axis=1)), np.flatnonzero(body.any(axis=0))
    if len(rows) == 0:
        return None, 0.0
    soft = (alpha > 0) & ~body
    if not soft.any():
        return None, 0.0
    long_side = max(rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0])
    reach = max(FAINT_LEAST_REACH, FAINT_REACH * long_side)
    h, w = alpha.shape
    k = -(-max(h, w) // FAINT_SIDE)  # the dilation on k x k blocks (a block is body if any is)
    blocks = body.view(np.uint8)
    if k > 1:  # a block's mean over 0: some pixel of it is body (255 each, so that one pixel of
        # k*k still rounds to >= 1; at 0/1 the mean rounded to 0 unless half the block was body
        # and a thin leg's own edge read as faint remains)
        blocks = cv2.resize(
            blocks * np.uint8(255), (-(-w // k), -(-h // k)), interpolation=cv2.INTER_AREA
        )
    r = max(1, int(reach / k))  # the reach less up to a block: a block's any-pixel is nearer
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    near = cv2.dilate(blocks, disk)
    if k > 1:
        near = cv2.resize(near, (w, h), interpolation=cv2.INTER_NEAREST)
    far = soft & (near == 0)
    if not far.any():
        return None, 0.0
    seen = int(np.count_nonzero(alpha[far] > FAINT_LEAST))
    return far, seen / int(np.count_nonzero(body))


def fill(mask: np.ndarray, box=None) -> float:
    """The product's larger span relative to the canvas (the preset's `fill`). box: (l, t, r,
    b), the only part of the mask that can be set (the region: spans read there alone)."""
    part = mask if box is None else mask[box[1] : box[3], box[0] : box[2]]
    rows, cols = np.nonzero(part.max(axis=1) > 127)[0], np.nonzero(part.max(axis=0) > 127)[0]
    if len(rows) == 0:
        return 0.0
    return max((cols[-1] + 1 - cols[0]) / mask.shape[1], (rows[-1] + 1 - rows[0]) / mask.shape[0])


def purity(image: np.ndarray, mask: np.ndarray, shadow_mask=None, box=None, in_box=None) -> float:
    """Share of exactly-white pixels where there is no product (and no shadow).

    box: the only part of the canvas the product (and its shadow) can touch; outside it every
    pixel is background, and a strip whose minimum is 255 is all white (a fast check).
    in_box: (background pixels in box, how many are exactly white), where the caller counted
    them already (region_looks).
    """
    if box is None:
        box = (0, 0, image.shape[1], image.shape[0])
    l, t, r, b = box
    strips = (image[:t], image[b:], image[t:b, :l], image[t:b, r:])
    outside_box = sum(s.shape[0] * s.shape[1] for s in strips)
    white_strips = sum(
        s.shape[0] * s.shape[1]
        if s.size == 0 or s.min() == 255
        else int((s == 255).all(axis=2).sum())
        for s in strips
    )
    if in_box is None:
        in_box = _white_in_box(image, mask, shadow_mask, (l, t, r, b))
    inside, white = in_box
    total = outside_box + inside
    return float((white_strips + white) / total) if total else 1.0


def _white_in_box(image, mask, shadow_mask, box) -> tuple[int, int]:
    """(background pixels in box: mask 0, no shadow; how many of them are exactly white), in
    one compiled pass where there is numba."""
    l, t, r, b = (int(v) for v in box)
    kernels = loops()
    if kernels is not None and mask.dtype == np.uint8:
        shadow = np.zeros((0, 0), bool) if shadow_mask is None else shadow_mask
        inside, white = kernels.count_white(image, mask, shadow, (l, t, r, b))
        return int(inside), int(white)
    inside = mask[t:b, l:r] == 0
    if shadow_mask is not None:
        inside &= ~shadow_mask[t:b, l:r]
    part = image[t:b, l:r]
    white = ((part[..., 0] & part[..., 1] & part[..., 2]) == 255) & inside  # all three are 255
    return int(inside.sum()), int(white.sum())


def sharpness(crop: Image.Image) -> float:
    """Variance of the Laplacian of the product crop scaled to SHARPNESS_SIDE (0..255 grey),
    or, where higher, its mean square at the crop's edges over EDGE_SHARPNESS_SHARE.

    Over the whole crop the figure is mostly flat paint: a sharp photo of a smooth,
    low-contrast product on a plain sweep read as blurred (a mug on the light sweep 7.2, on
    white 10.3, a ring on soft brick 14.9). At its edges (pixels whose 5x5 neighbourhood spans
    EDGE_STEP grey levels or more) a sharp step still has a strong Laplacian and a blurred one
    has not (the same mug: 37; blurred by 1 px at 512 px: 4.0). A sharp edge that steps little
    has a small Laplacian however sharp (a brown chair on charcoal read 10.4, a grey bottle on
    a grey gradient 1.7: sharp photos, flagged): where its 5x5 neighbourhood spans STEP_LEAST
    levels or more, the Laplacian per level of that span says how wide the edge is, whatever its
    step (its mean square times STEP_SHARPNESS: those two 30.6 and 29.4). Every photo of the
    sets blurred by 1.5 or 2 px at 512 px is flagged or not as before; blurred by 1 px, all but
    a grey bottle on a grey clock (1.6 -> 17.6)."""
    import cv2

    scale = SHARPNESS_SIDE / max(crop.size)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    grey = np.asarray(crop.convert("L").resize(size, Image.Resampling.BOX), np.float32)
    # scipy's laplace (mode reflect) as cv2's 3x3 one with the same border: whole grey levels,
    # so the sums are exact either way (the same bits, at a tenth of the time)
    laplacian = cv2.Laplacian(grey, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
    whole = float(laplacian.var())
    square = np.ones((5, 5), np.uint8)
    span = cv2.dilate(grey, square) - cv2.erode(grey, square)
    edges = span >= EDGE_STEP
    figure = whole
    if int(edges.sum()) >= 50:  # else no edge worth the name: the whole crop's figure
        figure = max(figure, float(np.square(laplacian[edges]).mean()) / EDGE_SHARPNESS_SHARE)
    steps = span >= STEP_LEAST
    if int(steps.sum()) >= 50:  # how wide the edges are, whatever their step
        per_level = laplacian[steps] / span[steps]
        figure = max(figure, float(np.square(per_level).mean()) * STEP_SHARPNESS)
    return figure


def flags(
    figures: dict[str, Any], limits: dict[str, float], target_fill: float | None
) -> list[str]:
    out = []
    for key, label, limit_key, is_max in CHECKS:
        value = figures.get(key)
        if value is None:
            continue
        limit = limits[limit_key]
        if is_max and value > limit:
            out.append(f"{label} {_fmt(value)} > {_fmt(limit)}")
        elif not is_max and value < limit:
            out.append(f"{label} {_fmt(value)} < {_fmt(limit)}")
    if target_fill is not None and abs(figures["fill"] - target_fill) > limits["fill_tolerance"]:
        out.append(f"{FILL[1]} {_fmt(figures['fill'])} != {_fmt(target_fill)}")
    return out


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 0.1 else f"{value:.2f}"


def summary(figures: dict[str, Any], failing: list[str]) -> str:
    """The QA cell: `dE 0.4 | halo 0.01 | fill 0.83 | ok` (or the failing figures)."""
    head = f"dE {figures['de_mean']:.1f} | halo {figures['halo']:.2f} | fill {figures['fill']:.2f}"
    return f"{head} | {'; '.join(failing) if failing else 'ok'}"


def finish(
    figures: dict[str, Any], settings, category: str, target_fill: float | None, preset=None
) -> dict[str, Any]:
    """Round the figures, add "flags" and "summary" (JSON-serialisable throughout)."""
    limits = thresholds(settings, category)
    if preset and preset.get("max_upscale"):  # the preset's own limit on upscaling wins
        limits["headroom_min"] = 1.0 / float(preset["max_upscale"])
    clean = {
        k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
        for k, v in figures.items()
    }
    failing = flags(clean, limits, target_fill)
    clean["flags"] = failing
    clean["summary"] = summary(clean, failing)
    clean["thresholds"] = limits
    return clean
