"""Images for the review pages: only files inside the output and asset roots, thumbnails and
mask overlays made once and cached on disk under <out>/.vitrina/thumbs.

A URL names a root ("out" or "assets") and a relative path. The path is refused when it is
absolute, has a backslash, NUL or any part starting with '.' ('..', the .vitrina work folder
holding the users file and the Redis socket, hidden files), when it resolves (symlinks
followed) outside its root, or when it is not an image file.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from ..errors import VitrinaError

IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".tif",
    ".tiff",
    ".bmp",
    ".heic",
    ".heif",
}
BROWSER_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
THUMB_SIDE = 160
VIEW_SIDE = 4096  # non-browser formats (TIFF, HEIC...) are shown as a JPEG of at most this side


def resolve_inside(root: Path, rel: str) -> Path | None:
    """The file `rel` names under `root`, or None when it is not a plain image file inside it."""
    if not rel or "\\" in rel or "\0" in rel or rel.startswith("/") or ":" in rel.split("/")[0]:
        return None
    parts = rel.split("/")
    if any(not p or p.startswith(".") for p in parts):
        return None
    try:
        real_root = root.resolve(strict=True)
        path = (real_root / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if (
        not path.is_relative_to(real_root)
        or not path.is_file()
        or path.suffix.lower() not in IMAGE_SUFFIXES
    ):
        return None
    return path


def safe_rel(rel: str) -> bool:
    """The same refusals as resolve_inside, for a key below a bucket root (nothing to resolve)."""
    if not rel or "\\" in rel or "\0" in rel or rel.startswith("/") or ":" in rel.split("/")[0]:
        return False
    parts = rel.split("/")
    return all(p and not p.startswith(".") for p in parts) and (
        Path(parts[-1]).suffix.lower() in IMAGE_SUFFIXES
    )


def fetch_object(location: str, rel: str, cache_dir: Path) -> Path | None:
    """A local copy of the object `rel` below the bucket root `location`, or None when the key is
    refused or absent. Streamed through this server (the page's CSP allows images from 'self'
    only, and no credential or presigned URL reaches the browser); copies are keyed by the
    object's ETag, so a replaced source is fetched again and an output (never rewritten) once."""
    from ..storage import open_storage

    if not safe_rel(rel):
        return None
    storage = open_storage(location)
    path = storage.path(rel)
    try:
        meta = storage.info(path)
        tag = f"{path}|{meta.get('ETag') or meta.get('etag')}|{meta.get('size')}"
        # the object's own name kept (the overlay route accepts only a mask.png)
        digest = hashlib.sha256(tag.encode()).hexdigest()[:32]
        target = cache_dir / "objects" / digest / rel.rsplit("/", 1)[-1]
        if not target.exists():
            data = storage.read_bytes(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
    except (OSError, VitrinaError):
        return None
    return target


def cache_path(cache_dir: Path, path: Path, kind: str) -> Path:
    """Keyed by path, size and mtime: a replaced file gets a new entry, an unchanged one is reused."""
    st = path.stat()
    key = hashlib.sha256(f"{path}|{st.st_size}|{st.st_mtime_ns}|{kind}".encode()).hexdigest()[:32]
    return cache_dir / key[:2] / f"{key}.{'png' if kind.startswith('overlay') else 'jpg'}"


def cached(cache_dir: Path, path: Path, kind: str, make) -> Path:
    target = cache_path(cache_dir, path, kind)
    if target.exists():
        return target
    data = make(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # atomic: two requests for one thumbnail both end with a whole file
    return target


def _open(path: Path, side: int) -> Image.Image:
    image = Image.open(path)
    if image.format == "JPEG":
        image.draft("RGB", (side, side))  # decode at 1/2..1/8 scale: most of a thumbnail's cost
    image = ImageOps.exif_transpose(image)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def make_thumb(path: Path) -> bytes:
    return _jpeg(_open(path, THUMB_SIDE), 78)


def make_view(path: Path) -> bytes:
    return _jpeg(_open(path, VIEW_SIDE), 92)


def _mask(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L")) > 127


def _rgba(layer: np.ndarray, colour: tuple[int, int, int, int]) -> bytes:
    out = np.zeros((*layer.shape, 4), np.uint8)
    out[layer] = colour
    buf = io.BytesIO()
    Image.fromarray(out, "RGBA").save(buf, "PNG", optimize=True)
    return buf.getvalue()


def make_edge(path: Path) -> bytes:
    """The mask's outline, 2 px, in red: where the cut-out ends."""
    hard = _mask(path)
    edge = hard & ~ndimage.binary_erosion(hard, iterations=1)
    return _rgba(ndimage.binary_dilation(edge, iterations=1), (255, 0, 64, 255))


def make_halo(path: Path) -> bytes:
    """The band the halo figure is measured in (imaging.qa.edge_ring, same width rule)."""
    from ..imaging.qa import edge_ring

    hard = _mask(path).astype(np.float32)
    width = max(2, round(0.004 * max(hard.shape)))
    return _rgba(edge_ring(hard, width), (255, 190, 0, 140))


MAKERS = {
    "thumb": make_thumb,
    "view": make_view,
    "overlay-edge": make_edge,
    "overlay-halo": make_halo,
}


def served_file(cache_dir: Path, path: Path, kind: str) -> Path:
    """The file to send for `path` shown as `kind` (full: the file itself when browsers read it)."""
    if kind == "full":
        return (
            path
            if path.suffix.lower() in BROWSER_SUFFIXES
            else cached(cache_dir, path, "view", make_view)
        )
    return cached(cache_dir, path, kind, MAKERS[kind])
