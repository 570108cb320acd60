"""The product apart from another object of a busy photo (imaging/subject.py), with the real
model on ground-truth scenes at work resolution: the coffee cup behind a box goes, a product
the frame cuts and a kit's second item stay, and the model runs again only where the outline
reaches out as another object does (counted, not timed)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import counted_predictions
from synthetic import background, iou, product, scene

from vitrina_sync.imaging import cutout, steps, subject

SIZE = (480, 640)  # the work copy's size of a 900x1200 photo


def _model_p(img) -> np.ndarray:
    try:
        return cutout.predict_work(img, "u2netp", None)[1]
    except Exception as exc:  # noqa: BLE001 - no model installed here
        pytest.skip(f"u2netp not available: {exc}")


def _composite(items, bg="light"):
    """Products (kind, dx, dy: shifts in pixels) over a background, with their joint truth."""
    from PIL import Image

    img = background(bg, SIZE).astype(np.float32)
    truth = np.zeros((SIZE[1], SIZE[0]), np.float32)
    for kind, dx, dy in items:
        colours, alpha = product(kind, SIZE)
        colours = np.roll(colours, (dy, dx), axis=(0, 1))
        alpha = np.roll(alpha, (dy, dx), axis=(0, 1))
        a = alpha[..., None]
        img = colours * a + img * (1 - a)
        truth = np.maximum(truth, alpha)
    return Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8)), truth


def test_the_cup_behind_a_box_goes_and_the_box_stays():
    sc = scene("box", "coffee", SIZE)
    p = _model_p(sc.image)
    rgb, truth = np.asarray(sc.image), sc.alpha > 0.5
    assert iou(p, sc.alpha) < 0.7  # the model took the cup's rim with the box
    other = subject.apart(rgb, p, "u2netp")
    assert other.sum() > 0.3 * truth.sum() and (other & truth).sum() < 0.01 * truth.sum()
    out = steps.after_model(rgb, p, {"subject": True})
    assert iou(out, sc.alpha) > 0.97
    off = {"parted": False}  # imaging.parted, on by default, takes the rim off without a run
    assert iou(steps.after_model(rgb, p, off), sc.alpha) < 0.7  # off by default


def test_a_keep_stroke_on_the_other_object_keeps_it():
    sc = scene("box", "coffee", SIZE)
    p = _model_p(sc.image)
    t = subject.centred(p.shape, subject.SHARE)[1]
    ys, xs = np.nonzero(p[:t] > 0.5)  # the cup's rim, above the box: outside the central crops
    keep = np.zeros(p.shape, bool)
    keep[ys[len(ys) // 2], xs[len(xs) // 2]] = True
    assert not (sc.alpha[keep] > 0).any()
    assert not subject.apart(np.asarray(sc.image), p, "u2netp", keep).any()


def test_a_product_the_frame_cuts_is_kept_whole_without_a_look(monkeypatch):
    looked = counted_predictions(monkeypatch, subject)
    for shift in ((190, 0), (150, 150)):  # past the right side; the bottom
        img, truth = _composite([("bottle", *shift)])
        assert truth[:, -1].any() or truth[-1].any()
        p = _model_p(img)
        rgb = np.asarray(img)
        assert np.array_equal(
            steps.after_model(rgb, p, {"subject": True}), steps.after_model(rgb, p, {})
        )
        assert not subject.apart(rgb, p, "u2netp").any()
    assert not looked  # the outline reaches out at a side and below: not another object's way


def test_the_look_runs_only_where_the_crop_parts_the_objects(monkeypatch):
    """The speed benchmark's kind of busy photo, at work size: the model looks again on the
    cup behind a box (it finds the box) and on the astronaut's head above it (centred_look: the
    crop cuts the box there and nothing changes), not on plain backgrounds; one look per photo
    where it runs."""
    looked = counted_predictions(monkeypatch, subject)
    for bg, runs in (("coffee", 1), ("astronaut", 1), ("light", 0), ("green", 0)):
        sc = scene("box", bg, SIZE)
        p = _model_p(sc.image)
        before = len(looked)
        steps.after_model(np.asarray(sc.image), p, {"subject": True})
        assert len(looked) - before == runs, bg


def test_a_kits_second_item_across_the_crops_side_or_at_the_corner_stays(monkeypatch):
    """Whether or not the model looks again: a second box of the first's colour across the
    crop's side makes it look (the product's piece has the colour of the piece apart), a
    bottle of another colour does not (parted_by_colour: the strays step's piece)."""
    looked = counted_predictions(monkeypatch, subject)
    for second, shift, runs in (
        ("box", (190, 0), 1),  # across the widest crop's right side
        ("bottle", (190, 0), 0),
        ("bottle", (200, 250), 0),  # at the corner
    ):
        before = len(looked)
        img, truth = _composite([("box", -60, 0), (second, *shift)])
        p = _model_p(img)
        other = subject.apart(np.asarray(img), p, "u2netp")
        assert (other & (truth > 0.5)).sum() < 0.005 * (truth > 0.5).sum(), (second, shift)
        assert len(looked) - before == runs, (second, shift)


def test_nothing_runs_where_the_outline_is_inside_the_crop_or_centred_on_the_frame(monkeypatch):
    sc = scene("bottle", "coffee", SIZE)
    p = sc.alpha.copy()  # the product alone, in the middle of the frame

    def no_model(*args):
        raise AssertionError("the model ran")

    monkeypatch.setattr(subject, "_predict", no_model)
    assert not subject.apart(np.asarray(sc.image), p, "u2netp").any()
    large = np.zeros_like(p)
    large[20:-20, 30:-30] = 1.0  # a large product, centred: it reaches out of the crop
    assert not subject.apart(np.asarray(sc.image), large, "u2netp").any()


def test_an_opening_or_another_object_whole_in_the_crop_is_not_taken_for_the_product(
    monkeypatch,
):
    h, w = SIZE[1], SIZE[0]
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    rgb = np.zeros((h, w, 3), np.uint8)
    box = subject.centred((h, w), subject.SHARE)

    def crop_of(full):
        return lambda rgb, model: full[box[1] : box[3], box[0] : box[2]].astype(np.float32)

    # a ring whose opening the model filled, with an object rising above it out of the crop;
    # the crop outlines the opening alone (whole, central, large): inside what it would drop
    ring = (r < 150) | ((np.abs(xx - w / 2) < 100) & (yy < h / 2))
    rgb[ring & (r >= 150)] = 255  # the object above, white (the ring black): parted by colour
    monkeypatch.setattr(subject, "_predict", crop_of(r < 100))
    assert not subject.apart(rgb, ring.astype(np.float32), "u2netp").any()
    monkeypatch.setattr(subject, "_predict", crop_of((r < 150) & (r >= 100)))  # the ring
    other = subject.apart(rgb, ring.astype(np.float32), "u2netp")
    assert other[:20].any() and not (other & (r >= 100) & (r < 150)).any()
    # a product in the middle and a block across the crop's side, which the crop outlines
    middle = (np.abs(xx - 240) < 60) & (np.abs(yy - 320) < 120)
    block = (xx >= 320) & (np.abs(yy - 320) < 220)
    monkeypatch.setattr(subject, "_predict", crop_of(block & (xx >= 330) & (xx < 430)))
    assert not subject.apart(rgb, (middle | block).astype(np.float32), "u2netp").any()


def test_promising_outlines(monkeypatch):
    """Which outlines make the model look again, on drawn outlines (the work copy's size): a
    piece of its own across the crop's side, or an object rising above the product across part
    of the crop's top; not a product reaching out at a side or below, not an object rising
    above it that is narrow (a head) or spans the frame (a close-up), not an empty middle."""
    import cv2

    h, w = SIZE[1], SIZE[0]
    yy, xx = np.mgrid[:h, :w]
    box = subject.centred((h, w), subject.SHARE)
    body = (np.abs(xx - w / 2) < 70) & (np.abs(yy - h / 2) < 150)

    def looks(outline):
        _, labels = cv2.connectedComponents(outline.view(np.uint8), connectivity=8)
        return subject.promising(outline, labels, box)

    eye = (np.abs(xx - 440) < 40) & (np.abs(yy - 250) < 30)  # apart, across the right side
    assert looks(body | eye)
    for half_width, expected in ((100, True), (50, False), (190, False)):  # cup, head, close-up
        rises = (np.abs(xx - w / 2) < half_width) & (yy < h / 2)
        assert looks(body | rises) is expected, half_width
    cup = (np.abs(xx - w / 2) < 100) & (yy < h / 2)
    assert not looks(body | cup | (xx < 10) & (yy < 400))  # and a strip down the left side
    assert not looks(body | (np.abs(xx - w / 2) < 70) & (yy > h / 2))  # legs below
    assert not looks((xx < 20) | (xx > w - 20))  # nothing in the frame's middle
    # apart runs the model where the outline is promising, and only there
    looked: list = []
    monkeypatch.setattr(subject, "_predict", lambda rgb, model: looked.append(1))
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[cup & ~body] = 255  # the cup white, the product black: the colours part them
    for outline, runs in ((body | cup, 1), (body | (np.abs(xx - w / 2) < 50) & (yy < h / 2), 0)):
        before = len(looked)
        subject.apart(rgb, outline.astype(np.float32), "u2netp")
        assert len(looked) - before == runs


def test_what_the_dropped_cup_leaves_does_not_stay_with_the_bottle():
    """The cup behind a bottle goes with what it leaves: foam the faint parts step grew with
    the cup's colours (now grown from the bottle alone) and the cup's faint rim, which the
    refinement would turn into a ghost of it on the white output (one piece left: there were
    five; the mass more than 3 px off the bottle: 1689 px before, 8 after)."""
    import cv2

    sc = scene("bottle", "coffee", SIZE)
    p = _model_p(sc.image)
    out = steps.after_model(np.asarray(sc.image), p, {"subject": True})
    assert iou(out, sc.alpha) > 0.99
    assert cv2.connectedComponents((out > 0.5).view(np.uint8), connectivity=8)[0] == 2
    away = cv2.distanceTransform((sc.alpha <= 0).view(np.uint8), cv2.DIST_L2, 3)
    assert out[away > 3].sum() < 100


def test_no_look_where_what_rises_above_has_the_products_colour(monkeypatch):
    """The model keeps an object of the product's colour rising behind it as one whole on the
    crop too (a white cup behind a white mug: it looked and found nothing), so it does not
    look; it looks where the colours differ (a white cup behind a red box). With a piece apart
    across the crop's side it looks where a part of the product's piece has that piece's colour
    (another eye joined to it), not where none has (the strays step's piece)."""
    h, w = SIZE[1], SIZE[0]
    yy, xx = np.mgrid[:h, :w]
    body = (np.abs(xx - w / 2) < 70) & (np.abs(yy - h / 2) < 150)
    cup = (np.abs(xx - w / 2) < 100) & (yy < h / 2)
    eye = (np.abs(xx - 440) < 40) & (np.abs(yy - 250) < 30)
    looked: list = []
    monkeypatch.setattr(subject, "_predict", lambda rgb, model: looked.append(1))
    strip = body & (xx > w / 2 + 63)  # a twentieth of the box's piece, at its right side
    for outline, product_rgb, white, runs in (
        (body | cup, (255, 255, 255), None, 0),  # a white mug on the white cup
        (body | cup, (250, 240, 225), None, 0),  # a cream one: under RISE_DE
        (body | cup, (200, 30, 40), None, 1),  # a red box
        (body | eye, (200, 30, 40), None, 0),  # a white piece apart, nothing white on the box
        (body | eye, (200, 30, 40), strip, 1),  # and a white eye joined to the box's side
    ):
        rgb = np.full((h, w, 3), 255, np.uint8)
        rgb[body] = product_rgb
        if white is not None:
            rgb[white] = 255
        before = len(looked)
        subject.apart(rgb, outline.astype(np.float32), "u2netp")
        assert len(looked) - before == runs, (product_rgb, white is not None)


def test_the_white_mug_on_the_white_cup_costs_no_look(monkeypatch):
    """The real model on the mug on the coffee photo: it outlines the cup with the mug, and the
    crop would keep both (the look ran and changed nothing before the colour rule)."""
    looked = counted_predictions(monkeypatch, subject)
    sc = scene("mug", "coffee", SIZE)
    p = _model_p(sc.image)
    product = p > 0.5
    import cv2

    _, labels = cv2.connectedComponents(product.view(np.uint8), connectivity=8)
    box = subject.centred(p.shape, subject.SHARE)
    assert subject.promising(product, labels, box)  # the outline's shape alone would look
    assert not subject.apart(np.asarray(sc.image), p, "u2netp").any()
    assert not looked


def test_the_head_above_a_bottle_goes_on_the_centred_look(monkeypatch):
    """The astronaut's head above the bottle (and the mug): the first crop keeps the face (it is
    not promising), the crop of the outline's box made even about the frame's centre finds the
    product whole, one look."""
    looked = counted_predictions(monkeypatch, subject)
    for kind, before, after in (("bottle", 0.75, 0.99), ("mug", 0.75, 0.95)):
        sc = scene(kind, "astronaut", SIZE)
        p = _model_p(sc.image)
        rgb = np.asarray(sc.image)
        assert iou(p, sc.alpha) < before  # the model took the head with the product
        n = len(looked)
        out = steps.after_model(rgb, p, {"subject": True})
        assert iou(out, sc.alpha) > after, kind
        assert len(looked) - n == 1


def test_the_centred_look_keeps_a_kit_or_a_product_placed_aside(monkeypatch):
    """Where the outline is lopsided by the product itself, nothing goes and the model does not
    look: a kit of two joined items of different colours placed off the centre, a bottle
    standing on a box, a labelled box above the middle, a mug whose handle (its own colour)
    reaches out, and a product the frame cuts. Without the colour rules (RISE_DE, EVEN_SAME)
    the model looks at the kits and the crop cuts their second item: its outline there is not
    whole, and nothing goes either."""
    looked = counted_predictions(monkeypatch, subject)
    kits = [[("box", -30, 0), ("bottle", 140, 0)], [("box", -20, 0), ("bottle", 110, -40)]]
    cases = []
    for items in (
        *kits,
        [("box", 0, 120), ("bottle", 0, -190)],  # a bottle standing on a box
        [("box", 0, -100)],  # a labelled box above the middle
        [("mug", 60, 0)],
        [("bottle", 0, 200)],  # past the bottom
    ):
        img, truth = _composite(items)
        p = _model_p(img)
        rgb = np.asarray(img)
        cases.append((rgb, p, truth > 0.5))
        assert subject.centred_look(rgb, p, "u2netp") is None, items
        out = steps.after_model(rgb, p, {"subject": True})
        assert np.array_equal(out, steps.after_model(rgb, p, {})), items
    assert not looked
    monkeypatch.setattr(subject, "RISE_DE", 0.0)
    monkeypatch.setattr(subject, "EVEN_SAME", 1.1)
    for rgb, p, truth in cases[: len(kits)]:
        other = subject.centred_look(rgb, p, "u2netp")
        assert other is None or (other & truth).sum() < 0.005 * truth.sum()
    assert len(looked) == len(kits)


def test_even_box():
    """The outline's box cut, along each axis, to the nearer side's offset from the centre."""
    product = np.zeros((100, 80), bool)
    product[10:70, 30:50] = True  # reaches 40 rows above the centre, 20 below
    assert subject._even_box(product) == (30, 30, 50, 70)
    product[:] = False
    product[20:80, 10:70] = True  # centred
    assert subject._even_box(product) == (10, 20, 70, 80)
