"""Drive link parsing (pure): every share-link form gives the file id; look-alikes do not."""

from __future__ import annotations

import pytest

from vitrina_sync.drive.links import drive_file_id
from vitrina_sync.drive.sources import drive_ids
from vitrina_sync.errors import RowError
from vitrina_sync.rows import parse_row

ID = "1AbC-dEf_GhIjKlMnOpQrStUvWxYz0123"


@pytest.mark.parametrize(
    "text",
    [
        f"https://drive.google.com/file/d/{ID}/view?usp=sharing",
        f"https://drive.google.com/file/d/{ID}/view",
        f"https://drive.google.com/file/d/{ID}",
        f"https://drive.google.com/file/d/{ID}/edit?usp=drive_link",
        f"https://drive.google.com/u/1/file/d/{ID}/preview",
        f"https://drive.google.com/open?id={ID}",
        f"https://drive.google.com/open?id={ID}&authuser=0",
        f"https://drive.google.com/uc?id={ID}&export=download",
        f"https://drive.google.com/uc?export=download&id={ID}",
        f"https://docs.google.com/uc?id={ID}",
        f"https://docs.google.com/uc?export=view&id={ID}",
        f"https://drive.usercontent.google.com/download?id={ID}&export=download&authuser=0",
        f"  HTTPS://DRIVE.GOOGLE.COM/file/d/{ID}/view  ",
        f"http://drive.google.com/open?id={ID}",
        f"gdrive://{ID}",
        f"GDRIVE://{ID}",
    ],
)
def test_every_link_form_names_the_file(text):
    assert drive_file_id(text) == ID


@pytest.mark.parametrize(
    "text",
    [
        "photos/mug.jpg",
        "https://example.com/file/d/1AbCdEfGhIjKlMnOp/view",
        f"https://drive.google.com.evil.example/file/d/{ID}/view",
        f"https://evil.example/?u=https://drive.google.com/file/d/{ID}",
        f"https://notdrive.google.com/file/d/{ID}",
        f"https://googleusercontent.com/{ID}",
        "drive.google.com/file/d/1AbCdEfGhIjKlMnOp/view",  # no scheme: a relative path, as today
        "",
    ],
)
def test_look_alikes_are_not_drive_links(text):
    assert drive_file_id(text) is None


@pytest.mark.parametrize(
    "text, says",
    [
        (f"https://drive.google.com/drive/folders/{ID}", "folder"),
        (f"https://drive.google.com/drive/u/0/folders/{ID}?usp=sharing", "folder"),
        (f"https://docs.google.com/document/d/{ID}/edit", "Google Doc"),
        (f"https://docs.google.com/spreadsheets/d/{ID}/edit#gid=0", "Google Sheet"),
        (f"https://docs.google.com/presentation/d/{ID}/edit", "Slides"),
        ("https://drive.google.com/file/d//view", "names no"),
        ("https://drive.google.com/open", "names no"),
        ("https://drive.google.com/", "names no"),
        ("https://drive.google.com/file/d/short/view", "no valid"),
        ("https://drive.google.com/open?id=../../etc/passwd", "no valid"),
        ("gdrive://", "no valid"),
        ("https://drive.usercontent.google.com/download?export=download", "names no"),
        ("gdrive://abc/def/ghijklmnop", "no valid"),
        (f"gdrive://{ID}?x=1", "no valid"),
    ],
)
def test_drive_links_that_name_no_photo_file_are_row_errors(text, says):
    with pytest.raises(RowError, match=says):
        drive_file_id(text)


def test_drive_ids_collects_unique_ids_and_skips_broken_cells():
    cells = [
        f"gdrive://{ID}",
        f"https://drive.google.com/open?id={ID}",
        "photos/a.jpg",
        "gdrive://x",
    ]
    assert drive_ids(cells) == [ID]


def test_a_drive_link_needs_no_allow_urls_and_is_never_a_web_url(tmp_path):
    from vitrina_sync.catalog.model import Row
    from vitrina_sync.settings import load_settings

    settings = load_settings(env={})
    assert settings["allow_urls"] is False
    row = Row(2, {"sku": "A", "source": f"https://drive.google.com/file/d/{ID}/view"})
    spec = parse_row(row, tmp_path, settings, {"white"}, {"kaspi"})
    assert spec.source == f"gdrive://{ID}"
    web = Row(2, {"sku": "A", "source": "https://example.com/a.jpg"})
    with pytest.raises(RowError, match="URLs are off"):
        parse_row(web, tmp_path, settings, {"white"}, {"kaspi"})
