"""local_backdrop: openings in the exact colours of the backdrop just around the product."""

from types import SimpleNamespace

import numpy as np

from vitrina_sync.imaging import local_backdrop, openings

GREEN, ORANGE, WHITE, DARK = (60.0, -40.0, 50.0), (65.0, 40.0, 60.0), (97.0, 0.0, 0.0), (18.0, 0, 0)


def _frame_scene(stripe=WHITE, panel=False):
    """A dark frame (rows/cols 40-160 x 50-150, sides 10 px) on a backdrop of green and orange
    halves with a white stroke: its opening (60-140 x 70-130) half found already (the left
    part), the rest a stripe of `stripe` crossing it (rows 95-104) and the backdrop's green."""
    h, w = 200, 200
    lab = np.zeros((h, w, 3), np.float32)
    lab[:, :] = GREEN
    lab[:, 100:] = ORANGE
    lab[95:105, :] = WHITE  # the backdrop's own stroke, outside the frame too
    product = np.zeros((h, w), bool)
    product[40:160, 50:150] = True
    lab[40:160, 50:150] = DARK
    opening = np.zeros((h, w), bool)
    opening[50:150, 60:140] = True
    lab[50:150, 60:100] = GREEN
    lab[50:150, 100:140] = ORANGE
    lab[95:105, 60:140] = stripe
    if panel:  # a flat off-white field with dark marks: a printed label
        lab[95:105, 60:140] = WHITE
        lab[97:103, 70:130:6] = DARK
    found = opening.copy()
    found[95:105] = False  # the stroke across the opening: the models took it for product
    sure_bg = ~openings.grow(product, 3)
    models = SimpleNamespace(lab=lab, ratio=np.zeros((h, w), np.float32), sure_bg=sure_bg)
    outside = ~openings.fill_holes(product)
    return models, product, outside, found


def test_the_backdrops_stroke_across_a_found_opening_is_cleared():
    models, product, outside, found = _frame_scene()
    out = local_backdrop.regions(models, product, outside, found)
    assert out[96:104, 62:138].mean() > 0.95  # the stroke inside the opening
    assert not out[40:50].any() and not out[150:160].any()  # the frame's sides stay
    assert not (out & ~product).any()


def test_a_printed_panel_in_the_backdrops_white_is_kept():
    models, product, outside, found = _frame_scene(panel=True)
    assert not local_backdrop.regions(models, product, outside, found).any()


def test_a_small_dark_part_away_from_any_opening_is_kept():
    """A padlock's keyhole: dark like the busy backdrop's shadows, 1% of the product, meeting
    no opening found: no opening on its own."""
    h, w = 200, 200
    lab = np.zeros((h, w, 3), np.float32)
    lab[:, :] = GREEN
    lab[::7, :] = DARK  # the backdrop's dark lines
    product = np.zeros((h, w), bool)
    product[50:150, 50:150] = True
    lab[50:150, 50:150] = (70.0, 0.0, 5.0)  # the body, grey
    lab[95:105, 95:105] = DARK  # the keyhole
    models = SimpleNamespace(
        lab=lab, ratio=np.zeros((h, w), np.float32), sure_bg=~openings.grow(product, 3)
    )
    outside = ~openings.fill_holes(product)
    none = np.zeros((h, w), bool)
    assert not local_backdrop.regions(models, product, outside, none).any()
    rim = openings.grow(lab[..., 0] < 20, 2) & product & ~(lab[..., 0] < 20)
    lab[rim] = GREEN  # the rim the colour models took: still no opening's rest
    assert not local_backdrop.regions(models, product, outside, rim).any()


def test_a_product_in_the_backdrops_own_colours_is_left_to_the_other_steps():
    """A white stroke beside a white product part: the product around the region is in the
    ring's colours too (a white mug beside a white cup), nothing is told apart this way."""
    models, product, outside, found = _frame_scene()
    models.lab[models.lab[..., 0] < 20] = WHITE  # the frame white, as the backdrop's stroke
    models.lab[95:105, 60:140] = ORANGE
    assert not local_backdrop.regions(models, product, outside, found).any()


def test_a_region_beside_a_found_opening_but_off_its_hull_is_kept():
    """The colours just around the product beside an opening found, but outside its convex hull
    (a coffee cup's white rim beside the cup's inside, the cup outlined with a ring): another
    object's part, not that opening's rest."""
    models, product, outside, found = _frame_scene()
    found[:] = False
    found[50:95, 60:100] = True  # only the opening's upper left found: the stroke runs past it
    assert not local_backdrop.regions(models, product, outside, found).any()
