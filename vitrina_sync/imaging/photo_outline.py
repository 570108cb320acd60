"""Whether a wider framing's map outlines the photo itself rather than the product.

`reframe` looks again at a doubtful first map with the work copy padded on every side (edges
replicated). On a busy, even texture that fills the photo (glass mosaic, wall tiles, a
checkerboard) the padded copy shows the model one large rectangle of texture inside a smeared
border, and it outlines that rectangle: a map that covers most of the frame and runs out of it
(held-out-7's padlock on tiles: first map 0.874, wider 0.221; held-out-11's frame on the mosaic:
0.358 -> 0.089). Zooming out never makes a product that the first map saw whole inside the frame
run out of it: where the first outline keeps MARGIN of the frame's long side off every side and
the wider one covers RUNS_OUT of the frame's edge, the wider map is the photo's outline, and is
not taken. The close-ups reframe is for are cut by the frame in the first map already (a box
on light at 0.62: 15% of its edge), or their wider map stays inside it (a ring on grass, a frame
on gravel: 0%)."""

from __future__ import annotations

import numpy as np

from .reframe import _border  # the frame's edge pixels (reframe imports this module lazily)

MARGIN = 0.03  # the least gap between the first outline's box and each side of the frame, as a
# share of the long side (padlock on tiles, frame on mosaic, mug on checkerboard: 0.12-0.25)
RUNS_OUT = 0.1  # the least share of the frame's edge pixels the wider outline covers (those
# three: 0.21-0.57; the wider maps reframe rightly takes: 0.00 and 0.30 from a first map at 0.15)
LEAST = 0.01  # the least share of the frame the first outline covers (under it: reframe.lost)


def inside(first: np.ndarray) -> bool:
    """Whether the first outline (p > 0.5) is something seen whole inside the frame: at least
    LEAST of it, its box MARGIN of the long side off every side."""
    product = first > 0.5
    if product.mean() < LEAST:
        return False
    h, w = product.shape
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    gap = min(rows[0], cols[0], h - 1 - rows[-1], w - 1 - cols[-1])
    return bool(gap >= MARGIN * max(h, w))


def outlines_photo(first: np.ndarray, wider: np.ndarray) -> bool:
    """Whether the wider framing's map (alpha over the work copy) runs out of the frame
    (RUNS_OUT of its edge) where the first map (alpha) saw the product whole inside it
    (`inside`): the model outlined the photo, not the product."""
    return inside(first) and float(_border(wider > 0.5).mean()) >= RUNS_OUT
