"""A second prediction on the photo zoomed out, for a product that fills the frame.

u2netp was trained on photos where the object sits inside the frame with background around it.
When a close-up fills the frame (a ring whose gold band reaches the photo's sides, a picture
frame cut by the photo's edges), it can take the background inside the product's opening for the
object (the grass disk inside a ring: IoU 0.0004) or leave most of the map undecided. The same
model on the work copy padded on every side, so that the photo covers REFRAME_SHARE of what the
model sees, outlines the product as it does at ordinary framing; its alpha, cropped back, is
taken when the first map was doubtful and the new one is not, or when the first outlined almost
nothing (`lost`: a dark frame on gravel, whose wider map holds the frame with the gravel it
encloses, which the openings step then clears).

Cheap tests decide whether to look again (`doubtful`): many undecided pixels (qa.uncertainty of
the model's map over UNDECIDED) where what it saw spans most of the frame, or an outline that
looks like the photo's border and is ringed by one other colour (the model outlined what the
product encloses). On ordinary photos neither holds (bench_white's 96 photos, the `tune` set),
and the step costs the tests (~1.5 ms per photo). Then `run_outs`: on a plain backdrop, the
faint parts of a product cut by the frame (a chair's legs running out of the photo's bottom,
which the model fades out) are made product, so a product cut by the frame is kept whole; where
there are such parts, or the outline reaches the frame's edge, or the map kept is still
undecided, `colour_outs` takes those of the product's colour that the model did not see at all
(a chair filling the frame on beige, outlined only at its seat rail). Where the wider map too
outlines what the product encloses (or, undecided, does so from farther out: FARTHER), the
model looks again with that painted over in the product's colour (`look_filled`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

UNDECIDED = 0.25  # qa.uncertainty of the model's map above which it is doubtful (tune: <= 0.18)
FAINT = 0.1  # the least model alpha of what it saw at all (a faint part running out of the frame)
CLOSE_UP = 0.62  # the least share of the frame's width or height an undecided map spans (a frame
# on grass at 0.60, held-out s7, came out right from the first map and less so from the wider)
DECIDED = 0.5  # the wider map's uncertainty at most this share of an undecided first map's
REFRAME_SHARE = 0.6  # the work copy's long side as a share of the padded copy the model sees
FARTHER = 0.4  # that share for a third look where the wider map is undecided too (_enclosed)
RING_APART = 30.0  # Lab distance (L1, OpenCV's 8-bit scale) of the ring's colour from the border's
RING_EVEN = 0.8  # the least share of the ring's pixels within RING_APART of its median colour
# (a product's gold band: 1.0; grass around a product: 0.54)
RUN_FAINT = 0.05  # the least model alpha of a part running out of the frame (a chair's back post)
BACKDROP = 0.7  # the least share of the frame's edge that is one plain backdrop (chairs, a bag
# cut by the frame: 0.81-0.95; a colour wheel filling the photo 0.53, a retina 0.59)
RAMP = 3  # px: the outline's soft edge, whose faint pixels at the frame are no run-out
RING_STEP = 2  # the ring test reads every 2nd pixel of the work copy
LOST = 0.01  # the most share of the frame a first map outlines that has lost the product
LOST_APART = 10.0  # how many times as much the wider map outlines then
HELD = 0.5  # the least share of the first map's outline that the wider one holds then
PAINT_OVER = 80  # look_filled paints the outline grown by the long side / this (off its soft edge)
PAINT_RING = 20  # and reads the ring's colour out to the long side / this from the outline


def _disk(r: int) -> np.ndarray:
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def ringed(work_rgb: np.ndarray, p: np.ndarray) -> bool:
    """Whether the model's outline (p > 0.5) looks like the photo's border and is ringed by one
    colour that does not: the background around a product reaches the frame, a product's own
    band around what it encloses does not (the gold of a ring around the grass the model
    outlined; a mug on a retina, ringed by the retina's orange inside black corners, is not).
    Read at every RING_STEP-th pixel (a few ms)."""
    import cv2

    rgb, product = work_rgb[::RING_STEP, ::RING_STEP], (p[::RING_STEP, ::RING_STEP] > 0.5)
    if not product.any():
        return False
    product = product.view(np.uint8)
    side = max(product.shape)
    near = cv2.dilate(product, _disk(max(1, side // 160)))
    ring = (cv2.dilate(product, _disk(max(2, side // 40))) > 0) & (near == 0)
    outside = _border(rgb)[_border(product) == 0]
    if ring.sum() < 50 or len(outside) < 50:
        return False
    colours, outside = _lab(rgb[ring]), np.median(_lab(outside), axis=0)
    middle = np.median(colours, axis=0)
    if np.abs(middle - outside).sum() < RING_APART:
        return False
    within = np.median(_lab(rgb[product > 0]), axis=0)  # what it outlined looks like the border
    if np.abs(within - outside).sum() >= RING_APART:
        return False
    return float((np.abs(colours - middle).sum(axis=1) < RING_APART).mean()) >= RING_EVEN


def _lab(pixels: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 RGB pixels in Lab (OpenCV's 8-bit scale), as float32."""
    import cv2

    return (
        cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    )


def doubtful(work_rgb: np.ndarray, p: np.ndarray, undecided: float | None = None) -> str:
    """Why the model's map is worth a second look at a wider framing, or "" when it is not:
    "undecided" (many undecided pixels where what it saw, p > FAINT, spans CLOSE_UP of the frame:
    a close-up; a chair on a micrograph at a third of the frame, 0.97 undecided, is the second
    look's case and came out right by it), "ringed" (`ringed`). undecided: qa.uncertainty(p)
    when known."""
    from .qa import uncertainty

    if undecided is None:
        undecided = uncertainty(p)
    if undecided > UNDECIDED and _span(p > FAINT) >= CLOSE_UP:
        return "undecided"
    return "ringed" if ringed(work_rgb, p) else ""


def _span(mask: np.ndarray) -> float:
    """The larger share of the frame's width or height that the mask's box spans."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return 0.0
    return max((cols[-1] + 1 - cols[0]) / mask.shape[1], (rows[-1] + 1 - rows[0]) / mask.shape[0])


def better(work_rgb: np.ndarray, first: np.ndarray, wider: np.ndarray, why: str) -> bool:
    """Whether the wider framing's map is taken: not doubtful itself and, where the first was
    undecided, at most half as undecided (a chair on beige: 0.25 -> 0.14 is a filled block, its
    first map was the better one; a box cut by the frame: 0.59 -> 0.02); or, where the first
    was undecided, `lost` (the product with the background it encloses: the openings step
    clears that) and the wider is not ringed."""
    from .photo_outline import outlines_photo
    from .qa import uncertainty

    if not (wider > 0.5).any() or outlines_photo(first, wider):
        return False  # the wider map outlines the photo, not the product the first saw whole
    doubt = doubtful(work_rgb, wider)
    if why == "undecided" and doubt != "ringed" and lost(first, wider):
        return True
    if doubt:
        return False
    return why == "ringed" or uncertainty(wider) <= DECIDED * uncertainty(first)


def _enclosed(work, work_rgb, p, undecided, wider, why, run) -> tuple[np.ndarray, float]:
    """(p, its uncertainty), or `look_filled`'s map where a wider framing still outlines what
    the product encloses (`ringed`): the wider map, or, where the first was undecided and the
    wider is not ringed either, the map from farther out (FARTHER: a dark frame on gravel at
    0.6, undecided at both framings, outlines the gravel it encloses at 0.4), when the filled
    map is not doubtful."""
    from .qa import uncertainty

    if not ringed(work_rgb, wider):
        if why != "undecided":
            return p, undecided
        wider = look_wider(work, *run, share=FARTHER)
        if not ringed(work_rgb, wider):
            return p, undecided
    filled = look_filled(work, wider, *run)
    if doubtful(work_rgb, filled):
        return p, undecided
    return filled, uncertainty(filled)


def lost(first: np.ndarray, wider: np.ndarray) -> bool:
    """Whether the first map outlined almost nothing (p > 0.5 over under LOST of the frame) where
    the wider outlined LOST_APART times as much, holding what the first outlined (HELD of it):
    the model lost the product, not just its edge (a dark frame on gravel at 0.6: 0.3% of the
    frame, the wider 80%, the frame with the gravel inside it, 99.6% of the first's; a chair
    whose seat the first map holds: 4%). A small product whose wider map is something else
    beside it is not held."""
    first, wider = first > 0.5, wider > 0.5
    area = float(first.mean())
    if area >= LOST or float(wider.mean()) < LOST_APART * area:
        return False
    return int((first & wider).sum()) >= HELD * int(first.sum())


def padded(work: Image.Image, share: float = REFRAME_SHARE) -> tuple[Image.Image, tuple[int, int]]:
    """The work copy in the middle of a copy `1 / share` times as large, its edges replicated
    outwards (a backdrop stays a backdrop; a part cut by the frame runs on out of it), and the
    offset of the work copy in it."""
    a = np.asarray(work)
    h, w = a.shape[:2]
    side = max(w, h) / share
    px, py = max(1, round((side - w) / 2)), max(1, round((side - h) / 2))
    return Image.fromarray(np.pad(a, ((py, py), (px, px), (0, 0)), mode="edge")), (px, py)


def look_wider(
    work: Image.Image, model: str, settings, side: int, share: float = REFRAME_SHARE
) -> np.ndarray:
    """The model's alpha for the work copy, predicted on it zoomed out (`padded`)."""
    from .cutout import predict_work

    wide, (px, py) = padded(work, share)
    _, p = predict_work(wide, model, settings, side)
    back = Image.fromarray(p, "F").resize(wide.size, Image.Resampling.BILINEAR)
    p = np.asarray(back, np.float32)[py : py + work.height, px : px + work.width]
    return np.clip(p, 0.0, 1.0)


def look_filled(work: Image.Image, p: np.ndarray, model: str, settings, side: int) -> np.ndarray:
    """For a map that outlines what the product encloses (`ringed`: the grass inside a picture
    frame, at both framings): the model's alpha on the work copy with that outline painted over
    in the ring's colour (the product's own band), zoomed out (`look_wider`), which outlines the
    product with its opening filled, less the opening (p's outline)."""
    import cv2

    from .openings import fill_holes

    a = np.array(work)
    inside = fill_holes(p > 0.5).view(np.uint8)
    long = max(inside.shape)
    near = cv2.dilate(inside, _disk(max(1, long // PAINT_OVER))) > 0
    ring = (cv2.dilate(inside, _disk(max(2, long // PAINT_RING))) > 0) & ~near
    if not ring.any():
        return p
    a[near] = np.median(a[ring], axis=0).astype(np.uint8)
    block = look_wider(Image.fromarray(a), model, settings, side)
    return np.where(inside > 0, np.minimum(block, 1.0 - p), block)


def run_outs(work_rgb: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Parts of the product the model saw only faintly where they run out of the frame (a
    chair's legs cut by the photo's bottom, 0.2-0.45 at the edge), on a plain backdrop, as
    pixels to make product: faint pixels (RUN_FAINT < p <= 0.5) held to the outline (p > 0.5)
    that reach the frame's edge RAMP px or more from it (not the soft edge of a product the
    frame cuts where the model is sure), whose colour is the product's next to them (within
    RING_APART) and clearly apart from the backdrop's (a colour wheel the model half saw beside a
    bag is not the bag's). A product cut by the frame is kept
    whole; one inside the frame has no faint pixel at the edge, and the step costs one look."""
    import cv2
    from scipy import ndimage

    sure = p > 0.5
    faint = (p > RUN_FAINT) & ~sure
    if not _border(faint).any() or not sure.any():
        return np.zeros(p.shape, bool)
    middle = _plain_backdrop(work_rgb, p)
    if middle is None:
        return np.zeros(p.shape, bool)
    off = ndimage.distance_transform_edt(~sure) > RAMP  # off the outline's own soft edge
    _, labels = cv2.connectedComponents((faint | sure).view(np.uint8), connectivity=8)
    out = _border(labels)[_border(faint & off)]
    held = np.intersect1d(np.unique(labels[sure]), out)
    parts = faint & off & np.isin(labels, held[held > 0])
    if not parts.any():
        return np.zeros(p.shape, bool)
    like = _like_product(work_rgb, sure, middle)
    if like is None:
        return np.zeros(p.shape, bool)
    grown = parts & like
    # the run-out's own stretch next to the outline, to close the gap to it
    grown |= cv2.dilate(grown.view(np.uint8), _disk(RAMP + 1)).view(bool) & faint & like
    return grown


def colour_outs(work_rgb: np.ndarray, p: np.ndarray) -> np.ndarray:
    """For a map with parts running out of the frame (`run_outs`), an outline reaching the
    frame's edge, or an undecided map, on a plain backdrop: the parts of the product the model
    did not see at all where they run out of the frame (a chair filling the frame whose posts
    and legs it lost, p < 0.05, holding only its seat), as pixels to make product: pixels of
    the product's colour next to them and clearly apart from the backdrop's (`_like_product`),
    held to the outline (p > 0.5) through pixels of that colour, and reaching the frame's edge.
    What the model missed inside the frame is no run-out and stays as it is."""
    import cv2

    sure = p > 0.5
    middle = _plain_backdrop(work_rgb, p) if sure.any() else None
    if middle is None:
        return np.zeros(p.shape, bool)
    like = _like_product(work_rgb, sure, middle)
    if like is None:
        return np.zeros(p.shape, bool)
    more = like & ~sure
    if not _border(more).any():
        return np.zeros(p.shape, bool)
    _, labels = cv2.connectedComponents((more | sure).view(np.uint8), connectivity=8)
    held = np.intersect1d(np.unique(labels[sure]), _border(labels)[_border(more)])
    return more & np.isin(labels, held[held > 0])


def _plain_backdrop(work_rgb: np.ndarray, p: np.ndarray) -> np.ndarray | None:
    """The median Lab colour of the frame's edge where the model saw nothing (p < RUN_FAINT),
    when BACKDROP of it or more is within RING_APART of that colour (a plain backdrop); None for
    a textured background (repairs.faint_parts' case), or a photo whose own disc or wheel fills
    the frame."""
    edge, seen = _lab(_border(work_rgb)), _border(p) >= RUN_FAINT
    if (~seen).sum() < 50:
        return None
    middle = np.median(edge[~seen], axis=0)
    plain = ~seen & (np.abs(edge - middle).sum(axis=1) < RING_APART)
    return middle if plain.mean() >= BACKDROP else None


def _like_product(work_rgb: np.ndarray, sure: np.ndarray, middle: np.ndarray) -> np.ndarray | None:
    """Pixels whose colour is the product's nearest own colour (a pixel of the outline clearly
    apart from the backdrop, not its mixed edge), within RING_APART, and clearly apart from the
    backdrop's `middle`; None when the outline has no such colour."""
    from scipy import ndimage

    lab = _lab(np.ascontiguousarray(work_rgb).reshape(-1, 3)).reshape(sure.shape + (3,))
    to_back = np.abs(lab - middle).sum(axis=2)
    own = sure & (to_back > RING_APART)
    if not own.any():
        return None
    _, (iy, ix) = ndimage.distance_transform_edt(~own, return_indices=True)
    to_product = np.abs(lab - lab[iy, ix]).sum(axis=2)
    return (to_product < RING_APART) & (to_back > RING_APART)


def apply(work: Image.Image, p: np.ndarray, model: str, settings, side: int) -> np.ndarray:
    """p, or the alpha from a wider framing where p is doubtful and that one is not (or, where
    that one still outlines what the product encloses, `look_filled`'s); with the parts that run
    out of the frame made product: faint ones (`run_outs`) and, where there are such, or the
    outline reaches the frame's edge, or the map kept is still undecided, those of the
    product's colour (`colour_outs`; on a busy photo it stops at its backdrop test, < 1 ms)."""
    from .qa import uncertainty

    work_rgb = np.asarray(work)
    undecided = uncertainty(p)
    why = doubtful(work_rgb, p, undecided)
    if why:
        wider = look_wider(work, model, settings, side)
        if better(work_rgb, p, wider, why):
            p, undecided = wider, uncertainty(wider)
        else:
            p, undecided = _enclosed(
                work, work_rgb, p, undecided, wider, why, (model, settings, side)
            )
    grown = np.zeros(p.shape, bool) if undecided > UNDECIDED else run_outs(work_rgb, p)
    # the product runs out of the frame, or may: its outline reaches the frame's edge
    if undecided > UNDECIDED or grown.any() or _border(p).max() > 0.5:
        grown |= colour_outs(work_rgb, p)
    if not grown.any():
        return p
    p = p.copy()
    p[grown] = 1.0
    return p
