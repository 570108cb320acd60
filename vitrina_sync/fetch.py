"""Fetch an https Source (only where allowed): the host re-checked, no redirects, size and time caps."""

from __future__ import annotations

import requests

from .errors import ImageError
from .paths import check_url


def fetch_url(url: str, max_bytes: int, timeout: tuple[float, float] = (5, 30)) -> bytes:
    check_url(url)  # again at fetch time: DNS may answer differently than at planning
    try:
        with requests.get(url, stream=True, timeout=timeout, allow_redirects=False) as resp:
            if resp.is_redirect:
                raise ImageError(f"Source URL redirects ({resp.status_code}); give the final URL")
            if resp.status_code != 200:
                raise ImageError(f"Source URL answered HTTP {resp.status_code}")
            data = bytearray()
            for chunk in resp.iter_content(1 << 16):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise ImageError(f"Source URL is larger than {max_bytes} bytes")
            return bytes(data)
    except requests.RequestException as exc:
        raise ImageError(f"Source URL could not be fetched: {type(exc).__name__}") from None
