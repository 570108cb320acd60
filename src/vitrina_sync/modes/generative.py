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
from scipy import ndimage

from .. import PIPELINE_VERSION
from ..errors import ImageError, RowError
from ..hookspecs import hookimpl
from ..imaging import compose, cutout, diffusion
from ..imaging.colour import delta_e_rgb
from .base import LoadedImage, ModeContext, ModeOutput

MAX_VARIANTS = 3
GREY = 127.0  # what the pipeline sees outside the product before painting
OPAQUE = 254.5 / 255.0  # alpha at or above this is locked byte for byte
LIMITS = {"dE_p95": 1.0, "shape_iou": 0.9, "bbox_grow": 0.05}

# --- placement, masks, pixel lock ----------------------------------------------------------------


@dataclass
class Placed:
    """The product on the output canvas: its pixels, its alpha and its locked core, canvas-sized."""

    rgb: np.ndarray  # (H, W, 3) float32, the resampled source (0 outside the box)
    alpha: np.ndarray  # (H, W) float32 in [0, 1], as the cutout model predicted it
    core: np.ndarray  # (H, W) bool: the product minus a `blend_band` px rim; never painted
    box: tuple[int, int, int, int]
    canvas: tuple[int, int]

    @property
    def lock_alpha(self) -> np.ndarray:
        """Alpha of the final composite: 1 on the core (a cutout model's 0.97 inside a product is
        doubt, not transparency), the predicted soft alpha on the rim."""
        return np.maximum(self.alpha, self.core.astype(np.float32))

    @property
    def solid(self) -> np.ndarray:
        return self.lock_alpha >= OPAQUE


def core_of(alpha: np.ndarray, band: int) -> np.ndarray:
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
    return Placed(out_rgb, out_a, core, p.box, canvas)


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


def lock(painted: Image.Image, placed: Placed) -> Image.Image:
    """Composite the original product over the painting; opaque pixels are copied, not blended."""
    if painted.size != placed.canvas:
        painted = painted.resize(placed.canvas, Image.Resampling.LANCZOS)
    bg = np.asarray(painted.convert("RGB"), np.float32)
    a = placed.lock_alpha[..., None]
    out = np.where(placed.solid[..., None], placed.rgb, placed.rgb * a + bg * (1 - a))
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


def colour_figures(out: Image.Image, placed: Placed) -> tuple[float, float]:
    solid = placed.solid
    if not solid.any():
        return 0.0, 0.0
    got, want = np.asarray(out, np.float64)[solid], placed.rgb[solid].astype(np.float64)
    changed = np.any(got != want, axis=1)  # identical pixels are 0 by definition: skip the maths
    de = np.zeros(len(got))
    if changed.any():
        de[changed] = delta_e_rgb(got[changed], want[changed])
    return float(de.mean()), float(np.percentile(de, 95))


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
    de_name, shape_name = "dE", "shape_iou"  # apparel calls them print_dE and hem_iou

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
        placed = place(*self.cut_out(source, model, settings), preset)
        loaded = diffusion.load_pipeline(diffusion.model_name(preset, settings), settings)
        seeds = seeds_for(preset, ctx.fingerprint)
        painted = self.paint(loaded, placed, preset, seeds, watchdog)
        outputs = [lock(img, placed) for img, _ in painted]
        qa = self.measure_all(outputs, placed, model, settings)
        qa.update(self.record(loaded, model, preset, seeds, [nsfw for _, nsfw in painted]))
        qa["summary"] = summary(qa)
        mask = Image.fromarray((placed.lock_alpha * 255 + 0.5).astype(np.uint8), "L")
        return ModeOutput(
            outputs[0], mask, qa, self.ai_version(loaded, model, seeds),
            variants=outputs[1:], extra={"seeds": seeds},
        )  # fmt: skip

    def paint(self, loaded, placed: Placed, preset: dict, seeds, watchdog) -> list:
        size = work_size(placed.canvas, loaded.size_multiple)
        image, mask = init_image(placed), inpaint_mask(placed)
        if size != placed.canvas:  # the model needs multiples of 8/64; lock() scales back
            image = image.resize(size, Image.Resampling.LANCZOS)
            mask = mask.resize(size, Image.Resampling.NEAREST)
        return diffusion.inpaint(loaded, image, mask, preset, seeds, watchdog)

    def measure_all(self, outputs: list, placed: Placed, model: str, settings) -> dict:
        """The main output's figures at the top; each other variant's under variant_figures, its
        flags prefixed (a reviewer may approve variant 2, so it is checked as well)."""
        qa = self.measure(outputs[0], placed, model, settings)
        for n, img in enumerate(outputs[1:], start=2):
            figures = self.measure(img, placed, model, settings)
            qa["flags"] += [f"variant {n}: {flag}" for flag in figures.pop("flags")]
            qa.setdefault("variant_figures", {})[str(n)] = figures
        return qa

    def measure(self, out: Image.Image, placed: Placed, model: str, settings) -> dict:
        """Figures of the main output against the placed source; flags name the failing ones."""
        mean, p95 = colour_figures(out, placed)
        found = self.segment(out, model, settings) >= 0.5
        l, t, r, b = placed.box
        de = self.de_name
        figures = {
            "fill": round(max(r - l, b - t) / max(placed.canvas), 4),
            de: round(mean, 3),
            f"{de}_p95": round(p95, 3),
            self.shape_name: round(iou(found, placed.alpha >= 0.5), 4),
            "bbox_grow": round(bbox_grow(found, placed.box), 4),
        }
        figures["flags"] = self.flags(figures)
        return figures

    def flags(self, f: dict) -> list[str]:
        de, shape = self.de_name, self.shape_name
        out = []
        if f[f"{de}_p95"] > LIMITS["dE_p95"]:
            out.append(f"{de} p95 {f[f'{de}_p95']:.2f} > {LIMITS['dE_p95']}")
        if f[shape] < LIMITS["shape_iou"]:
            out.append(f"{shape} {f[shape]:.2f} < {LIMITS['shape_iou']}")
        if f["bbox_grow"] > LIMITS["bbox_grow"]:
            out.append(f"bbox_grow {f['bbox_grow']:.2f} > {LIMITS['bbox_grow']}")
        return out

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


def summary(qa: dict) -> str:
    """The QA cell: a few figures, then `ok` or the failing ones."""
    de = "print_dE" if "print_dE" in qa else "dE"
    shape = "hem_iou" if "hem_iou" in qa else "shape_iou"
    parts = [f"{de} {qa[de]:.1f}/{qa[de + '_p95']:.1f}", f"{shape} {qa[shape]:.2f}"]
    parts += [f"fill {qa['fill']:.2f}", f"seed {','.join(map(str, qa['seeds']))}"]
    flags = list(qa["flags"]) + [
        f"variant {i} blanked by safety checker" for i in qa.get("safety_blanked", [])
    ]
    return " | ".join(parts + ["; ".join(flags) if flags else "ok"])


class SceneMode(GenerativeMode):
    name = "scene"
    version = "scene-1"


class ApparelMode(GenerativeMode):
    """Garment pixels locked; the outline (hem) and the printed pattern are checked against the source."""

    name = "apparel"
    version = "apparel-1"
    de_name, shape_name = "print_dE", "hem_iou"
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
