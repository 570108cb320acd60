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
growth the photo cannot support. Inside the model's edge and where the model's edge is the one
that is wrong, nothing changes. Plain backdrops (a white label on a white product, a bottle on a
sweep) and contrasting edges never pass the gate: there the guide sees the edge.
"""

from __future__ import annotations

import numpy as np

SCALE = 6  # the gate's statistics on the refined region reduced by this factor
RADIUS = 3  # their window's half side (reduced pixels: ~40 output pixels across)
MIN_SPREAD = 1.0  # the backdrop beside the edge is textured (median local CIELAB spread)
MAX_STEP = 20.0  # median local step product -> background along the edge (CIELAB) under this
MAX_RATIO = 2.5  # ... and under this many times (the background's spread + 1)
MIN_ZONE = 20  # reduced edge pixels with both sides measured, or the gate stays shut


def _sums(lab: np.ndarray, square: np.ndarray, weight: np.ndarray, size: tuple[int, int]):
    """Window sums of (weight, weight * L, a, b) and of weight * |lab|^2."""
    import cv2

    first = np.concatenate([weight[..., None], lab * weight[..., None]], axis=2)
    return (
        cv2.boxFilter(first, -1, size, normalize=False),
        cv2.boxFilter(square * weight, -1, size, normalize=False),
    )


def low_contrast(region: np.ndarray, alpha: np.ndarray, image=None, info: dict | None = None):
    """Whether the product's edge is low-contrast against a textured backdrop: on the refined
    region reduced SCALE times, the local means of the product (alpha >= 0.7) and of the
    background (alpha <= 0.02) in a (2 RADIUS + 1)^2 window, read on the edge between them;
    their median step under MAX_STEP and under MAX_RATIO x (the background's median local
    spread + 1), that spread at least MIN_SPREAD (a plain backdrop never passes).
    image: `region` as a Pillow image (reduced by Pillow's box filter, ~1 ms)."""
    import cv2
    from PIL import Image

    h, w = alpha.shape
    if h < 4 * SCALE or w < 4 * SCALE:
        return False
    small = (image if image is not None else Image.fromarray(region)).reduce(SCALE)
    rgb = np.asarray(small)
    a = alpha[SCALE // 2 :: SCALE, SCALE // 2 :: SCALE][: rgb.shape[0], : rgb.shape[1]]
    rgb = rgb[: a.shape[0], : a.shape[1]]
    lab = cv2.cvtColor(rgb.astype(np.float32) * np.float32(1 / 255.0), cv2.COLOR_RGB2LAB)
    square = (lab * lab).sum(axis=2)
    fg, bg = (a >= 0.7).astype(np.float32), (a <= 0.02).astype(np.float32)
    window = (2 * RADIUS + 1, 2 * RADIUS + 1)
    sum_fg, _ = _sums(lab, square, fg, window)
    sum_bg, sq_bg = _sums(lab, square, bg, window)
    zone = (fg == 0) & (bg == 0) & (sum_fg[..., 0] >= 5) & (sum_bg[..., 0] >= 5)
    if np.count_nonzero(zone) < MIN_ZONE:
        return False
    f, b, q = sum_fg[zone], sum_bg[zone], sq_bg[zone]
    mean_fg, mean_bg = f[:, 1:] / f[:, :1], b[:, 1:] / b[:, :1]
    step = float(np.median(np.sqrt(((mean_fg - mean_bg) ** 2).sum(axis=1))))
    var_bg = q / b[:, 0] - (mean_bg * mean_bg).sum(axis=1)
    spread = float(np.median(np.sqrt(np.maximum(var_bg, 0.0))))
    if info is not None:
        info.update(step=step, spread=spread)
    return spread >= MIN_SPREAD and step < MAX_STEP and step < MAX_RATIO * (spread + 1.0)


def settle(alpha: np.ndarray, soft: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> int:
    """In place: band pixels (ys, xs) outside the model's edge (soft < 0.5, soft = the model's
    map upscaled and stretched as the refinement stretches it) that the refinement made more
    opaque than the model take the model's value. Returns how many moved."""
    a = alpha[ys, xs]
    s = soft[ys, xs]
    grown = (s < 0.5) & (a > s)
    alpha[ys[grown], xs[grown]] = s[grown]
    return int(np.count_nonzero(grown))
