"""card mode ("exact product card"): white mode's geometry on a preset background.

The preset's `background` is a colour (`#F2EFEA`), a vertical gradient (`gradient:#FFFFFF:#DDE3EA`)
or an image file (`image:backgrounds/linen.jpg`, relative to the asset root). The product's
pixels are locked exactly as in white mode; only the background differs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ImageError, RowError
from ..hookspecs import hookimpl
from ..imaging import compose
from ..imaging.load import load_image
from .white import WhiteMode


def _colour(text: str, spec: str) -> tuple[int, int, int]:
    try:
        return compose.parse_colour(text)
    except ValueError:
        raise RowError(f"card background {spec!r}: {text!r} is not a #RRGGBB colour") from None


def _image_path(name: str, settings) -> Path:
    path = Path(name).expanduser()
    root = str((settings or {}).get("assets", "") or "")
    return path if path.is_absolute() or not root else Path(root) / path


@lru_cache(maxsize=8)
def _cover(path: str, mtime: float, canvas: tuple[int, int], max_pixels: int) -> np.ndarray:
    loaded = load_image(Path(path), max_pixels=max_pixels)
    out = compose.cover(loaded.image, canvas)
    out.flags.writeable = False  # shared between jobs: every job composites onto a copy
    return out


def render_background(spec: str, canvas: tuple[int, int], settings) -> np.ndarray:
    """The background named by a preset (a fresh array the caller may draw on)."""
    text = (spec or "#FFFFFF").strip()
    if text.lower().startswith("gradient:"):
        parts = text.split(":")[1:]
        if len(parts) != 2:
            raise RowError(f"card background {spec!r}: write gradient:#TOP:#BOTTOM")
        return compose.gradient(canvas, _colour(parts[0], spec), _colour(parts[1], spec))
    if text.lower().startswith("image:"):
        path = _image_path(text[len("image:") :].strip(), settings)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            raise ImageError(f"card background image not found: {path}") from None
        max_pixels = int((settings or {}).get("max_pixels", 50_000_000))
        return _cover(str(path), mtime, canvas, max_pixels).copy()
    return compose.solid(canvas, _colour(text, spec))


class CardMode(WhiteMode):
    name = "card"
    version = (
        "card-13"  # 13: white-14's cutout; 12: white-13's; 11: white-12's; 10: white-11's; 9: white-10's; 8: white-9's; 7: white-8's;
        # 6: white-7's; 5: white-6's; 4: white-5's; 3: white-4's; 2: white-3's
    )
    measures_purity = False  # the background is meant to be coloured

    def background(self, preset, canvas, settings) -> np.ndarray:
        return render_background(str(preset.get("background", "#FFFFFF")), canvas, settings)

    def region_background(self, canvas_rgb: np.ndarray, region: compose.Region) -> np.ndarray:
        l, t, r, b = region.canvas
        return canvas_rgb[t:b, l:r].copy()  # any colours: a copy before compositing


@hookimpl
def vitrina_register_modes():
    return [CardMode()]
