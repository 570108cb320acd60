"""imaging.thin_parts: thin parts the model saw faintly and the cut dropped (a bag's straps on a
shop shelf) are given back; lines of the backdrop, blocks of the product's colour, openings and
parts already kept are not. Maps are drawn here as the model answers on such photos (straps at
p 0.1-0.3 with a stronger piece, the packs' edges at p 0.1), at the work copy's size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vitrina_sync.imaging import thin_parts

W, H = 480, 640
BROWN, BLUE, GREY = (110, 68, 36), (40, 70, 160), (120, 120, 124)


def shelf(seed: int = 3) -> np.ndarray:
    """Rows of packs in many colours (none brown or blue) with grey shelf edges."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (W, H), (222, 222, 218))
    d = ImageDraw.Draw(img)
    for top in range(0, H, H // 4):
        x = 0
        while x < W:
            pw = int(rng.uniform(30, 70))
            c = tuple(int(v) for v in rng.choice([(200, 60, 160), (90, 200, 190), (230, 210, 60)]))
            d.rectangle((x + 2, top + 40, x + pw - 2, top + H // 4 - 8), fill=c)
            x += pw
        d.rectangle((0, top + H // 4 - 8, W, top + H // 4), fill=GREY)
    return np.asarray(img).copy()


def drawn(draw_fn, size=(W, H)) -> np.ndarray:
    m = Image.new("L", size, 0)
    draw_fn(ImageDraw.Draw(m))
    return np.asarray(m) > 0


BODY = (100, 270, 380, 540)


def straps(d) -> None:
    for x0, x1 in ((140, 230), (250, 340)):
        d.arc((x0, 90, x1, 450), 180, 360, fill=255, width=5)


def bag(rgb: np.ndarray, strap_p: float):
    """A brown bag on rgb: (rgb, p, body, straps), the straps at strap_p but for a stronger
    piece (p 0.7, an island the cut drops as a stray)."""
    body = drawn(lambda d: d.rectangle(BODY, fill=255))
    lines = drawn(straps) & ~body
    rgb = rgb.copy()
    rgb[body | lines] = BROWN
    p = np.where(body, 1.0, 0.0).astype(np.float32)
    p[lines] = strap_p
    p[lines & (np.arange(H)[:, None] < 110)] = max(strap_p, 0.7)
    return rgb, p, body, lines


def faint_edges(rgb: np.ndarray, p: np.ndarray) -> None:
    """The model's weak answer along the backdrop's edges (p 0.1), in place."""
    grey = rgb.astype(np.int16).sum(axis=2)
    edge = np.zeros(grey.shape, bool)
    edge[:, 1:] |= np.abs(np.diff(grey, axis=1)) > 60
    edge[1:, :] |= np.abs(np.diff(grey, axis=0)) > 60
    p[edge & (p < 0.1)] = 0.1


def given(rgb, p, cleared=None, strays=None) -> np.ndarray:
    cleared = np.zeros(p.shape, bool) if cleared is None else cleared
    return thin_parts.given_back(rgb, p, cleared, strays)


def test_straps_cut_off_on_a_shelf_are_given_back():
    rgb, p, body, lines = bag(shelf(), 0.2)
    faint_edges(rgb, p)
    cleared = p > 0.5  # the strong piece was cleared as a stray
    cleared &= ~body
    out = given(rgb, p, cleared, strays=cleared)
    assert out[lines].mean() > 0.9
    near = drawn(
        lambda d: [
            d.arc((x0 - 3, 87, x1 + 3, 453), 180, 360, fill=255, width=11)
            for x0, x1 in ((140, 230), (250, 340))
        ]
    )
    assert not (out & ~near).any()  # nothing of the shelf


def test_handle_cut_off_a_mug_on_texture_is_given_back():
    rgb = shelf(5)
    mug = drawn(lambda d: d.rectangle((150, 250, 330, 480), fill=255))
    handle = drawn(lambda d: d.arc((260, 290, 400, 430), 270, 90, fill=255, width=6)) & ~mug
    rgb[mug | handle] = BLUE
    p = np.where(mug, 1.0, 0.0).astype(np.float32)
    faint_edges(rgb, p)
    p[handle] = 0.25
    out = given(rgb, p)
    assert out[handle].mean() > 0.8
    assert not (
        out & ~drawn(lambda d: d.arc((256, 286, 404, 434), 270, 90, fill=255, width=14))
    ).any()


def test_what_another_step_cleared_stays_cleared():
    """The same straps taken off by a clearing step other than strays (an outgrowth, say):
    that step's word stands."""
    rgb, p, _, lines = bag(shelf(), 1.0)
    faint_edges(rgb, p)
    cleared = lines.copy()
    assert given(rgb, p, cleared, strays=np.zeros(p.shape, bool))[lines].mean() < 0.05


def test_straps_kept_give_nothing():
    rgb, p, _, _ = bag(shelf(), 1.0)
    faint_edges(rgb, p)
    assert not given(rgb, p).any()


def test_box_beside_thin_shelf_edges_gives_nothing():
    """A brown box standing on a shelf edge: the model answers faintly along the grey edges
    that leave the box on both sides (lines that leave the product, not of its colour)."""
    rgb = shelf(7)
    box = drawn(lambda d: d.rectangle((150, 200, 330, 470), fill=255))
    rgb[box] = BROWN
    p = np.where(box, 1.0, 0.0).astype(np.float32)
    faint_edges(rgb, p)
    ledge = np.zeros(p.shape, bool)
    ledge[472:478, :] = True
    rgb[ledge] = GREY
    p[ledge] = 0.3
    assert not given(rgb, p).any()


@pytest.mark.parametrize("faint_p", [0.1, 0.3])
def test_a_pack_of_the_products_colour_is_no_part(faint_p):
    """A brown pack touching a brown bag, the model's answer faint over it: a block, no line."""
    rgb, p, _, _ = bag(shelf(), 1.0)
    pack = drawn(lambda d: d.rectangle((30, 200, 99, 450), fill=255))
    rgb[pack] = BROWN
    p[pack] = faint_p
    faint_edges(rgb, p)
    assert not given(rgb, p).any()


def test_a_short_free_line_of_the_products_colour_is_no_part():
    """A fold of the backdrop in the product's colour leaving the bag for 30 px, one end free."""
    rgb = shelf(9)
    body = drawn(lambda d: d.rectangle(BODY, fill=255))
    fold = drawn(lambda d: d.line((100, 400, 70, 380), fill=255, width=5)) & ~body
    rgb[body | fold] = BROWN
    p = np.where(body, 1.0, 0.0).astype(np.float32)
    p[fold] = 0.3
    assert not given(rgb, p).any()


def test_an_opening_cleared_stays_cleared():
    """A padlock's shackle around an opening that shows a line of the product's colour faintly
    (cleared by the openings step): inside the outline, no part leaving it."""
    rgb = shelf(11)
    lock = drawn(lambda d: d.rectangle((130, 300, 350, 520), fill=255))
    shackle = drawn(lambda d: d.arc((170, 120, 310, 440), 180, 360, fill=255, width=22)) & ~lock
    inside = drawn(lambda d: d.line((240, 180, 240, 300), fill=255, width=5)) & ~lock & ~shackle
    rgb[lock | shackle | inside] = GREY
    p = np.where(lock | shackle, 1.0, 0.0).astype(np.float32)
    p[inside] = 0.3
    assert not given(rgb, p).any()


def test_nothing_faint_off_the_product_is_cheap_and_empty():
    rgb, p, _, _ = bag(shelf(), 1.0)
    out = given(rgb, p)
    assert out.shape == p.shape and not out.any()


def test_the_distance_to_the_outline_on_its_box_is_the_whole_maps():
    """given_back reads the chamfer distance to the product on the box of the product and the
    faint pixels: the same values there as on the whole map up to float rounding (OpenCV sums
    its steps, 0.955 and 1.3693, in float32 along other paths), and the same side of every
    threshold it is compared with (random blobs, the box grown by 0-40 px and cut by the map's
    sides). No sum of those steps lies within 0.016 of one: the decisions cannot differ."""
    import cv2

    rng = np.random.default_rng(5)
    for trial in range(40):
        h, w = (int(v) for v in rng.integers(40, 160, 2))
        product = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 6))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            cv2.circle(product, (x, y), int(rng.integers(1, 20)), 1, -1)
        product = product.view(bool)
        if not product.any():
            continue
        rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
        g = int(rng.integers(0, 40))
        box = (
            slice(max(0, rows[0] - g), rows[-1] + 1 + g),
            slice(max(0, cols[0] - g), cols[-1] + 1 + g),
        )
        whole = cv2.distanceTransform((~product).view(np.uint8), cv2.DIST_L2, 3)
        part = cv2.distanceTransform((~product[box]).view(np.uint8), cv2.DIST_L2, 3)
        assert np.abs(part - whole[box]).max() < 1e-4
        for bar in (thin_parts.RING, thin_parts.RING + 1.5, thin_parts.REACH):
            assert np.array_equal(part > bar, whole[box] > bar)
            assert np.array_equal(part >= bar, whole[box] >= bar)
        assert np.array_equal(part >= thin_parts.FREE_REACH, whole[box] >= thin_parts.FREE_REACH)
    steps = 0.955 * np.arange(700)[:, None] + 1.3693 * np.arange(700)[None, :]
    for bar in (thin_parts.RING, thin_parts.RING + 1.5, thin_parts.REACH, thin_parts.FREE_REACH):
        assert np.abs(steps - bar).min() > 0.01


def _crossed(seed: int = 5):
    """A brown bag whose straps cross a large disc of another object (crema-coloured) that the
    model outlined with it at p 1 (body, straps and disc), after the clearing steps took the disc
    and the straps with it: (rgb, model map, map after the steps, straps)."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (70, 40, 30)
    disc = drawn(lambda d: d.ellipse((60, 40, 420, 360), fill=255))
    rgb[disc] = (190, 125, 70)
    body = drawn(lambda d: d.rectangle(BODY, fill=255))
    lines = drawn(straps) & ~body
    rgb[body | lines] = BROWN
    rgb = np.clip(rgb + rng.normal(0, 2.0, rgb.shape) + 0.5, 0, 255).astype(np.uint8)
    model = np.where(body | lines | disc, 1.0, 0.0).astype(np.float32)
    after = np.where(body, 1.0, 0.0).astype(np.float32)
    return rgb, model, after, lines


def test_straps_the_steps_took_with_another_object_come_back():
    rgb, model, after, lines = _crossed()
    back = thin_parts.crossing(rgb, model, after)
    assert back[lines].mean() > 0.9
    assert not (back & ~thin_parts.openings.grow(lines, 2)).any()


def test_what_the_steps_took_in_other_colours_or_as_blocks_stays_taken():
    rgb, model, after, lines = _crossed()
    rgb[lines] = (190, 125, 70)  # no strap: the other object's colour all over
    assert not thin_parts.crossing(rgb, model, after).any()
    rgb, model, after, lines = _crossed()
    block = drawn(lambda d: d.rectangle((150, 150, 330, 250), fill=255)) & ~lines
    rgb[block] = BROWN  # a brown block of the other object, where the straps cross it
    back = thin_parts.crossing(rgb, model, after)
    assert not (back & block).any()


def test_nothing_comes_back_that_the_model_did_not_outline():
    rgb, model, after, lines = _crossed()
    model[lines] = 0.0
    assert not thin_parts.crossing(rgb, model, after).any()
