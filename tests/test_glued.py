"""imaging.glued: thick pieces of another object the model half believed, glued to the
product where they jut out of its sure body at a colour seam, are cleared; the product's own
doubted parts (no seam, thin, inside the body's hull) are not."""

from __future__ import annotations

import numpy as np

from vitrina_sync.imaging import glued, steps

H, W = 480, 360
GREY, LIGHT, BACKDROP = (110, 110, 110), (190, 185, 175), (60, 90, 140)


def _work(piece_colour, piece_p=0.8, piece=(slice(120, 170), slice(250, 300))):
    """A grey bottle-like body the model is sure of (p 1) on a blue backdrop, with a piece
    joined to its right side (rows 120-170, columns 250-300: outside the body's hull) that the
    model half believed (piece_p), in piece_colour."""
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:] = BACKDROP
    p = np.zeros((H, W), np.float32)
    rgb[60:420, 120:250] = GREY
    p[60:420, 120:250] = 1.0
    rgb[piece] = piece_colour
    p[piece] = piece_p
    return rgb, p


def test_a_glued_piece_in_another_colour_is_cleared():
    rgb, p = _work(LIGHT)
    clear = glued.pieces(rgb, p)
    piece = np.zeros(p.shape, bool)
    piece[120:170, 253:300] = True  # the piece past the body's own soft edge
    assert clear[piece].mean() > 0.95
    assert not clear[60:420, 120:247].any()  # the body is never touched
    out = glued.without_pieces(rgb, p)
    assert (out[120:170, 255:300] == 0.0).all()
    assert (out[60:420, 120:250] == 1.0).all()


def test_the_products_own_doubted_part_is_kept():
    """The same piece in the body's colour (a grey bottle's doubted shoulder on the sweep): no
    seam, the product continues into it."""
    rgb, p = _work(GREY)
    assert not glued.pieces(rgb, p).any()


def test_a_sure_part_is_kept():
    """A part jutting out in another colour that the model was sure of (a product's real
    second-colour part: a handle, a cap)."""
    rgb, p = _work(LIGHT, piece_p=1.0)
    assert not glued.pieces(rgb, p).any()


def test_a_thin_doubted_strap_is_kept():
    """A strap 4 px wide in another colour, half believed: not thick, not cleared."""
    rgb, p = _work(LIGHT, piece=(slice(100, 300), slice(250, 254)))
    assert not glued.pieces(rgb, p).any()


def test_a_doubted_panel_inside_the_body_is_kept():
    """A doubted label inside the body's hull (a printed panel) is not glued on."""
    rgb, p = _work(LIGHT, piece=(slice(150, 250), slice(150, 220)))
    assert not glued.pieces(rgb, p).any()


def test_nothing_cleared_when_the_sure_body_is_a_small_part():
    """A model sure of only a small part of what it outlined (a busy photo's other object): the
    pieces would be most of the product, nothing is cleared."""
    rgb, p = _work(LIGHT, piece=(slice(60, 420), slice(250, 340)))
    p[60:420, 120:250] = 0.8
    p[200:260, 150:200] = 1.0
    assert not glued.pieces(rgb, p).any()


def test_keep_and_preset():
    rgb, p = _work(LIGHT)
    keep = np.zeros(p.shape, bool)
    keep[100:200, 240:320] = True
    assert not glued.pieces(rgb, p, keep).any()
    on = steps._finished(rgb, p, {})
    off = steps._finished(rgb, p, {"glued": False})
    assert (on[130:160, 260:290] == 0.0).all()
    assert (off[130:160, 260:290] == np.float32(0.8)).all()


def test_a_piece_the_steps_made_product_is_doubt():
    """A piece the steps made product (repairs' faint parts: p 1 now, the model hardly saw it)
    in another colour, jutting out at a seam (a cat's nose grown at a red box's corner): the
    model never was sure of it, so it is cleared; the same piece the model itself was sure of
    (a real cap or handle) is kept."""
    rgb, p = _work(LIGHT, piece_p=1.0)
    made = np.zeros(p.shape, bool)
    made[120:170, 250:300] = True
    clear = glued.pieces(rgb, p, made=made)
    assert clear[120:170, 253:300].mean() > 0.95
    assert not clear[60:420, 120:247].any()
    assert not glued.pieces(rgb, p).any()  # not made: the model's own sure part
    on = steps._finished(rgb, p, {}, made=made)
    assert (on[125:165, 260:295] == 0.0).all() and (on[60:420, 120:250] == 1.0).all()


def test_made_parts_of_the_products_own_look_are_kept():
    """What the steps made product must stay where it is the product's: a grown part in the
    body's own colour (a chair's leg on brick: no seam), a thin grown strap in another colour
    (not thick), a made patch inside the body's hull (a label)."""
    for colour, piece in (
        (GREY, (slice(120, 170), slice(250, 300))),
        (LIGHT, (slice(100, 300), slice(250, 254))),
        (LIGHT, (slice(150, 250), slice(150, 220))),
    ):
        rgb, p = _work(colour, piece_p=1.0, piece=piece)
        made = np.zeros(p.shape, bool)
        made[piece] = True
        assert not glued.pieces(rgb, p, made=made).any()


def _with_soft_remains():
    """The glued piece with the model's soft remains: a faint outline (p 0.3) around it and a
    half-seen highlight (p 0.4) inside it; the body's own soft edge (p 0.3, 2 px) all round."""
    rgb, p = _work(LIGHT)
    p[58:60, 118:252] = p[420:422, 118:252] = 0.3
    p[60:420, 118:120] = p[60:420, 250:252] = 0.3
    p[118:120, 250:302] = p[170:172, 250:302] = 0.3
    p[120:170, 300:302] = 0.3
    rgb[135:150, 270:285] = (235, 235, 235)
    p[135:150, 270:285] = 0.4
    return rgb, p


def test_a_cleared_pieces_soft_remains_go_with_it():
    """Left soft, the refinement's guide grows a cleared piece's remains back (a cat's pupil at a
    dark frame's side): its faint outline and the highlight inside it are cleared with it."""
    rgb, p = _with_soft_remains()
    out = glued.without_pieces(rgb, p)
    assert (out[135:150, 270:285] == 0.0).all()  # the highlight inside it
    # the piece and its outline, but for the outline's far corners (past the opened piece's reach)
    assert (out[118:172, 256:302] == 0.0).mean() > 0.99
    assert (out[60:420, 120:250] == 1.0).all()  # the body
    # the body's own soft edge away from the piece is the refinement's: untouched
    assert (out[200:420, 118:120] == np.float32(0.3)).all()
    assert (out[200:420, 250:252] == np.float32(0.3)).all()
    assert (out[58:60, 118:252] == np.float32(0.3)).all()


def test_soft_edge_kept_where_no_piece_is_cleared():
    """The product's own doubted part (no seam) with the same soft outline and a lower-contrast
    patch in it: nothing is cleared, the soft pixels stay for the refinement."""
    rgb, p = _with_soft_remains()
    rgb[120:170, 250:300] = GREY
    rgb[135:150, 270:285] = (100, 100, 100)  # a genuinely lower-contrast part of the product
    assert not glued.pieces(rgb, p).any()
