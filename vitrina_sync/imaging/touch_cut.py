"""A reviewer's stroke fixes the whole wrong region it touches (GrabCut), not only its pixels.

Pinning alone (steps.Constraints: alpha 0 under `remove`, 1 under `keep`) makes a reviewer
paint every wrong pixel. Here the strokes are hard labels of a graph cut (OpenCV's GrabCut:
GC_BGD under remove, GC_FGD under keep) whose other pixels start from the model's mask as
probable labels, so one stroke through a ring's kept hole clears the hole to its rim, and one
along a dropped strap brings the strap back. The cut is held on a short leash:

- a `remove` stroke only clears, a `keep` stroke only adds, and only connected regions that
  touch a stroke change (nothing far from what the reviewer pointed at);
- a keep-grow reaches at most GROW_RADII brush radii (at least GROW_SHARE of the long side)
  beyond its stroke: the background beyond is a hard label of its cut;
- `believable`: a changed region is taken only where its new edge lies on a real colour edge
  (mean Lab gradient >= GRADIENT per pixel at the cut's resolution), and the whole answer only
  if MIN_LEFT of the product remains; otherwise the strokes are plain pins, as before.

"remove" is cut on a copy of the work map reduced to ~SMALL_SIDE px (a hole is large: fast),
twice: the model hands over a ring's hole as a third of "the product", so the product's colour
model is learnt again without what the first pass cleared (one pass left a bump of gravel in
the hole; more iterations of one cut made it worse, each learning from its own mistake). Its
edge is then settled by a cut at work resolution in a band either side of it. "keep" is cut on
a window around its strokes taken from the full-resolution source at up to UP times the work
resolution (a strap is thin). The changes come back as coverage on the work map, so the
refinement settles the new edge on the full-resolution source as it does every other edge. The
strokes win last (white.cut_out pins them again on the refined alpha). Deterministic: the
GMMs' k-means is seeded (cv2.setRNGSeed), a re-run is byte-identical.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from . import openings

SMALL_SIDE = 200  # px, long side of the remove cut
UP = 2.0  # the keep cut's window: up to this many times the work resolution...
KEEP_PIXELS = 400_000  # ...and at most this many pixels
ITERATIONS = 2
SEED = 16
GRADIENT = 3.0  # Lab units per pixel along a changed region's new edge
MIN_LEFT = 0.02  # of the product's area
GROW_RADII, GROW_SHARE = 3.0, 0.01  # a keep stroke's reach beyond itself


def apply(work_rgb: np.ndarray, p: np.ndarray, constraints, source: Image.Image) -> np.ndarray:
    """The work map p (constraints already pinned by steps.after_model) with the regions the
    strokes touch cut out or grown in; p itself when the cut changes nothing or is not
    believable. source: the full-resolution RGB image work_rgb was reduced from."""
    h, w = p.shape
    remove, keep = constraints.at_work((w, h))
    out = p.copy()
    changed = False
    if remove is not None:
        gone = _remove(work_rgb, out, remove, keep)
        if gone is not None:
            np.minimum(out, 1.0 - gone, out=out)
            changed = True
    if keep is not None:
        grown = _keep(source, out, keep, remove)
        if grown is not None:
            np.maximum(out, grown, out=out)
            changed = True
    if not changed or (out > 0.5).sum() < MIN_LEFT * max(1, int((p > 0.5).sum())):
        return p
    if remove is not None:  # the strokes win
        out[remove] = 0.0
    if keep is not None:
        out[keep] = 1.0
    return out


def _grabcut(rgb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """GrabCut from `labels` (cv2.GC_* per pixel); the product (FGD or PR_FGD) afterwards."""
    import cv2

    cv2.setRNGSeed(SEED)
    mask = labels.copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(
            np.ascontiguousarray(rgb), mask, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK
        )
    except cv2.error:  # one side has no sample at all: nothing to learn from
        return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def _labels(fg: np.ndarray, sure_bg: np.ndarray, bgd=None, fgd=None) -> np.ndarray:
    import cv2

    labels = np.where(fg, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    labels[sure_bg] = cv2.GC_BGD
    if bgd is not None:
        labels[bgd] = cv2.GC_BGD
    if fgd is not None:
        labels[fgd] = cv2.GC_FGD
    return labels


def _touching(changed: np.ndarray, stroke: np.ndarray) -> np.ndarray:
    """The connected parts of `changed` that touch `stroke` (8-connected, 1 px apart)."""
    import cv2

    n, parts = cv2.connectedComponents(changed.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(changed)
    hit = np.unique(parts[openings.grow(stroke, 1) & changed])
    return np.isin(parts, hit[hit > 0])


def _gradient(rgb: np.ndarray) -> np.ndarray:
    """|grad Lab| per pixel (central differences), its max over 3x3 (an edge 1 px off counts)."""
    import cv2

    lab = openings.lab(rgb)
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=1) / 2.0
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=1) / 2.0
    g = np.sqrt((gx * gx + gy * gy).sum(axis=2))
    return cv2.dilate(g, np.ones((3, 3), np.uint8))


def believable(changed: np.ndarray, across: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """The parts of `changed` whose new edge (their pixels next to `across`: the product left
    beside a cleared part, the background left beside an added one) lies on a real colour edge
    of `rgb`. A part with no new edge (a whole stray piece cleared, a whole hole filled) is
    believable."""
    import cv2

    n, parts = cv2.connectedComponents(changed.view(np.uint8), connectivity=8)
    if n <= 1:
        return changed
    edge = changed & openings.grow(across & ~changed, 1)
    grad = _gradient(rgb)
    count = np.bincount(parts[edge], minlength=n)
    total = np.bincount(parts[edge], grad[edge], minlength=n)
    good = total >= GRADIENT * count
    good[0] = False
    return good[parts]


def _remove(work_rgb, p, remove, keep):
    """Coverage (0-1, work map) of the product regions a remove stroke touches that the cut
    clears; None when it clears nothing believable."""
    import cv2

    h, w = p.shape
    k = min(1.0, SMALL_SIDE / max(h, w))
    size = (max(8, round(w * k)), max(8, round(h * k)))
    small = cv2.resize(work_rgb, size, interpolation=cv2.INTER_AREA)
    small_p = cv2.resize(p, size, interpolation=cv2.INTER_AREA)
    fg, soft = small_p > 0.5, small_p > 0.05
    rm = _small_mask(remove, size)
    kp = None if keep is None else _small_mask(keep, size) & ~rm
    sure_bg = ~openings.grow(fg, max(3, round(0.03 * max(size))))
    # keep strokes are no labels here: a thin one's reduced pixels are half background
    labels = _labels(fg, sure_bg, rm)
    after = _grabcut(small, labels)
    cleared = _touching(fg & ~after & ~rm, rm)
    if cleared.any():  # again, the product's colour model learnt without what was cleared
        labels[cleared] = cv2.GC_PR_BGD
        after = _grabcut(small, labels)
        cleared = _touching(fg & ~after & ~rm, rm)
    # the model's soft pixels in what is now a hole of the product go with it
    cleared |= _touching(openings.fill_holes(after) & ~after & soft & ~rm, rm | cleared)
    if kp is not None:
        cleared &= ~kp
    cleared = believable(cleared, fg & ~cleared, small)
    if not cleared.any():
        return None
    cover = cv2.resize((cleared | rm).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return _settle(work_rgb, p, cover > 0.5, int(np.ceil(1.0 / k)) + 1).astype(np.float32)


def _settle(rgb: np.ndarray, p: np.ndarray, cleared: np.ndarray, band: int) -> np.ndarray:
    """`cleared` (work map, found on the reduced copy) with its edge settled at work resolution:
    a second cut in a band of `band` px either side of it, the rest hard labels."""
    import cv2

    if not cleared.any():
        return cleared
    ys, xs = np.nonzero(openings.grow(cleared, band + 4))
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    inside, fg = np.ascontiguousarray(cleared[box]), p[box] > 0.5
    edge = openings.grow(inside, band) & ~openings.shrink(inside, band)
    labels = np.where(inside | ~fg, cv2.GC_BGD, cv2.GC_FGD).astype(np.uint8)
    labels[edge & inside] = cv2.GC_PR_BGD
    labels[edge & ~inside & fg] = cv2.GC_PR_FGD
    after = _grabcut(rgb[box], labels)
    out = cleared.copy()
    out[box] = (inside & ~edge) | (edge & (inside | fg) & ~after)
    return out


def _small_mask(mask: np.ndarray, size) -> np.ndarray:
    """A stroke mask reduced to `size`: pixels at least half under it (any part, for a stroke
    thinner than that)."""
    import cv2

    share = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    half = share >= 0.5
    return half if half.any() else share > 0.0


def _radius(mask: np.ndarray) -> float:
    """The brush's radius (px of the mask), from its widest point."""
    import cv2

    dist = cv2.distanceTransform(np.pad(mask, 1).view(np.uint8), cv2.DIST_L2, 5)
    return float(dist.max())


def _keep(source: Image.Image, p, keep, remove):
    """Coverage (0-1, work map) of the background regions a keep stroke touches that the cut
    turns into product, within its reach; None when it adds nothing believable."""
    import cv2

    h, w = p.shape
    if not keep.any():
        return None
    reach = max(GROW_RADII * _radius(keep), GROW_SHARE * max(h, w))
    box = _window(keep, reach, (w, h))
    bw, bh = box[2] - box[0], box[3] - box[1]
    scale = min(UP, source.width / w, (KEEP_PIXELS / (bw * bh)) ** 0.5)
    scale = max(scale, 1.0)
    size = (max(8, round(bw * scale)), max(8, round(bh * scale)))
    kx, ky = source.width / w, source.height / h
    src_box = (box[0] * kx, box[1] * ky, box[2] * kx, box[3] * ky)
    rgb = np.asarray(source.resize(size, Image.Resampling.BOX, box=src_box))
    crop = (slice(box[1], box[3]), slice(box[0], box[2]))

    def up(a, interp=cv2.INTER_LINEAR):
        return cv2.resize(a.astype(np.float32), size, interpolation=interp)

    fg = up(p[crop]) > 0.5
    kp = up(keep[crop], cv2.INTER_NEAREST) > 0.5
    rm = None if remove is None else up(remove[crop], cv2.INTER_NEAREST) > 0.5
    near = cv2.distanceTransform((~kp).view(np.uint8), cv2.DIST_L2, 5) <= reach * scale
    after = _grabcut(rgb, _labels(fg, ~fg & ~near, rm, kp))
    grown = _touching(after & ~fg & ~kp, kp)
    if rm is not None:
        grown &= ~rm
    grown = believable(grown, ~(fg | grown | kp), rgb)
    if not grown.any():
        return None
    back = np.zeros((h, w), np.float32)
    back[crop] = cv2.resize((grown | kp).astype(np.float32), (bw, bh), interpolation=cv2.INTER_AREA)
    return back


def _window(mask: np.ndarray, reach: float, size) -> tuple[int, int, int, int]:
    """The box (work px) around a stroke mask, its reach and as much again for the colour
    models (the product and the background beside it)."""
    ys, xs = np.nonzero(mask)
    pad = int(np.ceil(2 * reach)) + 4
    return (
        max(0, int(xs.min()) - pad),
        max(0, int(ys.min()) - pad),
        min(size[0], int(xs.max()) + 1 + pad),
        min(size[1], int(ys.max()) + 1 + pad),
    )
