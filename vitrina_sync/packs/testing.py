"""Helpers for tests of packs and marketplace plugins: synthetic row outputs and small rules.

Kept in the package (like flask.testing) so the core tests and each plugin's own tests share them.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from .base import PackItem


def make_output(
    out_dir: Path,
    size: tuple[int, int] = (1000, 1000),
    background: tuple[int, int, int] = (255, 255, 255),
    product: tuple[int, int, int] = (200, 30, 40),
    variants: int = 0,
    fmt: str = "jpg",
    icc: bytes | None = None,
) -> Path:
    """A job's output folder: main.<fmt> (a product rectangle on `background`), mask.png, variants."""
    out_dir.mkdir(parents=True, exist_ok=True)
    w, h = size
    box = (w // 4, h // 5, 3 * w // 4, 4 * h // 5)
    img = Image.new("RGB", size, background)
    ImageDraw.Draw(img).rectangle(box, fill=product)
    ImageDraw.Draw(img).ellipse((w // 3, h // 3, w // 2, h // 2), fill=(20, 120, 220))
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(box, fill=255)
    save = {"jpg": ("JPEG", {"quality": 90}), "png": ("PNG", {})}[fmt]
    extra = {"icc_profile": icc} if icc else {}
    img.save(out_dir / f"main.{fmt}", save[0], **save[1], **extra)
    mask.save(out_dir / "mask.png")
    for n in range(2, variants + 2):  # main.* is variant 1, as the job stores them
        var = Image.new("RGB", (w, h * 5 // 4), (240, 240, 235))
        ImageDraw.Draw(var).ellipse((w // 5, h // 5, 4 * w // 5, h), fill=(30 * n % 255, 90, 60))
        var.save(out_dir / f"variant_{n}.jpg", "JPEG", quality=90)
    return out_dir


def item(
    root: Path,
    sku: str,
    fingerprint: str = "f" * 64,
    ids: dict | None = None,
    row: int = 2,
    **output,
) -> PackItem:
    """A PackItem whose outputs exist under root/<n>/ (folder name independent of the SKU)."""
    folder = root / f"out-{abs(hash(sku)) % 10**8}-{fingerprint[:12]}"
    make_output(folder, **output)
    return PackItem(sku, fingerprint, folder, dict(ids or {}), row)


def small_rules(**extra) -> dict:
    """[marketplaces.<name>] overrides for fast tests: 3:4 at 90x120 (or 1:1 at 100x100)."""
    return {
        "min_width": 90,
        "min_height": 120,
        "target_width": 90,
        "target_height": 120,
        "aspect": "3:4",
        **extra,
    }


def small_market(plugin_module, **extra):
    """The plugin's first marketplace, configured with small_rules() (a plugin's own tests)."""
    market = plugin_module.vitrina_register_marketplaces()[0]
    return market.configured({"marketplaces": {market.name: small_rules(**extra)}})


def check_entry_point_and_rules(plugin_module, name: str) -> None:
    """The distribution's `vitrina_sync` entry point loads this module, and every rule in its
    rules file carries its source, date and note (the contract of a marketplace plugin)."""
    from importlib.metadata import entry_points

    from .rules import load_rules

    (ep,) = [ep for ep in entry_points(group="vitrina_sync") if ep.name == name]
    assert ep.load() is plugin_module
    rules = load_rules(plugin_module.vitrina_register_marketplaces()[0].rules_path)
    assert rules and all(r.source and r.date and r.note for r in rules.values())


def zip_entry(result, name: str) -> bytes:
    """One member of a built pack's zip."""
    import zipfile

    with zipfile.ZipFile(result.zip_path) as zf:
        return zf.read(name)
