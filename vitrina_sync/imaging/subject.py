"""The product apart from another object of a busy photo that the model took with it.

A salient-object model (u2netp) outlines whatever stands out, and on a busy photo that is also a
coffee cup behind a box or an astronaut's head above a mug, at the same confidence as the
product (p = 1.0 on both; their colours do not part them either: the cup's white rim is the
box label's white). What does part them is where they stand: a seller puts the product in the
middle of the frame, whole, while the other object is off to a side, and the model itself
drops an object that a crop cuts (a salient object is whole inside its picture). So when the
model's outline reaches out of the frame's central part, the model looks again at that part
alone; if what it outlines there is whole inside it (touches none of its sides), that is the
product, and the rest of the outline that reached out is the other object.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .openings import fill_holes, grow

SHARES = (0.85, 0.75, 0.65)  # the central crops tried, widest first: each side's share of the frame
INVENTED = 0.05  # the most share of the crop's outline outside the first outline (grown 3 px)


def centred(shape, share: float) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the frame's central part, `share` of each side."""
    h, w = shape
    ch, cw = round(h * share), round(w * share)
    t, l = (h - ch) // 2, (w - cw) // 2
    return l, t, l + cw, t + ch


def apart(rgb: np.ndarray, p: np.ndarray, model: str, keep=None) -> np.ndarray:
    """Pixels of p (the model's alpha on the work copy rgb) that are another object: the
    outline's parts off the widest central crop (SHARES) whose own outline touches none of
    the crop's sides, and those in the crop that its outline leaves out. None
    when the outline lies inside the widest crop (the usual case: nothing runs), when no crop
    holds the product whole (a product filling the frame, or cut by it), when the crop's
    outline is under steps.LEAST_LEFT of the first one or outlines much the first did not, or
    when a `keep` stroke lies outside the crop. Separate pieces of the outline wholly outside
    the crop stay (the second item of a kit at the frame's corner)."""
    import cv2

    product = p > 0.5
    none = np.zeros(p.shape, bool)
    l, t, r, b = centred(p.shape, SHARES[0])
    if not (product[:t].any() or product[b:].any() or product[:, :l].any() or product[:, r:].any()):
        return none  # the usual case: the outline is inside the widest crop
    _, labels = cv2.connectedComponents(product.view(np.uint8), connectivity=8)
    for share in SHARES:
        l, t, r, b = centred(p.shape, share)
        inside = np.zeros(p.shape, bool)
        inside[t:b, l:r] = True
        reached = np.unique(labels[product & inside])
        reached = reached[reached > 0]
        out = np.isin(labels, reached) & ~inside
        if not out.any():
            return none  # inside this crop: so inside the narrower ones' frame too; nothing to do
        if keep is not None and (keep & ~inside).any():
            return none
        crop_p = _predict(rgb[t:b, l:r], model)
        if crop_p is None:
            return none
        if _whole(crop_p > 0.5, np.isin(labels[t:b, l:r], reached)):
            separate = ~inside & (labels > 0) & ~np.isin(labels, reached)
            other = ~inside & ~grow(separate, 2) & (p > 0.0)
            other[t:b, l:r] = product[t:b, l:r] & (crop_p <= 0.5)
            if keep is not None:
                other &= ~keep
            return other if _bounded(product, other) else none
    return none


def _bounded(product: np.ndarray, other: np.ndarray) -> bool:
    """What `other` leaves of the outline is at least steps.LEAST_LEFT of it."""
    from .steps import LEAST_LEFT

    return fill_holes(product & ~other).sum() >= LEAST_LEFT * fill_holes(product).sum()


def _whole(crop: np.ndarray, first: np.ndarray) -> bool:
    """The crop's outline is a product: it touches none of the crop's sides, is at least
    LEAST_LEFT of the first outline's part in the crop, and lies (but for INVENTED) on it."""
    from .steps import LEAST_LEFT

    if not crop.any() or crop[0].any() or crop[-1].any() or crop[:, 0].any() or crop[:, -1].any():
        return False
    if fill_holes(crop).sum() < LEAST_LEFT * fill_holes(first).sum():
        return False
    return (crop & ~grow(first, 3)).sum() <= INVENTED * crop.sum()


def _predict(rgb: np.ndarray, model: str) -> np.ndarray | None:
    """The model's alpha on rgb (its own size), or None without the model."""
    from ..errors import ModelMissing
    from . import cutout

    try:
        _, p = cutout.predict_work(Image.fromarray(np.ascontiguousarray(rgb)), model, None)
    except ModelMissing:
        return None
    return p
