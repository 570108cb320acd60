"""Locations: one string that is a local folder or `s3://BUCKET/PREFIX`, opened as one filesystem.

`open_location` is the only place that asks which: fsspec's `url_to_fs` gives a filesystem and
a path for either, s3fs speaks to any S3-compatible service (`s3_endpoint_url` for the non-AWS
ones) with credentials from the standard AWS chain. The rest of the code reads and writes
through a `Storage` and never looks at the scheme.

Object stores have no rename and no directories: a writer puts every file of an output first
and a marker (`result.json`) last, and a reader reads the marker by key, never by listing.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError, StorageError

REMOTE_PREFIXES = ("s3://",)


def is_remote(location: str | os.PathLike | None) -> bool:
    return str(location or "").lower().startswith(REMOTE_PREFIXES)


# The endpoint of this process's sessions (configure), for readers that get a location and no
# settings (the review pages' cached JSON reads, when vitrina.toml rather than the environment
# names the endpoint). Settings, then the environment, win over it.
_PROCESS: dict[str, str] = {}


def configure(settings: Any) -> None:
    """Remember the s3_endpoint_url of this process's settings (a sync session calls it)."""
    if (settings or {}).get("s3_endpoint_url"):
        _PROCESS["s3_endpoint_url"] = str(settings["s3_endpoint_url"])


def _setting(settings: Any, name: str) -> str:
    value = (settings or {}).get(name) if settings is not None else ""
    env = os.environ.get(f"VITRINA_{name.upper()}", "")
    return str(value or env or _PROCESS.get(name, "")).strip()


def endpoint_url(settings: Any = None) -> str:
    return _setting(settings, "s3_endpoint_url")


def storage_options(location: str, settings: Any = None) -> dict:
    """fsspec options for `location`: the endpoint for S3-compatible services, no listing cache
    (a marker is always read by key, and another machine may have written since)."""
    if not is_remote(location):
        return {}
    # max_concurrency 1: a read is one GET (s3fs otherwise asks for the size first, and on a
    # missing key a listing too: three round trips for every "is this output finished?")
    options: dict = {"use_listings_cache": False, "max_concurrency": 1}
    endpoint = endpoint_url(settings)
    if endpoint:
        options["client_kwargs"] = {"endpoint_url": endpoint}
    return options


@lru_cache(maxsize=32)
def _open(location: str, endpoint: str):
    from fsspec.core import url_to_fs

    options = storage_options(location, {"s3_endpoint_url": endpoint})
    return url_to_fs(location, **options)


def open_location(location: str | os.PathLike, settings: Any = None) -> tuple[Any, str]:
    """(fsspec filesystem, path on it) for a folder or an `s3://` URL."""
    text = str(location)
    if not is_remote(text):
        text = str(Path(text).expanduser().resolve())
    return _open(text, endpoint_url(settings))


@dataclass
class Storage:
    """A root location and the filesystem it lives on; paths below it are posix keys."""

    location: str
    fs: Any
    root: str
    remote: bool
    public_base_url: str = ""

    # -- naming -----------------------------------------------------------------------------------
    def path(self, *parts: str) -> str:
        """The filesystem path of `parts` below the root."""
        return posixpath.join(self.root, *parts) if parts else self.root

    def url(self, path: str) -> str:
        """A location string for `path` that `open_storage` and people both understand."""
        return f"s3://{path}" if self.remote else path

    def key(self, path: str) -> str:
        """The object key of `path`: bucket-relative on S3, storage-root-relative on disk."""
        if self.remote:
            return path.partition("/")[2]
        return posixpath.relpath(path, self.root)

    def public_url(self, path: str) -> str:
        """`<public_base_url>/<key>`, or '' when no public base URL is set."""
        if not self.public_base_url:
            return ""
        return f"{self.public_base_url.rstrip('/')}/{self.key(path)}"

    # -- reading ----------------------------------------------------------------------------------
    def read_bytes(self, path: str) -> bytes:
        """The object's bytes, by key; FileNotFoundError when absent, StorageError when unreachable."""
        with translated(path):
            return self.fs.cat_file(path)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        with translated(path):
            return self.fs.cat_file(path, start=start, end=end)

    def info(self, path: str) -> dict:
        """Metadata by key: size, and the ETag on S3 (no listing consulted)."""
        with translated(path):
            return self.fs.info(path)

    def exists(self, path: str) -> bool:
        try:
            self.info(path)
        except FileNotFoundError:
            return False
        return True

    def find(self, path: str) -> dict[str, dict]:
        """Every file below `path` with its metadata (one paginated listing on S3)."""
        with translated(path):
            return self.fs.find(path, detail=True)

    def ls_dirs(self, path: str) -> list[str]:
        with translated(path):
            try:
                entries = self.fs.ls(path, detail=True)
            except FileNotFoundError:
                return []
        return [e["name"] for e in entries if e.get("type") == "directory"]

    # -- writing ----------------------------------------------------------------------------------
    def write_bytes(self, path: str, data: bytes) -> None:
        """One object, written whole: a reader sees the old object or the new one, never half."""
        with translated(path), missing_bucket(path):
            if not self.remote:
                self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
                tmp = f"{path}.{os.getpid()}.tmp"
                self.fs.pipe_file(tmp, data)
                os.replace(tmp, path)
                return
            self.fs.pipe_file(path, data)

    def write_many(self, blobs: dict[str, bytes]) -> None:
        """Several whole objects; on S3 put concurrently (one round trip of latency, not N)."""
        if not self.remote:
            for path, data in blobs.items():
                self.write_bytes(path, data)
            return
        with translated(self.root), missing_bucket(self.root):
            self.fs.pipe(blobs)

    def check(self) -> None:
        """Refuse to start on a missing bucket or wrong credentials: one clear error, not one per row."""
        if not self.remote:
            return
        bucket = self.root.partition("/")[0]
        try:
            self.fs.ls(bucket, refresh=True)
        except FileNotFoundError:
            raise ConfigError(
                f"storage {self.location}: bucket {bucket!r} does not exist "
                f"(endpoint {endpoint_label(self)})"
            ) from None
        except PermissionError as exc:
            raise ConfigError(
                f"storage {self.location}: access denied ({exc}); check the AWS credentials "
                "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE) and the bucket policy"
            ) from None
        except Exception as exc:  # noqa: BLE001 - botocore has many kinds; each one means "cannot start"
            raise ConfigError(
                f"storage {self.location} is not usable at {endpoint_label(self)}: "
                f"{type(exc).__name__}: {exc}"
            ) from None


class missing_bucket:
    """A write that finds no bucket: the storage is wrong, not the row (StorageError, retried)."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, FileNotFoundError):
            raise StorageError(f"cannot write {self.path}: no such bucket or folder") from exc
        return False


def endpoint_label(storage: Storage) -> str:
    kwargs = getattr(storage.fs, "client_kwargs", {}) or {}
    return kwargs.get("endpoint_url") or "AWS"


class translated:
    """Network and credential failures below a Storage call become StorageError (transient);
    a missing object stays FileNotFoundError (the caller decides what absence means)."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, (FileNotFoundError, StorageError)):
            return False
        if isinstance(exc, (OSError, TimeoutError)) or _is_client_error(exc):
            raise StorageError(f"storage unreachable for {self.path}: {exc}") from exc
        return False


def _is_client_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("botocore", "aiobotocore", "aiohttp"))


def open_storage(location: str | os.PathLike, settings: Any = None) -> Storage:
    """The Storage for a folder or `s3://BUCKET/PREFIX` (settings: s3_endpoint_url, public_base_url)."""
    text = str(location)
    fs, root = open_location(text, settings)
    public = _setting(settings, "public_base_url")
    return Storage(text, fs, root.rstrip("/") or root, is_remote(text), public)


def storage_location(settings: Any, out_root: Path) -> str:
    """Where outputs go: the `storage` setting, else the local output folder (today's layout)."""
    return str((settings or {}).get("storage") or out_root)


# Settings a worker needs to reach the storage (the credentials stay in each machine's AWS chain).
STORAGE_SETTINGS = ("s3_endpoint_url", "public_base_url")


def root_location(value: str | os.PathLike) -> Path | str:
    """A root as the rest of the code keeps it: a resolved Path for a folder, the URL for a bucket."""
    text = str(value)
    return text.rstrip("/") if is_remote(text) else Path(text).expanduser().resolve()


def check_locations(*locations, settings: Any = None) -> None:
    """Each remote location reachable, its bucket there and the credentials accepted (ConfigError)."""
    for location in locations:
        if location and is_remote(location):
            open_storage(location, settings).check()
