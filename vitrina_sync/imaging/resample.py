"""Pillow's resize, the same bytes, faster: BOX and LANCZOS on RGB images through numba.

Pillow's 8-bit resampling is two passes of fixed-point filter taps, each rounded to 8 bits; its
inner loops are scalar, one pixel's three channels at a time. The compiled kernels
(imaging.kernels.resampling) compute the same taps (Pillow's precompute_coeffs, in the same float64
arithmetic) and the same integer sums, in Pillow's pass order, but vectorised: the vertical
pass over whole rows, the horizontal pass over 32 rows laid out column by column. Integer sums
do not depend on their order, so the bytes are Pillow's (tests/test_cutout_quality.py checks
them against Pillow on random sizes and boxes).
"""

from __future__ import annotations

import numpy as np
import PIL
from PIL import Image

from .compiled import loops

# Pillow 13 filters columns first when the height shrinks more than twice as much as the width
# (12.x and older: rows always first); the order matters to the bits, as each pass rounds
PILLOW_13 = int(PIL.__version__.split(".")[0]) >= 13
# the filters kernels.resampling.filter_taps has
COMPILED = (Image.Resampling.BOX, Image.Resampling.LANCZOS)


def resize(img: Image.Image, size: tuple[int, int], method, box=None, pixels=None) -> Image.Image:
    """`img.resize(size, method, box=box)`, the same bytes: RGB with BOX or LANCZOS through the
    compiled kernels, everything else (and without numba) through Pillow itself.

    On the product region (LANCZOS, ~1000x1800 px) 2-2.5x faster than Pillow. pixels: the
    image as a numpy array already, where the caller has it (a copy of the photo saved)."""
    out = resized_pixels(img, size, method, box, pixels)
    return img.resize(size, method, box=box) if out is None else rgb_image(out)


def resize_both(img: Image.Image, size, method, box=None, pixels=None):
    """(np.asarray(resize(...)), resize(...)): the array without reading it back out of the
    Pillow image (a copy of the whole result saved)."""
    out = resized_pixels(img, size, method, box, pixels)
    if out is None:
        done = img.resize(size, method, box=box)
        return np.asarray(done), done
    return out, rgb_image(out)


def resized_array(img: Image.Image, size, method, box=None, pixels=None) -> np.ndarray:
    """np.asarray(img.resize(size, method, box=box)), the same bytes: through the compiled
    kernels where resized_pixels serves (read-only then), else through Pillow."""
    out = resized_pixels(img, size, method, box, pixels)
    return np.asarray(img.resize(size, method, box=box)) if out is None else out


def resize_grey(img: Image.Image, size: tuple[int, int], method) -> Image.Image:
    """`img.resize(size, method)` for an "L" image (the model's mask back to the work size),
    the same bytes: BOX or LANCZOS through the compiled vertical pass, the horizontal pass as
    the vertical one on the transposed image (a grey image is one byte a pixel: transposing
    it is cheap, and Pillow's scalar row loop is not). ~1.9 ms -> ~0.5 for 320x320 -> 480x640.
    Anything else (and without numba) through Pillow itself."""
    kernels = loops()
    width, height = size
    if (
        kernels is None
        or img.mode != "L"
        or method not in COMPILED
        or width < 1
        or height < 1
        or (width, height) == img.size
    ):
        return img.resize(size, method)
    kind = kernels.BOX if method == Image.Resampling.BOX else kernels.LANCZOS
    pixels = np.asarray(img)
    need_x, need_y = width != img.width, height != img.height
    shrink_y, shrink_x = img.height - height, img.width - width
    columns_first = PILLOW_13 and shrink_y > 0 and shrink_y > shrink_x * 2  # as resized_pixels
    y_taps = kernels.filter_taps(kind, img.height, 0.0, float(img.height), height)
    x_taps = kernels.filter_taps(kind, img.width, 0.0, float(img.width), width)

    def vertical(grey: np.ndarray, taps, rows: int) -> np.ndarray:
        out = np.empty((rows, grey.shape[1], 1), np.uint8)
        kernels.resample_columns(grey[:, :, None], *taps, out)
        return out[:, :, 0]

    if need_y and columns_first:
        pixels, need_y = vertical(pixels, y_taps, height), False
    if need_x:
        pixels = np.ascontiguousarray(vertical(np.ascontiguousarray(pixels.T), x_taps, width).T)
    if need_y:
        pixels = vertical(pixels, y_taps, height)
    return Image.fromarray(pixels, "L")


def rgb_image(pixels: np.ndarray) -> Image.Image:
    """Image.fromarray(pixels, "RGB") for (h,w,3) uint8, the same image, without the blank
    image Pillow fills first and then overwrites (~1 ms of a 2000 px canvas's ~4.5)."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        return Image.fromarray(pixels, "RGB")
    if not pixels.flags.c_contiguous:
        return Image.fromarray(pixels, "RGB")
    image = Image.new("RGB", (pixels.shape[1], pixels.shape[0]), None)  # not initialised
    image.frombytes(pixels)  # Pillow's raw RGB unpacking, as fromarray's
    return image


def resized_pixels(img: Image.Image, size, method, box=None, pixels=None) -> np.ndarray | None:
    """resize's compiled path as a read-only (h,w,3) uint8 array, as np.asarray of the image
    would give it; None where Pillow does the work (not RGB, another filter, no numba, or
    nothing to resample)."""
    kernels = loops()
    width, height = size
    if box is None:
        box = (0, 0, img.width, img.height)
    if kernels is None or img.mode != "RGB" or method not in COMPILED or width < 1 or height < 1:
        return None
    kind = kernels.BOX if method == Image.Resampling.BOX else kernels.LANCZOS
    b = np.asarray(box, np.float32)  # Pillow reads the box as C floats
    if (width, height) == img.size and (b == (0, 0, width, height)).all():
        return None  # Image.resize copies the image
    need_x = width != img.width or b[0] != 0 or b[2] != width  # as ImagingResampleInner
    need_y = height != img.height or b[1] != 0 or b[3] != height
    shrink_y, shrink_x = img.height - height, img.width - width
    columns_first = PILLOW_13 and shrink_y > 0 and shrink_y > shrink_x * 2
    y_first, y_count, y_taps = kernels.filter_taps(
        kind, img.height, float(b[1]), float(b[3] - b[1]), height
    )
    pixels = np.asarray(img) if pixels is None else pixels
    if need_y and columns_first:
        out = np.empty((height, img.width, 3), np.uint8)
        kernels.resample_columns(pixels, y_first, y_count, y_taps, out)
        pixels, need_y = out, False
    if need_x:
        x_first, x_count, x_taps = kernels.filter_taps(
            kind, img.width, float(b[0]), float(b[2] - b[0]), width
        )
        # only the rows the vertical pass will read
        top, bottom = (y_first[0], y_first[-1] + y_count[-1]) if need_y else (0, pixels.shape[0])
        rows = np.empty((bottom - top, width, 3), np.uint8)
        kernels.resample_rows(pixels, top, x_first, x_count, x_taps, rows)
        pixels, y_first = rows, y_first - top
    if need_y:
        out = np.empty((height, pixels.shape[1], 3), np.uint8)
        kernels.resample_columns(pixels, y_first, y_count, y_taps, out)
        pixels = out
    pixels.flags.writeable = False  # as from Pillow: the kernels are compiled for that layout
    return pixels
