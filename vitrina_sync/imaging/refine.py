"""Edge refinement and colour decontamination for cutouts.

The model predicts a soft mask at ~320 px. Scaling that mask up blurs the product's edge, so we
use a fast guided filter (He & Sun 2015): its linear coefficients are fitted on the reduced copy
the model saw, then applied to the full-resolution pixels, so the edge follows the real image
edge at the output's resolution. Only a band around the model's edge is refined; elsewhere the
mask is a clean 0 or 1 (so fully-opaque product pixels stay exactly the source pixels).

Decontamination estimates the product's own colour in that band (alpha-matting's foreground
estimation, done cheaply from local means), so no fringe of the old background survives.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from . import camouflage, ndimage

SNAP = 0.04  # refined alpha within SNAP of 0 or 1 is snapped: flat areas are certain


def _box(x: np.ndarray, r: int) -> np.ndarray:
    size = (2 * r + 1, 2 * r + 1) + (1,) * (x.ndim - 2)
    return ndimage().uniform_filter(x, size=size, mode="reflect")


def channel_sum(x: np.ndarray) -> np.ndarray:
    """x.sum(axis=-1) for a last axis of 3 channels, in numpy's own order ((c0 + c1) + c2), so
    the same bits, without numpy's slow reduction over a 3-long axis (~6x faster)."""
    return (x[..., 0] + x[..., 1]) + x[..., 2]


def pixel_list(mask: np.ndarray):
    """np.nonzero of a 2-D mask (same arrays, row-major order), through flat indices: numpy's
    2-D nonzero is ~2x slower on region-sized masks."""
    flat = np.flatnonzero(mask)
    ys = flat // mask.shape[1]
    return ys, flat - ys * mask.shape[1]


def pixels_at(arr: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """arr[ys, xs] for an (h,w) or (h,w,c) array: the same values, through flat indices where
    the rows are packed (numpy's 2-D fancy indexing is several times slower)."""
    if not arr.flags.c_contiguous:
        return arr[ys, xs]
    flat = ys * arr.shape[1] + xs
    return arr.reshape((-1,) + arr.shape[2:]).take(flat, axis=0)


def put_at(arr: np.ndarray, ys: np.ndarray, xs: np.ndarray, values) -> None:
    """arr[ys, xs] = values, through flat indices where the rows are packed (see pixels_at)."""
    if not arr.flags.c_contiguous:
        arr[ys, xs] = values
        return
    arr.reshape((-1,) + arr.shape[2:])[ys * arr.shape[1] + xs] = values


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
    way (_loops.guided_stats, box_planes), the system solved per pixel in one more
    (guided_solve), and a and b filtered together: ~5 ms per photo instead of ~12."""
    kernels = loops()
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
    """Pixels within r of the model's uncertain edge (work resolution)."""
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
    band = _nearest(work_band, size, work_box)
    alpha = hard_alpha(p_work, size, work_box, r)
    if not band.any():
        return alpha
    if params.get("refine_camouflage", True) and camouflage.camouflaged(
        work_rgb, p_work, work_band
    ):
        # the guide cannot tell the product from the background here: it would copy the
        # background's texture into alpha (a fuzz that grows the product); the model's own
        # soft edge, upscaled, is the better estimate
        ys, xs = pixel_list(band)
        soft = resample_float(p_work, size, work_box)
        put_at(alpha, ys, xs, np.clip((pixels_at(soft, ys, xs) - SNAP) / (1 - 2 * SNAP), 0, 1))
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
    kernels = loops()
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
    kernels = loops()
    if kernels is not None and _compiled_layouts(samples, region, alpha):
        n = len(ys)
        fg, bg = np.empty((n, 3), np.float32), np.empty((n, 3), np.float32)
        mass_f, mass_b = np.empty(n, np.float32), np.empty(n, np.float32)
        kernels.two_colour(samples, readonly(region), alpha, ys, xs, fg, bg, mass_f, mass_b)
    else:
        fg, bg, mass_f, mass_b = _two_colour_numpy(region, alpha, samples, ys, xs)
    if fit is not None:
        fit.update(ys=ys, xs=xs, fg=fg, bg=bg, mass_f=mass_f, mass_b=mass_b, covers=True)


def _compiled_layouts(samples, region, alpha) -> bool:
    """Whether the compiled edge kernels take these arrays as they are (one signature each)."""
    return (
        samples.dtype == alpha.dtype == np.float32
        and region.dtype == np.uint8
        and region.ndim == 3
        and samples.flags.c_contiguous
        and region.flags.c_contiguous
        and alpha.flags.c_contiguous
        and alpha.flags.writeable
    )


def readonly(region: np.ndarray) -> np.ndarray:
    """A read-only view: regions come read-only from Pillow, and numba compiles per flag."""
    if region.flags.writeable:
        region = region.view()
        region.flags.writeable = False
    return region


def _two_colour_numpy(region, alpha, samples, ys, xs):
    """The two-colour step in numpy (the twin of _loops.two_colour): alpha in place; returns
    the local colours and masses the fit keeps."""
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
    kernels = loops()
    if kernels is None or width < 1 or mask.ndim != 2 or mask.dtype != bool:
        return ndimage().binary_dilation(mask, iterations=width)
    return kernels.taxicab_within(mask, width, False)


def erode(mask: np.ndarray, width: int) -> np.ndarray:
    """ndimage.binary_erosion(mask, iterations=width): the same pixels, one compiled pass."""
    kernels = loops()
    if kernels is None or width < 1 or mask.ndim != 2 or mask.dtype != bool:
        return ndimage().binary_erosion(mask, iterations=width)
    return kernels.taxicab_within(mask, width, True)


def loops():
    """The compiled whole-region byte loops (imaging._loops), or None without numba."""
    try:
        from . import _loops
    except ImportError:  # pragma: no cover - numba comes with rembg
        return None
    return _loops


def warm() -> None:
    """Compile (or load from numba's cache) the band kernels, before the first job."""
    kernels = loops()
    if kernels is not None:
        kernels.warm()
    grid = Grid((2, 2), np.zeros(1), np.zeros(1))
    smooth_for(np.zeros((2, 2, 1), np.float32), 0.5, grid)  # scipy: most of a 2x2 grid is needed
    grid(np.zeros((2, 2, 1), np.float32))  # the gather


class Grid:
    """Bilinear sample positions (float pixel coordinates, edges clamped) on an (h, w) map.

    The positions are worked out once and applied to any number of maps of that shape; several
    maps stacked on a last axis are sampled in one gather. Same arithmetic as `bilinear`.
    """

    def __init__(self, shape, gy: np.ndarray, gx: np.ndarray, ys=None, xs=None):
        """gy, gx: the positions; or, with ys and xs, per-row and per-column tables of them (a
        separable mapping) picked at rows ys and columns xs: the same positions, with the
        arithmetic done once per row and column instead of once per pixel."""
        h, w = shape[:2]
        self.shape = (h, w)
        rows, dy, fy = _axis(gy, h, w)
        cols, dx, fx = _axis(gx, w, 1)
        self.tables = None
        self._indices = None
        self._picked = (rows, dy, fy, cols, dx, fx)
        if ys is not None:
            # kept as tables: the compiled gather picks a pixel's row and column itself, and
            # the numpy path picks them per pixel only when it runs
            ys, xs = np.ascontiguousarray(ys, np.int64), np.ascontiguousarray(xs, np.int64)
            self.tables = (rows, dy, fy, cols, dx, fx, ys, xs)
            self._picked = None

    def _per_pixel(self) -> tuple[np.ndarray, ...]:
        if self._picked is None:
            rows, dy, fy, cols, dx, fx, ys, xs = self.tables
            self._picked = (rows[ys], dy[ys], fy[ys], cols[xs], dx[xs], fx[xs])
        return self._picked

    @property
    def fy(self) -> np.ndarray:
        return self._per_pixel()[2]

    @property
    def fx(self) -> np.ndarray:
        return self._per_pixel()[5]

    @property
    def count(self) -> int:
        return len(self.tables[6]) if self.tables is not None else len(self._picked[2])

    def indices(self) -> tuple[np.ndarray, ...]:
        """Flat indices of each pixel's four neighbours (i00, i01, i10, i11), worked out once."""
        if self._indices is None:
            rows, dy, _, cols, dx, _ = self._per_pixel()
            i00 = rows + cols
            i10 = i00 + dy  # clamped neighbours
            self._indices = (i00, i00 + dx, i10, i10 + dx)
        return self._indices

    def mark(self, need: np.ndarray) -> None:
        """need (flat bool over the map) set at every cell a sample reads."""
        kernels = loops()
        if kernels is not None and self.tables is not None:
            rows, dy, _, cols, dx, _, ys, xs = self.tables
            kernels.mark_rows_cols(need, rows, dy, cols, dx, ys, xs)
            return
        for index in self.indices():
            need[index] = True

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        h, w = self.shape
        kernels = loops()
        if kernels is not None and arr.dtype == np.float32:
            flat = np.ascontiguousarray(arr).reshape(h * w, -1)
            out = np.empty((self.count, flat.shape[1]), np.float32)
            if self.tables is not None:
                kernels.gather_rows_cols(flat, *self.tables, out)
            else:
                kernels.gather(flat, *self.indices(), self.fy, self.fx, out)
            return out if arr.ndim == 3 else out[:, 0]
        flat = arr.reshape(h * w, -1) if arr.ndim == 3 else arr.reshape(h * w)
        fy, fx = self.fy, self.fx
        if arr.ndim == 3:
            fy, fx = fy[:, None], fx[:, None]
        i00, i01, i10, i11 = self.indices()
        top = flat.take(i00, axis=0) * (1 - fx) + flat.take(i01, axis=0) * fx
        bottom = flat.take(i10, axis=0) * (1 - fx) + flat.take(i11, axis=0) * fx
        return (top * (1 - fy) + bottom * fy).astype(np.float32, copy=False)


def _axis(g: np.ndarray, n: int, stride: int):
    """Along one axis of length n: flat offset of the lower neighbour (index * stride), the step
    to the upper one (0 where clamped at the edge) and the float32 weight of the upper one."""
    g = np.clip(g, 0.0, n - 1.0)
    i0 = np.minimum(g.astype(np.int32), n - 2 if n > 1 else 0)
    step = np.where(i0 + 1 < n, stride, 0)
    return i0.astype(np.intp) * stride, step, (g - i0).astype(np.float32)


def bilinear(arr: np.ndarray, gy: np.ndarray, gx: np.ndarray) -> np.ndarray:
    """Bilinear samples of a (h,w) or (h,w,c) map at float pixel coordinates (edges clamped).

    A direct gather: several times faster than ndimage.map_coordinates for scattered points.
    """
    return Grid(arr.shape, gy, gx)(arr)


def _work_grid(shape, ys: np.ndarray, xs: np.ndarray, size, work_box) -> Grid:
    """Sample positions of region pixel centres (ys, xs) on a work-resolution map."""
    l, t, r, b = work_box
    cols, rows = np.arange(size[0]), np.arange(size[1])  # the mapping is separable
    wx = l + (cols + 0.5) * (r - l) / size[0] - 0.5
    wy = t + (rows + 0.5) * (b - t) / size[1] - 0.5
    return Grid(shape, wy, wx, ys, xs)


def block_mean(arr: np.ndarray, step: int, image=None) -> np.ndarray:
    """Block means over step x step tiles (partial tiles at the edges included), per channel.

    8-bit RGB stays 8-bit (Pillow's reduce, means rounded); anything else becomes float32.
    image: arr as a Pillow RGB image already (saves converting it: a copy of the whole area).
    """
    if step == 1:
        return arr if arr.dtype == np.uint8 else arr.astype(np.float32)
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3:
        return np.asarray((Image.fromarray(arr, "RGB") if image is None else image).reduce(step))
    if arr.ndim == 3:
        return np.stack([block_mean(arr[..., c], step) for c in range(arr.shape[2])], -1)
    flat = np.asarray(arr, np.float32)  # no copy when it is float32 already: Pillow copies it
    kernels = loops()
    if kernels is not None and flat.ndim == 2 and flat.flags.c_contiguous:
        h, w = flat.shape
        out = np.empty(((h - 1) // step + 1, (w - 1) // step + 1), np.float32)
        kernels.reduce_float(flat, step, step, out)  # Pillow's "F" reduce, without the copy
        return out
    return np.asarray(Image.fromarray(flat, "F").reduce(step), np.float32)


def _masked_blocks(rgb: np.ndarray, weight: np.ndarray, step: int, image=None):
    """Block means of rgb*weight (h',w',3) and of weight (h',w'), for uint8 rgb and a 0/1 weight.

    Pillow masks and reduces in C on 8-bit data (means rounded to whole levels), several times
    cheaper than float arithmetic over the full region; the result only feeds smooth estimates.
    """
    mask = Image.fromarray(weight.view(np.uint8) * np.uint8(255), "L")
    masked = Image.new("RGB", mask.size, 0)
    # pasted through a "1" mask: a plain copy where set, where an "L" mask blends every pixel
    # (255 and 0 blend to the same bytes, at about twice the cost)
    binary = Image.fromarray(np.ascontiguousarray(weight, bool))
    masked.paste(Image.fromarray(rgb, "RGB") if image is None else image, mask=binary)
    num = np.asarray(masked.reduce(step), np.float32)
    den = np.asarray(mask.reduce(step), np.float32) / 255.0
    return num, den


def block_fields(
    rgb: np.ndarray, weight: np.ndarray, step: int = 4, spread=False, image=None
) -> np.ndarray:
    """The fields local_mean smooths, on the reduced grid before smoothing (h',w',4 or 5):
    weight mass, weighted colour sums (3) and, with spread=True, the blocks' mean squares.
    image: rgb as a Pillow image already (saves a conversion when several weights share it)."""
    masked = weight.dtype == bool and rgb.dtype == np.uint8 and rgb.ndim == 3 and step > 1
    kernels = loops()
    if masked and not spread and kernels is not None and weight.ndim == 2:
        h, w = weight.shape  # one compiled pass for both reductions: _loops.masked_blocks
        out = np.empty(((h - 1) // step + 1, (w - 1) // step + 1, 4), np.float32)
        kernels.masked_blocks(readonly(np.ascontiguousarray(rgb)), weight, step, out)
        return out
    if masked:
        num, wsum = _masked_blocks(rgb, weight, step, image)
    else:
        weight = weight.astype(np.float32)
        wsum = block_mean(weight, step)
        num = block_mean(rgb * weight[..., None], step)
    parts = [wsum, num]
    if spread:
        parts.append(channel_sum(num**2) / np.maximum(wsum, 1e-6))
    return np.dstack(parts)


def split_fields(region: np.ndarray, alpha: np.ndarray, step: int = 4, image=None) -> np.ndarray:
    """block_fields of the sure product (alpha >= 1) and of the sure background (alpha <= 0, with
    spread), side by side (h',w',9): one compiled pass over the region where there is numba
    (the same bytes as Pillow's masked reductions: _loops.split_blocks), else two."""
    kernels = loops()
    if (
        kernels is None
        or step < 2
        or region.dtype != np.uint8
        or region.ndim != 3
        or alpha.dtype != np.float32
        or not (region.flags.c_contiguous and alpha.flags.c_contiguous)
    ):
        if image is None and region.dtype == np.uint8:
            image = Image.fromarray(region, "RGB")
        return np.dstack(
            [
                block_fields(region, alpha >= 1.0, step, image=image),
                block_fields(region, alpha <= 0.0, step, spread=True, image=image),
            ]
        )
    h, w = alpha.shape
    out = np.empty(((h - 1) // step + 1, (w - 1) // step + 1, 9), np.float32)  # sizes round up
    kernels.split_blocks(readonly(region), alpha, step, out)
    return out


def smoothing(sigma: float, step: int) -> float:
    """The Gaussian's sigma on the `step`-times reduced grid."""
    return max(sigma / step, 0.5)


def smooth_for(fields: np.ndarray, s: float, grid: Grid) -> np.ndarray:
    """fields (h,w,c float32) smoothed by a Gaussian of sigma `s` (scipy's gaussian_filter per
    channel, mode reflect), valid only at the cells `grid` reads; other cells are undefined.

    The local means are sampled at the edge band only, a thin ring that touches a few percent
    of the reduced grid: smoothing just those cells (and the first pass's cells within reach)
    is several times cheaper. Same float operations in the same order as scipy's correlate1d
    (double accumulator, centre tap first, then the pairs from the outside in; float32 between
    the two passes), so the same bits (tests/test_cutout_quality.py). Falls back to scipy when
    most of the grid is needed, or without numba.
    """
    h, w = fields.shape[:2]
    need = np.zeros(h * w, bool)
    grid.mark(need)
    kernels = loops()
    if kernels is None or fields.dtype != np.float32 or need.sum() > 0.5 * need.size:
        return ndimage().gaussian_filter(fields, (s, s, 0))
    out = np.empty_like(fields)
    kernels.smooth(np.ascontiguousarray(fields), gaussian_weights(s), need.reshape(h, w), out)
    return out


def gaussian_weights(s: float, truncate: float = 4.0) -> np.ndarray:
    """scipy.ndimage.gaussian_filter1d's taps for sigma `s` (float64, as correlate1d gets them)."""
    radius = int(truncate * float(s) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (s * s) * x**2)
    return (phi / phi.sum())[::-1].copy()


def step_grid(shape, ys, xs, step: int) -> Grid:
    """Sample positions of full-resolution pixels (ys, xs) on a `step`-times reduced grid."""
    if len(ys) == 0:
        return Grid(shape, (ys + 0.5) / step - 0.5, (xs + 0.5) / step - 0.5)
    rows, cols = np.arange(int(ys.max()) + 1), np.arange(int(xs.max()) + 1)  # separable
    return Grid(shape, (rows + 0.5) / step - 0.5, (cols + 0.5) / step - 0.5, ys, xs)


def from_fields(samples: np.ndarray, spread=False):
    """(colours, mass[, spread]) from smoothed block_fields values sampled at n pixels (n, 4 or 5)."""
    mass = samples[:, 0]
    cols = samples[:, 1:4] / np.maximum(mass, 1e-6)[:, None]
    if not spread:
        return cols, mass
    sq = samples[:, 4] / np.maximum(mass, 1e-6)
    return cols, mass, np.sqrt(np.maximum(sq - channel_sum(cols**2), 0.0) / 3.0)


def local_mean(
    rgb: np.ndarray,
    weight: np.ndarray,
    ys,
    xs,
    sigma: float,
    step: int = 4,
    spread=False,
    image=None,
):
    """Weighted local mean colour around (ys, xs): (n,3) colours and (n,) weight mass.

    Computed on a `step`-times reduced grid, since it only needs to be smooth. With spread=True
    a third value: the local colour spread (RGB std between blocks: the texture of the area).
    image: rgb as a Pillow image already.
    """
    fields = block_fields(rgb, weight, step, spread, image)
    grid = step_grid(fields.shape, ys, xs, step)
    return from_fields(grid(smooth_for(fields, smoothing(sigma, step), grid)), spread)


OFF_LINE = 24.0  # RGB distance of a pixel from the segment between its F and B: not a mix


def edge_colours(region: np.ndarray, alpha: np.ndarray, sigma: float = 8.0, fit=None):
    """The product's own colour at each partly transparent pixel: (ys, xs, (n,3) float colours),
    less what `off_the_line` does not trust."""
    ys, xs, colours = _edge_estimates(region, alpha, sigma, fit)
    if len(ys) and fit and "ys" in fit and not _off_the_line_compiled(region, alpha, fit, colours):
        off_the_line(region, alpha, fit, ys, xs, colours)
    return ys, xs, colours


def _off_the_line_compiled(region, alpha, fit, colours) -> bool:
    """off_the_line in one compiled pass over the fit's pixels, where _edge_estimates took the
    fit's pixels with 0 < alpha < 1 (fit["covers"]): colours' rows are those, in order, so no
    search for them. The same bits (_loops.off_the_line). False where it did not run."""
    kernels = loops()
    if not (
        fit.get("covers")
        and kernels is not None
        and _compiled_layouts(fit["fg"], region, alpha)
        and colours.dtype == np.float32
        and colours.flags.c_contiguous
    ):
        return False
    limit = np.float32(OFF_LINE * OFF_LINE)
    args = (fit["ys"], fit["xs"], fit["fg"], fit["bg"], fit["mass_f"], fit["mass_b"])
    if kernels.off_the_line(readonly(region), alpha, *args, limit, colours) != len(colours):
        raise AssertionError("edge pixels are not the fit's")  # pragma: no cover - invariant
    return True


def off_the_line(region, alpha, fit, ys, xs, colours) -> None:
    """Where a pixel is not a mix of the local product (F) and background (B) colours (it lies
    off the segment between them: the background's texture, a grass blade at a ring's rim),
    the solve I = a F + (1 - a) B gives a colour of neither, which reads as a halo: the local
    product colour is the estimate there instead (in place)."""
    known = _fit_at(fit, alpha.shape, ys, xs)
    if known is None:
        return
    fg, bg, mass_f, mass_b = known
    gap = pixels_at(region, ys, xs).astype(np.float32) - bg
    line = fg - bg
    dot = np.einsum("ij,ij->i", gap, line)  # einsum: several times numpy's sum(axis=1) here
    t = np.clip(dot / np.maximum(np.einsum("ij,ij->i", line, line), 1.0), 0.0, 1.0)
    gap -= t[:, None] * line
    off = np.einsum("ij,ij->i", gap, gap) > OFF_LINE * OFF_LINE
    off &= (mass_f > 1e-3) & (mass_b > 1e-3)
    colours[off] = fg[off]


def _fit_at(fit, shape, ys, xs):
    """The fit's (fg, bg, mass_f, mass_b) at (ys, xs): a subset of the fit's pixels in the same
    (row-major) order, as edge_colours returns them, found by a sorted search over the band's
    pixels (no map of the region's size); _from_fit where that does not hold."""
    if not fit or "ys" not in fit:
        return None
    if (
        len(ys) == len(fit["ys"])
        and np.array_equal(ys, fit["ys"])
        and np.array_equal(xs, fit["xs"])
    ):
        return fit["fg"], fit["bg"], fit["mass_f"], fit["mass_b"]
    at_fit = fit["ys"].astype(np.int64) * shape[1] + fit["xs"]
    at = ys.astype(np.int64) * shape[1] + xs
    index = np.searchsorted(at_fit, at)
    if len(at_fit) and index.max(initial=0) < len(at_fit) and (at_fit[index] == at).all():
        return tuple(fit[k].take(index, axis=0) for k in ("fg", "bg", "mass_f", "mass_b"))
    return _from_fit(fit, shape, ys, xs)


def _edge_estimates(region: np.ndarray, alpha: np.ndarray, sigma: float = 8.0, fit=None):
    """The product's own colour at each partly transparent pixel: (ys, xs, (n,3) float colours).

    I = a F + (1 - a) B, with B the local mean of nearby background pixels, gives F where a is
    large; where a is small that solve is noise, so it leans on the local mean of the product's
    opaque pixels instead. `fit` (from refine_alpha) supplies F and B already measured there.
    """
    a = None
    kernels = loops()
    if (
        fit
        and fit.get("covers")
        and kernels is not None
        and _compiled_layouts(fit["fg"], region, alpha)
    ):
        n = len(fit["ys"])
        ys, xs = np.empty(n, np.int64), np.empty(n, np.int64)
        out = np.empty((n, 3), np.float32)
        k = kernels.edge_estimates(
            readonly(region),
            alpha,
            fit["ys"],
            fit["xs"],
            fit["fg"],
            fit["bg"],
            fit["mass_f"],
            fit["mass_b"],
            ys,
            xs,
            out,
        )
        return ys[:k], xs[:k], out[:k]
    if fit and fit.get("covers"):  # the partly transparent pixels are a subset of the fit's
        a_fit = pixels_at(alpha, fit["ys"], fit["xs"])
        keep = np.flatnonzero((a_fit > 0.0) & (a_fit < 1.0))  # take: faster than a bool mask
        ys, xs, a = fit["ys"].take(keep), fit["xs"].take(keep), a_fit.take(keep)
        reused = tuple(fit[k].take(keep, axis=0) for k in ("fg", "bg", "mass_f", "mass_b"))
    else:
        ys, xs = pixel_list((alpha > 0.0) & (alpha < 1.0))
        reused = _from_fit(fit, alpha.shape, ys, xs) if len(ys) else None
    if len(ys) == 0:
        return ys, xs, np.zeros((0, 3), np.float32)
    if reused is None:
        inner, mass_f = local_mean(region, alpha >= 1.0, ys, xs, sigma)
        back, mass_b = local_mean(region, alpha <= 0.0, ys, xs, sigma)
    else:
        inner, back, mass_f, mass_b = reused
    a = (pixels_at(alpha, ys, xs) if a is None else a)[:, None]
    pixel = pixels_at(region, ys, xs).astype(np.float32)
    solved = np.clip((pixel - (1.0 - a) * back) / np.maximum(a, 1e-3), 0.0, 255.0)
    solved = np.where(mass_b[:, None] > 1e-3, solved, pixel)
    trust = np.clip((a - 0.2) / 0.6, 0.0, 1.0)
    estimate = np.where(mass_f[:, None] > 1e-3, trust * solved + (1.0 - trust) * inner, solved)
    return ys, xs, estimate.astype(np.float32)


def _from_fit(fit, shape, ys, xs):
    """The fit's estimates at (ys, xs), or None if the fit does not cover every one of them."""
    if not fit or "ys" not in fit:
        return None
    index = np.full(shape, -1, np.int32)
    index[fit["ys"], fit["xs"]] = np.arange(len(fit["ys"]), dtype=np.int32)
    at = index[ys, xs]
    if (at < 0).any():
        return None
    return fit["fg"][at], fit["bg"][at], fit["mass_f"][at], fit["mass_b"][at]


def decontaminate(region: np.ndarray, alpha: np.ndarray, sigma: float = 8.0) -> np.ndarray:
    """Foreground colours (h,w,3 float): the source pixel where alpha is 1 or 0, the product's
    estimated own colour where the edge is partly transparent (see edge_colours)."""
    fg = region.astype(np.float32)
    ys, xs, colours = edge_colours(region, alpha, sigma)
    fg[ys, xs] = colours
    return fg
