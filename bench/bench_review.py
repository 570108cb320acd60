"""Review queue with N rows waiting (issue 6): time to first paint and page weight, measured by the
browser's own performance API (Debian chromium + playwright, DEVELOPERS.md).

    .venv/bin/python bench/bench_review.py                 # 2,000 rows, 3 runs per case
    .venv/bin/python bench/bench_review.py --rows 500 --runs 1

Builds an XLSX catalog of N rows in needs_review and their output folders (store.py layout:
a 1500x2000 source JPEG, a 1000x1000 main JPEG, mask.png, qa.json with spread QA figures), serves
the app (create_app, werkzeug make_server in a thread; no sync loop, so nothing is re-queued)
and opens /review in a fresh browser context per run (empty browser cache):
  cold  = first visit after start: sheet read, N qa.json reads, 80 thumbnails made;
  warm  = later visits: sheet and qa.json cached in memory, thumbnails cached on disk;
  last  = the last page of the queue, warm.
Reported: first-contentful-paint, the HTML's server time, load event, and bytes transferred
(bodies as sent: HTML + CSS + thumbnails; encodedBodySize, so a cached
stylesheet still counts) at the load event and after scrolling the whole page.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "review"
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "bench-password"


def make_site(rows: int) -> Path:
    import numpy as np
    from openpyxl import Workbook
    from PIL import Image, ImageDraw

    from vitrina_sync.store import output_dir

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    rng = np.random.default_rng(6)
    noise = rng.integers(90, 140, (2000, 1500, 3), dtype=np.uint8)
    source = Image.fromarray(noise)
    ImageDraw.Draw(source).rectangle((400, 500, 1100, 1500), fill=(190, 40, 40))
    source.save(OUT / "source.jpg", quality=90)
    mask = Image.new("L", (1000, 1000), 0)
    ImageDraw.Draw(mask).rectangle((150, 150, 850, 850), fill=255)
    mask.save(OUT / "mask.png")
    main = Image.new("RGB", (1000, 1000), "white")
    main.paste((190, 40, 40), (150, 150, 850, 850))
    main.save(OUT / "main.jpg", quality=95)
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "SKU",
            "Source",
            "Mode",
            "Marketplaces",
            "Category",
            "Status",
            "QA",
            "Audit",
            "Fingerprint",
        ]
    )
    thresholds = {"de_mean_max": 1.0, "halo_max": 0.03, "fill_tolerance": 0.02}
    for i in range(rows):
        sku, fp = f"SKU-{i:05d}", f"{i:012x}" + "0" * 52
        folder = output_dir(OUT / "vitrina-out", sku, fp)
        folder.mkdir(parents=True)
        for name in ("source.jpg", "main.jpg", "mask.png"):
            (folder / name).hardlink_to(OUT / name)  # 2,000 folders without 2,000 copies on disk
        halo = float(rng.uniform(0, 0.06))
        flags = [f"halo {halo:.2f} > 0.03"] if halo > 0.03 else []
        qa = {
            "de_mean": float(rng.uniform(0, 1.5)),
            "halo": halo,
            "fill": 0.85,
            "flags": flags,
            "summary": f"dE 0.4 | halo {halo:.2f} | fill 0.85 | {'; '.join(flags) or 'ok'}",
            "thresholds": thresholds,
            "preset": {"fill": 0.85},
        }
        (folder / "qa.json").write_text(json.dumps(qa))
        files = {"source": "source.jpg", "main": "main.jpg", "mask": "mask.png", "qa": "qa.json"}
        (folder / "result.json").write_text(json.dumps({"files": files}))
        ws.append(
            [
                sku,
                "source.jpg",
                "white",
                "kaspi",
                ["bags", "kitchen", "shoes"][i % 3],
                "needs_review",
                qa["summary"],
                "audit" if i % 10 == 0 else "",
                fp,
            ]
        )
    wb.save(OUT / "catalog.xlsx")
    return OUT / "catalog.xlsx"


def serve(catalog: Path):
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per thumbnail otherwise
    from werkzeug.serving import make_server

    from vitrina_sync.runner import SyncSession
    from vitrina_sync.settings import settings_for_catalog
    from vitrina_sync.web import create_app
    from vitrina_sync.web.auth import add_user
    from vitrina_sync.web.state import AppState

    settings = settings_for_catalog(catalog.parent)
    state = AppState(settings, {"bench": SyncSession(str(catalog), settings)})
    users = OUT / "users.json"
    add_user(users, "bench", PASSWORD)
    server = make_server(
        "127.0.0.1", 0, create_app(state, {"USERS_FILE": str(users)}), threaded=True
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_port}"


MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = Object.fromEntries(performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
  const res = performance.getEntriesByType('resource');
  const bytes = (kind) => res.filter(r => kind(r)).reduce((s, r) => s + r.encodedBodySize, 0);
  return {fcp: paint['first-contentful-paint'], fp: paint['first-paint'],
          html_ms: nav.responseEnd - nav.requestStart, load: nav.loadEventEnd,
          html: nav.encodedBodySize, css_js: bytes(r => /\\.(css|js)/.test(r.name)),
          images: bytes(r => r.initiatorType === 'img'), n_images: res.filter(r => r.initiatorType === 'img').length};
}"""


def visit(browser, base: str, path: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # empty browser cache
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.goto(base + path, wait_until="load")
    # paint entries are reported when the frame is presented, a moment after it is painted
    page.wait_for_function("() => performance.getEntriesByType('paint').length >= 2")
    at_load = page.evaluate(MEASURE)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    scrolled = page.evaluate(MEASURE)
    context.close()
    return {**at_load, "images_all": scrolled["images"], "n_images_all": scrolled["n_images"]}


def example_thumbs() -> list[int]:
    """Thumbnail bytes of real photos (the synthetic ones above compress better)."""
    from vitrina_sync.web.review_images import make_thumb

    return [
        len(make_thumb(p))
        for p in sorted((ROOT / "examples" / "photos").glob("*.jpg"))
        if p.stat().st_size > 1000
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    catalog = make_site(args.rows)
    print(f"built {args.rows} rows in {time.perf_counter() - started:.1f} s", flush=True)
    server, base = serve(catalog)
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        results["cold"] = [visit(browser, base, "/review")]
        results["warm"] = [visit(browser, base, "/review") for _ in range(args.runs)]
        pages = -(-args.rows // 40)
        results["last"] = [visit(browser, base, f"/review?page={pages}") for _ in range(args.runs)]
        browser.close()
    server.shutdown()
    print(json.dumps(results["cold"][0]))
    css = (ROOT / "vitrina_sync/web/static/review.css").stat().st_size
    print(
        f"review.css {css} B (fetched once per browser: it came from the login page's cache here)"
    )
    thumbs = example_thumbs()
    print(
        f"thumbnails of the example photos: {min(thumbs)}..{max(thumbs)} B, mean {statistics.mean(thumbs):.0f} B"
    )
    for case, runs in results.items():
        med = {k: statistics.median(r[k] or 0 for r in runs) for k in runs[0]}
        print(
            f"{case:5} fcp {med['fcp']:7.0f} ms  html {med['html_ms']:6.0f} ms  load {med['load']:7.0f} ms  "
            f"html {med['html']:7.0f} B  css+js {med['css_js']:6.0f} B  images@load {med['images']:8.0f} B "
            f"({med['n_images']:.0f})  images all {med['images_all']:8.0f} B ({med['n_images_all']:.0f})"
        )


if __name__ == "__main__":
    main()
