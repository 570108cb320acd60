"""Where a Source cell's photo comes from, by kind: a file under a local asset folder, an object
under an `s3://` asset root, a Google Drive file (any of its link forms, or gdrive://ID) or an
https URL (where allowed).

Each kind answers three questions in one place: which source a cell names (`resolve`, at
planning, a RowError when it cannot be used), what stands for its content in the fingerprint
(`version`: the file's hash, the object's ETag, the URL itself) and how its bytes are read
(`load`, in the job). A new kind adds its branch to these three functions. Drive's version is its
md5Checksum, which planning reads from the Drive cache (plan.source_sha), not here.

Object sources are read metadata first: the size is checked against max_source_bytes and the
header against max_pixels before the body is fetched, so nothing over the caps is downloaded,
and a no-change sync asks only for metadata (the ETag), never for the bytes.
"""

from __future__ import annotations

import io
import posixpath
from pathlib import Path

from .drive.links import drive_file_id, drive_source, is_drive_source, source_id
from .errors import ImageError, RowError
from .paths import check_relative, check_url, is_url, resolve_source
from .storage import is_remote, open_storage

HEADER_BYTES = 256 * 1024  # enough for the size field of JPEG/PNG/WebP/TIFF headers (EXIF first)


def kind(source: str) -> str:
    """'drive', 'url', 's3' or 'path' for a resolved source string."""
    if is_drive_source(source):
        return "drive"
    if is_url(source):
        return "url"
    if is_remote(source):
        return "s3"
    return "path"


def resolve(text: str, asset_root, settings) -> tuple[str, str]:
    """(source, version) for a Source cell; version is '' when the content must be hashed."""
    drive_id = drive_file_id(text)  # before is_url: a Drive link is never fetched as a web page
    if drive_id:
        return drive_source(drive_id), ""
    if is_url(text):
        if not settings.get("allow_urls"):
            raise RowError("Source is a URL but URLs are off (setting allow_urls)")
        return check_url(text, settings.get("url_allowlist", "")), ""
    if is_remote(asset_root):
        return resolve_object(text, str(asset_root), settings)
    return str(resolve_source(text, Path(asset_root))), ""


def object_key(text: str) -> str:
    """The key below the asset root: the folder rules, and no '.' or empty parts (S3 does not
    normalise keys, so 'a//b' and './a' would name other objects than they seem to)."""
    rel = check_relative(text)
    if any(part in ("", ".", "..") for part in rel.split("/")):
        raise RowError(f"Source is not a clean key below the asset root: {rel!r}")
    return rel


# asset root -> {path: metadata} from one listing per planning pass (list_assets); a key the
# listing lacks is asked for by key, so a listing that lags behind never hides a photo.
_LISTED: dict[str, dict[str, dict]] = {}


def list_assets(asset_root, settings) -> int:
    """List a bucket asset root once (1,000 keys per request) for the planning pass that follows:
    a sync of N unchanged rows then costs N/1000 requests instead of N metadata requests."""
    if not is_remote(asset_root):
        return 0
    storage = open_storage(str(asset_root), settings)
    _LISTED[str(asset_root)] = storage.find(storage.root)
    return len(_LISTED[str(asset_root)])


def forget_assets(asset_root) -> None:
    _LISTED.pop(str(asset_root), None)


def resolve_object(text: str, asset_root: str, settings) -> tuple[str, str]:
    rel = object_key(text)
    storage = open_storage(asset_root, settings)
    path = storage.path(rel)
    meta = _LISTED.get(asset_root, {}).get(path) or object_meta(storage, path, rel)
    check_size(meta, rel, settings)
    etag = str(meta.get("ETag") or meta.get("etag") or "").strip('"')
    version = f"s3:{etag}:{meta.get('size')}" if etag else ""
    return storage.url(path), version


def object_meta(storage, path: str, rel: str) -> dict:
    try:
        meta = storage.info(path)
    except FileNotFoundError:
        raise RowError(f"source file not found: {rel}") from None
    if meta.get("type") == "directory":
        raise RowError(f"Source is not a file: {rel}")
    return meta


def caps(settings) -> tuple[int, int]:
    """(max_pixels, max_source_bytes): a job's settings are a plain dict that may lack them."""
    return (
        int(settings.get("max_pixels") or 50_000_000),
        int(settings.get("max_source_bytes") or 100_000_000),
    )


def check_size(meta: dict, name: str, settings) -> None:
    size = int(meta.get("size") or 0)
    max_bytes = caps(settings)[1]
    if size == 0:
        raise ImageError(f"source file is empty (0 bytes): {name}")
    if size > max_bytes:
        raise ImageError(f"source file too large: {size} bytes > {max_bytes}: {name}")


def load(source: str, settings):
    """(LoadedImage, local path or None, bytes or None) of a resolved source."""
    from .imaging.load import decode_image, load_image

    cap, max_bytes = caps(settings)
    which = kind(source)
    if which == "drive":
        from .drive.sources import fetch_source

        return fetch_source(source_id(source), settings, cap, max_bytes)
    if which == "url":
        from .fetch import fetch_url

        data = fetch_url(source, max_bytes)
        return decode_image(data, source.rsplit("/", 1)[-1], cap), None, data
    if which == "s3":
        name, data = read_object(source, settings)
        return decode_image(data, name, cap), Path(name), data
    return load_image(Path(source), cap, max_bytes), Path(source), None


def read_object(source: str, settings) -> tuple[str, bytes]:
    """(name, bytes) of an object source: metadata and header checked before the body is fetched."""
    storage = open_storage(posixpath.dirname(source), settings)
    path = storage.path(posixpath.basename(source))
    name = posixpath.basename(source)
    meta = object_meta(storage, path, name)
    check_size(meta, name, settings)
    size = int(meta["size"])
    if size > HEADER_BYTES:
        check_pixels(storage.read_range(path, 0, HEADER_BYTES), name, settings)
    return name, storage.read_bytes(path)


def check_pixels(head: bytes, name: str, settings) -> None:
    """Refuse an image whose header declares more pixels than max_pixels; a header we cannot read
    from the first bytes is left to the full decode (which checks the cap too)."""
    from PIL import Image

    cap = caps(settings)[0]
    try:
        with Image.open(io.BytesIO(head)) as img:
            width, height = img.size
    except Exception:  # noqa: BLE001 - a partial header: the decoder will judge the whole file
        return
    if width * height > cap:
        raise ImageError(
            f"image over the pixel cap (decompression bomb?): {name} ({width}x{height})"
        )
