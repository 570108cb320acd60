"""Regenerate the bundled example catalog: drawn products, scikit-image's real photos, and a few
deliberately wrong rows so the demo shows what an error looks like.

    .venv/bin/python examples/make_examples.py     (needs scikit-image, a test dependency)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).parent
PHOTOS = HERE / "photos"


def backdrop(size, top, bottom, noise=6, seed=0):
    w, h = size
    t = np.linspace(0, 1, h)[:, None, None]
    grad = np.array(top)[None, None, :] * (1 - t) + np.array(bottom)[None, None, :] * t
    rng = np.random.default_rng(seed)
    img = np.broadcast_to(grad, (h, w, 3)) + rng.normal(0, noise, (h, w, 3))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def mug(size=(1200, 1600)):
    img = backdrop(size, (180, 170, 160), (120, 110, 100), seed=1)
    d = ImageDraw.Draw(img)
    d.ellipse((720, 650, 960, 1050), outline=(200, 40, 40), width=60)  # handle
    d.rounded_rectangle((330, 500, 820, 1200), 40, fill=(200, 40, 40))
    d.rectangle((420, 760, 730, 900), fill=(245, 240, 230))
    d.text((450, 800), "VITRINA", fill=(30, 30, 30))
    return img


def bottle(size=(1200, 1600)):
    img = backdrop(size, (40, 120, 60), (20, 80, 40), seed=2)  # green screen-ish
    d = ImageDraw.Draw(img)
    d.rectangle((540, 300, 660, 520), fill=(30, 60, 160))
    d.rounded_rectangle((440, 500, 760, 1350), 60, fill=(40, 90, 200))
    d.rectangle((470, 800, 730, 1000), fill=(250, 220, 80))
    d.ellipse((480, 560, 540, 760), fill=(170, 200, 255))  # gloss
    return img


def ring(size=(1400, 1400)):
    img = backdrop(size, (90, 90, 100), (60, 60, 70), seed=3)
    d = ImageDraw.Draw(img)
    d.ellipse((350, 350, 1050, 1050), fill=(230, 190, 60))
    d.ellipse((520, 520, 880, 880), fill=(75, 75, 85))  # the hole shows the backdrop colour
    return img.filter(ImageFilter.GaussianBlur(1))


def bag(size=(1500, 2000)):
    img = backdrop(size, (235, 235, 230), (210, 210, 205), seed=4)  # light product on light ground
    d = ImageDraw.Draw(img)
    d.arc((500, 300, 1000, 900), 180, 360, fill=(120, 80, 40), width=18)  # thin strap
    d.rounded_rectangle(
        (350, 600, 1150, 1500), 50, fill=(250, 248, 240), outline=(200, 195, 185), width=6
    )
    d.rectangle((700, 650, 800, 720), fill=(190, 160, 60))  # clasp
    return img


def skimage_photos() -> dict[str, Image.Image]:
    from skimage import data

    return {
        "coffee.jpg": Image.fromarray(data.coffee()),
        "chelsea.jpg": Image.fromarray(data.chelsea()),
        "astronaut.jpg": Image.fromarray(data.astronaut()),
    }


ROWS = [
    # SKU, Source, Mode, Preset, Marketplaces, Category
    ("MUG-001", "photos/mug.jpg", "white", "", "kaspi, wildberries", "kitchen"),
    ("BOTTLE-002", "photos/bottle.jpg", "white", "portrait", "ozon", "kitchen"),
    ("RING-003", "photos/ring.jpg", "card", "", "wildberries", "jewellery"),
    ("BAG-004", "photos/bag.jpg", "white", "shadow", "kaspi, ozon", "bags"),
    ("00123", "photos/coffee.jpg", "Белый", "", "wb", "food"),
    ("CAT-006", "photos/chelsea.jpg", "card", "gradient", "ozon", "toys"),
    ("ASTRO-007", "photos/astronaut.jpg", "white", "", "kaspi", "apparel"),
    ('=HYPERLINK("x")', "photos/mug.jpg", "card", "", "kaspi", "kitchen"),
    ("MISSING-009", "photos/does-not-exist.jpg", "white", "", "kaspi", ""),
    ("ESCAPE-010", "../../etc/passwd", "white", "", "kaspi", ""),
    ("BADMODE-011", "photos/mug.jpg", "sepia", "", "kaspi", ""),
    ("NOTIMG-012", "photos/not-an-image.jpg", "white", "", "ozon", ""),
    ("", "photos/bottle.jpg", "white", "", "ozon", ""),
]


def main() -> None:
    PHOTOS.mkdir(exist_ok=True)
    drawn = {"mug.jpg": mug(), "bottle.jpg": bottle(), "ring.jpg": ring(), "bag.jpg": bag()}
    for name, img in {**drawn, **skimage_photos()}.items():
        img.save(PHOTOS / name, "JPEG", quality=90)
    (PHOTOS / "not-an-image.jpg").write_text("this is a text file with a .jpg name\n")
    wb = Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(["SKU", "Source", "Mode", "Preset", "Marketplaces", "Category", "Notes"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in ROWS:
        ws.append([*row, ""])
    for cell in ws["A"][1:]:
        cell.data_type = "s"  # SKUs are text ('00123', '=HYPERLINK(...)' stay as typed)
    ws["G2"] = "people's notes survive write-back"
    ws.column_dimensions["B"].width = 28
    dv = DataValidation(type="list", formula1='"white,card,scene,apparel"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("C2:C200")
    other = wb.create_sheet("Prices")
    other.append(["SKU", "Price", "Price with VAT"])
    other.append(["MUG-001", 4990, "=B2*1.12"])
    wb.save(HERE / "catalog.xlsx")
    print(f"wrote {HERE / 'catalog.xlsx'} and {len(list(PHOTOS.iterdir()))} files in photos/")


if __name__ == "__main__":
    main()
