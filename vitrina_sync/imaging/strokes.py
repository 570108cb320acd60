"""A reviewer's touch-up strokes: validated, made canonical, rasterised into hard constraints.

A stroke is {"kind": "remove" | "keep", "width": px, "points": [[x, y], ...]} in the pixel
coordinates of the source as loaded (EXIF orientation applied). "remove" says "this is
background", "keep" says "this is product". Rasterised with round caps and joins of the given
width, later strokes over earlier ones, they become two boolean masks; imaging.steps.Constraints
applies them: alpha 0 under remove and 1 under keep, on the model's alpha (steps.after_model)
and again on the refined alpha (Constraints.pin). Alpha only: a stroke never touches a colour, so the
pixel lock holds (inside the opaque mask the output is still the resampled source).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from ..errors import StrokesError

KINDS = {"remove": 1, "keep": 2}  # labels in the rasterised image
MAX_STROKES = 200
MAX_POINTS = 2000  # per stroke
MAX_TOTAL_POINTS = 20000
MIN_WIDTH, MAX_WIDTH = 1.0, 1000.0  # source pixels


def validate(strokes, size: tuple[int, int]) -> list[dict]:
    """The canonical strokes (coordinates rounded to 1/100 px), or StrokesError saying what is wrong.

    size: (width, height) of the source; every point must lie inside it.
    """
    if not isinstance(strokes, list) or not strokes:
        raise StrokesError("strokes must be a non-empty list")
    if len(strokes) > MAX_STROKES:
        raise StrokesError(f"too many strokes: {len(strokes)} > {MAX_STROKES}")
    out, total = [], 0
    for n, stroke in enumerate(strokes, start=1):
        out.append(_stroke(n, stroke, size))
        total += len(out[-1]["points"])
    if total > MAX_TOTAL_POINTS:
        raise StrokesError(f"too many points in all: {total} > {MAX_TOTAL_POINTS}")
    return out


def _stroke(n: int, stroke, size) -> dict:
    if not isinstance(stroke, dict) or set(stroke) != {"kind", "width", "points"}:
        raise StrokesError(f"stroke {n}: must be an object with exactly kind, width and points")
    kind, width, points = stroke["kind"], stroke["width"], stroke["points"]
    if kind not in KINDS:
        raise StrokesError(f"stroke {n}: kind must be 'remove' or 'keep', not {kind!r}")
    width = _number(width, f"stroke {n}: width")
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise StrokesError(f"stroke {n}: width {width:g} is outside {MIN_WIDTH:g}-{MAX_WIDTH:g} px")
    if not isinstance(points, list) or not points:
        raise StrokesError(f"stroke {n}: points must be a non-empty list of [x, y]")
    if len(points) > MAX_POINTS:
        raise StrokesError(f"stroke {n}: too many points: {len(points)} > {MAX_POINTS}")
    return {"kind": kind, "width": round(width, 2), "points": [_point(n, p, size) for p in points]}


def _point(n: int, point, size) -> list[float]:
    if not isinstance(point, list) or len(point) != 2:
        raise StrokesError(f"stroke {n}: a point must be [x, y], not {str(point)[:40]}")
    x, y = (_number(v, f"stroke {n}: a coordinate") for v in point)
    if not (0 <= x <= size[0] and 0 <= y <= size[1]):
        raise StrokesError(
            f"stroke {n}: point ({x:g}, {y:g}) lies outside the source ({size[0]} x {size[1]} px)"
        )
    return [round(x, 2), round(y, 2)]


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StrokesError(f"{what} must be a finite number, not {str(value)[:40]}")
    return float(value)


def rasterize(
    strokes: list[dict], size: tuple[int, int], rect: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(remove, keep) boolean masks of `size` (w, h), the target covering source area `rect`
    (left, top, right, bottom in source pixels). Later strokes win where strokes overlap."""
    sx = size[0] / (rect[2] - rect[0])
    sy = size[1] / (rect[3] - rect[1])
    labels = Image.new("L", size, 0)
    draw = ImageDraw.Draw(labels)
    for stroke in strokes:
        label, radius = KINDS[stroke["kind"]], stroke["width"] * (sx + sy) / 4
        # pixel i covers [i, i + 1) of the target: its centre is at i + 0.5
        pts = [((x - rect[0]) * sx - 0.5, (y - rect[1]) * sy - 0.5) for x, y in stroke["points"]]
        if len(pts) > 1 and radius >= 0.5:
            draw.line(pts, fill=label, width=max(1, round(2 * radius)))
        for x, y in pts:  # round caps and joins
            r = max(radius, 0.5)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=label)
    grid = np.asarray(labels)
    return grid == KINDS["remove"], grid == KINDS["keep"]
