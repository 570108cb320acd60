"""Local mean colours of the sure product and the sure background around edge pixels: masked
block sums on a reduced grid, smoothed only where the edge band samples them (the two-colour
step's F and B, decontamination's and QA's local colours).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from . import compiled, ndimage
from .compiled import readonly
from .sampling import Grid, channel_sum


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
    kernels = compiled.loops()
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
    kernels = compiled.loops()
    if masked and not spread and kernels is not None and weight.ndim == 2:
        h, w = weight.shape  # one compiled pass for both reductions: kernels.blocks.masked_blocks
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
    (the same bytes as Pillow's masked reductions: kernels.blocks.split_blocks), else two."""
    kernels = compiled.loops()
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
    kernels = compiled.loops()
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
    return local_mean_of(
        block_fields(rgb, weight, step, spread, image), ys, xs, sigma, step, spread
    )


def local_mean_of(fields: np.ndarray, ys, xs, sigma: float, step: int, spread=False):
    """local_mean from its block_fields (made by the caller: qa.halo makes two in one pass)."""
    grid = step_grid(fields.shape, ys, xs, step)
    return from_fields(grid(smooth_for(fields, smoothing(sigma, step), grid)), spread)
