"""Geometry and compositing: place a cut-out product on a canvas without stretching it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Placement:
    """Source crop box -> output box; scale is the same on both axes (never stretched)."""

    crop: tuple[int, int, int, int]  # left, top, right, bottom in the source
    box: tuple[int, int, int, int]  # left, top, right, bottom on the canvas
    scale: float


def bbox(alpha: np.ndarray, threshold: float = 0.5) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(alpha > threshold)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def plan_placement(crop: tuple[int, int, int, int], canvas: tuple[int, int], fill: float) -> Placement:
    """Scale the crop so its longer side (relative to the canvas) fills `fill` of the canvas; centre it."""
    cw, ch = canvas
    w, h = crop[2] - crop[0], crop[3] - crop[1]
    scale = min(cw * fill / w, ch * fill / h)
    ow, oh = max(1, round(w * scale)), max(1, round(h * scale))
    left, top = (cw - ow) // 2, (ch - oh) // 2
    return Placement(crop, (left, top, left + ow, top + oh), scale)


def resample(img: Image.Image, placement: Placement) -> Image.Image:
    """The crop resized to its box: the geometric transform, nothing else."""
    box = placement.box
    return img.crop(placement.crop).resize((box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS)


def over(background: np.ndarray, fg: np.ndarray, alpha: np.ndarray, box) -> np.ndarray:
    """Composite fg (h,w,3 float) with alpha (h,w) onto background (H,W,3 float) at box."""
    out = background.copy()
    l, t, r, b = box
    a = alpha[..., None]
    out[t:b, l:r] = fg * a + out[t:b, l:r] * (1.0 - a)
    return out
