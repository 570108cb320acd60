"""The product's own colours: which hues and chromas (CIELAB a*, b*) the product has none of.

Where the colour models are sure of the product's pixels (a brown chair on the grey moon), a
pixel beside an opening in a colour the product never has is no part of it, whatever its
texture says (the moon's dark pits are busy, like the chair's edges: the texture-and-colour
models half called them product). The rule holds only where the product's colours are known
well (enough of its pixels sure) and says nothing on a grey product over a grey photo (its
chroma is the background's too).
"""

from __future__ import annotations

import numpy as np

OFF_COLOUR = 2e-3  # the product's a*b* density (smoothed over 3x3 bins) under which it has none
SURE_PRODUCT = 4.0  # the least log ratio product:background of the pixels the colours come from
SAMPLE = 0.3  # the least share of the product (less the openings) those pixels must be
REACH = 8  # px (reduced copy) past a found opening that its rest may reach


def off_colour(models, found, product, sure_fg) -> np.ndarray | None:
    """Pixels in a*b* bins the product has none of and the sure background has (over the
    whole copy), from the sure product the models are sure of (sure_fg, less the found
    openings): a small logo printed in a colour of its own is in neither sample, and kept.
    None when the product's sample is too thin."""
    from scipy import ndimage

    from .openings import AB_BINS

    sample = sure_fg & ~found & (models.raw < -SURE_PRODUCT)
    if sample.sum() < max(200, SAMPLE * float((product & ~found).sum())):
        return None  # the models are not sure of the product's own colours
    colour = models.index // 4 % (AB_BINS * AB_BINS)  # the bin less its texture and L*

    def density(where):
        hist = np.bincount(colour[where], minlength=AB_BINS * AB_BINS).astype(np.float32)
        hist = ndimage.uniform_filter(hist.reshape(AB_BINS, AB_BINS), 3).ravel()
        return hist / max(float(hist.sum()), 1.0)

    product_has, background_has = density(sample)[colour], density(models.sure_bg)[colour]
    return (product_has < OFF_COLOUR) & (background_has >= OFF_COLOUR)


def rest(found, off, product, keep=None) -> np.ndarray:
    """Product pixels beside the found openings (REACH) in colours the product has none of,
    joined to an opening the rest of the product encloses: the part of the opening the models
    did not call background (the moon's dark pits in a chair back's opening)."""
    from .openings import fill_holes, grow, joined_to

    if off is None:
        return np.zeros_like(found)
    near = product & ~found & grow(found, REACH) & off
    if keep is not None:
        near &= ~keep
    if not near.any():
        return near
    return joined_to(near, found & fill_holes(product & ~found))
