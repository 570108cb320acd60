"""Safe image loading: one module used by every mode.

Allowlisted formats only, a pixel cap checked from the header before decoding, truncated and
empty files rejected, EXIF orientation applied, everything converted to sRGB RGB/RGBA (through
the embedded ICC profile where there is one). Every failure is an ImageError whose message is
written into the row, so a person can fix the file.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from ..errors import ImageError
from ..modes.base import LoadedImage

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", "MPO", "AVIF")
HEIF_FORMATS = ("HEIF",)

# Magic bytes of formats we recognise but refuse (or need an extra for), so the row says what
# the file is instead of a vague "not an image".
_SIGNATURES = (
    (b"8BPS", "PSD (Photoshop)"),
    (b"%PDF", "PDF"),
    (b"%!PS", "EPS/PostScript"),
    (b"\xc5\xd0\xd3\xc6", "EPS/PostScript"),
    (b"SIMPLE  =", "FITS"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis", b"avif")

_SRGB = ImageCms.createProfile("sRGB")


def load_image(
    path: Path, max_pixels: int = 50_000_000, max_bytes: int = 100_000_000
) -> LoadedImage:
    """Decode `path` to an sRGB RGB/RGBA image or raise ImageError with a reason a person understands."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageError(f"source file not found: {path.name}") from None
    except OSError as exc:
        raise ImageError(f"source file unreadable: {path.name} ({exc.strerror})") from None
    if path.is_dir():
        raise ImageError(f"source is a folder, not an image: {path.name}")
    if size == 0:
        raise ImageError(f"source file is empty (0 bytes): {path.name}")
    if size > max_bytes:
        raise ImageError(f"source file too large: {size} bytes > {max_bytes}: {path.name}")
    return decode_image(path.read_bytes(), path.name, max_pixels)


def sniff(data: bytes) -> str | None:
    """The name of a format we refuse or need an extra for, from its first bytes; None otherwise."""
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "AVIF" if data[8:12] == b"avif" else "HEIC"
    head = data[:16].lstrip()
    if head.startswith((b"<?xml", b"<svg")):
        return "SVG"
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    return None


def _registered(formats) -> list[str]:
    """Those of `formats` this Pillow can open (Pillow 13 reads MPO through JPEG, AVIF natively)."""
    Image.init()  # loads every plugin: Image.open(formats=...) raises KeyError for unloaded ones
    return [f for f in formats if f in Image.OPEN]


def _allowed_formats(kind: str | None) -> list[str]:
    native = _registered(ALLOWED_FORMATS)
    if kind not in ("HEIC", "AVIF") or kind in native:
        return native
    try:
        import pillow_heif  # optional: the `heic` extra
    except ImportError:
        raise ImageError(
            f"{kind} photo: reading it needs the heic extra "
            "(pip install 'vitrina-sync[heic]', which installs pillow-heif), or export it as JPEG"
        ) from None
    pillow_heif.register_heif_opener()
    if kind == "AVIF" and hasattr(pillow_heif, "register_avif_opener"):
        pillow_heif.register_avif_opener()
    return _registered(ALLOWED_FORMATS + HEIF_FORMATS)


def _open(data: bytes, name: str) -> Image.Image:
    kind = sniff(data)
    formats = _allowed_formats(kind)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=formats)  # reads the header only
    except UnidentifiedImageError:
        if kind:
            raise ImageError(
                f"unsupported image format {kind}: {name} (use JPEG, PNG or WEBP)"
            ) from None
        raise ImageError(f"not an image (or a format we do not read): {name}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image over the pixel cap (decompression bomb?): {name}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"corrupt image header: {name} ({exc})") from None


def decode_image(data: bytes, name: str, max_pixels: int) -> LoadedImage:
    img = _open(data, name)
    width, height = img.size
    if width * height > max_pixels:  # from the header, before a single pixel is decoded
        raise ImageError(
            f"image over the pixel cap: {width}x{height} = {width * height} px > {max_pixels}: {name}"
        )
    notes = []
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        notes.append(f"animated ({frames} frames): first frame used")
        img.seek(0)
    fmt = img.format or "?"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
            # in place: without an orientation tag exif_transpose would copy the whole photo
            ImageOps.exif_transpose(img, in_place=True)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"truncated or corrupt image: {name} ({exc})") from None
    return LoadedImage(to_srgb(img, notes), fmt, notes)


def to_srgb(img: Image.Image, notes: list[str] | None = None) -> Image.Image:
    """RGB, or RGBA where the source has transparency; colours through the ICC profile if any."""
    notes = notes if notes is not None else []
    icc = img.info.get("icc_profile")
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        img = _high_bit_grey(img)
    elif img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("LA", "PA", "La", "RGBa"):
        img = img.convert("RGBA")
    elif img.mode == "1":
        img = img.convert("L")
    if icc and img.mode in ("RGB", "RGBA", "CMYK", "L"):
        img = _apply_icc(img, icc, notes)
    if img.mode == "CMYK":
        notes.append("CMYK without an ICC profile: naive conversion")
    if img.mode == "RGBA" and img.getextrema()[3][0] == 255:
        return img.convert("RGB")  # an alpha channel that is fully opaque says nothing
    if img.mode not in ("RGB", "RGBA"):
        return img.convert("RGB")
    return img


def _high_bit_grey(img: Image.Image) -> Image.Image:
    """16-bit (or 32-bit) greyscale to 8 bits keeping its tones: a plain convert clips to white."""
    arr = np.asarray(img, dtype=np.float64)
    if img.mode.startswith("I;16"):
        top = 65535.0
    elif img.mode == "F":
        top = 1.0 if arr.max() <= 1.0 else float(arr.max())
    else:  # "I": 16-bit PNG/TIFF data decoded into 32-bit ints
        top = 65535.0 if arr.max() > 255 else 255.0
    return Image.fromarray((arr / top * 255.0 + 0.5).clip(0, 255).astype(np.uint8), "L")


def _apply_icc(img: Image.Image, icc: bytes, notes: list[str]) -> Image.Image:
    alpha = img.getchannel("A") if img.mode == "RGBA" else None
    src = img.convert("RGB") if img.mode == "RGBA" else img
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out = ImageCms.profileToProfile(
            src, profile, _SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        notes.append(f"ICC profile unusable ({exc}); colours taken as sRGB")
        return img
    if alpha is not None:
        out.putalpha(alpha)
    return out
