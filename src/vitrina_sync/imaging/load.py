"""Safe image loading: one module used by every mode.

Allowlisted formats only, a pixel cap checked from the header before decoding, truncated and
empty files rejected, EXIF orientation applied, everything converted to sRGB RGB/RGBA.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ImageError
from ..modes.base import LoadedImage

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", "MPO")


def load_image(path: Path, max_pixels: int = 50_000_000, max_bytes: int = 100_000_000) -> LoadedImage:
    """Decode `path` to an sRGB RGB/RGBA image or raise ImageError with a reason a person understands."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageError(f"source file not found: {path.name}") from None
    except OSError as exc:
        raise ImageError(f"source file unreadable: {path.name} ({exc.strerror})") from None
    if size == 0:
        raise ImageError(f"source file is empty (0 bytes): {path.name}")
    if size > max_bytes:
        raise ImageError(f"source file too large: {size} bytes > {max_bytes}")
    data = path.read_bytes()
    return decode_image(data, path.name, max_pixels)


def decode_image(data: bytes, name: str, max_pixels: int) -> LoadedImage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except UnidentifiedImageError:
        raise ImageError(f"not an image (or a format we do not read): {name}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image over the pixel cap: {name}") from None
    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(f"image over the pixel cap: {width}x{height} = {width * height} px > {max_pixels}")
    notes = []
    if getattr(img, "n_frames", 1) > 1:
        notes.append(f"animated ({img.n_frames} frames): first frame used")
    fmt = img.format or "?"
    try:
        img.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"truncated or corrupt image: {name} ({exc})") from None
    img = ImageOps.exif_transpose(img)
    return LoadedImage(to_srgb(img), fmt, notes)


def to_srgb(img: Image.Image) -> Image.Image:
    """RGB, or RGBA where the source has transparency."""
    if img.mode in ("RGB", "RGBA"):
        return img
    if img.mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "PA"):
        return img.convert("RGBA")
    if img.mode.startswith("I;16") or img.mode == "I":
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        return Image.fromarray((arr / top * 255.0 + 0.5).clip(0, 255).astype("uint8"), "L").convert("RGB")
    return img.convert("RGB")
