"""Review pages: dashboard `/`, queue `/review`, compare `/review/<sku>`, decisions, images.

Every view needs a signed-in user (auth.login_required); /packs needs the admin role
(review_packs.py). Catalog: the `c` query/form value names one of AppState.catalogs (default the
first), so a server with several catalogs reviews each on its own.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from ..storage import is_remote
from ..store import safe_name
from . import review_data as data
from . import review_decide as decide_mod
from . import review_images as images
from .auth import login_required
from .current import app_state, catalog
from .i18n import fmt_number

bp = Blueprint("review", __name__)
FILTERS = ("category", "mode", "marketplace", "audit", "flag")
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def init_app(app) -> None:
    app.extensions["vitrina_sheets"] = data.SheetCache()
    app.extensions["vitrina_waiting"] = {}  # catalog -> (the sheet read, its sorted queue)
    app.register_blueprint(bp)
    app.after_request(_security_headers)
    app.jinja_env.globals.update(
        img_url=img_url,
        status_name=data.status_name,
        meaning=data.meaning,
        reason_value=data.reason_value,
        flag_text=flag_text,
        facet_label=facet_label,
    )


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# -- helpers shared by the views ----------------------------------------------------------------
def sheet_of(name: str, cstate):
    return current_app.extensions["vitrina_sheets"].get(name, cstate.session.catalog)


def review_log(cstate) -> decide_mod.ReviewLog:
    return decide_mod.ReviewLog(cstate.session.out_root / ".vitrina" / "review-log.jsonl")


def img_url(c: str, root: str, rel: str, kind: str = "full") -> str:
    return url_for("review.image", root=root, rel=rel, c=c, v=kind)


def out_rel(sku: str, fp: str, name: str) -> str:
    return f"{safe_name(sku)}/{fp[:12]}/{name}"


def flag_text(flag: str) -> str:
    """A QA flag with the figure named in the reader's language (the numbers as they are)."""
    label, numbers = data.flag_parts(flag)
    return f"{_(label)} {numbers}" if label else flag


def facet_label(key: str, value: str) -> str:
    """What a queue filter's option says: QA flag names translated, sheet values as they are."""
    if key != "flag":
        return value
    if value in ("flagged", "ok"):
        return _(value)
    name = data.FLAG_FILTER_NAMES.get(value)
    return _(name) if name else value


def filters_from(args) -> dict[str, str]:
    return {k: args.get(k, "").strip() for k in FILTERS if args.get(k, "").strip()}


def queue_items(name: str, cstate, filters: dict[str, str]) -> tuple[list, list]:
    """(all rows waiting, those the filters keep)."""
    sheet = sheet_of(name, cstate)
    memo = current_app.extensions["vitrina_waiting"]
    cached = memo.get(name)
    if cached is not None and cached[0] is sheet:  # same read: the sorted queue is still right
        items = cached[1]
    else:
        items = data.waiting(sheet, cstate.session.storage)
        memo[name] = (sheet, items)
    return items, [i for i in items if data.matches(i, filters)]


# -- dashboard -----------------------------------------------------------------------------------
@bp.route("/")
@login_required
def dashboard():
    state = app_state()
    cards = [catalog_card(name, c) for name, c in state.catalogs.items()]
    workers = getattr(state, "workers", None)
    return render_template(
        "dashboard.html",
        cards=cards,
        started=state.started,
        local_workers=len(getattr(workers, "procs", []) or []) if workers else None,
    )


def catalog_card(name: str, cstate) -> dict:
    sheet = sheet_of(name, cstate)
    statuses, markets, audit = data.status_counts(sheet)
    errors = list(cstate.recent_errors) or [
        (r.sku, r.get("message")) for r in sheet.rows if r.get("status") == "error"
    ]
    return {
        "name": name,
        "spec": cstate.session.spec,
        "statuses": sorted(statuses.items()),
        "markets": sorted(markets.items()),
        "audit": audit,
        "errors": errors[:10],
        "last_sync": cstate.last_sync,
        "last_seconds": cstate.last_seconds,
        "last_error": cstate.last_error,
        "loop_error": cstate.loop_error,
        "loop_restarts": cstate.loop_restarts,
        "broker": broker_info(cstate.session),
    }


def broker_info(session) -> dict:
    """Queue depth, workers and write-back backlog; never starts Redis from a page view."""
    broker = session.broker
    if broker is None:
        return {"error": _("not connected yet (the sync loop connects on its first cycle)")}
    try:
        from rq import Worker

        from ..queue import results_key

        return {
            "queues": {n: q.count for n, q in broker.queues.items()},
            "workers": Worker.count(connection=broker.conn),
            "backlog": broker.conn.hlen(results_key(session.key)),
        }
    except Exception as exc:  # noqa: BLE001 -- Redis away: the dashboard still renders and says so
        return {"error": _("Redis unavailable: %(why)s", why=exc)}


# -- the queue ------------------------------------------------------------------------------------
@bp.route("/review")
@login_required
def queue():
    name, cstate = catalog()
    filters = filters_from(request.args)
    everything, kept = queue_items(name, cstate, filters)
    page_items, page, pages = data.paged(kept, request.args.get("page", 1, type=int))
    rows = [queue_row(name, i) for i in page_items]
    return render_template(
        "queue.html",
        c=name,
        rows=rows,
        page=page,
        pages=pages,
        total=len(kept),
        waiting=len(everything),
        filters=filters,
        facets=data.facets(everything),
        catalogs=list(app_state().catalogs),
    )


def queue_row(name: str, item) -> dict:
    files = data.files_of(item.folder)
    fp = item.fingerprint
    return {
        "sku": item.sku,
        "category": item.row.get("category"),
        "mode": item.row.get("mode") or "white",
        "marketplaces": ", ".join(item.marketplaces),
        "audit": bool(item.row.get("audit")),
        "qa": item.qa.get("summary") or item.row.get("qa"),
        "flags": item.flags,
        "source": img_url(name, "out", out_rel(item.sku, fp, files["source"]), "thumb")
        if "source" in files
        else "",
        "output": img_url(name, "out", out_rel(item.sku, fp, files["main"]), "thumb")
        if "main" in files
        else "",
    }


# -- compare + decide -----------------------------------------------------------------------------
@bp.route("/review/<path:sku>")
@login_required
def compare(sku: str):
    name, cstate = catalog()
    sheet = sheet_of(name, cstate)
    row = data.find_row(sheet, sku)
    if row is None:
        abort(404, _("no such SKU in the sheet (or it appears twice)"))
    filters = filters_from(request.args)
    kept = queue_items(name, cstate, filters)[1]
    prev_sku, next_sku, position = data.neighbours(kept, sku)
    return render_template(
        "compare.html",
        **compare_context(name, cstate, row),
        filters=filters,
        prev_sku=prev_sku,
        next_sku=next_sku,
        position=position,
        total=len(kept),
    )


def compare_context(name: str, cstate, row) -> dict:
    settings = app_state().settings or {}
    item = data.item_for(row, cstate.session.storage)
    files, fp = data.files_of(item.folder), row.get("fingerprint")
    url = lambda f, kind="full": img_url(name, "out", out_rel(row.sku, fp, f), kind)
    log = review_log(cstate)
    first = log.first_approval(row.sku, fp) if row.get("audit") else None
    return {
        "c": name,
        "row": row,
        "fp": fp,
        "qa": item.qa,
        "figures": data.figure_rows(item.qa, fmt_number),
        "flags": item.flags,
        "source_url": url(files["source"]) if "source" in files else "",
        "output_url": url(files["main"]) if "main" in files else "",
        "edge_url": url(files["mask"], "overlay-edge") if "mask" in files else "",
        "halo_url": url(files["mask"], "overlay-halo") if "mask" in files else "",
        "variants": [(n, url(f), url(f, "thumb")) for n, f in data.variants(files)],
        "checklist": data.checklist(settings, row.get("category")),
        "reasons": data.reject_reasons(settings),
        "history": data.history(cstate.session.storage, row, log.entries(row.sku)),
        "first_approval": first,
        "audit_second": bool(settings.get("audit_second_reviewer")),
        "history_thumb": lambda fp12, f: img_url(
            name, "out", f"{safe_name(row.sku)}/{fp12}/{f}", "thumb"
        ),
    }


@bp.route("/decide", methods=["POST"])
@login_required
def decide():
    name, cstate = catalog()
    form = request.form
    sku, fp, action = form.get("sku", ""), form.get("fp", ""), form.get("action", "")
    log = review_log(cstate)
    if action == "regenerate":
        outcome = decide_mod.regenerate(cstate, sku, fp, g.user["name"], log)
    elif action in ("approve", "reject"):
        req = decide_mod.Request(
            sku,
            fp,
            "approved" if action == "approve" else "rejected",
            g.user["name"],
            form.get("reason", "")[:200],
            form.get("note", "")[:500],
            max(1, form.get("variant", 1, type=int) or 1),
        )
        row = data.find_row(cstate.session.catalog.read(), sku)
        settings = app_state().settings or {}
        outcome = decide_mod.decide(
            cstate, row, req, log, bool(settings.get("audit_second_reviewer"))
        )
    else:
        abort(400, _("unknown action"))
    current_app.extensions["vitrina_sheets"].forget(name)
    flash(outcome.message, "ok" if outcome.ok else "error")
    args = {"c": name, **filters_from(form)}
    next_sku = form.get("next", "")
    if outcome.ok and action != "regenerate" and next_sku:
        return redirect(url_for("review.compare", sku=next_sku, **args))
    if outcome.ok and action != "regenerate":
        return redirect(url_for("review.queue", **args))
    return redirect(url_for("review.compare", sku=sku, **args))


# -- images ---------------------------------------------------------------------------------------
@bp.route("/img/<any(out, assets):root>/<path:rel>")
@login_required
def image(root: str, rel: str):
    _, cstate = catalog()
    session = cstate.session
    base = session.storage if root == "out" else session.asset_root
    thumbs = session.out_root / ".vitrina" / "thumbs"
    if is_remote(base):  # a bucket: a local copy, fetched through the storage's own client
        path = images.fetch_object(str(base), rel, thumbs)
    else:
        path = images.resolve_inside(base, rel)
    kind = request.args.get("v", "full")
    if path is None or kind not in ("full", "thumb", "overlay-edge", "overlay-halo"):
        abort(404)
    if kind.startswith("overlay") and path.name != "mask.png":
        abort(404)
    started = time.perf_counter()
    served = images.served_file(thumbs, path, kind)
    response = send_file(served, max_age=3600, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Server-Timing"] = f"img;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response
