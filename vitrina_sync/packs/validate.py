"""Checks on the final bytes: every file is re-opened and measured against the rules.

Nothing here trusts what render.py meant to write; a file that fails any check keeps its row
out of the pack, and every check (passed or not) is listed in the pack report.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from .base import RenderedFile
from .names import check_arcname
from .render import edge_colour, is_srgb_profile
from .rules import Rules

# IJG's standard luminance table: JPEG quality is estimated by matching its scaled sum.
_STD_LUMA = (
    16,
    11,
    10,
    16,
    24,
    40,
    51,
    61,
    12,
    12,
    14,
    19,
    26,
    58,
    60,
    55,
    14,
    13,
    16,
    24,
    40,
    57,
    69,
    56,
    14,
    17,
    22,
    29,
    51,
    87,
    80,
    62,
    18,
    22,
    37,
    56,
    68,
    109,
    103,
    77,
    24,
    35,
    55,
    64,
    81,
    104,
    113,
    92,
    49,
    64,
    78,
    87,
    103,
    121,
    120,
    101,
    72,
    92,
    95,
    98,
    112,
    100,
    103,
    99,
)


@dataclass
class Check:
    file: str
    check: str
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def _scaled_sum(q: int) -> int:
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return sum(min(255, max(1, int((v * scale + 50) // 100))) for v in _STD_LUMA)


_SUMS = {q: _scaled_sum(q) for q in range(1, 101)}  # once: validation runs per file on threads


def jpeg_quality(img: Image.Image) -> int | None:
    """IJG quality whose luminance table is closest to the file's, or None (not a JPEG)."""
    tables = getattr(img, "quantization", None)
    if not tables:
        return None
    total = sum(tables[0])
    return min(_SUMS, key=lambda q: abs(_SUMS[q] - total))


def background_ok(colour: tuple[int, int, int], policy: str, tolerance: int) -> bool:
    if policy == "white":
        return min(colour) >= 255 - tolerance
    if policy == "light":  # light and neutral: no coloured or dark backdrop
        return min(colour) >= 200 and max(colour) - min(colour) <= 30
    return policy == "any"


def validate_file(f: RenderedFile, rules: Rules) -> list[Check]:
    """Every rule check of one file's final bytes."""
    checks: list[Check] = []

    def add(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(f.name, name, bool(ok), detail))

    unsafe = check_arcname(f.name)
    add("name", unsafe is None, unsafe or "safe entry name")
    base = f.name.rsplit("/", 1)[-1]
    bad = [c for c in str(rules.v("file_name_forbidden")) if c in base]
    add("name_chars", not bad, f"forbidden {bad!r} in {base}" if bad else "no forbidden characters")
    size, limit = len(f.data), rules.v("max_bytes")
    add("bytes", size <= limit, f"{size} <= {limit}" if size <= limit else f"{size} > {limit}")
    try:
        Image.open(io.BytesIO(f.data)).verify()
        img = Image.open(io.BytesIO(f.data))
        img.load()
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a broken file: never ship it
        add("decode", False, f"does not re-open: {exc}")
        return checks
    add("decode", True, f"{img.format} {img.mode}")
    checks.extend(_image_checks(f, img, rules))
    return checks


def _image_checks(f: RenderedFile, img: Image.Image, rules: Rules) -> list[Check]:
    out: list[Check] = []

    def add(name: str, ok: bool, detail: str) -> None:
        out.append(Check(f.name, name, bool(ok), detail))

    formats = list(rules.v("formats"))
    add("format", img.format in formats, f"{img.format} in {formats}")
    w, h = img.size
    mw, mh, mx = rules.v("min_width"), rules.v("min_height"), rules.v("max_side")
    add("min_size", w >= mw and h >= mh, f"{w}x{h} vs min {mw}x{mh}")
    add("max_side", max(w, h) <= mx, f"{max(w, h)} <= {mx}")
    aw, ah = rules.aspect()
    off = abs(w / h - aw / ah)
    add("aspect", off <= rules.v("aspect_tolerance"), f"{w}x{h} vs {aw}:{ah} (off {off:.4f})")
    icc = img.info.get("icc_profile")
    srgb = img.mode == "RGB" and (not icc or is_srgb_profile(icc))
    add("colour_space", srgb, f"{img.mode}, {'sRGB ICC' if icc else 'untagged (sRGB)'}")
    quality = jpeg_quality(img)
    if quality is not None:
        floor = rules.v("quality_floor")
        add("quality", quality >= floor - 1, f"~{quality} vs floor {floor}")
    if f.role == "main":
        colour = edge_colour(img)
        policy, tol = rules.v("main_background"), rules.v("main_background_tolerance")
        add(
            "main_background",
            background_ok(colour, policy, tol),
            f"border #{colour[0]:02X}{colour[1]:02X}{colour[2]:02X} vs policy {policy!r}",
        )
    return out


def failures(checks: list[Check]) -> list[str]:
    return [f"{c.file}: {c.check} failed ({c.detail})" for c in checks if not c.ok]


def mean_border_delta(img: Image.Image, colour: tuple[int, int, int]) -> float:
    """Mean absolute difference of the border from `colour` (used by golden tests)."""
    a = np.asarray(img.convert("RGB"), dtype=np.int16)
    ring = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    return float(np.abs(ring - np.array(colour)).mean())
