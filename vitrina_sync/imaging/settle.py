"""Low-contrast edges settled on the model's own edge (issue 16: aspect drift).

Where the product and the backdrop right beside it are of one colour (a grey bottle on a grey
photo), the guided filter cannot tell them apart: it maps the product's colour to alpha, so
background pixels of that colour just outside the product become product (a fuzz that grows the
product: the grey bottle on the grey motorcycle came out 7-11 px wider and taller, aspect drift
4.2%). `refine.refine_alpha` then calls `settle`: on a photo whose edge is low-contrast against
a textured backdrop (`low_contrast`: along the model's edge the local step from the product's
own colour to the background's is small, in absolute terms and against the background's own
spread there), the pixels the refinement made more opaque than the model's own soft edge,
outside that edge (model p < 0.5), are moved back to the model's edge (the model's soft value):
growth the photo cannot support. Growth stays where the photo shows the refined edge locally
(just outside it the photo is far from the product's colour: a padlock's body on a page, where
the model's edge lay inside the product). Inside the model's edge, and where the model's own
edge is the wrong one (grey bottle on the moon: +5-6 px), nothing changes. Plain backdrops (a
white label on a white product, a bottle on a sweep) and contrasting edges never pass the gate.
Cost: the gate ~2-3 ms a photo (0 of bench_white's 48 project photos and 1 of its 48 held-out
photos pass it); ~13-35 ms more where it passes (2000 px canvas).
"""

from __future__ import annotations

import numpy as np

GRID = 180  # the gate's statistics on a grid of about this many cells along the region's long
# side (a reduction by 6 on bench_masks' 1200 px canvas, by ~10 on the job's 2000 px one)
RADIUS = 3  # their window's half side (grid cells: ~1/25 of the product's long side across)
MIN_SPREAD = 1.0  # the backdrop beside the edge is textured (median local CIELAB spread)
MAX_STEP = 20.0  # median local step product -> background along the edge (CIELAB) under this
MAX_RATIO = 2.5  # ... and under this many times (the background's spread + 1)
MIN_ZONE = 20  # reduced edge pixels with both sides measured, or the gate stays shut
SEEN = 16.0  # just outside the refined edge the photo is this far (CIELAB) from the product...
REACH = 10  # ... on at least SHARE of the edge within REACH px: the photo shows that edge there
SHARE = 0.5


def _sums(lab: np.ndarray, square: np.ndarray, weight: np.ndarray, size: tuple[int, int]):
    """Window sums of (weight, weight * L, a, b) and of weight * |lab|^2."""
    import cv2

    first = np.concatenate([weight[..., None], lab * weight[..., None]], axis=2)
    return (
        cv2.boxFilter(first, -1, size, normalize=False),
        cv2.boxFilter(square * weight, -1, size, normalize=False),
    )


def scale(shape) -> int:
    """The grid's cell side in region pixels."""
    return max(2, round(max(shape) / GRID))


def _colours(region, image, work, size, cell) -> np.ndarray:
    """The region's colours on the grid (size = (w, h) cells of cell x cell region pixels): from
    the work copy where given (work_rgb, work_box: the model's reduced photo and the region's
    box on it; a box-filtered resize of a few hundred pixels, ~0.3 ms), else the region reduced."""
    from PIL import Image

    if work is not None:
        work_rgb, (left, top, right, bottom) = work
        h, w = region.shape[:2]
        box = (
            left,
            top,
            left + size[0] * cell * (right - left) / w,
            top + size[1] * cell * (bottom - top) / h,
        )
        from .compiled import readonly
        from .resample import resized_array

        pixels = readonly(np.ascontiguousarray(work_rgb))
        # Pillow's BOX resize through the compiled kernels where there is numba (same bytes)
        return resized_array(Image.fromarray(pixels), size, Image.Resampling.BOX, box, pixels)
    small = (image if image is not None else Image.fromarray(region)).reduce(cell)
    return np.asarray(small)[: size[1], : size[0]]


def low_contrast(
    region: np.ndarray, alpha: np.ndarray, image=None, info: dict | None = None, work=None
):
    """Whether the product's edge is low-contrast against a textured backdrop: on a grid of
    cells of `scale` region pixels, the local means of the product (alpha >= 0.7) and of the
    background (alpha <= 0.02) in a (2 RADIUS + 1)^2 window, read on the edge between them;
    their median step under MAX_STEP and under MAX_RATIO x (the background's median local
    spread + 1), that spread at least MIN_SPREAD (a plain backdrop never passes).
    image: `region` as a Pillow image; work: (work_rgb, work_box), the colours read from the work
    copy instead of reducing the region (see _colours). Returns None where
    the gate stays shut, else the product's local mean colour on the reduced grid (h, w, 3
    CIELAB; 0 where no product is near) for `settle`."""
    import cv2

    h, w = alpha.shape
    cell = scale(alpha.shape)
    size = (w // cell, h // cell)
    if min(size) < 4:
        return None
    a = alpha[cell // 2 :: cell, cell // 2 :: cell][: size[1], : size[0]]
    rgb = _colours(region, image, work, size, cell)
    lab = cv2.cvtColor(rgb.astype(np.float32) * np.float32(1 / 255.0), cv2.COLOR_RGB2LAB)
    square = (lab * lab).sum(axis=2)
    fg, bg = (a >= 0.7).astype(np.float32), (a <= 0.02).astype(np.float32)
    window = (2 * RADIUS + 1, 2 * RADIUS + 1)
    sum_fg, _ = _sums(lab, square, fg, window)
    sum_bg, sq_bg = _sums(lab, square, bg, window)
    zone = (fg == 0) & (bg == 0) & (sum_fg[..., 0] >= 5) & (sum_bg[..., 0] >= 5)
    if np.count_nonzero(zone) < MIN_ZONE:
        return None
    f, b, q = sum_fg[zone], sum_bg[zone], sq_bg[zone]
    mean_fg, mean_bg = f[:, 1:] / f[:, :1], b[:, 1:] / b[:, :1]
    step = float(np.median(np.sqrt(((mean_fg - mean_bg) ** 2).sum(axis=1))))
    var_bg = q / b[:, 0] - (mean_bg * mean_bg).sum(axis=1)
    spread = float(np.median(np.sqrt(np.maximum(var_bg, 0.0))))
    if info is not None:
        info.update(step=step, spread=spread)
    if not (spread >= MIN_SPREAD and step < MAX_STEP and step < MAX_RATIO * (spread + 1.0)):
        return None
    return sum_fg[..., 1:] / np.maximum(sum_fg[..., :1], 1e-6)


def settle(
    alpha: np.ndarray,
    soft: np.ndarray,
    ys: np.ndarray,
    xs: np.ndarray,
    region: np.ndarray | None = None,
    product_mean: np.ndarray | None = None,
) -> int:
    """In place: band pixels (ys, xs) outside the model's edge (soft < 0.5, soft = the model's
    map upscaled and stretched as the refinement stretches it, at those pixels: refine's
    _model_edge) that the refinement made more
    opaque than the model take the model's value, unless the photo shows the refined edge near
    them (with `region` and `product_mean` from low_contrast: on at least SHARE of the pixels
    just outside the refined edge within REACH px, the photo is SEEN or more from the product's
    local colour: a padlock's body against a page, where the model's edge lay inside the
    product). Returns how many moved."""
    import cv2

    a = alpha[ys, xs]
    grown = (soft < 0.5) & (a > soft)
    if not grown.any():
        return 0
    gy, gx, back = ys[grown], xs[grown], soft[grown]
    if region is not None and product_mean is not None:
        h, w = alpha.shape
        margin = REACH + 3
        t, b = max(0, int(gy.min()) - margin), min(h, int(gy.max()) + 1 + margin)
        left, right = max(0, int(gx.min()) - margin), min(w, int(gx.max()) + 1 + margin)
        hard = (alpha[t:b, left:right] > 0.5).view(np.uint8)
        near = cv2.dilate(hard, np.ones((5, 5), np.uint8))
        oy, ox = np.nonzero(near > hard)  # within 2 px outside the refined edge
        colours = region[t + oy, left + ox].astype(np.float32) * np.float32(1 / 255.0)
        lab = cv2.cvtColor(colours[:, None, :], cv2.COLOR_RGB2LAB)[:, 0, :]
        cell = scale(alpha.shape)
        ry = np.minimum((t + oy) // cell, product_mean.shape[0] - 1)
        rx = np.minimum((left + ox) // cell, product_mean.shape[1] - 1)
        seen = np.sqrt(((lab - product_mean[ry, rx]) ** 2).sum(axis=1)) >= SEEN
        edge = np.zeros(hard.shape, np.float32)
        edge[oy, ox] = 1.0
        shown = np.zeros(hard.shape, np.float32)
        shown[oy[seen], ox[seen]] = 1.0
        window = (2 * REACH + 1, 2 * REACH + 1)
        total = cv2.boxFilter(edge, -1, window, normalize=False)
        share = cv2.boxFilter(shown, -1, window, normalize=False) / np.maximum(total, 1e-6)
        keep = share[gy - t, gx - left] >= SHARE
        gy, gx, back = gy[~keep], gx[~keep], back[~keep]
    alpha[gy, gx] = back
    return len(gy)
