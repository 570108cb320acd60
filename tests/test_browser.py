"""The review page in a real browser: Debian's chromium driven by playwright (DEVELOPERS.md), against
a real `vitrina-sync serve` over an XLSX catalog whose jobs really ran (runner.run, u2netp).

Log in, open the queue, compare, press `a`, read the XLSX back; reject another with a reason;
screenshots of the dashboard and the compare page go to test-artifacts/ (set
VITRINA_UPDATE_SCREENSHOTS=1 to refresh docs/screenshots/ as well); layouts at 1280 and 390 px.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, write_catalog
from openpyxl import load_workbook

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "browser-test-pw"
ROWS = [
    ["MUG-1", "photos/mug.jpg", "white", "", "kaspi", "kitchen"],
    ["BAG-2", "photos/bag.jpg", "white", "portrait", "ozon, wb", "bags"],
    ["RING-3", "photos/ring.jpg", "white", "", "kaspi", "jewelry"],
]


def playwright_or_skip():
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "playwright is not installed (pip install playwright; never `playwright install`)"
        )
    return sync_playwright


def sheet(path: Path) -> dict[str, dict]:
    ws = load_workbook(path).active
    headers = [c.value for c in ws[1]]
    return {str(r[0]): dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)}


def cli(*args: str, cwd: Path, **kwargs):
    return [sys.executable, "-m", "vitrina_sync.cli", *args]


class Server:
    """`vitrina-sync serve` as a subprocess on a free port (it prints the address on stderr)."""

    def __init__(self, catalog: Path):
        self.proc = subprocess.Popen(
            cli(
                "serve",
                "--catalog",
                str(catalog),
                "--port",
                "0",
                "--workers",
                "0",
                cwd=catalog.parent,
            ),
            cwd=catalog.parent,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.url = ""
        found = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line)
                match = re.search(r"listening on (http://\S+)", line)
                if match:
                    self.url = match.group(1).replace("127.0.0.1", "localhost")
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60):
            self.stop()
            raise AssertionError("serve did not start:\n" + "".join(self.lines))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def served(workspace, settings):
    from vitrina_sync.runner import run

    catalog = write_catalog(workspace / "catalog.xlsx", ROWS)
    summary = run(str(catalog), settings, progress=False)
    assert summary.statuses == {"needs_review": 3}
    env = {**os.environ, "VITRINA_PASSWORD": PASSWORD}
    for name in ("alice", "bob"):
        subprocess.run(
            cli("users", "add", name, "--catalog", str(catalog), cwd=workspace),
            cwd=workspace,
            env=env,
            check=True,
            capture_output=True,
        )
    server = Server(catalog)
    yield server, catalog
    server.stop()


def no_horizontal_overflow(page) -> bool:
    """Nothing wider than the viewport: a phone would otherwise zoom out (innerWidth grows) or scroll."""
    width = page.viewport_size["width"]
    return page.evaluate(
        """(width) => {
        const main = document.getElementById('main');
        return window.innerWidth <= width && document.documentElement.scrollWidth <= width
            && main.scrollWidth <= main.clientWidth + 1;
    }""",
        width,
    )


def too_wide(page) -> list[str]:
    """The elements that stick out on the right: what to fix when the layout overflows."""
    return page.evaluate(
        """(width) => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > width + 1 || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')
        .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
        page.viewport_size["width"],
    )


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("VITRINA_UPDATE_SCREENSHOTS") and name in ("dashboard", "compare"):
        small_copy(path, ROOT / "docs" / "screenshots" / f"{name}.png")


def small_copy(path: Path, target: Path) -> None:
    """A palette PNG for the docs: a screenshot of flat UI loses nothing visible, weighs a third."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    Image.open(path).convert("RGB").quantize(256).save(target, optimize=True)


def images_loaded(page) -> None:
    # lazy images below the fold are (rightly) not fetched: only those on screen must be there
    page.wait_for_function(
        "() => Array.from(document.images).filter(i => !i.hidden && i.getAttribute('src')"
        " && i.getBoundingClientRect().top < window.innerHeight)"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=15_000,
    )


def log_in(page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(base + "/")


def test_review_in_a_real_browser(served):
    server, catalog = served
    sync_playwright = playwright_or_skip()
    base = server.url
    today = dt.date.today().isoformat()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/review")
            assert "/login" in page.url  # nothing without login
            log_in(page, base, "alice")
            assert "needs_review" in page.content()
            assert no_horizontal_overflow(page), too_wide(page)
            shot(page, "dashboard")

            page.click("nav >> text=Review")
            page.wait_for_url(re.compile(r".*/review(\?.*)?$"))
            assert page.locator(".qrow").count() == 3
            images_loaded(page)
            assert no_horizontal_overflow(page), too_wide(page)
            shot(page, "queue")

            page.click("a.sku >> text=MUG-1")
            page.wait_for_url(re.compile(r".*/review/MUG-1.*"))
            images_loaded(page)
            check_viewer(page)
            assert no_horizontal_overflow(page), too_wide(page)
            shot(page, "compare")

            next_sku = (
                page.locator("#next").inner_text().rstrip(" →")
                if page.locator("#next").count()
                else None
            )
            page.keyboard.press("a")
            page.wait_for_load_state("load")
            page.wait_for_selector(".flash")
            assert "approved by alice" in page.content()
            row = sheet(catalog)["MUG-1"]
            assert (row["Decision"], row["Approver"], row["Review date"]) == (
                "approved",
                "alice",
                today,
            )
            assert row["Status"] == "approved"

            other = next_sku or "BAG-2"
            if f"/review/{other}" not in page.url:
                page.goto(f"{base}/review/{other}")
            page.keyboard.press("r")  # no reason yet: r asks for one instead of rejecting
            assert page.evaluate("document.activeElement.id") == "reason"
            page.select_option("#reason", index=1)
            page.fill("#note", "strap cut off")
            page.keyboard.press("Escape")
            page.keyboard.press("r")
            page.wait_for_load_state("load")
            page.wait_for_selector(".flash")
            row = sheet(catalog)[other]
            assert (
                row["Decision"] == "rejected"
                and row["Approver"] == "alice"
                and row["Review date"] == today
            )
            assert row["Reject reason"].endswith(": strap cut off")

            phone = browser.new_page(
                viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2
            )
            log_in(phone, base, "bob")
            for path in ("/", "/review", "/review/RING-3"):
                phone.goto(base + path)
                images_loaded(phone)
                assert no_horizontal_overflow(phone), (path, too_wide(phone))
            shot(phone, "compare-phone")
        finally:
            browser.close()


def check_viewer(page) -> None:
    """Zoom and pan move both images together; overlays and the slider switch on."""
    page.click("[data-zoom=in]")
    transforms = page.eval_on_selector_all(".layer", "ls => ls.map(l => l.style.transform)")
    assert len(set(transforms)) == 1 and "scale(1.5)" in transforms[0]
    box = page.locator(".pane-source .viewport").bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 130)
    page.mouse.up()
    transforms = page.eval_on_selector_all(".layer", "ls => ls.map(l => l.style.transform)")
    assert len(set(transforms)) == 1 and "translate(" in transforms[0]
    page.keyboard.press("0")
    page.check("#t-edge")
    page.wait_for_function(
        "() => { const i = document.getElementById('ov-edge'); return !i.hidden && i.complete && i.naturalWidth > 0; }"
    )
    page.keyboard.press("s")
    assert page.get_attribute("#stage", "data-mode") == "slider"
    page.keyboard.press("s")
    page.uncheck("#t-edge")
