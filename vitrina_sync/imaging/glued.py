"""Glued pieces: a thick piece of another object the model half believed, glued to the
product's outline where it juts out of the product's sure body (issue 16: aspect drift).

The steps before this one ask whether a piece looks like the background (openings, strays,
outgrowths); a piece of a third object glued on in colours near the product's (a moon's bright
streak beside a grey bottle's neck, a coin under its base, a cat's pupil beside a dark frame, a
cat's nose at a red box's corner) passes them, stretches the product's box and so its aspect
(0.05-0.13 on the ground-truth sets). Three things still tell it from the product, on the work
map after the steps:

- doubt: the model is sure (p >= SURE) of the product's body; the glued piece it kept as
  product (p > 0.5) but never sure, thick (at least DEEP of the long side deep once an opening
  of OPEN took the soft edge away: a strap, a handle, a chair's thin leg are not);
- jutting: OUT_OF_HULL of the piece or more lies outside the convex hull of the body (a
  printed label, the fog in a chair back's gaps lie inside it);
- seam: the photo steps over SEAM CIELAB units from the body into the piece, read 2-6 px
  either side of their border (a grey bottle's doubted base on a grey sweep, a chair's doubted
  leg continue the body's colour: under 1).

Such a piece, with the doubtful rim it holds (not the body's own soft edge, BODY_RIM px: the
refinement settles that on the source), and what its clearing parts from the body, is cleared. QA's `foreign_part`
(imaging/joined_parts.py) judges the finished alpha by the same signs; this clears what the
work map shows before the refinement settles it.
"""

from __future__ import annotations

import numpy as np

SURE = 0.97  # work-map p at or over this is the product's sure body
OPEN = 0.005  # of the work map's long side: the opening that takes the soft edge away (3 px)
DEEP = 0.008  # of the long side: the least depth of a glued piece (5 px of a 640 px map)
BODY_PART = 0.1  # a sure piece under this share of the largest is no part of the body
OUT_OF_HULL = 0.5  # the least share of a piece outside the body's convex hull
SEAM = 4.0  # CIELAB: the least step from the body into the piece
SEAM_NEAR, SEAM_FAR = 2, 6  # px either side of the border the step is read between
MOST = 0.3  # the most of the outlined product the pieces may be
BODY_RIM = 3  # px of the body's soft edge never cleared
LEAST_SIDE = 5  # px: a border shorter than this is not read (no seam: not cleared)


def pieces(work_rgb: np.ndarray, p: np.ndarray, keep=None, made=None) -> np.ndarray:
    """The work map's pixels to clear: the glued pieces (see the module) with the doubtful rim
    around them and the soft remains they leave. keep: a reviewer's keep mask, never cleared.
    made: pixels the steps before made product where the model hardly saw any (p <= 0.5 in its
    own map, 1 now: repairs' faint parts); the model never was sure of them, so they are
    doubt, never body (a cat's nose at a red box's corner, grown as the box's colour)."""
    import cv2

    from .joined_parts import out_of_hull, thick_parts
    from .openings import _disk, components, fill_holes, grow, lab

    none = np.zeros(p.shape, bool)
    product = p > 0.5
    opened = max(1, round(OPEN * max(p.shape)))
    sure_p = p >= SURE
    if made is not None:
        sure_p &= ~made
    sure = cv2.morphologyEx(sure_p.view(np.uint8), cv2.MORPH_OPEN, _disk(1))
    doubt = product & (sure == 0)
    found = thick_parts(doubt, opened, DEEP)
    if found is None or not sure.any():  # most outputs: sure up to a thin soft edge
        return none
    labels, deep = found
    # the body: the sure pieces of some size (a speck of sure background far off is none)
    _, parts, size = components(sure.view(bool))
    size[0] = 0
    body = (size >= BODY_PART * size.max())[parts]
    jutting, _ = out_of_hull(labels, deep, body, OUT_OF_HULL)
    colours = None
    clear = np.zeros(p.shape, bool)
    for i in np.flatnonzero(jutting):
        piece = labels == i
        body_side = body & grow(piece, SEAM_FAR) & ~grow(piece, SEAM_NEAR)
        piece_side = piece & grow(body, SEAM_FAR) & ~grow(body, SEAM_NEAR)
        if body_side.sum() < LEAST_SIDE or piece_side.sum() < LEAST_SIDE:
            continue  # not met by the body: nothing to read a seam on
        if colours is None:
            colours = lab(work_rgb)
        step = colours[body_side].mean(axis=0) - colours[piece_side].mean(axis=0)
        if float(np.linalg.norm(step)) > SEAM:
            clear |= piece
    if not clear.any():
        return none
    near = grow(clear, opened + 1)
    rim = grow(body, BODY_RIM)  # the body's own soft edge is the refinement's to settle
    clear = near & doubt & ~rim  # with the rim the opening took off it
    # the piece's soft remains (0 < p <= 0.5: its faint outline, a highlight in it the model
    # half saw): left, the refinement's guide grows them back where the piece's colour is near
    # the product's (a cat's pupil at a dark frame's side, 7 work px of it again)
    remains = near & (p > 0.0) & ~product & ~rim
    clear |= (fill_holes(clear | remains) & ~product & ~rim & (p > 0.0)) | remains
    # what the clearing parted from the body (specks of the piece past the opening's reach)
    n, left = cv2.connectedComponents((product & ~clear).view(np.uint8))
    held = np.zeros(n, bool)
    held[left[body]] = True
    near = np.zeros(n, bool)
    near[left[grow(clear, opened + 2)]] = True
    clear |= (near & ~held)[left] & (left > 0)
    if keep is not None:
        clear &= ~keep
    taken = int((clear & product).sum())  # the soft remains are no part of the outline
    if taken > MOST * product.sum():  # no glued piece: the body the model was sure of is
        return none  # a small part of what it outlined (another object's, a busy photo's)
    return clear


def without_pieces(work_rgb: np.ndarray, p: np.ndarray, keep=None, made=None) -> np.ndarray:
    """p with the glued pieces cleared (a copy where any is; p itself where none)."""
    clear = pieces(work_rgb, p, keep, made)
    if not clear.any():
        return p
    p = p.copy()
    p[clear] = 0.0
    return p
