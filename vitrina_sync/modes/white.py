"""white mode: the product cut out, centred on pure #FFFFFF.

The pipeline (shared with card mode): the model predicts a mask on a reduced copy; the product's
box is placed on the canvas (same scale on both axes, centred, preset fill); only the region
around the box is resampled from the full-resolution source (LANCZOS, the one geometric
transform); the mask edge is refined on that region; the edge colour is decontaminated; the
product is composited over the background. Where the mask is fully opaque the output pixel is
the resampled source pixel, bit for bit (pixel lock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from .. import PIPELINE_VERSION
from ..errors import ImageError
from ..hookspecs import hookimpl
from ..imaging import (
    as_rgb,
    compiled,
    compose,
    cutout,
    edge_colour,
    inner,
    openings,
    qa,
    refine,
    reframe,
    resample,
    steps,
    touch_cut,
)
from .base import LoadedImage, ModeContext, ModeOutput


@dataclass
class Cut:
    """Everything the compositing and QA steps need about one cut-out product."""

    placement: compose.Placement
    region: compose.Region
    source: np.ndarray  # the source resampled onto the region (h,w,3 uint8)
    alpha: np.ndarray  # refined alpha on the region, quantised to 1/255 steps
    p_work: np.ndarray  # the model's own alpha at work resolution
    fit: dict  # local product/background colours at the edge (refine -> decontamination)
    levels: np.ndarray | None = None  # alpha as the stored 8-bit mask (round(alpha * 255))
    image: Image.Image | None = None  # `source` as the Pillow image it was resampled into
    parted: float = 0.0  # share of the outline imaging.parted took off as another object


def _model(preset, settings) -> str:
    return str(preset.get("model") or settings.get("default_model", "u2netp"))


def _canvas(preset) -> tuple[int, int]:
    w, h = preset.get("canvas", (2000, 2000))
    return int(w), int(h)


@lru_cache(maxsize=16)
def _weights(path: str) -> str:
    return cutout.weights_hash(cutout.Path(path))[:8]


def _crop_from_work(p_work: np.ndarray, work_size, src_size) -> tuple[int, int, int, int]:
    box = compose.bbox(p_work)
    if box is None:
        raise ImageError("no product found in the photo (the mask is empty)")
    kx, ky = work_size[0] / src_size[0], work_size[1] / src_size[1]
    left, top = max(0, math.floor(box[0] / kx)), max(0, math.floor(box[1] / ky))
    right, bottom = (
        min(src_size[0], math.ceil(box[2] / kx)),
        min(src_size[1], math.ceil(box[3] / ky)),
    )
    return left, top, right, bottom


def cut_out(rgb: Image.Image, source_alpha, preset, settings, constraints=None) -> Cut:
    """Predict, place, resample the region and refine its alpha.

    constraints: a steps.Constraints (a reviewer's strokes: remove = background, keep =
    product, as masks over the source's pixels) or None. They are applied in exactly one place,
    `steps.after_model`, right after the model's alpha exists and before the openings step and
    the refinement, and pinned again on the refined alpha (`Constraints.pin`): nothing after
    the model can re-fill a removed pixel or clear a kept one. In between, preset `touch_cut`
    (default on) lets a stroke fix the whole wrong region it touches (imaging.touch_cut).
    """
    pixels = np.asarray(rgb) if rgb.mode == "RGB" else None  # read once, for both resizes
    model, side = _model(preset, settings), int(preset.get("work_side", 640))
    work, model_p = cutout.predict_work(rgb, model, settings, side, pixels)
    if preset.get("reframe", True):  # a product filling the frame: the model on it zoomed out
        model_p = reframe.apply(work, model_p, model, settings, side)
    if preset.get("inner_look", True):  # the product inside the backdrop's own salient thing
        model_p = inner.look(np.asarray(work), model_p, model)
    if source_alpha is not None:  # transparent parts of a cut-out source are never product
        own = np.asarray(source_alpha.resize(work.size, Image.Resampling.BOX), np.float32) / 255.0
        model_p = np.minimum(model_p, own)
    if preset.get("second_look", True):
        model_p = cutout.second_look(rgb, work.size, model_p, model, settings, side)
        if source_alpha is not None:
            model_p = np.minimum(model_p, own)
    work_rgb = np.asarray(work)
    resolved = {**preset, "model": model}  # imaging.subject runs the model
    notes: dict = {}  # what the steps report to QA
    p_work = steps.after_model(work_rgb, model_p, resolved, constraints, notes)
    if constraints is not None and preset.get("touch_cut", True):  # a stroke fixes its region
        p_work = touch_cut.apply(work_rgb, p_work, constraints, rgb)
    crop = _crop_from_work(p_work, work.size, rgb.size)
    placement = compose.plan_placement(crop, _canvas(preset), float(preset.get("fill", 0.85)))
    out_per_work = (
        (placement.box[2] - placement.box[0]) / (crop[2] - crop[0]) * rgb.width / work.width
    )
    pad = math.ceil((int(preset.get("refine_radius", 4)) + 4) * max(out_per_work, 1.0)) + 2
    region = compose.plan_region(placement, _canvas(preset), rgb.size, pad)
    source, source_img = compose.resample_region_both(rgb, region, pixels)
    kx, ky = work.width / rgb.width, work.height / rgb.height
    s = region.source
    work_box = (s[0] * kx, s[1] * ky, s[2] * kx, s[3] * ky)
    fit: dict = {}
    alpha = refine.refine_alpha(work_rgb, p_work, source, work_box, preset, fit, image=source_img)
    if source_alpha is not None:  # a source that is already cut out keeps its own alpha
        own = np.asarray(compose.resample_region(source_alpha, region), np.float32) / 255.0
        alpha = np.minimum(alpha, own)
        fit["covers"] = False  # new partly transparent pixels may lie outside the fit
    if constraints is not None and constraints.pin(alpha, region):
        fit["covers"] = False
    levels, alpha = _quantise(alpha)
    parted = float(notes.get("parted", 0.0))
    return Cut(placement, region, source, alpha, model_p, fit, levels, source_img, parted)


def _quantise(alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stored mask's steps (255 <=> exactly opaque): np.round(alpha * 255) as uint8, and
    those steps / 255 as the alpha (np.round is rint: half to even). One compiled pass where
    there is numba (~0.8 ms a region instead of ~1.7), else in one numpy buffer."""
    kernels = compiled.loops()
    if kernels is not None and alpha.dtype == np.float32 and alpha.ndim == 2:
        levels, stepped = np.empty(alpha.shape, np.uint8), np.empty(alpha.shape, np.float32)
        kernels.quantise(alpha, levels, stepped)
        return levels, stepped
    scaled = alpha * 255.0
    np.rint(scaled, out=scaled)
    levels = scaled.astype(np.uint8)
    return levels, np.divide(scaled, 255.0, out=scaled).astype(np.float32, copy=False)


def geometry(cut: Cut) -> dict:
    """The geometric transform, so QA and reviewers can map output pixels back to the source."""
    return {
        "crop": list(cut.placement.crop),
        "box": list(cut.placement.box),
        "region": list(cut.region.canvas),
        "region_source": list(cut.region.source),  # exact: the transform is reproducible
    }


class WhiteMode:
    name = "white"
    queue = "cpu"
    version = "white-14"  # 14: settle on low-contrast edges, reframe turns down a wider map that
    # is the photo's outline (photo_outline), opening_rest's product colours off parted's seam,
    # parted's second seed where nothing reaches out of the centred box; 13: opening_rest and thin_parts.crossing after parted, QA sharpness of
    # low-contrast sharp edges, parted's doubtful seams only where a thin part runs into the
    # dropped object, faint's block dilation as documented; 12: inner_look (imaging/inner.py), local_backdrop in the openings,
    # parted's own colour mixtures and doubtful seams, QA faint;
    # 11: another salient object parted by a graph cut (imaging/parted.py),
    # grown pieces glued on cleared; 10: glued pieces of another object cleared (imaging/glued.py)
    # 9: printed panels kept, objects seen through openings, thin parts
    # given back, faint ends and shelf packs dropped
    # 8: gloss streaks kept, close-ups that lost the product, leftovers
    # 7: openings settled to the product's edge, outgrowths, reframe
    # 6: openings off the outline, no step clears the product; 5: faint parts
    # 4: openings found with the outline band's product model (frames)
    # 3: openings cleared, strays dropped, camouflaged edges (issue 16)
    measures_purity = True
    takes_strokes = True  # a reviewer's touch-up strokes (ModeContext.strokes) are obeyed

    def warm(self, settings) -> None:
        cutout.session(settings.get("default_model", "u2netp"), settings)
        refine.warm()  # numba kernels compiled or loaded from cache here, not on the first job
        openings.warm()  # OpenCV imported here

    def background(self, preset, canvas, settings) -> np.ndarray:
        return compose.solid(canvas, (255, 255, 255))

    def region_background(self, canvas_rgb: np.ndarray, region: compose.Region) -> np.ndarray:
        """The new background under the region, before compositing (for the halo figure): in
        white mode one colour, broadcast (no copy)."""
        l, t, r, b = region.canvas
        return np.broadcast_to(np.full(3, 255, np.uint8), (b - t, r - l, 3))

    def process(self, source: LoadedImage, ctx: ModeContext) -> ModeOutput:
        preset, canvas = ctx.preset, _canvas(ctx.preset)
        rgb = as_rgb(source.image)
        own_alpha = source.image.getchannel("A") if source.image.mode == "RGBA" else None
        constraints = steps.Constraints.from_strokes(getattr(ctx, "strokes", None), rgb.size)
        cut = cut_out(rgb, own_alpha, preset, ctx.settings, constraints)
        edge = (
            edge_colour.edge_colours(cut.source, cut.alpha, fit=cut.fit)
            if preset.get("decontaminate", True)
            else None
        )
        canvas_rgb = self.background(preset, canvas, ctx.settings)
        l, t, r, b = cut.region.canvas
        new_bg = self.region_background(canvas_rgb, cut.region)
        shadow = compose.contact_shadow(cut.alpha) if preset.get("shadow") else None
        compose.composite(canvas_rgb, cut.source, cut.alpha, cut.region, edge, shadow)
        mask = np.zeros((canvas[1], canvas[0]), np.uint8)
        mask[t:b, l:r] = (
            cut.levels if cut.levels is not None else np.round(cut.alpha * 255.0).astype(np.uint8)
        )
        image, mask_img = resample.rgb_image(canvas_rgb), Image.fromarray(mask, "L")
        figures = self.figures(rgb, cut, canvas_rgb, mask, new_bg, shadow, image)
        target = float(preset.get("fill", 0.85))
        report = qa.finish(figures, ctx.settings, ctx.category, target, preset)
        extra = {"geometry": geometry(cut)}
        version = self.ai_version(preset, ctx.settings)
        return ModeOutput(image, mask_img, report, version, extra=extra, mask_pixels=mask)

    def figures(self, rgb, cut: Cut, out: np.ndarray, mask, new_bg, shadow, image=None) -> dict:
        """Every QA figure. image: `out` as a Pillow image (without numba the halo reduces its
        region in Pillow: cropping it there is cheaper than converting the array's region;
        with numba it reads the region's means at the edge band only, and needs no copy)."""
        l, t, r, b = cut.region.canvas
        out_region = out[t:b, l:r]
        out_img = image.crop((l, t, r, b)) if image is not None and not compiled.loops() else None
        images = (cut.image, out_img) if cut.image else None
        region_shadow = None if shadow is None else shadow > 0
        # the opaque pixels' changes and the background's white counted in one pass (numba)
        looks = qa.region_looks(cut.source, out, cut.region.canvas, cut.levels, region_shadow)
        changed = None if looks is None else looks[0]
        opaque = None if changed is False else cut.alpha >= 1.0  # no mask where none changed
        de_mean, de_p95 = qa.colour_drift(cut.source, out_region, opaque, changed)
        box, crop = cut.placement.box, cut.placement.crop
        upscale = max(
            (box[2] - box[0]) / (crop[2] - crop[0]), (box[3] - box[1]) / (crop[3] - crop[1])
        )
        shape = qa.ShapeCopy(cut.source, cut.alpha, cut.image)  # bg_inside's and soft_holes'
        faint, undecided = qa.faint_and_uncertainty(cut.alpha)  # one pass over the alpha
        figures = {
            "de_mean": de_mean,
            "de_p95": de_p95,
            "halo": qa.halo(cut.source, out_region, cut.alpha, new_bg, images),
            "uncertainty": undecided,  # what the steps left undecided
            "faint": faint,  # soft remains off the product's body
            "bg_inside": qa.background_inside(cut.source, cut.alpha, shape=shape),
            "border": qa.border(cut.alpha, cut.region.source, rgb.size),
            "soft_holes": qa.soft_holes(cut.source, cut.alpha, shape=shape),
            "fill": qa.fill(mask, cut.region.canvas),  # the mask is 0 off the region
            "sharpness": qa.sharpness(rgb.crop(crop)),
            "headroom": 1.0 / upscale,
            "parted": cut.parted,  # another object cut off by the graph cut: look at its seam
        }
        # after bg_inside (its colour models); the box where to look, in the output's pixels
        figures.update(qa.model_figures(cut.source, cut.alpha, (l, t), shape))
        if self.measures_purity:
            shadow_mask = None
            if shadow is not None and looks is None:
                shadow_mask = np.zeros(mask.shape, bool)
                shadow_mask[t:b, l:r] = region_shadow
            in_box = None if looks is None else looks[1]
            figures["purity"] = qa.purity(out, mask, shadow_mask, cut.region.canvas, in_box)
        return figures

    def ai_version(self, preset, settings) -> str:
        model = _model(preset, settings)
        weights = _weights(str(cutout.model_path(model, settings)))
        return f"vitrina-sync {PIPELINE_VERSION} | rembg {model} {weights} | {self.version}"


@hookimpl
def vitrina_register_modes():
    return [WhiteMode()]
