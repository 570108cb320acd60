"""Touch-up on the compare page: `POST /review/<sku>/touch-up` with a reviewer's brush strokes.

Body (JSON, CSRF token in the X-CSRFToken header): {"fingerprint": the picture on screen,
"strokes": [{"kind": "remove" | "keep", "width": px, "points": [[x, y], ...]}]} in the pixel
coordinates of the row's source. The strokes are validated (imaging.strokes), saved for the SKU
and the source they were drawn on (touchup.py), logged in the SKU's history, and the sync loop is
woken: the strokes are an input of the fingerprint, so the next cycle queues the row again (the
same path as "regenerate with a new seed") and the new picture comes back to review. Answers are
JSON: 202 queued (200 when the same strokes were sent before); 400 a malformed body; 401/403 not signed in / not a reviewer; 404 no such SKU;
409 the picture on screen is no longer the row's, or the row cannot be touched up; 413 too big.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
from flask import Blueprint, abort, current_app, g, jsonify, request, send_file
from PIL import Image

from .. import touchup
from ..errors import StrokesError
from ..fingerprint import FileHashCache
from ..imaging import strokes as strokes_mod
from ..storage import is_remote, open_storage
from ..store import folder_path, local_copy, output_dir
from . import review_data as data
from . import review_decide as decide_mod
from . import review_images as images
from .auth import login_required
from .current import catalog

bp = Blueprint("touchup", __name__)
MAX_BODY = 512 * 1024  # bytes: MAX_TOTAL_POINTS points as JSON fit with room to spare
REVIEW_ROLES = ("reviewer", "admin")
FINISHED = ("needs_review", "approved", "rejected")
FP = re.compile(r"[0-9a-f]{12,64}")
CUT_TINT = (16, 24, 48)  # what the current cut leaves out, dimmed on the source
CUT_SIDE = 2048  # the overlay's longest side at most
ORIENTATION_SWAPS = {5, 6, 7, 8}  # EXIF orientations that turn the picture by 90 degrees


def init_app(app) -> None:
    app.register_blueprint(bp)
    # Flask-Babel (another component) installs the real gettext; until then, an identity `_`
    app.jinja_env.globals.setdefault("_", _identity)
    app.jinja_env.globals["touchup_for"] = touchup_for


def _identity(text: str, **kwargs) -> str:
    return text % kwargs if kwargs else text


def problem(status: int, message: str):
    return jsonify({"ok": False, "error": message}), status


# -- what the page needs --------------------------------------------------------------------------
def source_size(path: Path) -> tuple[int, int] | None:
    """The source's size as loaded for processing (EXIF orientation applied), from its header."""
    try:
        with Image.open(path) as image:
            w, h = image.size
            turned = image.getexif().get(0x0112) in ORIENTATION_SWAPS
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return (h, w) if turned else (w, h)


def output_folder(session, sku: str, fp: str) -> Path:
    """The output folder on disk; from a bucket, a local copy of all its files (made once: an
    output is never rewritten) under <out>/.vitrina/cache/outputs."""
    if not is_remote(session.storage):
        return output_dir(session.storage, sku, fp)
    storage = open_storage(session.storage, session.settings)
    cache = session.out_root / ".vitrina" / "cache" / "outputs"
    return local_copy(storage, folder_path(storage, sku, fp), cache, everything=True)


def stored_source(session, sku: str, fp: str) -> Path | None:
    folder = output_folder(session, sku, fp)
    name = data.files_of(folder).get("source")
    return folder / name if name else None


def touchup_for(c: str, row, fp: str) -> dict:
    """The compare page's touch-up panel: can it be offered, the source size, strokes so far."""
    _, cstate = catalog(c)
    out_root = cstate.session.out_root
    source = stored_source(cstate.session, row.sku, fp) if fp else None
    size = source_size(source) if source is not None else None
    mode = data.load_json(source.parent / "result.json").get("mode", "") if source else ""
    ok = size is not None and _takes_strokes(cstate, mode) and row.get("status") in FINISHED
    drawn = touchup.load(out_root, row.sku, source_key(source)) if ok else []
    return {"ok": ok, "size": size or (0, 0), "strokes": drawn}


def cut_on_source(mask_path: Path) -> bytes:
    """The output's mask taken back to the source's geometry (qa.json's extra.geometry: the region
    on the canvas and the same area of the source), as a PNG that dims what the cut leaves out."""
    folder = mask_path.parent
    geometry = (data.load_json(folder / "qa.json").get("extra") or {}).get("geometry") or {}
    name = data.files_of(folder).get("source")
    size = source_size(folder / name) if name else None
    if size is None or "region" not in geometry or "region_source" not in geometry:
        raise FileNotFoundError(mask_path)
    l, t, r, b = geometry["region"]
    s0, s1, s2, s3 = geometry["region_source"]
    # at most CUT_SIDE px: the browser stretches it over the source anyway (a 50 MP source would
    # otherwise make a 200 MB overlay)
    f = min(1.0, CUT_SIDE / max(size))
    out_size = (max(1, round(size[0] * f)), max(1, round(size[1] * f)))
    kx, ky = (r - l) / (s2 - s0) / f, (b - t) / (s3 - s1) / f
    with Image.open(mask_path) as mask:
        region = mask.convert("L").crop((l, t, r, b))
    # each overlay pixel looks up its place on the region: x_region = (x / f - s0) * (r - l) / (s2 - s0)
    on_source = region.transform(
        out_size,
        Image.Transform.AFFINE,
        (kx, 0, -s0 * kx * f, 0, ky, -s1 * ky * f),
        Image.Resampling.BILINEAR,
    )
    left_out = (255 - np.asarray(on_source, np.uint16)) * 150 // 255
    rgba = np.zeros((out_size[1], out_size[0], 4), np.uint8)
    rgba[..., :3] = CUT_TINT
    rgba[..., 3] = left_out.astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG", compress_level=3)
    return buf.getvalue()


@bp.route("/review/<path:sku>/touch-up/cut.png")
@login_required
def cut_overlay(sku: str):
    """The current cut over the source, for the brush (cached under <out>/.vitrina/thumbs)."""
    _, cstate = catalog()
    fp = request.args.get("fp", "")
    if not FP.fullmatch(fp):
        abort(404)
    out_root = cstate.session.out_root
    mask = output_folder(cstate.session, sku, fp) / "mask.png"
    if not mask.is_file():
        abort(404)
    try:
        png = images.cached(out_root / ".vitrina" / "thumbs", mask, "overlay-cut", cut_on_source)
    except FileNotFoundError:
        abort(404)
    response = send_file(png, mimetype="image/png", max_age=3600, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _takes_strokes(cstate, mode: str) -> bool:
    """The mode's own say (a mode plugin may take strokes too), from the modes the sync plans with."""
    known = cstate.session.ctx.modes
    return bool(getattr(known.get(mode or "white"), "takes_strokes", False))


def source_key(stored: Path) -> str:
    """The key planning looks strokes up by (plan.source_sha): the storage's content version where
    the source has one (an object's ETag, kept in qa.json), else the stored bytes' sha256."""
    version = data.load_json(stored.parent / "qa.json").get("source_version")
    return version if isinstance(version, str) and version else _HASHES.sha256(str(stored))


# The stored sources' hashes, as planning hashes a photo (by path, size, mtime and inode): output
# folders are never rewritten, so an entry stays right; in memory, for this process only.
_HASHES = FileHashCache()


# -- the endpoint ---------------------------------------------------------------------------------
@bp.route("/review/<path:sku>/touch-up", methods=["POST"])
def touch_up(sku: str):
    if g.get("user") is None:
        return problem(401, "Sign in first.")
    if g.user["role"] not in REVIEW_ROLES:
        return problem(403, "A touch-up needs the reviewer role.")
    if (request.content_length or 0) > MAX_BODY:
        return problem(413, f"The body is larger than {MAX_BODY // 1024} KiB; draw fewer strokes.")
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict) or set(body) != {"fingerprint", "strokes"}:
        return problem(
            400,
            'Send JSON {"fingerprint": "...", "strokes": [...]} (Content-Type: application/json).',
        )
    fp = body["fingerprint"]
    if not isinstance(fp, str) or not fp:
        return problem(400, "fingerprint must be the row's fingerprint (a string).")
    name, cstate = catalog()
    row = data.find_row(cstate.session.catalog.read(), sku)
    if row is None:
        return problem(404, f"{sku} is not in the sheet (or appears twice).")
    refused = _refusal(cstate, row, sku, fp)
    if refused:
        return problem(409, refused)
    source = stored_source(cstate.session, sku, fp)
    try:
        drawn = strokes_mod.validate(body["strokes"], source_size(source))
    except StrokesError as exc:
        return problem(400, f"strokes refused: {exc}")
    return _queue(name, cstate, sku, fp, source, drawn)


def _refusal(cstate, row, sku: str, fp: str) -> str:
    """Why this row cannot be touched up now ('' when it can)."""
    if row.get("fingerprint") != fp:
        return decide_mod.changed_message(decide_mod.Request(sku, fp, "", g.user["name"]))
    if row.get("status") not in FINISHED:
        return f"{sku} is {row.get('status') or 'not finished'} now, not waiting for review."
    source = stored_source(cstate.session, sku, fp)
    if source is None or source_size(source) is None:
        return f"{sku} has no stored source picture to draw on."
    mode = data.load_json(source.parent / "result.json").get("mode", "")
    if not _takes_strokes(cstate, mode):
        return f"{sku} is made in {mode or 'an unknown'} mode, which takes no touch-up strokes."
    return ""


def _queue(name: str, cstate, sku: str, fp: str, source: Path, drawn: list[dict]):
    reviewer = g.user["name"]
    if touchup.load(cstate.session.out_root, sku, source_key(source)) == drawn:
        message = f"{sku}: these strokes are the ones already sent; nothing new to cut."
        return jsonify({"ok": True, "message": message, "strokes": len(drawn)}), 200
    touchup.save(cstate.session.out_root, sku, source_key(source), drawn, reviewer)
    now = dt.datetime.now(dt.UTC)
    entry = {
        "sku": sku,
        "fp": fp,
        "kind": "touch-up",
        "strokes": len(drawn),
        "remove": sum(s["kind"] == "remove" for s in drawn),
        "keep": sum(s["kind"] == "keep" for s in drawn),
        "reviewer": reviewer,
        "date": now.date().isoformat(),
        "time": now.isoformat(timespec="seconds"),
    }
    decide_mod.ReviewLog(cstate.session.out_root / ".vitrina" / "review-log.jsonl").append(entry)
    current_app.extensions["vitrina_sheets"].forget(name)
    state = decide_mod.current_app_state()
    if state is not None:
        state.trigger_sync()
    message = (
        f"{sku}: touch-up with {len(drawn)} strokes queued; the new picture will come to review."
    )
    return jsonify({"ok": True, "message": message, "strokes": len(drawn)}), 202
