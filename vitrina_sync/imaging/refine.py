"""Edge refinement for cutouts.

The model predicts a soft mask at ~320 px. Scaling that mask up blurs the product's edge, so we
use a fast guided filter (He & Sun 2015): its linear coefficients are fitted on the reduced copy
the model saw, then applied to the full-resolution pixels, so the edge follows the real image
edge at the output's resolution. Only a band around the model's edge is refined; elsewhere the
mask is a clean 0 or 1 (so fully-opaque product pixels stay exactly the source pixels). The
two-colour step then sharpens what is still uncertain from the local product and background
colours (imaging.local_means); decontamination of the edge's colours is imaging.edge_colour.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from . import camouflage, compiled, ndimage, settle
from .compiled import compiled_layouts, loops, readonly  # noqa: F401 - qa.py imports loops here
from .local_means import (  # noqa: F401 - block_mean, local_mean: qa.py imports them from here
    block_mean,
    from_fields,
    local_mean,
    smooth_for,
    smoothing,
    split_fields,
    step_grid,
)
from .sampling import Grid, channel_sum, pixel_list, pixels_at, put_at

SNAP = 0.04  # refined alpha within SNAP of 0 or 1 is snapped: flat areas are certain


def _box(x: np.ndarray, r: int) -> np.ndarray:
    size = (2 * r + 1, 2 * r + 1) + (1,) * (x.ndim - 2)
    return ndimage().uniform_filter(x, size=size, mode="reflect")


def _solve_3x3(s: dict, c: np.ndarray) -> np.ndarray:
    """Per-pixel solution of the symmetric 3x3 system S a = c, by the adjugate."""
    a00 = s[1, 1] * s[2, 2] - s[1, 2] ** 2
    a01 = s[0, 2] * s[1, 2] - s[0, 1] * s[2, 2]
    a02 = s[0, 1] * s[1, 2] - s[0, 2] * s[1, 1]
    a11 = s[0, 0] * s[2, 2] - s[0, 2] ** 2
    a12 = s[0, 1] * s[0, 2] - s[0, 0] * s[1, 2]
    a22 = s[0, 0] * s[1, 1] - s[0, 1] ** 2
    det = s[0, 0] * a00 + s[0, 1] * a01 + s[0, 2] * a02
    c0, c1, c2 = c[..., 0], c[..., 1], c[..., 2]
    out = np.stack(
        [
            a00 * c0 + a01 * c1 + a02 * c2,
            a01 * c0 + a11 * c1 + a12 * c2,
            a02 * c0 + a12 * c1 + a22 * c2,
        ],
        axis=-1,
    )
    return out / det[..., None]


def guided_coefficients(guide: np.ndarray, p: np.ndarray, r: int, eps: float):
    """Colour guided filter coefficients (mean a: h,w,3; mean b: h,w) for guide in [0, 1]."""
    mean_i = _box(guide, r)
    mean_p = _box(p, r)
    cov_ip = _box(guide * p[..., None], r) - mean_i * mean_p[..., None]
    s = {}
    for i in range(3):
        for j in range(i, 3):
            s[i, j] = _box(guide[..., i] * guide[..., j], r) - mean_i[..., i] * mean_i[..., j]
            s[j, i] = s[i, j]
    for i in range(3):
        s[i, i] = s[i, i] + eps
    a = _solve_3x3(s, cov_ip)
    b = mean_p - channel_sum(a * mean_i)
    return _box(a, r), _box(b, r)


def guided_fields(guide: np.ndarray, p: np.ndarray, r: int, eps: float) -> np.ndarray:
    """np.dstack([mean b, mean a]) of guided_coefficients (h,w,4), the same bits: where there is
    numba, the thirteen maps it box-filters are made and filtered side by side in one pass each
    way (kernels.filters.guided_stats, box_planes), the system solved per pixel in one more
    (guided_solve), and a and b filtered together: ~5 ms per photo instead of ~12."""
    kernels = compiled.loops()
    if kernels is None or guide.dtype != np.float32 or p.dtype != np.float32:
        mean_a, mean_b = guided_coefficients(guide, p, r, eps)
        return np.dstack([mean_b, mean_a])
    h, w = p.shape
    guide, p = np.ascontiguousarray(guide), np.ascontiguousarray(p)
    stats = np.empty((h, w, 13), np.float32)
    kernels.guided_stats(guide, p, stats)
    boxed = np.empty_like(stats)
    kernels.box_planes(stats, r, boxed)
    fit = np.empty((h, w, 4), np.float32)
    kernels.guided_solve(boxed, eps, fit)
    out = np.empty_like(fit)
    kernels.box_planes(fit, r, out)
    return out


def edge_band(p: np.ndarray, r: int) -> np.ndarray:
    """Pixels within r of the model's uncertain edge (work resolution): its soft pixels and the
    hard mask's edge, grown by r (the seeds in one compiled pass where there is numba)."""
    kernels = compiled.loops()
    fits = p.dtype == np.float32 and p.ndim == 2 and p.flags.c_contiguous and p.flags.writeable
    if kernels is not None and fits and r >= 1:
        return kernels.taxicab_within(kernels.edge_seeds(p), r, False)
    hard = p > 0.5
    soft = (p > 0.02) & (p < 0.98)
    edge = dilate(hard, 1) ^ erode(hard, 1)
    return dilate(soft | edge, r)


def resample_float(
    arr: np.ndarray, size: tuple[int, int], box, nearest: bool = False
) -> np.ndarray:
    """A float map at work resolution, sampled onto `size` pixels covering `box` (work coords)."""
    method = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    img = Image.fromarray(np.ascontiguousarray(arr, dtype=np.float32), "F")
    return np.asarray(img.resize(size, method, box=box), dtype=np.float32)


def _nearest(mask: np.ndarray, size, work_box) -> np.ndarray:
    """A boolean work map resampled (nearest neighbour) onto `size` pixels covering work_box."""
    img = Image.fromarray(mask.view(np.uint8), "L")
    return np.asarray(img.resize(size, Image.Resampling.NEAREST, box=work_box)).view(bool)


def hard_alpha(p_work: np.ndarray, size, work_box, r: int) -> np.ndarray:
    """(bilinear resample of p_work) > 0.5 as float32 0/1, exact wherever refine_alpha keeps it.

    refine_alpha overwrites every band pixel, so only pixels outside the band matter. There the
    nearest work pixel is over r (>= 2) work pixels from any soft or edge pixel, so its 3x3
    neighbourhood lies on one side of 0.5, clear of it (p <= 0.02 or >= 0.98); when upscaling,
    bilinear only reads that neighbourhood (weights >= 0, summing to 1): the float map thresholds
    to the nearest pixel's side. So a nearest-neighbour resample of the 8-bit 0/1 map gives the
    same mask, without a float map of the whole region. Downscaling reads further: plain path.
    """
    l, t, right, b = work_box
    if r < 2 or right - l > size[0] or b - t > size[1]:
        return (resample_float(p_work, size, work_box) > 0.5).astype(np.float32)
    return _nearest(p_work > 0.5, size, work_box).astype(np.float32)


def _band_and_hard(work_band: np.ndarray, p_work: np.ndarray, size, work_box, r: int):
    """(_nearest(work_band, ...), hard_alpha(p_work, ...)): where hard_alpha resamples by
    nearest neighbour too, both maps in one resize of one 8-bit map (the band in bit 1, the
    hard mask in bit 0: the same pixel mapping, one pass and one copy out of Pillow fewer)."""
    l, t, right, b = work_box
    if r < 2 or right - l > size[0] or b - t > size[1]:
        return _nearest(work_band, size, work_box), hard_alpha(p_work, size, work_box, r)
    codes = (work_band.view(np.uint8) << 1) | (p_work > 0.5).view(np.uint8)
    img = Image.fromarray(codes, "L").resize(size, Image.Resampling.NEAREST, box=work_box)
    out = np.asarray(img)
    kernels = compiled.loops()
    if kernels is None or out.ndim != 2 or not out.flags.c_contiguous:
        return out >= 2, (out & 1).astype(np.float32)
    band, hard = np.empty(out.shape, bool), np.empty(out.shape, np.float32)
    kernels.split_codes(readonly(out), band, hard)  # both maps in one compiled pass
    return band, hard


def _model_edge(p_work: np.ndarray, size, work_box, ys, xs) -> np.ndarray:
    """The model's own soft edge at the band pixels (ys, xs): p_work upscaled to `size` over
    work_box, stretched as the guided filter's output is (SNAP) -- what the camouflage path keeps
    and what `settle` moves growth back to."""
    soft = pixels_at(resample_float(p_work, size, work_box), ys, xs)
    return np.clip((soft - SNAP) / (1 - 2 * SNAP), 0, 1)


def refine_alpha(
    work_rgb: np.ndarray,
    p_work: np.ndarray,
    region: np.ndarray,
    work_box,
    params,
    fit=None,
    image=None,
) -> np.ndarray:
    """Alpha on `region` (h,w,3 uint8: the source resampled to the output) from the work mask.

    work_box: the region's extent in work-image pixel coordinates. params: r, eps (work pixels).
    fit: an optional dict that receives the local product/background colours estimated at the
    edge pixels, so edge_colours can reuse them instead of measuring again. image: region as
    the Pillow image it came from (the two-colour step masks and reduces it in Pillow).
    """
    r, eps = int(params.get("refine_radius", 4)), float(params.get("refine_eps", 1e-4))
    size = (region.shape[1], region.shape[0])
    if not params.get("refine", True):
        return resample_float(p_work, size, work_box).clip(0.0, 1.0)
    # nearest-neighbour resampling of the 0/1 band as an 8-bit image: the same pixel mapping as a
    # float map, a quarter of the memory traffic
    work_band = edge_band(p_work, r)
    band, alpha = _band_and_hard(work_band, p_work, size, work_box, r)
    if not band.any():
        return alpha
    if params.get("refine_camouflage", True) and camouflage.camouflaged(
        work_rgb, p_work, work_band
    ):
        # the guide cannot tell the product from the background here: it would copy the
        # background's texture into alpha (a fuzz that grows the product); the model's own
        # soft edge, upscaled, is the better estimate
        ys, xs = pixel_list(band)
        put_at(alpha, ys, xs, _model_edge(p_work, size, work_box, ys, xs))
        return alpha
    target = (p_work > 0.5).astype(np.float32) if params.get("refine_hard", False) else p_work
    # The coefficients are only sampled near the band: fit them on the band's box (plus both box
    # filters' reach and the bilinear neighbour), not on the whole photo.
    t0, b0, l0, r0 = _reach(work_band, work_box, 2 * r + 3)
    guide_crop = work_rgb[t0:b0, l0:r0].astype(np.float32) / 255.0
    fields = guided_fields(guide_crop, target[t0:b0, l0:r0], r, eps)  # mean b, mean a (3)
    ys, xs = pixel_list(band)
    shifted = (work_box[0] - l0, work_box[1] - t0, work_box[2] - l0, work_box[3] - t0)
    grid = _work_grid(fields.shape[:2], ys, xs, size, shifted)
    kernels = compiled.loops()
    if kernels is not None and region.dtype == np.uint8 and alpha.flags.c_contiguous:
        q = np.empty(len(ys), np.float32)  # sampled, applied and written in one pass
        flat = np.ascontiguousarray(fields).reshape(-1, 4)
        kernels.guided_apply(flat, *grid.tables, readonly(region), alpha, q)
    else:
        guide = pixels_at(region, ys, xs).astype(np.float32) / 255.0
        coeffs = grid(fields)
        q = coeffs[:, 0].copy()
        for c in range(3):
            q += coeffs[:, 1 + c] * guide[:, c]
        q = np.clip((q - SNAP) / (1.0 - 2.0 * SNAP), 0.0, 1.0)
        put_at(alpha, ys, xs, q)
    if params.get("refine_colour", True):
        spread = max(4.0, r * size[0] / max(work_box[2] - work_box[0], 1e-6))
        # outside the band alpha is exactly 0 or 1: the uncertain pixels are the band's, in order
        unsure = (q > 0.0) & (q < 1.0)
        _two_colour(region, alpha, spread, fit, at=(ys[unsure], xs[unsure]), image=image)
    gate = None
    if params.get("settle", True):
        gate = settle.low_contrast(region, alpha, image, work=(work_rgb, work_box))
    if gate is not None:
        # a low-contrast edge on a textured backdrop: growth past the model's own edge that the
        # photo cannot support goes back to the model's edge (imaging/settle.py)
        soft = _model_edge(p_work, size, work_box, ys, xs)
        if settle.settle(alpha, soft, ys, xs, region, gate) and fit is not None:
            fit["covers"] = False  # pixels outside the fit's list may now be partly transparent
    return alpha


def _reach(work_band: np.ndarray, work_box, margin: int):
    """Rows/columns (top, bottom, left, right) of the work map covering the band's pixels inside
    the region's box, grown by `margin` and kept inside the map."""
    h, w = work_band.shape
    l, t, r, b = work_box
    top, bottom = max(0, int(np.floor(t)) - 1), min(h, int(np.ceil(b)) + 1)
    left, right = max(0, int(np.floor(l)) - 1), min(w, int(np.ceil(r)) + 1)
    inside = work_band[top:bottom, left:right]
    rows, cols = np.nonzero(inside.any(axis=1))[0], np.nonzero(inside.any(axis=0))[0]
    if len(rows) == 0:
        return 0, h, 0, w
    return (
        max(0, top + int(rows[0]) - margin),
        min(h, top + int(rows[-1]) + 1 + margin),
        max(0, left + int(cols[0]) - margin),
        min(w, left + int(cols[-1]) + 1 + margin),
    )


def _two_colour(
    region: np.ndarray, alpha: np.ndarray, sigma: float, fit=None, at=None, image=None
) -> None:
    """Sharpen the still-uncertain pixels with the two-colour model I = a F + (1 - a) B.

    Where the guide is flat the guided filter only reproduces the model's soft ramp (it cannot
    know where a flat background ends). F and B are the local colours of the sure product and
    the sure background; a pixel's alpha is its position between them. Trusted only where F and
    B differ clearly and the pixel lies near the line between them (not texture), in place.
    at: the pixels with 0 < alpha < 1 in row-major order, where the caller already knows them.
    On return, fit["covers"] says that every pixel outside fit's (ys, xs) is exactly 0 or 1.
    """
    ys, xs = np.nonzero((alpha > 0.0) & (alpha < 1.0)) if at is None else at
    if len(ys) == 0:
        return
    # both local means sampled in one gather (same positions on the same reduced grid)
    fields = split_fields(region, alpha, 4, image)
    grid = step_grid(fields.shape, ys, xs, 4)
    samples = grid(smooth_for(fields, smoothing(sigma, 4), grid))
    kernels = compiled.loops()
    if kernels is not None and compiled_layouts(samples, region, alpha):
        n = len(ys)
        fg, bg = np.empty((n, 3), np.float32), np.empty((n, 3), np.float32)
        mass_f, mass_b = np.empty(n, np.float32), np.empty(n, np.float32)
        kernels.two_colour(samples, readonly(region), alpha, ys, xs, fg, bg, mass_f, mass_b)
    else:
        fg, bg, mass_f, mass_b = _two_colour_numpy(region, alpha, samples, ys, xs)
    if fit is not None:
        fit.update(ys=ys, xs=xs, fg=fg, bg=bg, mass_f=mass_f, mass_b=mass_b, covers=True)


def _two_colour_numpy(region, alpha, samples, ys, xs):
    """The two-colour step in numpy (the twin of kernels.colour_fit.two_colour): alpha in place;
    returns the local colours and masses the fit keeps."""
    fg, mass_f = from_fields(samples[:, :4])
    # bg_spread: the background's texture; the colour model is only trusted against a plain one
    bg, mass_b, bg_spread = from_fields(samples[:, 4:], spread=True)
    d = fg - bg
    gap2 = np.maximum(channel_sum(d**2), 1e-6)
    pixel = pixels_at(region, ys, xs).astype(np.float32)
    proj = channel_sum((pixel - bg) * d) / gap2
    residual = np.sqrt(channel_sum((pixel - bg - proj[:, None] * d) ** 2))
    trust = np.clip((np.sqrt(gap2) - 20.0) / 40.0, 0.0, 1.0) * np.clip(
        (30.0 - residual) / 25.0, 0.0, 1.0
    )
    trust = trust * np.clip((12.0 - bg_spread) / 9.0, 0.0, 1.0)  # only against a plain background
    trust = np.where((mass_f > 1e-3) & (mass_b > 1e-3), trust, 0.0)
    proj = np.clip((np.clip(proj, 0.0, 1.0) - SNAP) / (1.0 - 2.0 * SNAP), 0.0, 1.0)
    q = pixels_at(alpha, ys, xs)
    blended = trust * proj + (1.0 - trust) * q
    # Near the guided edge the colour model decides; away from it, it may only push further to
    # the side the guided filter chose (textured backgrounds hold colours between F and B).
    near = (q > 0.25) & (q < 0.75)
    sided = np.where(q >= 0.5, np.maximum(blended, q), np.minimum(blended, q))
    blended = np.where(near, blended, sided)
    tiny = 0.5 / 255.0  # under half a step of the stored 8-bit mask
    put_at(
        alpha, ys, xs, np.where(blended < tiny, 0.0, np.where(blended > 1.0 - tiny, 1.0, blended))
    )
    return fg, bg, mass_f, mass_b


def dilate(mask: np.ndarray, width: int) -> np.ndarray:
    """ndimage.binary_dilation(mask, iterations=width): the same pixels, one compiled pass."""
    kernels = compiled.loops()
    if kernels is None or width < 1 or mask.ndim != 2 or mask.dtype != bool:
        return ndimage().binary_dilation(mask, iterations=width)
    return kernels.taxicab_within(mask, width, False)


def erode(mask: np.ndarray, width: int) -> np.ndarray:
    """ndimage.binary_erosion(mask, iterations=width): the same pixels, one compiled pass."""
    kernels = compiled.loops()
    if kernels is None or width < 1 or mask.ndim != 2 or mask.dtype != bool:
        return ndimage().binary_erosion(mask, iterations=width)
    return kernels.taxicab_within(mask, width, True)


def warm() -> None:
    """Compile (or load from numba's cache) the band kernels, before the first job."""
    kernels = compiled.loops()
    if kernels is not None:
        kernels.warm()
    grid = Grid((2, 2), np.zeros(1), np.zeros(1))
    smooth_for(np.zeros((2, 2, 1), np.float32), 0.5, grid)  # scipy: most of a 2x2 grid is needed
    grid(np.zeros((2, 2, 1), np.float32))  # the gather


def _work_grid(shape, ys: np.ndarray, xs: np.ndarray, size, work_box) -> Grid:
    """Sample positions of region pixel centres (ys, xs) on a work-resolution map."""
    l, t, r, b = work_box
    cols, rows = np.arange(size[0]), np.arange(size[1])  # the mapping is separable
    wx = l + (cols + 0.5) * (r - l) / size[0] - 0.5
    wy = t + (rows + 0.5) * (b - t) / size[1] - 0.5
    return Grid(shape, wy, wx, ys, xs)
