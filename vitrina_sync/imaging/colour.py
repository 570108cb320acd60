"""Colour science for QA: sRGB -> CIELAB (D65) and CIEDE2000, vectorised numpy.

Our own implementation so the runtime does not need scikit-image; tests compare it with
skimage.color.deltaE_ciede2000 and with Sharma et al.'s published test pairs.
"""

from __future__ import annotations

import numpy as np

_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_D65 = np.array([0.95047, 1.0, 1.08883])


def _linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR_LUT = _linear(np.arange(256) / 255.0)  # uint8 input: a table instead of a power


def srgb_lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* only (the same arithmetic as srgb_to_lab's L channel), for cheap pre-checks."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        lin = _LINEAR_LUT[rgb]
    else:
        lin = _linear(rgb.astype(np.float64) / 255.0)
    y = lin @ _RGB_TO_XYZ[1] / _D65[1]
    return 116.0 * np.where(y > 0.008856, np.cbrt(y), 7.787 * y + 16.0 / 116.0) - 16.0


# S_L of CIEDE2000 is at most 1 + 0.015 * 2500 / sqrt(2520) (L* at 0 or 100), and the chroma/hue
# part of the sum is never negative (|R_T| <= 2), so dE00 >= |dL*| / MAX_SL.
MAX_SL = 1.0 + 0.015 * 2500.0 / np.sqrt(2520.0)


def delta_e_below(rgb1: np.ndarray, rgb2: np.ndarray, limit: float) -> np.ndarray:
    """delta_e_rgb(rgb1, rgb2) < limit for (n,3) arrays, computing CIEDE2000 only where the
    lightness difference alone does not already put the pair over the limit."""
    maybe = np.abs(srgb_lightness(rgb1) - srgb_lightness(rgb2)) <= limit * MAX_SL * 1.001
    out = np.zeros(len(maybe), bool)
    if maybe.any():
        out[maybe] = delta_e_rgb(rgb1[maybe], rgb2[maybe]) < limit
    return out


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in 0..255 -> (..., 3) CIELAB under D65."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        lin = _LINEAR_LUT[rgb]
    else:
        lin = _linear(rgb.astype(np.float64) / 255.0)
    xyz = lin @ _RGB_TO_XYZ.T / _D65
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def _hue_deg(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(b, a)) % 360.0


def _mean_hue(h1, h2, zero):
    """Mean hue angle of each pair, going the short way round the circle."""
    total = h1 + h2
    far = np.abs(h1 - h2) > 180.0
    mean = np.where(far, np.where(total < 360.0, total + 360.0, total - 360.0), total) / 2.0
    return np.where(zero, total, mean)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) between two (..., 3) Lab arrays."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c_bar7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = _hue_deg(b1, a1p), _hue_deg(b2, a2p)
    zero = (c1p * c2p) == 0
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(zero, 0.0, dh)
    d_l, d_c = L2 - L1, c2p - c1p
    d_h = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2.0)
    l_bar, c_bar = (L1 + L2) / 2.0, (c1p + c2p) / 2.0
    h_bar = _mean_hue(h1p, h2p, zero)
    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_bar - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_bar))
        + 0.32 * np.cos(np.radians(3.0 * h_bar + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_bar - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_bar - 275.0) / 25.0) ** 2))
    r_c = 2.0 * np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7))
    s_l = 1.0 + 0.015 * (l_bar - 50.0) ** 2 / np.sqrt(20.0 + (l_bar - 50.0) ** 2)
    s_c = 1.0 + 0.045 * c_bar
    s_h = 1.0 + 0.015 * c_bar * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c
    tl, tc, th = d_l / s_l, d_c / s_c, d_h / s_h
    return np.sqrt(np.maximum(tl**2 + tc**2 + th**2 + r_t * tc * th, 0.0))


def delta_e_rgb(rgb1: np.ndarray, rgb2: np.ndarray) -> np.ndarray:
    """CIEDE2000 between two (..., 3) sRGB arrays in 0..255."""
    return ciede2000(srgb_to_lab(rgb1), srgb_to_lab(rgb2))
