"""white mode: the product cut out, centred on pure #FFFFFF."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .. import PIPELINE_VERSION
from ..errors import ImageError
from ..hookspecs import hookimpl
from ..imaging import compose, cutout
from .base import LoadedImage, ModeContext, ModeOutput


class WhiteMode:
    name = "white"
    queue = "cpu"
    version = "white-1"

    def warm(self, settings) -> None:
        cutout.session(settings.get("default_model", "u2netp"), settings)

    def background(self, preset, size) -> np.ndarray:
        return np.full((size[1], size[0], 3), 255.0, dtype=np.float32)

    def process(self, source: LoadedImage, ctx: ModeContext) -> ModeOutput:
        preset = ctx.preset
        model = preset.get("model") or ctx.settings.get("default_model", "u2netp")
        rgb = source.image.convert("RGB")
        alpha = cutout.predict_alpha(rgb, model, ctx.settings)
        if source.image.mode == "RGBA":  # a source that is already cut out keeps its own alpha
            alpha = np.minimum(alpha, np.asarray(source.image.getchannel("A"), np.float32) / 255.0)
        crop = compose.bbox(alpha)
        if crop is None:
            raise ImageError("no product found in the photo (the mask is empty)")
        canvas = tuple(preset.get("canvas", (2000, 2000)))
        placement = compose.plan_placement(crop, canvas, float(preset.get("fill", 0.85)))
        fg = np.asarray(compose.resample(rgb, placement), np.float32)
        a_img = Image.fromarray((alpha * 255 + 0.5).astype(np.uint8), "L")
        a = np.asarray(compose.resample(a_img, placement), np.float32) / 255.0
        out = compose.over(self.background(preset, canvas), fg, a, placement.box)
        mask = np.zeros((canvas[1], canvas[0]), np.uint8)
        l, t, r, b = placement.box
        mask[t:b, l:r] = (a * 255 + 0.5).astype(np.uint8)
        image = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")
        fill = max(r - l, b - t) / max(canvas)
        qa = {"fill": round(fill, 4), "flags": []}
        version = f"vitrina-sync {PIPELINE_VERSION} | rembg {model} | {self.version}"
        return ModeOutput(image, Image.fromarray(mask, "L"), qa, version)


@hookimpl
def vitrina_register_modes():
    return [WhiteMode()]
