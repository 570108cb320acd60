"""Render one approved row's outputs per role to a marketplace's rules.

Never stretched: each image is placed on a canvas of the rule's aspect and padded with its own
background colour (the median of its border), so the product keeps its shape and the padding
is invisible. Never upscaled: a source whose padded canvas is under the minimum is a row error.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from ..errors import ImageError, RowError
from ..imaging import as_rgb
from .base import Card, Marketplace, PackItem, RenderedFile
from .rules import Rules

MAIN_NAMES = ("main.jpg", "main.png")
_VARIANT = re.compile(r"^variant_(\d+)\.(jpg|jpeg|png)$", re.IGNORECASE)
_SRGB = ImageCms.createProfile("sRGB")
EXT = {"JPEG": "jpg", "PNG": "png"}


def open_srgb(path: Path) -> Image.Image:
    """An output file as RGB in sRGB (an embedded non-sRGB ICC profile is converted, not dropped)."""
    try:
        with Image.open(path) as img:
            img.load()
            icc = img.info.get("icc_profile")
            if icc and not is_srgb_profile(icc) and img.mode in ("RGB", "CMYK"):
                src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                return ImageCms.profileToProfile(img, src, _SRGB, outputMode="RGB")
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                rgba = img.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                return flat
            return as_rgb(img)
    except (OSError, SyntaxError, ValueError, ImageCms.PyCMSError) as exc:
        raise ImageError(f"{path.name}: unreadable output ({exc})") from None


def is_srgb_profile(icc: bytes) -> bool:
    try:
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (OSError, ImageCms.PyCMSError):
        return False
    return "srgb" in desc.casefold().replace(" ", "")


def edge_colour(img: Image.Image) -> tuple[int, int, int]:
    """Median colour of the 2-px border: the colour padding must have to be invisible."""
    w, h = img.size
    strips = [
        img.crop(box) for box in ((0, 0, w, 2), (0, h - 2, w, h), (0, 0, 2, h), (w - 2, 0, w, h))
    ]
    ring = np.concatenate([np.asarray(s.convert("RGB")).reshape(-1, 3) for s in strips])
    return tuple(int(v) for v in np.median(ring, axis=0))


def fit_size(w: int, h: int, rules: Rules) -> tuple[int, int, float]:
    """Canvas (width, height) of the rule's aspect holding w x h, and the scale applied."""
    aw, ah = rules.aspect()
    tw, th = rules.v("target_width"), rules.v("target_height")
    k = max(w / aw, h / ah)  # canvas units of aspect at native resolution
    if k * aw >= tw:
        return tw, th, tw / (k * aw)
    n = math.ceil(k - 1e-9)
    cw, ch = n * aw, n * ah
    if cw < rules.v("min_width") or ch < rules.v("min_height"):
        raise RowError(
            f"source too small: {w}x{h} pads to {cw}x{ch}, under the minimum "
            f"{rules.v('min_width')}x{rules.v('min_height')} (we never upscale)"
        )
    return cw, ch, 1.0


def pad_to_rules(img: Image.Image, rules: Rules, colour: tuple[int, int, int]) -> Image.Image:
    """Resize (downscale only) and pad with `colour` to the rule's aspect and size."""
    cw, ch, scale = fit_size(img.width, img.height, rules)
    if scale < 1.0:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    canvas = Image.new("RGB", (cw, ch), colour)
    canvas.paste(img, ((cw - img.width) // 2, (ch - img.height) // 2))
    return canvas


def encode(img: Image.Image, rules: Rules) -> tuple[bytes, int | None]:
    """Bytes in the rule's format under max_bytes; JPEG quality steps down, never below the floor."""
    fmt = rules.v("output_format")
    limit = rules.v("max_bytes")
    if fmt == "PNG":
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=6)
        if buf.tell() > limit:
            raise RowError(f"PNG is {buf.tell()} bytes, over the {limit}-byte limit")
        return buf.getvalue(), None
    if fmt != "JPEG":
        raise RowError(f"output_format {fmt!r} is not one we write (JPEG, PNG)")
    floor, quality = rules.v("quality_floor"), rules.v("quality_start")
    while True:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality)
        if buf.tell() <= limit:
            return buf.getvalue(), quality
        if quality <= floor:
            raise RowError(
                f"still {buf.tell()} bytes at the quality floor {floor}, over the {limit}-byte limit"
            )
        quality = max(floor, quality - 5)


def detail_crop(main: Image.Image, mask: Image.Image | None, rules: Rules) -> Image.Image | None:
    """A zoomed crop of the product centre, or None when the source has too few pixels for it."""
    aw, ah = rules.aspect()
    box = mask.point(lambda v: 255 if v > 127 else 0).getbbox() if mask is not None else None
    l, t, r, b = box or (0, 0, main.width, main.height)
    k = max((r - l) / aw, (b - t) / ah) / float(rules.v("detail_zoom"))
    cw, ch = k * aw, k * ah
    if cw < rules.v("min_width") or ch < rules.v("min_height"):
        return None
    cx = min(max((l + r) / 2, cw / 2), main.width - cw / 2)
    cy = min(max((t + b) / 2, ch / 2), main.height - ch / 2)
    return main.crop(
        (round(cx - cw / 2), round(cy - ch / 2), round(cx + cw / 2), round(cy + ch / 2))
    )


def detail_possible(main: Image.Image, rules: Rules) -> bool:
    """Whether even a crop of the whole image at detail_zoom reaches the minimum (skips the mask read)."""
    aw, ah = rules.aspect()
    k = max(main.width / aw, main.height / ah) / float(rules.v("detail_zoom"))
    return k * aw >= rules.v("min_width") and k * ah >= rules.v("min_height")


def social_frame(img: Image.Image, rules: Rules) -> Image.Image:
    """The rendered main inside a frame of the rule's colour (same size and aspect)."""
    f = float(rules.v("social_frame_width"))
    inner = (round(img.width * (1 - 2 * f)), round(img.height * (1 - 2 * f)))
    canvas = Image.new("RGB", img.size, rules.v("social_frame_colour"))
    small = img.resize(inner, Image.Resampling.LANCZOS)
    canvas.paste(small, ((img.width - inner[0]) // 2, (img.height - inner[1]) // 2))
    return canvas


def sources(out_dir: Path, chosen: int = 1) -> tuple[Path, list[Path]]:
    """The main image and the others of one row's output folder. main.* is variant 1; when the
    reviewer approved another variant ("approved 2"), that one leads and main.* becomes an extra."""
    main = next((out_dir / n for n in MAIN_NAMES if (out_dir / n).is_file()), None)
    if main is None:
        raise RowError(f"no main.jpg/main.png in {out_dir.name} (was the row generated?)")
    found = dict(
        sorted((int(m.group(1)), p) for p in out_dir.iterdir() if (m := _VARIANT.match(p.name)))
    )
    if chosen > 1:
        if chosen not in found:
            raise RowError(
                f"the decision approves variant {chosen}, but the output has {1 + len(found)} variant(s)"
            )
        lead = found.pop(chosen)
        return lead, [main, *found.values()]
    return main, list(found.values())


def role_images(item: PackItem, rules: Rules, notes: list[str]) -> list[tuple[str, Image.Image]]:
    """(role, rendered image) in upload order: main, social, detail, extras."""
    roles = set(rules.v("roles"))
    main_path, variants = sources(item.out_dir, item.variant)
    main = open_srgb(main_path)
    rendered = [("main", pad_to_rules(main, rules, edge_colour(main)))]
    if rules.v("social_frame"):
        rendered.append(("social", social_frame(rendered[0][1], rules)))
    if "detail" in roles and not detail_possible(main, rules):
        notes.append("detail crop skipped: too few pixels for the minimum size")
    elif "detail" in roles:
        mask_path = item.out_dir / "mask.png"
        mask = None
        if mask_path.is_file():
            with Image.open(mask_path) as m:
                mask = m.convert("L")
        crop = detail_crop(main, mask, rules)
        if crop is None:
            notes.append("detail crop skipped: too few pixels for the minimum size")
        else:
            rendered.append(("detail", pad_to_rules(crop, rules, edge_colour(crop))))
    if "extra" in roles:
        for path in variants:
            try:
                img = open_srgb(path)
                rendered.append(("extra", pad_to_rules(img, rules, edge_colour(img))))
            except RowError as exc:
                notes.append(f"{path.name} skipped: {exc}")
    return rendered


def render_card(item: PackItem, market: Marketplace) -> Card:
    """Every file of one item, encoded and named; RowError when the main image cannot be made."""
    rules = market.rules
    key, notes = market.card_key(item)
    if not key.strip() or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise RowError(f"card id {key!r} is empty or has control characters")
    card = Card(item, key, notes=list(notes))
    images = role_images(item, rules, card.notes)
    cap = int(rules.v("max_images"))
    if len(images) > cap:
        card.notes.append(f"{len(images) - cap} image(s) over the {cap}-per-card limit left out")
        images = images[:cap]
    ext = EXT.get(rules.v("output_format"), "jpg")
    for number, (role, img) in enumerate(images, start=1):
        data, quality = encode(img, rules)
        name = market.file_name(card, number, ext)
        card.files.append(
            RenderedFile(role, name, data, img.width, img.height, rules.v("output_format"), quality)
        )
    return card
