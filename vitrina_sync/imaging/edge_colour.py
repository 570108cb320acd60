"""Decontamination: the product's own colour in the soft edge (alpha-matting's foreground
estimation, done cheaply from local means and the refinement's two-colour fit), so no fringe of
the old background survives compositing.
"""

from __future__ import annotations

import numpy as np

from . import compiled
from .compiled import compiled_layouts, readonly
from .local_means import local_mean
from .sampling import pixel_list, pixels_at

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
    search for them. The same bits (kernels.colour_fit.off_the_line). False where it did not run."""
    kernels = compiled.loops()
    if not (
        fit.get("covers")
        and kernels is not None
        and compiled_layouts(fit["fg"], region, alpha)
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
    kernels = compiled.loops()
    if (
        fit
        and fit.get("covers")
        and kernels is not None
        and compiled_layouts(fit["fg"], region, alpha)
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
