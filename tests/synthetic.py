"""Synthetic product photos with a known (ground-truth) mask, for cutout and QA tests.

A product is drawn 4x supersampled and reduced, so its edge is anti-aliased like a real photo's
and the true alpha is known exactly. It is composited over a background: a flat colour, a light
studio sweep, or a real photo from scikit-image. Importable by any test (and the benches).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SS = 4  # supersampling factor for anti-aliased edges

PRODUCTS = ("box", "ring", "bag", "mug", "bottle")
BACKGROUNDS = ("green", "light", "coffee", "chelsea", "astronaut", "grass")


@dataclass
class Scene:
    image: Image.Image  # the photo: product composited over the background (RGB)
    alpha: np.ndarray  # true product alpha, float32 in [0, 1]
    product: np.ndarray  # the product's own colours everywhere (h,w,3 uint8; valid where alpha > 0)
    background: np.ndarray  # the background alone (h,w,3 uint8)
    name: str


def _canvas(size, fill=0):
    return Image.new("L", (size[0] * SS, size[1] * SS), fill)


def _reduce(layer: Image.Image, size) -> np.ndarray:
    return np.asarray(layer.resize(size, Image.Resampling.BOX), np.float32) / 255.0


def _shade(size, top, bottom, left_light=0.0) -> np.ndarray:
    """A vertical colour gradient with an optional left-to-right light falloff (h,w,3 float)."""
    w, h = size
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    col = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    x = np.linspace(1, 0, w, dtype=np.float32)[None, :, None]
    return np.clip(
        col * (1 - left_light * 0.25) + col * left_light * 0.25 * x * 2, 0, 255
    ) * np.ones((1, w, 1))


def _gloss(colours: np.ndarray, alpha: np.ndarray, box, strength=0.7) -> np.ndarray:
    """A soft white highlight inside the product (like a glossy reflection)."""
    h, w = alpha.shape
    layer = Image.new("L", (w, h), 0)
    ImageDraw.Draw(layer).ellipse([int(v) for v in box], fill=255)
    g = (
        np.asarray(layer.filter(ImageFilter.GaussianBlur(max(2, w // 80))), np.float32)[..., None]
        / 255.0
    )
    g = g * strength * (alpha[..., None] > 0.99)
    return colours * (1 - g) + 255.0 * g


def _font(px: int):
    try:
        return ImageFont.load_default(size=px)
    except (TypeError, OSError):  # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def _label(colours: np.ndarray, box, text: str) -> np.ndarray:
    """A printed label (white panel with dark text) drawn into the product's colours."""
    img = Image.fromarray(np.clip(colours, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    l, t, r, b = (int(v) for v in box)
    d.rectangle((l, t, r, b), fill=(246, 244, 236))
    d.text(
        (l + (r - l) * 0.08, t + (b - t) * 0.2),
        text,
        fill=(25, 25, 30),
        font=_font(max(8, (b - t) // 4)),
    )
    return np.asarray(img, np.float32)


def _box(size):
    w, h = size
    m = _canvas(size)
    ImageDraw.Draw(m).rounded_rectangle(
        (0.28 * w * SS, 0.18 * h * SS, 0.72 * w * SS, 0.84 * h * SS), radius=0.04 * w * SS, fill=255
    )
    alpha = _reduce(m, size)
    col = _shade(size, (205, 40, 45), (120, 15, 25), 0.6)
    col = _label(col, (0.32 * w, 0.45 * h, 0.68 * w, 0.6 * h), "VITRINA 250 ml")
    return _gloss(col, alpha, (0.33 * w, 0.22 * h, 0.42 * w, 0.4 * h)), alpha


def _ring(size):
    w, h = size
    m = _canvas(size)
    d = ImageDraw.Draw(m)
    cx, cy, ro, ri = 0.5 * w * SS, 0.5 * h * SS, 0.3 * min(w, h) * SS, 0.17 * min(w, h) * SS
    d.ellipse((cx - ro, cy - ro, cx + ro, cy + ro), fill=255)
    d.ellipse((cx - ri, cy - ri, cx + ri, cy + ri), fill=0)
    alpha = _reduce(m, size)
    col = _shade(size, (235, 200, 90), (150, 110, 30), 1.0)
    return _gloss(col, alpha, (0.3 * w, 0.22 * h, 0.45 * w, 0.32 * h), 0.6), alpha


def _bag(size):
    w, h = size
    m = _canvas(size)
    d = ImageDraw.Draw(m)
    d.rounded_rectangle(
        (0.22 * w * SS, 0.42 * h * SS, 0.78 * w * SS, 0.85 * h * SS), radius=0.03 * w * SS, fill=255
    )
    strap = max(SS * 2, int(0.012 * w * SS))  # thin straps: ~1% of the width
    for x0, x1 in ((0.3, 0.48), (0.52, 0.7)):
        d.arc(
            (x0 * w * SS, 0.14 * h * SS, x1 * w * SS, 0.7 * h * SS), 180, 360, fill=255, width=strap
        )
    alpha = _reduce(m, size)
    col = _shade(size, (120, 75, 40), (70, 40, 20), 0.5)
    return col, alpha


def _mug(size):
    """A white product on a light background: the hard case for any background remover."""
    w, h = size
    m = _canvas(size)
    d = ImageDraw.Draw(m)
    d.rounded_rectangle(
        (0.3 * w * SS, 0.25 * h * SS, 0.66 * w * SS, 0.8 * h * SS), radius=0.02 * w * SS, fill=255
    )
    d.ellipse(
        (0.6 * w * SS, 0.38 * h * SS, 0.8 * w * SS, 0.64 * h * SS),
        outline=255,
        width=int(0.035 * w * SS),
    )
    alpha = _reduce(m, size)
    col = _shade(size, (250, 250, 248), (214, 214, 212), 1.0)
    return col, alpha


def _bottle(size):
    w, h = size
    m = _canvas(size)
    d = ImageDraw.Draw(m)
    d.rounded_rectangle(
        (0.35 * w * SS, 0.32 * h * SS, 0.65 * w * SS, 0.88 * h * SS), radius=0.06 * w * SS, fill=255
    )
    d.rectangle((0.45 * w * SS, 0.12 * h * SS, 0.55 * w * SS, 0.34 * h * SS), fill=255)
    alpha = _reduce(m, size)
    col = _shade(size, (40, 110, 200), (15, 45, 110), 0.8)
    col = _label(col, (0.38 * w, 0.52 * h, 0.62 * w, 0.66 * h), "AQUA")
    return _gloss(col, alpha, (0.39 * w, 0.36 * h, 0.45 * w, 0.8 * h), 0.8), alpha


_DRAW = {"box": _box, "ring": _ring, "bag": _bag, "mug": _mug, "bottle": _bottle}


def product(kind: str, size=(600, 800)) -> tuple[np.ndarray, np.ndarray]:
    """(colours h,w,3 uint8, true alpha h,w float32) of a product drawn on a w x h frame."""
    colours, alpha = _DRAW[kind](size)
    return np.clip(colours + 0.5, 0, 255).astype(np.uint8), alpha.astype(np.float32)


def _photo(name: str) -> np.ndarray:
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return img[..., :3]


def background(kind: str, size=(600, 800)) -> np.ndarray:
    """A background of `size` (w, h): flat green, a light studio sweep, or a real photo."""
    w, h = size
    if kind == "green":
        return np.broadcast_to(np.array([0, 177, 64], np.uint8), (h, w, 3)).copy()
    if kind == "light":
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        sweep = (
            np.array([244, 244, 242], np.float32) * (1 - t)
            + np.array([226, 226, 224], np.float32) * t
        )
        return np.clip(sweep * np.ones((1, w, 1)) + 0.5, 0, 255).astype(np.uint8)
    photo = Image.fromarray(_photo(kind))
    scale = max(w / photo.width, h / photo.height)
    bw, bh = w / scale, h / scale
    box = (
        (photo.width - bw) / 2,
        (photo.height - bh) / 2,
        (photo.width + bw) / 2,
        (photo.height + bh) / 2,
    )
    return np.asarray(photo.resize(size, Image.Resampling.LANCZOS, box=box), np.uint8).copy()


def scene(kind: str, bg: str, size=(600, 800)) -> Scene:
    """The product composited over the background, with the truth kept alongside."""
    colours, alpha = product(kind, size)
    back = background(bg, size)
    a = alpha[..., None]
    img = np.clip(colours * a + back * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    return Scene(Image.fromarray(img, "RGB"), alpha, colours, back, f"{kind}-on-{bg}")


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = pred > 0.5, truth > 0.5
    union = (p | t).sum()
    return float((p & t).sum() / union) if union else 1.0


def boundary_f(pred: np.ndarray, truth: np.ndarray, tol: int = 2) -> float:
    """Boundary F-measure: precision/recall of boundary pixels within `tol` pixels."""
    from scipy import ndimage

    def edge(m):
        m = m > 0.5
        return m ^ ndimage.binary_erosion(m)

    pe, te = edge(pred), edge(truth)
    if not pe.any() or not te.any():
        return 0.0
    near_t = ndimage.binary_dilation(te, iterations=tol)
    near_p = ndimage.binary_dilation(pe, iterations=tol)
    precision = (pe & near_t).sum() / pe.sum()
    recall = (te & near_p).sum() / te.sum()
    return float(2 * precision * recall / max(precision + recall, 1e-9))
