"""Packs and the storage: outputs read from a bucket, and `pack --publish` (images uploaded to the
storage, manifest URLs from public_base_url, so marketplaces fetch them from public addresses).

Published files live at `<storage>/packs/<marketplace>/<file name>`; the manifest URL of each is
`<public_base_url>/<its object key>`, the address a bucket website or CDN serves it at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import VitrinaError
from ..storage import Storage, is_remote, open_storage
from .base import Card, PackError


def output_dirs(storage_root, cache_dir: Path) -> Callable[[Path, str, str], Path]:
    """select_items' out_dir_for: the output folder on disk, or a local copy of it from a bucket
    (outputs are content-addressed and never rewritten, so a copy made once stays right)."""
    from ..store import folder_path, local_copy, output_dir

    if not is_remote(storage_root):
        return lambda root, sku, fp: Path(output_dir(root, sku, fp))
    storage = open_storage(storage_root)
    return lambda root, sku, fp: local_copy(
        storage, folder_path(storage, sku, fp), cache_dir / "outputs"
    )


def published_dir(storage: Storage, market: str) -> str:
    return storage.path("packs", market)


def publish_base(storage: Storage, market: str, base_url: str = "") -> str:
    """The base URL manifests use for a published pack: public_base_url's address of the folder
    the images go to. --base-url, when given too, must be that same address."""
    public = storage.public_url(published_dir(storage, market))
    if not public:
        raise PackError(
            "--publish needs public_base_url (env VITRINA_PUBLIC_BASE_URL): the public https "
            "address of the storage root, so manifests can hold URLs marketplaces fetch"
        )
    if base_url and base_url.rstrip("/") != public:
        raise PackError(f"--base-url {base_url!r} is not where --publish puts the files ({public})")
    return public


def publish_cards(storage: Storage, market: str, cards: list[Card]) -> list[str]:
    """Upload every file of every card; returns their object keys."""
    folder = published_dir(storage, market)
    keys = []
    for card in cards:
        for f in card.files:
            path = f"{folder}/{f.name}"
            try:
                storage.write_bytes(path, f.data)
            except VitrinaError as exc:
                raise PackError(f"publishing {f.name} failed: {exc}") from None
            keys.append(storage.key(path))
    return keys
