"""The product apart from another object of a busy photo that the model took with it.

A salient-object model (u2netp) outlines whatever stands out, and on a busy photo that is also a
coffee cup behind a box, at the same confidence as the product (p = 1.0 on both; their colours
do not part them either: the cup's white rim is the box label's white). What does part them is
where they stand: a seller puts the product in the middle of the frame, whole, while the other
object is off to a side, and the model itself drops an object that a crop cuts (a salient
object is whole inside its picture). So when the model's outline reaches out of the frame's
middle, the model looks again at the middle alone; if what it outlines there is whole inside
it (touches none of its sides), that is the product, and what it leaves out is the other
object.

One more run of the model (~0.3 s of CPU) on such a photo, whatever it finds: one crop, not a
series of narrower ones (a series took the mug on coffee and astronaut photos too, IoU 0.52 ->
0.91 and 0.71 -> 0.96, at 2.4 runs per photo whose outline reaches out). So it runs only where
the first outline says the crop will part the objects (`promising`): another piece across the
crop's side while the piece in the frame's middle stays inside it, or an object joined to the
product that rises above it across the crop's top and reaches out nowhere else; and where the
colours agree (`parted_by_colour`): what rises above is not of the product's colour (a white cup
behind a white mug is one whole on the crop too), or a part of the product's piece has the
colour of the pieces apart (the cat's other eye, joined to a ring; where none has, the strays
step takes the pieces apart). On the speed benchmark's 96 photos (bench/bench_white.py, project
and held-out) it runs on 6 (20 before `promising`, 9 before `parted_by_colour`), all among the
48 project photos (a third of them busy), and finds the product on all 6: one more model run
each, ~+5% CPU per photo there. With 9 runs the job path measured +19-23% of the base's
seconds per photo with it on, against +14% with it off and a +15% budget, so it stays off by
default (preset `subject`). Where the crop would not part them it does not run: the astronaut's
face stays salient when the crop cuts it, a saucer or a table running down the frame's sides
stays too.

Where that crop does not run, `centred_look` may (still one look per photo at most): the model
on the outline's box made even about the frame's centre (each side cut to the nearer one's
offset), where the outline's piece in the middle reaches beyond it by EVEN_OUT in colours the
product's core lacks (RISE_DE, EVEN_SAME) and touches no side of the frame. It takes the
astronaut's head off a bottle and a mug (bench_masks --set tune --subject: 0.733 -> 1.000,
0.709 -> 0.959; tune 0.921 -> 0.933; every other set as before) and runs on 4 more of the 96
speed photos (10 in all, all project photos; 0 of the 48 held-out ones; ~3 ms where it does not
run). A product placed off the centre, a kit or a handle keeps every part: the colours are the
product's (no look), or the crop cuts the product and its outline there is not whole.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .openings import fill_holes, grow, joined_to
from .reframe import _lab  # 8-bit CIELAB (L in 0-255) of n x 3 RGB pixels

SHARE = 0.85  # the crop: each side's share of the frame, around its centre
INVENTED = 0.05  # the most share of the crop's outline outside the first outline (grown 3 px)
ENCLOSED = 0.9  # the most share of the crop outline's rim (2 px) on the first outline
OFF_CENTRE = 0.03  # an outline's box off the frame's centre under this is one product's
# (another object taken with the product shifts it to its side: 0.045-0.24 where the crop found
# the product on the sets; a ring on the astronaut photo, taken whole: 0.015)
CENTRE = 1 / 3  # the frame's middle (each side's share) where the product is
CENTRE_KEPT = 0.5  # the least share of the first outline there that the crop's outline keeps
RISES = (0.4, 0.75)  # the outline's crossing of the crop's top (share of its width) where an
# object behind the product rises above it (a cup behind a box: 0.46; a head on the astronaut
# photo, which the crop does not part: 0.32; a close-up filling the frame: 0.82-0.90)
RISE_DE = 40.0  # the least colour difference (8-bit CIELAB, L in 0-255) between what rises above
# the crop and the outline in the frame's middle where the crop parts them (a cup's white rim
# behind a red box or a green bottle: 84-91; behind a white mug, which the crop keeps with the
# mug: 6.5; a chair's dark top on printed text: 15.5, kept too)
EVEN_PAD = 0.05  # centred_look's crop: the even box padded by this share of its long side
EVEN_OUT = 0.05  # the least share of the outline beyond that crop where centred_look runs
EVEN_SAME = 0.75  # the most share of what reaches out in the colours of the product's core
# (the even box shrunk by its pad) where centred_look runs (a head above a bottle or a mug on the
# astronaut photo: 0.57, 0.24; a frame or a hoop placed off the centre: 0.86-1.00)
COLOUR_MIN = 0.002  # a colour cube holding this share of the product's core is the product's
JOINED_DE = 30.0  # a pixel of the product's piece within this of the pieces apart has their colour
JOINED_SHARE = 0.02  # the least share of such pixels where the crop drops a joined part (the
# cat's other eye by a ring or a frame: 0.076-0.080; a red box or scissors beside a cat's eye or a
# cell, where the crop found nothing more than the strays step: 0.005, 0.000)


def centred(shape, share: float) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the frame's central part, `share` of each side."""
    h, w = shape
    ch, cw = round(h * share), round(w * share)
    t, l = (h - ch) // 2, (w - cw) // 2
    return l, t, l + cw, t + ch


def apart(rgb: np.ndarray, p: np.ndarray, model: str, keep=None) -> np.ndarray:
    """Pixels of p (the model's alpha on the work copy rgb) that are another object: when the
    outline (p > 0.5) reaches out of the central crop (SHARE) and the model's outline on that
    crop alone is the product (_whole), the first outline's pieces across the crop's sides
    outside it (with their soft pixels) and inside it what the crop's outline leaves out.
    Nothing when the outline lies inside the crop (the usual case: nothing runs) or its box is
    centred on the frame (OFF_CENTRE: a large product, not another object; nothing runs
    either), when the crop's outline is not the product (a product filling the frame or cut
    by it: it touches the crop's sides), when a `keep` stroke lies outside the crop, or when
    what is left would be under steps.LEAST_LEFT of the outline. Separate pieces wholly
    outside the crop stay (the second item of a kit at the frame's corner). The model runs only
    where the outline is `promising`; elsewhere centred_look may run it once instead."""
    product = p > 0.5
    none = np.zeros(p.shape, bool)
    if not product.any() or _off_centre(product) < OFF_CENTRE:
        return none  # a large product, centred: what reaches out is its own
    looked: list = []
    other = _middle_crop(rgb, p, model, keep, looked)
    if other is None and not looked:  # one look at most: the first crop's, where it ran
        other = centred_look(rgb, p, model, keep)
    return none if other is None else other


def _middle_crop(rgb: np.ndarray, p: np.ndarray, model: str, keep, looked: list):
    """apart's first look: the model on the frame's central SHARE (`looked` gets an item where
    it runs); None where it does not run or finds no product whole there."""
    import cv2

    product = p > 0.5
    l, t, r, b = centred(p.shape, SHARE)
    if not (product[:t].any() or product[b:].any() or product[:, :l].any() or product[:, r:].any()):
        return None
    inside = np.zeros(p.shape, bool)
    inside[t:b, l:r] = True
    if keep is not None and (keep & ~inside).any():
        return None
    n, labels = cv2.connectedComponents(product.view(np.uint8), connectivity=8)
    within = np.bincount(labels[t:b, l:r].ravel(), minlength=n)  # per piece, its px in the crop
    within[0] = 0
    if not ((within > 0) & (np.bincount(labels.ravel(), minlength=n) > within)).any():
        return None  # only separate pieces outside: the strays step's
    if not promising(product, labels, (l, t, r, b)) or not parted_by_colour(
        rgb, product, labels, (l, t, r, b)
    ):
        return None
    across = (within > 0)[labels]  # the pieces the crop's side cuts, and those inside it
    looked.append(1)
    crop = _whole_look(rgb, across, model, (l, t, r, b))
    if crop is None:
        return None
    other = ~inside & ~grow(~inside & product & ~across, 2) & (p > 0.0)
    other[t:b, l:r] = product[t:b, l:r] & ~crop
    if keep is not None:
        other &= ~keep
    from .steps import LEAST_LEFT

    if fill_holes(product & ~other).sum() < LEAST_LEFT * fill_holes(product).sum():
        return None
    return other


def centred_look(rgb: np.ndarray, p: np.ndarray, model: str, keep=None) -> np.ndarray | None:
    """apart's second look, where the first finds nothing: the model on the outline's box made
    even about the frame's centre (`_even_box`: each side cut to the nearer of its two
    opposite offsets; a seller centres the product, the other object is what makes the outline
    lopsided), padded by EVEN_PAD of its long side. The pixels of the outline's pieces joined to
    what the crop's outline finds whole there (_whole) that it leaves out, with their soft
    pixels outside the crop; None where it does not run (under EVEN_OUT of the outline beyond
    the crop, a keep stroke beyond it, or the outline touching the frame's sides there) or the
    crop's outline is not a product. Separate pieces stay (a kit's second item: the strays
    step's), and a product placed off-centre is cut by the crop: its outline there touches the
    crop's side and nothing is dropped."""
    import cv2

    from .steps import LEAST_LEFT

    product = p > 0.5
    if product[0].any() or product[-1].any() or product[:, 0].any() or product[:, -1].any():
        return None  # a product the frame cuts, or another object running off it: not parted
    _, labels = cv2.connectedComponents(product.view(np.uint8), connectivity=8)
    central = _central(labels)
    if central is None:
        return None
    h, w = p.shape
    l, t, r, b = _even_box(central)
    m = round(EVEN_PAD * max(r - l, b - t))
    l, t, r, b = max(0, l - m), max(0, t - m), min(w, r + m), min(h, b + m)
    if r - l < 32 or b - t < 32:
        return None
    inside = np.zeros(p.shape, bool)
    inside[t:b, l:r] = True
    beyond = central & ~inside
    if beyond.sum() < EVEN_OUT * central.sum():
        return None  # what reaches out is a separate piece (the strays step's) or little
    if keep is not None and (keep & ~inside).any():
        return None
    ml, mt, mr, mb = centred(p.shape, CENTRE)
    middle = rgb[mt:mb, ml:mr][product[mt:mb, ml:mr]]
    if not len(middle):
        return None
    de = np.linalg.norm(_lab(rgb[beyond]).mean(axis=0) - _lab(middle).mean(axis=0))
    if de < RISE_DE:
        return None  # what reaches out has the product's colour: a handle, a part placed aside
    core = np.zeros(p.shape, bool)
    core[t + 2 * m : b - 2 * m, l + 2 * m : r - 2 * m] = True  # the even box, shrunk by its pad
    if _in_colours(rgb[beyond], rgb[central & core]) >= EVEN_SAME:
        return None  # its colours are the product's (a frame placed aside: its middle is open)
    crop = _whole_look(rgb, product, model, (l, t, r, b))
    if crop is None:
        return None
    found = np.zeros(p.shape, bool)
    found[t:b, l:r] = crop
    joined = joined_to(product, found & product)  # the outline's pieces the crop's outline holds
    if not (joined & beyond).any():
        return None
    other = ~inside & grow(joined & ~inside, 2) & (p > 0.0)
    other[t:b, l:r] = (joined & ~found)[t:b, l:r]
    if keep is not None:
        other &= ~keep
    if fill_holes(product & ~other).sum() < LEAST_LEFT * fill_holes(product).sum():
        return None
    return other


def _in_colours(pixels: np.ndarray, of: np.ndarray) -> float:
    """The share of `pixels` (n x 3 RGB) whose colour (8-bit CIELAB in cubes of 16) is one of
    `of`'s: a cube holding at least COLOUR_MIN of its pixels."""
    if not len(pixels) or not len(of):
        return 1.0
    return float(_known_colours(of)[_cubes(pixels)].mean())


def _cubes(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's colour cube (8-bit CIELAB in cubes of 16, numbered 0-4095)."""
    return (_lab(pixels).astype(np.int32) // 16) @ np.array([256, 16, 1])


def _known_colours(of: np.ndarray) -> np.ndarray:
    """Per colour cube, whether it holds at least COLOUR_MIN of `of`'s pixels (n x 3 RGB)."""
    return np.bincount(_cubes(of), minlength=4096) >= COLOUR_MIN * len(of)


def _even_box(product: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the outline's box made even about the frame's centre:
    along each axis, both sides at the smaller of its two offsets from the centre."""
    h, w = product.shape
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    dv = max(0.0, min(h / 2 - rows[0], rows[-1] + 1 - h / 2))
    dh = max(0.0, min(w / 2 - cols[0], cols[-1] + 1 - w / 2))
    return (
        int(np.floor(w / 2 - dh)),
        int(np.floor(h / 2 - dv)),
        int(np.ceil(w / 2 + dh)),
        int(np.ceil(h / 2 + dv)),
    )


def promising(product: np.ndarray, labels: np.ndarray, box) -> bool:
    """Whether the crop is worth the model's run: the outline (p > 0.5, its 8-connected
    `labels`) reaches out of the crop `box` as another object does that the crop will part.
    Either a piece of its own (the piece holding the frame's middle stays inside the crop,
    another one across the crop's side reaches out: a cat's eye beside a box), or the object
    behind the product rising above it, joined to it: all that lies outside the crop lies above
    it, and the outline crosses the crop's top over RISES of its width (narrower: a part of
    the product or a head, which the model keeps when the crop cuts it; wider: a product that
    fills the frame). What also reaches out at a side or below (a saucer, a table or the
    product's own legs running down the frame) stays in the crop's outline too."""
    l, t, r, b = box
    central = _central(labels)
    if central is None:
        return False  # nothing in the frame's middle: no product there for the crop to find
    central[t:b, l:r] = False
    if not central.any():
        return True  # another piece reaches out: the frame's middle one stays inside
    if product[b:].any() or product[t:b, :l].any() or product[t:b, r:].any():
        return False
    top = np.flatnonzero(product[t, l:r])
    return len(top) > 0 and bool(RISES[0] <= (top[-1] + 1 - top[0]) / (r - l) <= RISES[1])


def parted_by_colour(rgb: np.ndarray, product: np.ndarray, labels: np.ndarray, box) -> bool:
    """Whether the colours say the model's run on the crop `box` would part another object from
    the product, on an outline `promising` (8-connected `labels`): what rises above the crop
    differs from the product (_rises_apart), or the product's piece has a part of the colour
    of the pieces apart across the crop's side (_joined_part). True where no piece holds the
    frame's middle (the crop decides)."""
    central = _central(labels)
    if central is None:
        return True
    l, t, r, b = box
    outside = central.copy()
    outside[t:b, l:r] = False
    if outside.any():  # promising's second case: it rises above the crop
        return _rises_apart(rgb, product, central, t)
    return _joined_part(rgb, product, labels, central, box)


def _rises_apart(rgb: np.ndarray, product: np.ndarray, central: np.ndarray, top: int) -> bool:
    """What the product's piece has above the crop's `top` differs by RISE_DE (mean colours)
    from the outline in the frame's middle: an object of the product's colour is one salient
    whole with it on the crop too (a white cup behind a white mug)."""
    ml, mt, mr, mb = centred(product.shape, CENTRE)
    above, middle = rgb[:top][central[:top]], rgb[mt:mb, ml:mr][product[mt:mb, ml:mr]]
    return float(np.linalg.norm(_lab(above).mean(axis=0) - _lab(middle).mean(axis=0))) >= RISE_DE


def _joined_part(rgb: np.ndarray, product, labels, central, box) -> bool:
    """JOINED_SHARE of the product's piece (`central`) lies within JOINED_DE of the mean colour
    of the pieces apart that reach out of the crop `box`: a part of their object joined to the
    product, which the crop drops (the cat's other eye by the ring). Where none is, the pieces
    apart are the strays step's and the crop finds nothing more (a cat's eye beside a red box,
    a cell beside scissors). On 1 px in 4 (a share; ~2 ms, ~15 on every pixel)."""
    l, t, r, b = box
    beyond = product.copy()
    beyond[t:b, l:r] = False
    pieces = np.zeros(labels.max() + 1, bool)
    pieces[labels[beyond]] = True
    pieces[labels[central][0]] = False
    rgb, labels, central = rgb[::2, ::2], labels[::2, ::2], central[::2, ::2]
    apart = rgb[pieces[labels]]
    if not len(apart):
        return True  # pieces apart too small to tell their colour: the crop decides
    near = np.square(_lab(rgb[central]) - _lab(apart).mean(axis=0)).sum(axis=1) < JOINED_DE**2
    return bool(near.mean() >= JOINED_SHARE)


def _central(labels: np.ndarray) -> np.ndarray | None:
    """The outline's piece (8-connected `labels`) holding most of the frame's middle (CENTRE),
    or None where none of the outline lies there."""
    ml, mt, mr, mb = centred(labels.shape, CENTRE)
    middle = np.bincount(labels[mt:mb, ml:mr].ravel(), minlength=2)
    middle[0] = 0
    if not middle.any():
        return None
    return labels == middle.argmax()


def _off_centre(product: np.ndarray) -> float:
    """How far the outline's box is off the frame's centre: the larger of its centre's
    offsets along each axis, each over the box's size along it."""
    off = 0.0
    for axis in (0, 1):
        idx = np.flatnonzero(product.any(axis=1 - axis))
        lo, hi = idx[0], idx[-1] + 1
        off = max(off, abs((lo + hi) - product.shape[axis]) / 2 / (hi - lo))
    return off


def _middle(shape, box) -> tuple[slice, slice]:
    """The frame's middle (CENTRE), in the crop's coordinates."""
    l, t, r, b = centred(shape, CENTRE)
    return slice(t - box[1], b - box[1]), slice(l - box[0], r - box[0])


def _whole(crop: np.ndarray, first: np.ndarray, middle) -> bool:
    """The crop's outline is a product: it touches none of the crop's sides, the first outline
    holds under ENCLOSED of its rim, it keeps (openings filled) CENTRE_KEPT of the first
    outline in the frame's middle (not a part of the other object, also whole in the crop),
    is at least steps.LEAST_LEFT of the first outline in the crop, and lies (but for
    INVENTED) on it."""
    from .steps import LEAST_LEFT

    if not crop.any() or crop[0].any() or crop[-1].any() or crop[:, 0].any() or crop[:, -1].any():
        return False
    rim = grow(crop, 2) & ~crop
    if (rim & first).sum() > ENCLOSED * rim.sum():
        return False  # inside what it drops: an opening of the product (a ring's), not it
    filled = fill_holes(crop)
    there = first[middle]
    if (filled[middle] & there).sum() < CENTRE_KEPT * there.sum():
        return False
    if filled.sum() < LEAST_LEFT * fill_holes(first).sum():
        return False
    return (crop & ~grow(first, 3)).sum() <= INVENTED * crop.sum()


def _whole_look(rgb: np.ndarray, first: np.ndarray, model: str, box) -> np.ndarray | None:
    """The model's outline (bool) on the crop `box` (l, t, r, b) of rgb, where it is a product
    (_whole against `first`, the first outline's pieces in question); None otherwise or
    without the model."""
    l, t, r, b = box
    crop = _predict(rgb[t:b, l:r], model)
    if crop is None:
        return None
    crop = crop > 0.5
    return crop if _whole(crop, first[t:b, l:r], _middle(first.shape, box)) else None


def _predict(rgb: np.ndarray, model: str) -> np.ndarray | None:
    """The model's alpha on rgb (its own size), or None without the model. At the model's own
    320 px: on a smaller input (the graph made shape-free, 160-288 px: 0.3-0.8 of the CPU) the
    crop's outline keeps the cup on the box-on-coffee photo and the cat's eye by the ring, and
    the gains are lost (box-on-coffee 1.000 -> 0.666 at 288 px, ring-on-chelsea 0.997 -> 0.915).
    The map comes back at rgb's own size whatever the preset's work size: a crop of a 1024 px
    work copy (white.isnet, white.birefnet) is not reduced to 640 px first (that map, of another
    shape than the crop, broke inner.look on bottle-on-coffee)."""
    from ..errors import ModelMissing
    from . import cutout

    side = max(rgb.shape[:2])  # no reduction: predict_work reduces only past `side`
    try:
        _, p = cutout.predict_work(Image.fromarray(np.ascontiguousarray(rgb)), model, None, side)
    except ModelMissing:
        return None
    return p
