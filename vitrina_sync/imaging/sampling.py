"""Where the edge steps read and write pixels: lists of a mask's pixels, values at such lists,
bilinear sample grids on reduced maps (positions worked out once, any number of maps gathered).
"""

from __future__ import annotations

import numpy as np

from . import compiled


def channel_sum(x: np.ndarray) -> np.ndarray:
    """x.sum(axis=-1) for a last axis of 3 channels, in numpy's own order ((c0 + c1) + c2), so
    the same bits, without numpy's slow reduction over a 3-long axis (~6x faster)."""
    return (x[..., 0] + x[..., 1]) + x[..., 2]


def pixel_list(mask: np.ndarray):
    """np.nonzero of a 2-D mask (same arrays, row-major order): a compiled pass for a bool mask
    in C layout (~1.4 ms on a 1700 px region's band, half of numpy's), else through flat
    indices (numpy's 2-D nonzero is ~2x slower on region-sized masks)."""
    kernels = compiled.loops()
    if kernels is not None and mask.ndim == 2 and mask.dtype == bool and mask.flags.c_contiguous:
        return kernels.mask_pixels(mask)
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
        kernels = compiled.loops()
        if kernels is not None and self.tables is not None:
            rows, dy, _, cols, dx, _, ys, xs = self.tables
            kernels.mark_rows_cols(need, rows, dy, cols, dx, ys, xs)
            return
        for index in self.indices():
            need[index] = True

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        h, w = self.shape
        kernels = compiled.loops()
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
