"""The contract between a job and a mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image


@dataclass
class LoadedImage:
    """A source decoded safely to sRGB (imaging.load.load_image)."""

    image: Image.Image  # "RGB" or "RGBA", sRGB, orientation applied
    format: str  # the file's format as Pillow names it ("JPEG", "PNG", ...)
    notes: list[str] = field(default_factory=list)  # e.g. "animated: first frame used"


@dataclass
class ModeContext:
    sku: str
    fingerprint: str
    preset: dict[str, Any]  # resolved preset parameters (presets.resolve)
    settings: Any
    category: str = ""
    # a reviewer's touch-up: [{"kind": "remove"|"keep", "width": px, "points": [[x, y], ...]}]
    # in source pixels (imaging.strokes); modes with takes_strokes apply them as hard constraints
    # (white/card: imaging.steps.after_model, pinned again on the refined alpha)
    strokes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ModeOutput:
    image: Image.Image  # main output, RGB
    mask: Image.Image  # product alpha on the output canvas, "L"
    qa: dict[str, Any]  # figures (imaging.qa); "flags": list of failing figures
    ai_version: str  # tool + model + weights hash + mode version
    variants: list[Image.Image] = field(default_factory=list)  # extra outputs (generative modes)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. seeds
    # `mask` as the (h,w) uint8 array it was made from, where the mode has it: store.mask_png
    # reads it instead of converting the image back (~1.3 ms of a 2000x2000 canvas)
    mask_pixels: Any = field(default=None, repr=False, compare=False)


class Mode(Protocol):
    name: str
    queue: str  # "cpu" or "gpu"
    version: str

    def process(self, source: LoadedImage, ctx: ModeContext) -> ModeOutput: ...

    def warm(self, settings) -> None:
        """Load models once per worker process (called at worker start)."""
