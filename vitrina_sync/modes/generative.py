"""scene and apparel modes: a diffusion model paints around the product, never over it.

The product is cut out and placed as in white mode; the inpainting pipeline repaints everything
except the product's core (a `blend_band` px rim of the product is repainted too, so the contact
area blends); then the ORIGINAL placed product pixels are composited back ("pixel lock"): on the
core the output is the source byte for byte, on the rim it is blended by the predicted alpha.
Runs on the `gpu` queue; torch/diffusers are imported only when a job or warm() needs them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .. import PIPELINE_VERSION
from ..errors import ImageError, RowError
from ..hookspecs import hookimpl
from ..imaging import compose, cutout, diffusion, qa
from .base import LoadedImage, ModeContext, ModeOutput

MAX_VARIANTS = 3
GREY = 127.0  # what the pipeline sees outside the product before painting
OPAQUE = 254.5 / 255.0  # alpha at or above this is locked byte for byte
LIMITS = {"shape_iou": 0.9, "bbox_grow": 0.05}  # colour, halo, fill: imaging.qa per category

# --- placement, masks, pixel lock ----------------------------------------------------------------


@dataclass
class Placed:
    """The product on the output canvas: its pixels, its alpha and its locked core, canvas-sized."""

    rgb: np.ndarray  # (H, W, 3) float32, the resampled source (0 outside the box)
    alpha: np.ndarray  # (H, W) float32 in [0, 1], as the cutout model predicted it
    core: np.ndarray  # (H, W) bool: the product minus a `blend_band` px rim; never painted
    placement: compose.Placement
    canvas: tuple[int, int]

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.placement.box

    @property
    def lock_alpha(self) -> np.ndarray:
        """Alpha of the final composite: 1 on the core (a cutout model's 0.97 inside a product is
        doubt, not transparency), the predicted soft alpha on the rim."""
        return np.maximum(self.alpha, self.core.astype(np.float32))

    @property
    def solid(self) -> np.ndarray:
        return self.lock_alpha >= OPAQUE


def core_of(alpha: np.ndarray, band: int) -> np.ndarray:
    from scipy import ndimage  # here, not at import: this module registers in the CLI's parent

    core = alpha >= 0.5
    if band > 0:
        eroded = ndimage.binary_erosion(core, iterations=band)
        core = eroded if eroded.any() else core  # a tiny product keeps its core
    return core


def _anchor(p: compose.Placement, canvas, where: str) -> compose.Placement:
    """placement = "bottom": stand the product on the lower part of the canvas (table scenes)."""
    if where != "bottom":
        return p
    l, t, r, b = p.box
    bottom = canvas[1] - (canvas[1] - (b - t)) // 4
    return compose.Placement(p.crop, (l, bottom - (b - t), r, bottom), p.scale)


def place(rgb: Image.Image, alpha: np.ndarray, preset: dict) -> Placed:
    crop = compose.bbox(alpha)
    if crop is None:
        raise ImageError("no product found in the photo (the mask is empty)")
    canvas = tuple(int(v) for v in preset.get("canvas", (1024, 1024)))
    p = compose.plan_placement(crop, canvas, float(preset.get("fill", 0.6)))
    p = _anchor(p, canvas, str(preset.get("placement", "center")))
    a_img = Image.fromarray((alpha * 255 + 0.5).astype(np.uint8), "L")
    l, t, r, b = p.box
    out_rgb = np.zeros((canvas[1], canvas[0], 3), np.float32)
    out_a = np.zeros((canvas[1], canvas[0]), np.float32)
    out_rgb[t:b, l:r] = np.asarray(compose.resample(rgb, p), np.float32)
    out_a[t:b, l:r] = np.asarray(compose.resample(a_img, p), np.float32) / 255.0
    core = core_of(out_a, int(preset.get("blend_band", 6)))
    return Placed(out_rgb, out_a, core, p, canvas)


def init_image(placed: Placed) -> Image.Image:
    """What the pipeline starts from: the product over neutral grey."""
    a = placed.lock_alpha[..., None]
    arr = placed.rgb * a + GREY * (1 - a)
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")


def inpaint_mask(placed: Placed) -> Image.Image:
    """White = paint: the background and the product's rim (so the contact area blends)."""
    return Image.fromarray(np.where(placed.core, 0, 255).astype(np.uint8), "L")


def work_size(canvas: tuple[int, int], multiple: int) -> tuple[int, int]:
    return tuple(max(multiple, v // multiple * multiple) for v in canvas)


def to_canvas(painted: Image.Image, placed: Placed) -> np.ndarray:
    """The painting at the canvas size (the model ran at a multiple of 8 or 64)."""
    if painted.size != placed.canvas:
        painted = painted.resize(placed.canvas, Image.Resampling.LANCZOS)
    return np.asarray(painted.convert("RGB"), np.float32)


def lock(painting: np.ndarray, placed: Placed) -> Image.Image:
    """Composite the original product over the painting; opaque pixels are copied, not blended."""
    a = placed.lock_alpha[..., None]
    out = np.where(placed.solid[..., None], placed.rgb, placed.rgb * a + painting * (1 - a))
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")


# --- QA ------------------------------------------------------------------------------------------


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def bbox_grow(mask: np.ndarray, box) -> float:
    """How far the product found in the output reaches past its placed box (share of box size).

    A stand, a base or a longer hem painted onto the product would make it look bigger than it is.
    """
    found = compose.bbox(mask.astype(np.float32))
    if found is None:
        return 1.0
    l, t, r, b = box
    over = max(l - found[0], t - found[1], found[2] - r, found[3] - b, 0)
    return over / max(r - l, b - t)


def source_figures(rgb: Image.Image, alpha: np.ndarray, placed: Placed) -> dict:
    """imaging.qa figures of the source and its placement: the same for every variant. alpha:
    the cutout over the whole source (border looks for an outline on the photo's edge); the
    others are measured on the placed product, as white mode measures its region."""
    l, t, r, b = placed.box
    # the 8-bit pixels white mode measures (placed.rgb is float: qa's reduced copy is Pillow's)
    src = np.clip(placed.rgb[t:b, l:r] + 0.5, 0, 255).astype(np.uint8)
    a = placed.alpha[t:b, l:r]
    shape = qa.ShapeCopy(src, a)  # bg_inside's, soft_holes' and kept_opening's, made once
    figures = {
        "uncertainty": qa.uncertainty(placed.alpha),
        "faint": qa.faint(a),  # the cutout's soft remains off the product's body
        "bg_inside": qa.background_inside(src, a, shape=shape),
        "border": qa.border(alpha, (0.0, 0.0, float(rgb.width), float(rgb.height)), rgb.size),
        "soft_holes": qa.soft_holes(src, a, shape=shape),
        "sharpness": qa.sharpness(rgb.crop(placed.placement.crop)),
        "headroom": 1.0 / placed.placement.scale,
    }
    figures.update(qa.model_figures(src, a, (l, t), shape))  # after bg_inside; canvas px
    return figures


def output_figures(out: Image.Image, painting: np.ndarray, placed: Placed) -> dict:
    """imaging.qa figures of one output, measured in the product's box (the placed source holds
    nothing outside it): colour drift where locked, halo on the rim, fill on the canvas."""
    l, t, r, b = placed.box
    src, got = placed.rgb[t:b, l:r], np.asarray(out, np.float32)[t:b, l:r]
    alpha = placed.lock_alpha[t:b, l:r]
    de_mean, de_p95 = qa.colour_drift(src, got, alpha >= OPAQUE)
    return {
        "de_mean": de_mean,
        "de_p95": de_p95,
        "halo": qa.halo(src, got, alpha, painting[t:b, l:r]),
        "fill": qa.fill((placed.lock_alpha * 255 + 0.5).astype(np.uint8)),
    }


# --- the modes -----------------------------------------------------------------------------------


def seeds_for(preset: dict, fingerprint: str) -> list[int]:
    """One seed per variant; a negative or absent seed derives one from the row's fingerprint."""
    n = int(preset.get("variants", 1))
    if not 1 <= n <= MAX_VARIANTS:
        raise RowError(f"variants must be 1-{MAX_VARIANTS}, the preset asks for {n}")
    seed = preset.get("seed")
    if seed is None or int(seed) < 0:
        seed = int(hashlib.sha256(fingerprint.encode()).hexdigest()[:8], 16)
    return [int(seed) + i for i in range(n)]


class GenerativeMode:
    name = "generative"
    queue = "gpu"
    version = "generative-1"
    de_label, shape_name = "dE", "shape_iou"  # apparel: the print's colour and the hem

    def warm(self, settings) -> None:
        from .. import presets

        diffusion.check_worker_device(settings)
        preset = presets.resolve(self.name, "default", settings)
        cutout.session(self.mask_model(preset, settings), settings)
        diffusion.load_pipeline(diffusion.model_name(preset, settings), settings)

    def mask_model(self, preset: dict, settings) -> str:
        return preset.get("model") or settings.get("default_model", "u2netp")

    def segment(self, img: Image.Image, model: str, settings) -> np.ndarray:
        return cutout.predict_alpha(img, model, settings)

    def cut_out(self, source: LoadedImage, model: str, settings) -> tuple[Image.Image, np.ndarray]:
        rgb = source.image.convert("RGB")
        alpha = self.segment(rgb, model, settings)
        if source.image.mode == "RGBA":  # a source that is already cut out keeps its own alpha
            alpha = np.minimum(alpha, np.asarray(source.image.getchannel("A"), np.float32) / 255.0)
        return rgb, alpha

    def process(self, source: LoadedImage, ctx: ModeContext) -> ModeOutput:
        watchdog = diffusion.Watchdog(diffusion.deadline_s(ctx.settings))  # the job's clock
        preset, settings = ctx.preset, ctx.settings
        model = self.mask_model(preset, settings)
        rgb, alpha = self.cut_out(source, model, settings)
        placed = place(rgb, alpha, preset)
        loaded = diffusion.load_pipeline(diffusion.model_name(preset, settings), settings)
        seeds = seeds_for(preset, ctx.fingerprint)
        painted = self.paint(loaded, placed, preset, seeds, watchdog)
        paintings = [to_canvas(img, placed) for img, _ in painted]
        outputs = [lock(painting, placed) for painting in paintings]
        report = self.measure_all(
            outputs, paintings, placed, source_figures(rgb, alpha, placed), ctx
        )
        report.update(self.record(loaded, model, preset, seeds, [nsfw for _, nsfw in painted]))
        report["flags"] += [
            f"variant {n} blanked by the safety checker" for n in report.get("safety_blanked", [])
        ]
        report["summary"] = self.summary(report)
        mask = Image.fromarray((placed.lock_alpha * 255 + 0.5).astype(np.uint8), "L")
        return ModeOutput(
            outputs[0], mask, report, self.ai_version(loaded, model, seeds),
            variants=outputs[1:], extra={"seeds": seeds},
        )  # fmt: skip

    def paint(self, loaded, placed: Placed, preset: dict, seeds, watchdog) -> list:
        size = work_size(placed.canvas, loaded.size_multiple)
        image, mask = init_image(placed), inpaint_mask(placed)
        if size != placed.canvas:  # the model needs multiples of 8/64; to_canvas() scales back
            image = image.resize(size, Image.Resampling.LANCZOS)
            mask = mask.resize(size, Image.Resampling.NEAREST)
        return diffusion.inpaint(loaded, image, mask, preset, seeds, watchdog)

    def measure_all(self, outputs, paintings, placed: Placed, common: dict, ctx) -> dict:
        """The main output's report at the top; each other variant's figures under
        variant_figures, its flags prefixed (a reviewer may approve variant 2: it is checked too)."""
        report = self.measure(outputs[0], paintings[0], placed, common, ctx)
        for n, (img, painting) in enumerate(zip(outputs[1:], paintings[1:]), start=2):
            figures = self.measure(img, painting, placed, common, ctx)
            report["flags"] += [f"variant {n}: {flag}" for flag in figures["flags"]]
            keep = {k: v for k, v in figures.items() if k not in ("flags", "summary", "thresholds")}
            report.setdefault("variant_figures", {})[str(n)] = keep
        return report

    def measure(self, out: Image.Image, painting, placed: Placed, common: dict, ctx) -> dict:
        """imaging.qa figures and thresholds (per category), plus the shape check: the product
        found again in the output must have the placed outline and box."""
        figures = {**common, **output_figures(out, painting, placed)}
        model = self.mask_model(ctx.preset, ctx.settings)
        found = self.segment(out, model, ctx.settings) >= 0.5
        figures[self.shape_name] = iou(found, placed.alpha >= 0.5)
        figures["bbox_grow"] = bbox_grow(found, placed.box)
        target = float(ctx.preset.get("fill", 0.6))
        report = qa.finish(figures, ctx.settings, ctx.category, target, ctx.preset)
        report["flags"] += self.shape_flags(report)
        return report

    def shape_flags(self, f: dict) -> list[str]:
        out = []
        if f[self.shape_name] < LIMITS["shape_iou"]:
            out.append(f"{self.shape_name} {f[self.shape_name]:.2f} < {LIMITS['shape_iou']}")
        if f["bbox_grow"] > LIMITS["bbox_grow"]:
            out.append(f"bbox_grow {f['bbox_grow']:.2f} > {LIMITS['bbox_grow']}")
        return out

    def summary(self, report: dict) -> str:
        """The QA cell, imaging.qa's layout plus the shape figure: `dE 0.0 | halo 0.01 | ...`."""
        head = [
            f"{self.de_label} {report['de_mean']:.1f}", f"halo {report['halo']:.2f}",
            f"fill {report['fill']:.2f}", f"{self.shape_name} {report[self.shape_name]:.2f}",
        ]  # fmt: skip
        return " | ".join(head + ["; ".join(report["flags"]) or "ok"])

    def record(self, loaded, model: str, preset: dict, seeds, nsfw) -> dict:
        """What reproduces the output: seeds, model, steps, guidance (kept in qa.json)."""
        notes = {
            "seeds": seeds,
            "variants": len(seeds),
            "mask_model": model,
            "diffusion_model": loaded.model,
            "weights": loaded.weights_id,
            "device": f"{loaded.device} {loaded.dtype}",
            "steps": int(preset.get("steps", 30)),
            "guidance": float(preset.get("guidance", 7.5)),
        }
        blanked = [i + 1 for i, hit in enumerate(nsfw) if hit]
        if blanked:
            notes["safety_blanked"] = blanked  # the model's safety checker painted them black
        return notes

    def ai_version(self, loaded, model: str, seeds) -> str:
        import diffusers

        return (
            f"vitrina-sync {PIPELINE_VERSION} | rembg {model} | diffusers {diffusers.__version__} "
            f"{loaded.model}@{loaded.weights_id} {loaded.dtype} | {self.version} | "
            f"seeds {','.join(map(str, seeds))}"
        )


class SceneMode(GenerativeMode):
    name = "scene"
    version = "scene-1"


class ApparelMode(GenerativeMode):
    """Garment pixels locked; the outline (hem) and the printed pattern are checked against the source."""

    name = "apparel"
    version = "apparel-1"
    de_label, shape_name = "print dE", "hem_iou"
    CLOTH = "u2net_cloth_seg"

    def mask_model(self, preset: dict, settings) -> str:
        if cutout.model_path(self.CLOTH, settings).exists():
            return self.CLOTH
        return super().mask_model(preset, settings)

    def segment(self, img: Image.Image, model: str, settings) -> np.ndarray:
        if model != self.CLOTH:
            return super().segment(img, model, settings)
        masks = cutout.session(model, settings).predict(img.convert("RGB"), cc="attire")
        return np.asarray(masks[0], np.float32) / 255.0  # every garment class in one mask

    def record(self, loaded, model: str, preset: dict, seeds, nsfw) -> dict:
        notes = super().record(loaded, model, preset, seeds, nsfw)
        if model != self.CLOTH:
            notes["mask_note"] = f"{self.CLOTH} not installed: garment cut out with {model}"
        return notes


@hookimpl
def vitrina_register_modes():
    return [SceneMode(), ApparelMode()]
