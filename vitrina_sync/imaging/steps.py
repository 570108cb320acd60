"""The steps after the model, on the work copy: a reviewer's constraints pinned on the model's
alpha, then the openings the model filled cleared (imaging.openings) and the repairs after it
(imaging.repairs; patches of the background grown on the outline: imaging.outgrowths), each
bounded so that no step takes most of the product.

`after_model` is the one place where constraints meet the automatic steps; `step_masks` yields
each step's own mask (bench/bench_mask_steps.py shows them per scene); `Constraints.pin` sets
the constraints again on the refined alpha at output resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import openings
from .extent import without_faint_ends
from .openings import fill_holes


@dataclass
class Constraints:
    """A reviewer's hard constraints over the source's pixels: `remove` is background (alpha 0),
    `keep` is product (alpha 1); "L" images of the source's size, 255 where a stroke passed."""

    remove: Image.Image | None = None
    keep: Image.Image | None = None

    @classmethod
    def from_strokes(cls, strokes, size) -> Constraints | None:
        """[{"kind": "remove"|"keep", "width": px, "points": [[x, y], ...]}, ...] (source pixel
        coordinates) drawn by imaging.strokes.rasterize (round caps and joins, a later stroke
        wins where strokes overlap); None without strokes."""
        from .strokes import KINDS, rasterize

        strokes = [s for s in strokes or () if s.get("kind") in KINDS and s.get("points")]
        if not strokes:
            return None
        remove, keep = rasterize(strokes, size, (0.0, 0.0, float(size[0]), float(size[1])))
        layers = [
            Image.fromarray(mask.astype(np.uint8) * 255, "L") if mask.any() else None
            for mask in (remove, keep)
        ]
        if layers == [None, None]:
            return None
        return cls(*layers)

    def at_work(self, size) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(remove, keep) on the work copy's pixels: any part of a work pixel under a stroke."""
        return tuple(
            None if layer is None else np.asarray(layer.resize(size, Image.Resampling.BOX)) > 0
            for layer in (self.remove, self.keep)
        )

    def pin(self, alpha: np.ndarray, region) -> bool:
        """alpha (on the output region) set to 0 under `remove` and 1 under `keep`, in place;
        whether anything was set. The region is resampled as the source is (compose)."""
        from .compose import resample_region

        changed = False
        for layer, value in ((self.remove, 0.0), (self.keep, 1.0)):
            if layer is None:
                continue
            under = np.asarray(resample_region(layer, region)) >= 128
            if under.any():
                alpha[under] = value
                changed = True
        return changed


def after_model(
    work_rgb: np.ndarray, p: np.ndarray, preset, constraints=None, notes: dict | None = None
) -> np.ndarray:
    """The model's alpha (work resolution) with a reviewer's constraints applied, then the
    openings the model filled cleared (preset `openings`, on by default) and the repairs after
    it (imaging.repairs), and another object of a busy photo that the model took with the
    product dropped (preset `subject`, off by default: one more model run where the outline
    reaches out of the frame's middle as another object does, imaging.subject). THE place where
    constraints meet the automatic steps: `remove` pixels are 0 and `keep` pixels are 1 before
    the openings step looks, and no step clears a `keep` pixel. notes: a dict the steps write
    what QA reports of them into ("parted": the share of the outline imaging.parted took off)."""
    remove = keep = None
    if constraints is not None:
        remove, keep = constraints.at_work((p.shape[1], p.shape[0]))
        p = p.copy()
        if remove is not None:
            p[remove] = 0.0
        if keep is not None:
            p[keep] = 1.0
    if not preset.get("openings", True):
        return p
    other = np.zeros(p.shape, bool)
    if preset.get("subject", False):  # another object of a busy photo, taken with the product
        from . import subject

        other = subject.apart(work_rgb, p, str(preset.get("model") or "u2netp"), keep)
    cleared, added = np.zeros(p.shape, bool), np.zeros(p.shape, bool)
    apart = other.copy()  # pieces of another object: strays, subject's other
    for name, mask in step_masks(work_rgb, p, preset, keep, other):
        if name.startswith("+"):  # given back: product again, or made product
            cleared &= ~mask
            added |= mask & (p <= 0.5)
        else:
            cleared |= mask
            if name == "-strays":
                apart |= mask
    if remove is not None:
        added &= ~remove
    cleared |= other
    added &= ~other
    if not cleared.any() and not added.any():
        return _finished(work_rgb, p, preset, keep, notes=notes, model=p)
    outline = (p > 0.5) | added  # the outline the steps saw, for what the drop leaves
    model = p
    p = p.copy()
    p[cleared] = 0.0
    p[added] = 1.0
    apart &= cleared & outline
    if apart.any():  # what the other object leaves: its soft rim, pieces the drop parted
        from .repairs import leftovers

        p[leftovers(outline, p, apart, other & apart, keep, added)] = 0.0
    return _finished(work_rgb, p, preset, keep, added if added.any() else None, notes, model)


def _finished(
    work_rgb: np.ndarray, p: np.ndarray, preset, keep=None, made=None, notes=None, model=None
) -> np.ndarray:
    """The last clearing steps: another salient object of a busy photo parted from the product
    by a graph cut (imaging.parted, preset `parted`, on by default) and, where it took one
    off, the rest of an opening the other object filled (imaging.opening_rest, preset
    `opening_rest`, on) and the lines in the product's colour taken with it (straps across the
    cup: thin_parts.crossing, with preset `regrow`); pieces of another object glued on
    (imaging.glued, preset `glued`, on by default), then faint ends (imaging.extent).
    made: what the steps made product where the model hardly saw any (glued counts it as
    doubt). model: the map the steps started from (the model's, constraints set): its sure
    pixels the steps cleared are backdrop colours to opening_rest, and crossing looks for
    lines there. notes["parted"]: the share of the outline (p > 0.5) the graph cut took off
    where its seam is doubtful (parted.doubtful, judged on the cut before anything is given
    back; QA's `parted`: a judgement on pixels the model was sure of, which a reviewer checks)."""
    if preset.get("parted", True):
        from .parted import apart, doubtful

        other = apart(work_rgb, p, keep)
        if other is not None:
            if notes is not None and doubtful(work_rgb, p, other):
                outline = int((p > 0.5).sum())
                notes["parted"] = float((other & (p > 0.5)).sum()) / max(outline, 1)
            p = p.copy()
            p[other] = 0.0
            if preset.get("opening_rest", True):  # what the other object left in an opening
                from .opening_rest import after_parting

                gone = other if model is None else other | ((model > 0.5) & (p <= 0.5))
                p[after_parting(work_rgb, p, gone, keep)] = 0.0
            if model is not None and preset.get("regrow", True):  # straps across the other
                from .thin_parts import crossing

                back = crossing(work_rgb, model, p)
                p[back] = model[back]
    if preset.get("glued", True):
        from .glued import without_pieces

        p = without_pieces(work_rgb, p, keep, made)
    return without_faint_ends(p, keep)


LEAST_LEFT = 0.25  # the least share of the model's outlined product the clearing steps leave


def step_masks(work_rgb: np.ndarray, p: np.ndarray, preset, keep=None, other=None):
    """The steps after the model, in order, as (name, mask): "-..." pixels it clears, "+..."
    pixels it gives back (bench/bench_mask_steps.py shows them per scene). A clearing step that
    would leave the product's outline (p > 0.5, openings filled) under LEAST_LEFT of the
    model's does not apply (its mask is empty): openings leave the outline, and a stray is never
    most of a product; a step that takes that much has mistaken the product for background.
    other: another object the subject step drops (imaging.subject); the faint parts step grows
    from the product alone, with colour models of it alone (not the cup's foam)."""
    from . import kept_openings, outgrowths, repairs, thin_parts

    product = p > 0.5
    box = openings.box_of(product) or np.s_[:, :]  # what bounded counts lies in the outline's
    inside = product[box]
    least = LEAST_LEFT * float(fill_holes(inside).sum())

    def bounded(mask: np.ndarray, cleared: np.ndarray) -> np.ndarray:
        if not mask.any():
            return mask
        left = inside & ~cleared[box] & ~mask[box]
        # filling holes only adds pixels: where the outline left holds `least` unfilled, it
        # does filled (no flood fill needed)
        if np.count_nonzero(left) >= least or fill_holes(left).sum() >= least:
            return mask
        return np.zeros_like(mask)

    report: dict = {}
    found, _ = openings.find(work_rgb, p, openings.CUT, keep, report=report)
    found |= kept_openings.objects_seen(work_rgb, p, found, report.get("models"), keep)
    found = bounded(found, np.zeros_like(product))
    yield "-openings", found
    remnants = bounded(repairs.soft_remnants(p, found, keep, work_rgb), found)
    yield "-remnants", remnants
    cleared = found | remnants
    stray = bounded(repairs.strays(p, keep, report.get("models")), cleared)
    yield "-strays", stray
    cleared |= stray
    grown = bounded(outgrowths.parts(p, cleared, keep, report.get("models")), cleared)
    yield "-outgrowths", grown
    cleared |= grown
    if preset.get("regrow", True):
        if cleared.any():
            yield "+regrow", repairs.dropped_parts(p, cleared, report.get("off_colour"))
        models, alone = report.get("models"), p
        if other is not None and other.any():  # the product's colours without the other's
            alone, models = np.where(other, np.float32(0.0), p), None
        yield "+faint", repairs.faint_parts(work_rgb, alone, cleared, keep, models)
        yield "+thin", thin_parts.given_back(work_rgb, alone, cleared, stray)  # faint straps
