"""Review pages through Flask's test client: every route, login, CSRF, decisions written into a real
XLSX (and refused when the row changed), path traversal on image URLs, thumbnails cached."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, write_catalog
from openpyxl import load_workbook
from PIL import Image, ImageDraw

HEADERS = [
    "SKU",
    "Source",
    "Mode",
    "Preset",
    "Marketplaces",
    "Category",
    "Status",
    "QA",
    "Audit",
    "Fingerprint",
]
THRESHOLDS = {
    "de_mean_max": 1.0,
    "de_p95_max": 2.0,
    "halo_max": 0.03,
    "uncertainty_max": 0.15,
    "bg_inside_max": 0.02,
    "fill_tolerance": 0.02,
    "purity_min": 0.999,
    "sharpness_min": 15.0,
    "headroom_min": 0.5,
}
PASSWORD = "correct horse"


def fp_of(sku: str, salt: str = "") -> str:
    return hashlib.sha256((sku + salt).encode()).hexdigest()


def write_output(out: Path, sku: str, fp: str, halo: float, variants: int = 0) -> None:
    """An output folder as jobs write it (store.py layout), with a small real picture and mask."""
    from vitrina_sync.store import output_dir

    folder = output_dir(out, sku, fp)
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / "mug.jpg", folder / "source.jpg")
    mask = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(mask).ellipse((40, 40, 160, 160), fill=255)
    mask.save(folder / "mask.png")
    main = Image.new("RGB", (200, 200), "white")
    main.paste(Image.new("RGB", (200, 200), (180, 40, 40)), mask=mask)
    main.save(folder / "main.jpg")
    files = {"source": "source.jpg", "main": "main.jpg", "mask": "mask.png", "qa": "qa.json"}
    for n in range(2, variants + 2):
        main.save(folder / f"variant_{n}.jpg")
        files[f"variant_{n}"] = f"variant_{n}.jpg"
    flags = [f"halo {halo:.2f} > 0.03"] if halo > 0.03 else []
    summary = f"dE 0.2 | halo {halo:.2f} | fill 0.85 | " + ("; ".join(flags) or "ok")
    qa = {
        "de_mean": 0.2,
        "de_p95": 0.5,
        "halo": halo,
        "uncertainty": 0.04,
        "bg_inside": 0.0,
        "fill": 0.85,
        "purity": 1.0,
        "sharpness": 200.0,
        "headroom": 2.0,
        "flags": flags,
        "summary": summary,
        "thresholds": THRESHOLDS,
        "preset": {"fill": 0.85},
    }
    (folder / "qa.json").write_text(json.dumps(qa))
    (folder / "result.json").write_text(
        json.dumps(
            {"files": files, "updated": "2026-11-26 10:00 UTC", "mode": "white", "qa": summary}
        )
    )


ROWS = [  # sku, category, marketplaces, halo, audit
    ("MUG-1", "kitchen", "kaspi", 0.00, ""),
    ("BAG-2", "bags", "ozon, wb", 0.09, ""),
    ("RING/3", "jewelry", "kaspi", 0.05, "audit"),
    ("CUP-4", "kitchen", "ozon", 0.01, ""),
]


@pytest.fixture
def site(workspace, settings):
    """An XLSX catalog whose rows wait for review, their outputs, an app, and three users."""
    from vitrina_sync.runner import SyncSession
    from vitrina_sync.web import create_app
    from vitrina_sync.web.auth import add_user
    from vitrina_sync.web.state import AppState

    out = workspace / "vitrina-out"
    rows = []
    for sku, category, markets, halo, audit in ROWS:
        fp = fp_of(sku)
        write_output(out, sku, fp, halo, variants=1 if sku == "CUP-4" else 0)
        qa = f"halo {halo:.2f}"
        rows.append(
            [sku, "photos/mug.jpg", "white", "", markets, category, "needs_review", qa, audit, fp]
        )
    rows.append(["ERR-5", "photos/nope.jpg", "white", "", "", "", "error", "", "", ""])
    catalog = write_catalog(workspace / "catalog.xlsx", rows, HEADERS)
    (workspace / "secret.txt").write_text("outside the roots")
    settings = type(settings)(
        {
            **settings,
            "audit_second_reviewer": True,
            "checklists": {"jewelry": ["stones", "clasp", "engraving"]},
            "reject_reasons": ["colour changed", "bad edges"],
        }
    )
    session = SyncSession(str(catalog), settings)
    state = AppState(settings, {"main": session})
    users = workspace / "users.json"
    add_user(users, "alice", PASSWORD)
    add_user(users, "bob", PASSWORD)
    add_user(users, "root", PASSWORD, "admin")
    app = create_app(state, {"TESTING": True, "USERS_FILE": str(users)})
    return {"app": app, "catalog": catalog, "out": out, "ws": workspace, "session": session}


def token(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, name="alice"):
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def alice(site):
    return login(site["app"].test_client())


def sheet(path: Path) -> dict[str, dict]:
    ws = load_workbook(path).active
    headers = [c.value for c in ws[1]]
    return {str(r[0]): dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)}


def decide(client, sku, action, fp=None, **extra):
    data = {
        "sku": sku,
        "fp": fp or fp_of(sku),
        "action": action,
        "c": "main",
        "csrf_token": token(client, "/review"),
        **extra,
    }
    return client.post("/decide", data=data)


def flashed(client) -> str:
    return client.get("/review").get_data(as_text=True)


# -- access ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/review",
        "/review/MUG-1",
        "/packs",
        f"/img/out/MUG-1/{fp_of('MUG-1')[:12]}/main.jpg?c=main",
    ],
)
def test_no_page_or_image_without_login(site, path):
    response = site["app"].test_client().get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_post_without_csrf_token_is_refused_and_writes_nothing(site, alice):
    before = sheet(site["catalog"])
    response = alice.post(
        "/decide", data={"sku": "MUG-1", "fp": fp_of("MUG-1"), "action": "approve", "c": "main"}
    )
    assert response.status_code == 400 and "not accepted" in response.get_data(as_text=True)
    assert sheet(site["catalog"]) == before


# -- pages ----------------------------------------------------------------------------------------
def test_dashboard_counts_statuses_marketplaces_audit_and_errors(alice):
    page = alice.get("/").get_data(as_text=True)
    assert "needs_review" in page and "ERR-5" in page and "Audit rows waiting" in page
    assert re.search(r"<th>kaspi</th><td>2</td>", page)
    assert "not connected yet" in page  # no Redis started by a page view


def test_queue_worst_qa_first_filters_and_thumbnails(site, alice):
    page = alice.get("/review").get_data(as_text=True)
    order = [m for m in re.findall(r'class="sku" href="[^"]*">([^<]+)<', page)]
    assert order == [
        "BAG-2",
        "RING/3",
        "CUP-4",
        "MUG-1",
    ]  # two flagged (worst halo first), then by figure
    assert "4 of 4 waiting" in page and "ERR-5" not in page
    assert re.findall(
        r'class="sku"[^>]*>([^<]+)<', alice.get("/review?category=kitchen").get_data(as_text=True)
    ) == ["CUP-4", "MUG-1"]
    assert re.findall(
        r'class="sku"[^>]*>([^<]+)<', alice.get("/review?marketplace=wb").get_data(as_text=True)
    ) == ["BAG-2"]
    assert re.findall(
        r'class="sku"[^>]*>([^<]+)<', alice.get("/review?audit=yes").get_data(as_text=True)
    ) == ["RING/3"]
    assert re.findall(
        r'class="sku"[^>]*>([^<]+)<', alice.get("/review?flag=ok").get_data(as_text=True)
    ) == ["CUP-4", "MUG-1"]
    assert re.findall(
        r'class="sku"[^>]*>([^<]+)<',
        alice.get("/review?flag=halo&mode=white").get_data(as_text=True),
    ) == ["BAG-2", "RING/3"]
    thumb = re.search(r'<img src="([^"]+v=thumb)"', page).group(1).replace("&amp;", "&")
    first = alice.get(thumb)
    assert first.status_code == 200 and first.mimetype == "image/jpeg"
    cached = list((site["out"] / ".vitrina" / "thumbs").rglob("*.jpg"))
    assert len(cached) == 1 and Image.open(cached[0]).size[0] <= 160
    stamp = cached[0].stat().st_mtime_ns
    assert (
        alice.get(thumb).status_code == 200 and cached[0].stat().st_mtime_ns == stamp
    )  # made once


def test_queue_pages(site, alice, monkeypatch):
    from vitrina_sync.web import review_data

    monkeypatch.setattr(review_data, "PAGE_SIZE", 3)
    monkeypatch.setattr(review_data.paged, "__defaults__", (3,))
    page2 = alice.get("/review?page=2").get_data(as_text=True)
    assert "page 2 of 2" in page2 and re.findall(r'class="sku"[^>]*>([^<]+)<', page2) == ["MUG-1"]


def test_compare_shows_qa_thresholds_checklist_reasons_history_variants(site, alice):
    page = alice.get("/review/RING/3").get_data(as_text=True)
    assert "edge halo" in page and "≤\u00a00.03" in page and "FAIL" in page
    assert "stones" in page and "engraving" in page  # checklist of the jewelry category
    assert "bad edges" in page and "colour changed" in page
    assert fp_of("RING/3")[:12] in page and "current" in page
    assert "two different reviewers" in page
    assert (
        "variant"
        not in alice.get("/review/MUG-1")
        .get_data(as_text=True)
        .lower()
        .split("<h2>variants")[0][-5:]
    )
    cup = alice.get("/review/CUP-4").get_data(as_text=True)
    assert "Variants" in cup and 'name="variant"' in cup
    default = alice.get("/review/MUG-1").get_data(as_text=True)
    for item in ("shape", "colour", "pattern", "hardware", "labels"):
        assert item in default
    assert alice.get("/review/NOPE").status_code == 404


def test_pages_escape_cell_text(site, alice):
    from vitrina_sync.catalog.model import RowUpdate

    site["session"].catalog.write_back(
        [RowUpdate("MUG-1", {"message": "<script>alert(1)</script>"})]
    )
    page = alice.get("/review/MUG-1").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_security_headers(alice):
    response = alice.get("/review")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- decisions ------------------------------------------------------------------------------------
def test_approve_writes_decision_approver_date_bound_to_the_fingerprint(site, alice):
    from vitrina_sync import decisions
    from vitrina_sync.catalog.model import Row

    response = decide(alice, "MUG-1", "approve", next="CUP-4")
    assert response.status_code == 302 and "/review/CUP-4" in response.headers["Location"]
    row = sheet(site["catalog"])["MUG-1"]
    today = dt.date.today().isoformat()
    assert (row["Decision"], row["Approver"], row["Review date"], row["Status"]) == (
        "approved",
        "alice",
        today,
        "approved",
    )
    cells = {"decision": "approved", "approver": "alice", "review_date": today}
    assert row["Decision fingerprint"] == decisions.binding(fp_of("MUG-1"), Row(2, cells))
    bound = Row(2, {**cells, "decision_fp": row["Decision fingerprint"]})
    assert decisions.bound_state(bound, fp_of("MUG-1")) == "approved"
    log = (site["out"] / ".vitrina" / "review-log.jsonl").read_text()
    assert '"decision": "approved"' in log and "MUG-1" in alice.get("/review/MUG-1").get_data(
        as_text=True
    )


def test_approve_a_variant(site, alice):
    decide(alice, "CUP-4", "approve", variant="2")
    assert sheet(site["catalog"])["CUP-4"]["Decision"] == "approved 2"


def test_reject_needs_a_reason_and_writes_it(site, alice):
    decide(alice, "BAG-2", "reject")
    assert "needs a reason" in flashed(alice)
    assert sheet(site["catalog"])["BAG-2"].get("Decision") is None
    decide(alice, "BAG-2", "reject", reason="bad edges", note="strap cut off")
    row = sheet(site["catalog"])["BAG-2"]
    assert (row["Decision"], row["Reject reason"], row["Status"]) == (
        "rejected",
        "bad edges: strap cut off",
        "rejected",
    )
    assert row["Message"] == "rejected: bad edges: strap cut off"


def test_decision_refused_when_the_row_changed_after_the_page_was_opened(site, alice):
    from vitrina_sync.catalog.model import RowUpdate

    alice.get("/review/MUG-1")
    site["session"].catalog.write_back([RowUpdate("MUG-1", {"fingerprint": fp_of("MUG-1", "new")})])
    response = decide(alice, "MUG-1", "approve")
    assert "/review/MUG-1" in response.headers["Location"]
    assert "changed since this page was opened" in alice.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert sheet(site["catalog"])["MUG-1"].get("Decision") is None


def test_write_back_guard_refuses_a_change_between_check_and_write(site, alice, monkeypatch):
    """The row changes after the page's check but before the adapter writes: the adapter refuses."""
    from vitrina_sync.catalog.model import RowUpdate
    from vitrina_sync.web import review_decide

    real_check = review_decide.check

    def check_then_change(row, req):
        problem = real_check(row, req)
        site["session"].catalog.write_back(
            [RowUpdate("MUG-1", {"fingerprint": fp_of("MUG-1", "x")})]
        )
        return problem

    monkeypatch.setattr(review_decide, "check", check_then_change)
    decide(alice, "MUG-1", "approve")
    assert "Refused" in flashed(alice)
    assert sheet(site["catalog"])["MUG-1"].get("Decision") is None


def test_audit_row_needs_a_second_reviewer_other_than_the_first(site, alice):
    decide(alice, "RING/3", "approve")
    assert "second reviewer must approve" in flashed(alice)
    assert sheet(site["catalog"])["RING/3"].get("Decision") is None
    decide(alice, "RING/3", "approve")
    assert "other than you" in flashed(alice)
    bob = login(site["app"].test_client(), "bob")
    assert "First approval by alice" in bob.get("/review/RING/3").get_data(as_text=True)
    decide(bob, "RING/3", "approve")
    row = sheet(site["catalog"])["RING/3"]
    assert (row["Decision"], row["Approver"]) == ("approved", "alice + bob")


def test_regenerate_of_a_changed_row_is_refused_and_writes_nothing(site, alice):
    before = sheet(site["catalog"])
    decide(alice, "MUG-1", "regenerate", fp=fp_of("MUG-1", "old"))
    assert "changed since this page was opened" in flashed(alice)
    assert sheet(site["catalog"]) == before


def test_unknown_action_is_a_bad_request(alice):
    assert decide(alice, "MUG-1", "delete").status_code == 400


# -- images ---------------------------------------------------------------------------------------
def test_images_inside_the_roots_are_served_with_overlays(site, alice):
    base = f"/img/out/MUG-1/{fp_of('MUG-1')[:12]}"
    assert alice.get(f"{base}/main.jpg?c=main").status_code == 200
    assert alice.get("/img/assets/photos/mug.jpg?c=main").status_code == 200
    for kind in ("overlay-edge", "overlay-halo"):
        response = alice.get(f"{base}/mask.png?c=main&v={kind}")
        assert response.status_code == 200 and response.mimetype == "image/png"
        overlay = Image.open(__import__("io").BytesIO(response.data))
        assert (
            overlay.mode == "RGBA"
            and overlay.size == (200, 200)
            and overlay.getchannel("A").getextrema()[1] > 0
        )
    assert alice.get(f"{base}/main.jpg?c=main&v=overlay-edge").status_code == 404
    assert alice.get(f"{base}/main.jpg?c=main&v=bogus").status_code == 404


TRAVERSALS = [
    "/img/out/../catalog.xlsx",
    "/img/out/%2e%2e/secret.txt",
    "/img/out/..%2fsecret.txt",
    "/img/assets/../secret.txt",
    "/img/assets/%2e%2e/%2e%2e/etc/passwd",
    "/img/out//etc/passwd",
    "/img/out/%2Fetc%2Fpasswd",
    "/img/out/.vitrina/users.json",
    "/img/assets/users.json",
    "/img/out/MUG-1/..%5C..%5Csecret.txt",
    "/img/out/link/mug.jpg",
    "/img/out/MUG-1/x%00.jpg",
    "/img/elsewhere/photos/mug.jpg",
    "/img/out/MUG-1",
    "/img/assets/secret.txt",
    "/img/out/MUG-1/C:%5Cx.jpg",
]


def test_path_traversal_on_image_urls(site, alice):
    (site["out"] / "link").symlink_to(site["ws"] / "photos")  # a symlink out of the output root
    (site["out"] / ".vitrina").mkdir(exist_ok=True)
    shutil.copy(site["ws"] / "users.json", site["out"] / ".vitrina" / "users.json")
    for url in TRAVERSALS:
        # werkzeug answers '//' with a redirect to the merged path: follow it, it must end in a 404 too
        response = alice.get(url + "?c=main", follow_redirects=True)
        assert response.status_code == 404, url
        assert b"outside the roots" not in response.data and b"scrypt" not in response.data, url


def test_unknown_catalog_is_404(alice):
    assert alice.get("/review?c=other").status_code == 404


# -- packs ----------------------------------------------------------------------------------------
def test_packs_admin_only_build_report_and_download(site, alice):
    assert alice.get("/packs").status_code == 403
    root = login(site["app"].test_client(), "root")
    page = root.get("/packs").get_data(as_text=True)
    assert "Build pack" in page
    market = re.search(r'name="marketplace" value="([^"]+)"', page).group(1)
    response = root.post(
        "/packs/build",
        data={
            "marketplace": market,
            "base_url": "https://cdn.example.com/p/",
            "c": "main",
            "csrf_token": token(root, "/packs"),
        },
    )
    assert response.status_code == 302
    page = root.get("/packs").get_data(as_text=True)
    assert (
        "why left out" in page and "not approved" in page
    )  # nothing approved yet: every row says why
    zip_response = root.get(f"/packs/download/{market}.zip?c=main")
    assert zip_response.status_code == 200 and zip_response.data[:2] == b"PK"
    assert root.get("/packs/download/nope.zip?c=main").status_code == 404
    bad = root.post(
        "/packs/build",
        data={"marketplace": "nope", "c": "main", "csrf_token": token(root, "/packs")},
    )
    assert "Pack not built" in root.get(bad.headers["Location"]).get_data(as_text=True)


def test_settings_page_admin_only_with_secrets_masked(site, alice):
    from vitrina_sync.web import review_packs

    site["session"].settings["webhook_secret"] = "hush-hush"
    site["session"].settings["marketplaces"] = {
        "ozon": {"api_key": "k-123", "base_url": "https://x"}
    }
    assert alice.get("/settings").status_code == 403
    page = login(site["app"].test_client(), "root").get("/settings").get_data(as_text=True)
    assert "webhook_secret" in page and "(set)" in page and "audit_every" in page
    assert "hush-hush" not in page and "k-123" not in page and "https://x" in page
    assert review_packs.masked("secret_key", "") == ""  # an unset secret says so


def test_regenerate_bumps_the_seed_and_the_next_sync_plans_a_new_picture(site, alice):
    from vitrina_sync.plan import plan_row

    before = sheet(site["catalog"])
    decide(alice, "MUG-1", "regenerate")
    assert "new seed (offset 1)" in flashed(alice)
    after = sheet(site["catalog"])
    assert after["MUG-1"]["Seed"] == "1"
    for sku in before:  # nothing else written (missing columns may be appended, empty)
        assert {k: after[sku].get(k) for k in before[sku]} == before[sku]
        assert sku == "MUG-1" or after[sku].get("Seed") is None
    session = site["session"]
    row = next(r for r in session.catalog.read().rows if r.sku == "MUG-1")
    plan = plan_row(row, session.ctx)
    assert plan.action == "enqueue" and plan.fingerprint != before["MUG-1"]["Fingerprint"]
    assert plan.task["preset"]["seed_offset"] == 1
    decide(alice, "MUG-1", "regenerate", fp="0" * 64)  # a page older than the row: refused
    assert sheet(site["catalog"])["MUG-1"]["Seed"] == "1"


def test_every_qa_flag_is_read_back_with_its_figure_s_label():
    """qa.flags writes a flag per figure over (or under) its limit; the pages read each back to
    that figure's label (review_data.flag_parts), from the one table both use: a figure added to
    QA is named on the pages too, and "dE p95" is not read as "dE"."""
    from vitrina_sync.imaging import qa
    from vitrina_sync.imaging.flag_names import CHECKS
    from vitrina_sync.web.review_data import LABELS, flag_parts

    limits = dict(qa.DEFAULTS)
    for figure, _name, limit_key, is_max in CHECKS:
        figures = {figure: limits[limit_key] * 2 + 1 if is_max else limits[limit_key] / 2 - 1}
        (flag,) = qa.flags(figures, limits, None)
        label, numbers = flag_parts(flag)
        assert label == LABELS[figure], flag
        assert numbers.split()[1] in ("<", ">"), flag
    (flag,) = qa.flags({"fill": 0.5}, limits, 0.85)
    assert flag_parts(flag) == (LABELS["fill"], "0.50 != 0.85")
