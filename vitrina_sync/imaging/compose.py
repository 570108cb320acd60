"""Geometry and compositing: place a cut-out product on a canvas without stretching it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .compiled import loops, readonly
from .resample import resize, resize_both
from .sampling import pixels_at, put_at


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


def plan_placement(
    crop: tuple[int, int, int, int], canvas: tuple[int, int], fill: float
) -> Placement:
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
    return img.crop(placement.crop).resize(
        (box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS
    )


def over(background: np.ndarray, fg: np.ndarray, alpha: np.ndarray, box) -> np.ndarray:
    """Composite fg (h,w,3 float) with alpha (h,w) onto background (H,W,3 float) at box."""
    out = background.copy()
    l, t, r, b = box
    a = alpha[..., None]
    out[t:b, l:r] = fg * a + out[t:b, l:r] * (1.0 - a)
    return out


@dataclass(frozen=True)
class Region:
    """The part of the canvas we render: the product box plus a margin for its soft edge.

    `source` is the same area in source pixel coordinates (floats), so resampling the region
    is exactly the geometric transform of the placement.
    """

    canvas: tuple[int, int, int, int]  # left, top, right, bottom on the canvas
    source: tuple[float, float, float, float]

    @property
    def size(self) -> tuple[int, int]:
        return self.canvas[2] - self.canvas[0], self.canvas[3] - self.canvas[1]


def plan_region(
    placement: Placement, canvas: tuple[int, int], src_size: tuple[int, int], pad: int
) -> Region:
    """The box grown by `pad` canvas pixels, kept inside both the canvas and the source."""
    (cl, ct, cr, cb), (bl, bt, br, bb) = placement.crop, placement.box
    sx, sy = (br - bl) / (cr - cl), (bb - bt) / (cb - ct)  # per-axis scales after rounding the box
    left = max(0, bl - pad, bl - int(cl * sx))
    top = max(0, bt - pad, bt - int(ct * sy))
    right = min(canvas[0], br + pad, br + int((src_size[0] - cr) * sx))
    bottom = min(canvas[1], bb + pad, bb + int((src_size[1] - cb) * sy))
    source = (
        cl + (left - bl) / sx,
        ct + (top - bt) / sy,
        cl + (right - bl) / sx,
        ct + (bottom - bt) / sy,
    )
    return Region((left, top, right, bottom), source)


def resample_region(img: Image.Image, region: Region, pixels=None) -> Image.Image:
    """The source over the region: the geometric transform (LANCZOS resampling), nothing else.
    pixels: np.asarray(img), where the caller has it."""
    return resize(img, region.size, Image.Resampling.LANCZOS, region.source, pixels)


def resample_region_both(img: Image.Image, region: Region, pixels=None):
    """(np.asarray(resample_region(...)), resample_region(...)), without reading the array back
    out of the image."""
    return resize_both(img, region.size, Image.Resampling.LANCZOS, region.source, pixels)


def parse_colour(text: str) -> tuple[int, int, int]:
    value = text.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    if len(value) != 6:
        raise ValueError(f"not a #RRGGBB colour: {text!r}")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def solid(canvas: tuple[int, int], colour: tuple[int, int, int]) -> np.ndarray:
    if colour[0] == colour[1] == colour[2]:  # white, greys: a plain fill is a memset
        return np.full((canvas[1], canvas[0], 3), colour[0], np.uint8)
    out = np.empty((canvas[1], canvas[0], 3), np.uint8)
    out[...] = colour
    return out


def gradient(
    canvas: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> np.ndarray:
    """A vertical gradient, top colour to bottom colour."""
    t = np.linspace(0.0, 1.0, canvas[1], dtype=np.float32)[:, None]
    column = np.asarray(top, np.float32) * (1.0 - t) + np.asarray(bottom, np.float32) * t
    return np.repeat((column + 0.5).astype(np.uint8)[:, None, :], canvas[0], axis=1)


def cover(img: Image.Image, canvas: tuple[int, int]) -> np.ndarray:
    """An image scaled (same factor on both axes) to cover the canvas, centre-cropped."""
    scale = max(canvas[0] / img.width, canvas[1] / img.height)
    w, h = canvas[0] / scale, canvas[1] / scale
    left, top = (img.width - w) / 2, (img.height - h) / 2
    box = (left, top, left + w, top + h)
    return np.asarray(
        img.convert("RGB").resize(canvas, Image.Resampling.LANCZOS, box=box), np.uint8
    ).copy()


def contact_shadow(alpha: np.ndarray, strength: float = 0.22) -> np.ndarray:
    """A soft shadow under the product (h,w float 0..strength), on the region's grid.

    It stays inside the product's own columns and at most 2% of its height below its lowest
    pixel, so it never makes the product look larger than it is; it only shows where the
    product is not opaque.
    """
    ys, xs = np.nonzero(alpha > 0.5)
    if len(ys) == 0:
        return np.zeros_like(alpha)
    left, right, bottom = int(xs.min()), int(xs.max()) + 1, int(ys.max()) + 1
    height = bottom - int(ys.min())
    w, below = right - left, max(2, int(0.02 * height))
    ry = max(2, int(0.03 * height))
    layer = Image.new("L", (w, ry + below), 0)
    ImageDraw.Draw(layer).ellipse((0.1 * w, 0, 0.9 * w, 2 * ry), fill=255)
    layer = layer.filter(ImageFilter.GaussianBlur(float(max(1.0, 0.02 * w))))
    shadow = np.zeros_like(alpha)
    top = bottom - ry
    rows = min(ry + below, alpha.shape[0] - top)
    shadow[top : top + rows, left:right] = np.asarray(layer, np.float32)[:rows] / 255.0 * strength
    return shadow * (1.0 - alpha)


def _copy_where(out: np.ndarray, source: np.ndarray, where: np.ndarray) -> None:
    """out[where] = source[where] for (h,w,3) uint8 images: on (h, w*3) rows with the mask
    repeated per channel, several times faster than a mask broadcast over the channel axis."""
    kernels = loops()
    if kernels is not None and source.shape == out.shape and where.dtype == bool:
        kernels.copy_where(out, source, where)  # one compiled pass
        return
    h, w = where.shape
    if out.shape != (h, w, 3) or out.strides[1:] != (3, 1):  # pixels not packed along each row
        np.copyto(out, source, where=where[..., None])
        return
    rows = np.lib.stride_tricks.as_strided(out, (h, w * 3), (out.strides[0], 1))
    np.copyto(
        rows, np.ascontiguousarray(source).reshape(h, w * 3), where=np.repeat(where, 3, axis=1)
    )


def composite(
    background: np.ndarray,
    source: np.ndarray,
    alpha: np.ndarray,
    region: Region,
    edge=None,
    shadow=None,
) -> np.ndarray:
    """The product over `background` (H,W,3 uint8, in place) on the region.

    source: the resampled source on the region (h,w,3 uint8); alpha: (h,w) in [0, 1];
    edge: optional (ys, xs, colours) replacing the source colour at partly transparent pixels
    (decontamination). Where alpha is exactly 1 the result is the source pixel, bit for bit;
    where it is 0 (and no shadow) the background pixel is untouched. Only the pixels in between
    are blended, so a large product costs little.
    """
    l, t, r, b = region.canvas
    out = background[t:b, l:r]
    if shadow is not None:
        sy, sx = np.nonzero(shadow > 0)
        out[sy, sx] = np.clip(out[sy, sx] * (1.0 - shadow[sy, sx, None]) + 0.5, 0, 255).astype(
            np.uint8
        )
    kernels = loops()
    compiled = (
        kernels is not None
        and alpha.dtype == np.float32
        and alpha.flags.c_contiguous
        and source.shape == out.shape
        and background.flags.c_contiguous
    )
    if compiled:
        kernels.copy_opaque(out, readonly(source), alpha)  # no mask, no gather
    else:
        _copy_where(out, source, alpha >= 1.0)  # no gather: a masked copy
    if edge is None:
        ys, xs = np.nonzero((alpha > 0.0) & (alpha < 1.0))
        colours = source[ys, xs].astype(np.float32)
    else:
        ys, xs, colours = edge
    if compiled and colours.dtype == np.float32:
        kernels.blend_edge(background, t, l, alpha, ys, xs, np.ascontiguousarray(colours))
        return background
    a = pixels_at(alpha, ys, xs)[:, None]
    # the canvas's own rows are packed: index it there (the region is a strided view of it)
    cy, cx = ys + t, xs + l
    blended = colours * a + pixels_at(background, cy, cx).astype(np.float32) * (1.0 - a)
    put_at(background, cy, cx, np.clip(blended + 0.5, 0, 255).astype(np.uint8))
    return background
