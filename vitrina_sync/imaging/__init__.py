"""Image loading, cutouts, compositing and QA figures."""

from __future__ import annotations

from types import ModuleType

from PIL import Image


def ndimage() -> ModuleType:
    """scipy.ndimage, imported at first use, not when the modes register: every process that
    builds the plugin manager registers them, including the CLI's parent, which only plans and
    queues rows and would pay ~0.18 s for it. A plain import inside the function (not a lazy
    module object) keeps it thread-safe: Python's import lock serialises concurrent first calls."""
    from scipy import ndimage as module

    return module


def as_rgb(img: Image.Image) -> Image.Image:
    """`img` in RGB: itself when it already is (Pillow's convert() to the same mode copies it)."""
    return img if img.mode == "RGB" else img.convert("RGB")
