"""What the review pages show, read from the sheet and the output folders (no Flask here).

The sheet is read through the catalog adapter and kept a few seconds (an XLSX until its file
changes), so paging through a 2,000-row queue does not re-read the workbook per click and a
Google Sheet is not read more often than its quota allows. qa.json files live in
content-addressed folders and never change, so they are cached for the life of the process.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..catalog.model import Row, Sheet
from ..errors import VitrinaError
from ..imaging.flag_names import CHECKS, FILL
from ..storage import is_remote, open_storage
from ..store import output_dir, safe_name


def N_(text: str) -> str:  # gettext's name for "extract now, translate later" (i18n.tr)
    return text


SHEET_TTL = 5.0  # seconds a non-file catalog read is reused
PAGE_SIZE = 40
FIGURES = (  # (figure, threshold key, how the figure must compare, label, what it means)
    (
        "de_mean",
        "de_mean_max",
        "max",
        N_("colour drift dE mean"),
        N_("How far the product's colours moved on average (CIE dE2000); below 1 is invisible."),
    ),
    (
        "de_p95",
        "de_p95_max",
        "max",
        N_("colour drift dE p95"),
        N_("The colour change that 95 in 100 of the product's pixels stay under."),
    ),
    (
        "halo",
        "halo_max",
        "max",
        N_("edge halo"),
        N_("Share of the edge that keeps a light or dark fringe of the old background."),
    ),
    (
        "uncertainty",
        "uncertainty_max",
        "max",
        N_("mask uncertainty"),
        N_(
            "Share of the cut-out whose edge the finished mask leaves undecided, "
            "neither product nor background."
        ),
    ),
    (
        "bg_inside",
        "bg_inside_max",
        "max",
        N_("old background inside"),
        N_("Share of the picture where the old background shows through inside the product."),
    ),
    (
        "border",
        "border_max",
        "max",
        N_("cut by the photo's edge"),
        N_("Share of the product's outline on the photo's edge: cut off, or not the product."),
    ),
    (
        "soft_holes",
        "soft_holes_max",
        "max",
        N_("holes without an edge"),
        N_("Share of the product cut away as holes whose rim is no edge in the photo."),
    ),
    (
        "kept_opening",
        "kept_opening_max",
        "max",
        N_("opening kept as product"),
        N_("Share of the product that is an opening kept whole, with the scene seen through it."),
    ),
    (
        "outgrowth",
        "outgrowth_max",
        "max",
        N_("old background grown on"),
        N_("Share of the product that is a patch of the old background joined to its outline."),
    ),
    (
        "foreign_part",
        "foreign_part_max",
        "max",
        N_("another object joined on"),
        N_("Share of the product that is a piece of another object joined to its outline."),
    ),
    (
        "lost_part",
        "lost_part_max",
        "max",
        N_("product part left out"),
        N_(
            "Share of the product the photo clearly shows beside the output, joined to its outline."
        ),
    ),
    (
        "parted",
        "parted_max",
        "max",
        N_("another object cut off"),
        N_(
            "Share of the product's outline taken off as another object the model saw with it:"
            " check the seam, and that no part of the product went with it."
        ),
    ),
    (
        "faint",
        "faint_max",
        "max",
        N_("faint remains"),
        N_(
            "Share of the product found as faint remains apart from it, a grey smudge on"
            " white: check what it is, and that no part of the product was lost there."
        ),
    ),
    (
        "cut_panel",
        "cut_panel_max",
        "max",
        N_("printed panel cut out"),
        N_("Share of the product cut away as holes through a label or panel printed on it."),
    ),
    (
        "purity",
        "purity_min",
        "min",
        N_("background purity"),
        N_("Share of the new background that is exactly the target colour."),
    ),
    (
        "sharpness",
        "sharpness_min",
        "min",
        N_("source sharpness"),
        N_("How sharp the source photo is; a blurred photo cannot give a sharp card."),
    ),
    (
        "headroom",
        "headroom_min",
        "min",
        N_("resolution headroom"),
        N_("Source pixels per output pixel; below 1 the picture was enlarged."),
    ),
    (
        "fill",
        "fill_tolerance",
        "near",
        N_("fill ratio"),
        N_("How much of the canvas the product fills, against the preset's target."),
    ),
)
DEFAULT_CHECKLIST = (N_("shape"), N_("colour"), N_("pattern"), N_("hardware"), N_("labels"))
DEFAULT_REASONS = (
    N_("colour changed"),
    N_("shape or edges damaged"),
    N_("halo / old background visible"),
    N_("wrong crop or fill"),
    N_("artefacts"),
    N_("wrong product"),
)
LABELS = {figure: label for figure, _key, _how, label, _means in FIGURES}
FLAG_PREFIXES = tuple(  # how imaging/qa.py's flags name each figure -> the label the pages use
    (f"{name} ", LABELS[figure])  # "dE p95 " is read before "dE ", the one a prefix of the other
    for figure, name in sorted(
        [(figure, name) for figure, name, _, _ in CHECKS] + [FILL], key=lambda f: f[0] == "de_mean"
    )
)
FLAG_FILTER_NAMES = {  # the queue's QA flag filter goes by a flag's first word
    "dE": N_("colour drift dE"),
    "bg": N_("old background inside"),
    **{p.split()[0]: label for p, label in FLAG_PREFIXES if not p.startswith(("dE", "bg"))},
}
HISTORY_KINDS = (N_("decision"), N_("first-approval"), N_("regenerate"))  # review-log entries
FLAG_FILTERS = (N_("flagged"), N_("ok"))  # the QA flag filter's two words
STATUS_NAMES = {  # a row's Status cell -> what the pages call it
    "new": N_("new"),
    "queued": N_("queued"),
    "processing": N_("processing"),
    "needs_review": N_("needs review"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "error": N_("error"),
}


@dataclass
class Item:
    """One row waiting for review, with what the queue shows about it."""

    row: Row
    folder: Path
    qa: dict = field(default_factory=dict)

    @property
    def sku(self) -> str:
        return self.row.sku

    @property
    def fingerprint(self) -> str:
        return self.row.get("fingerprint")

    @property
    def flags(self) -> list[str]:
        return list(self.qa.get("flags") or [])

    @property
    def marketplaces(self) -> list[str]:
        cell = self.row.get("marketplaces").replace(";", ",")
        return [p.strip().casefold() for p in cell.split(",") if p.strip()]

    @property
    def badness(self) -> tuple[int, float]:
        """Worst first: how many figures fail, then how far the worst one is from its limit."""
        ratios = [r for _, _, _, _, r in figure_rows(self.qa)]
        return len(self.flags), max(ratios, default=0.0)


class SheetCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[object, float, Sheet]] = {}

    def get(self, name: str, catalog) -> Sheet:
        stamp = _file_stamp(catalog)
        with self._lock:
            entry = self._entries.get(name)
        if entry and (
            entry[0] == stamp if stamp is not None else time.monotonic() - entry[1] < SHEET_TTL
        ):
            return entry[2]
        sheet = catalog.read()
        with self._lock:
            self._entries[name] = (stamp, time.monotonic(), sheet)
        return sheet

    def forget(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)


def _file_stamp(catalog):
    path = getattr(catalog, "path", None)
    if path is None:
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=20_000)
def _qa_text(path: str) -> str:
    if is_remote(path):  # an object: read by key (storage.py), absent or unreachable = ""
        folder, _, name = path.rpartition("/")
        try:
            storage = open_storage(folder)
            return storage.read_bytes(storage.path(name)).decode()
        except (OSError, VitrinaError, UnicodeError):
            return ""
    try:
        return Path(path).read_text("utf-8")
    except OSError:
        return ""


def load_json(path: Path | str) -> dict:
    """A JSON file of a finished (never rewritten) output folder, or {} when absent/unreadable."""
    text = _qa_text(str(path))
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def flag_parts(flag: str) -> tuple[str, str]:
    """(the figure's label, the numbers) of a QA flag such as `bg inside 0.05 > 0.02`;
    ("", flag) for a flag this table does not know."""
    for prefix, label in FLAG_PREFIXES:
        if flag.startswith(prefix):
            return label, flag[len(prefix) :]
    return "", flag


def status_name(status: str) -> str:
    """The (untranslated) name of a Status value; unknown values are shown as they are."""
    return STATUS_NAMES.get(status or "new", status)


def figure_rows(qa: dict, number=lambda v: f"{v:g}") -> list[tuple[str, float, str, bool, float]]:
    """(label, value, limit text, ok, ratio to the limit) for each figure the output has;
    `number` writes the limits (the review page passes the reader's locale's)."""
    limits = qa.get("thresholds") or {}
    out = []
    for fig, key, how, label, _meaning in FIGURES:
        value, limit = qa.get(fig), limits.get(key)
        if not isinstance(value, (int, float)) or not isinstance(limit, (int, float)):
            continue
        if how == "max":
            ok, text, ratio = (
                value <= limit,
                f"≤\u00a0{number(limit)}",
                value / limit if limit else 0.0,
            )
        elif how == "min":
            ok, text, ratio = (
                value >= limit,
                f"≥\u00a0{number(limit)}",
                limit / value if value else 10.0,
            )
        else:
            target = float((qa.get("preset") or {}).get("fill") or value)
            off = abs(value - target)
            ok, text = off <= limit + 1e-9, f"{number(target)} ±\u00a0{number(limit)}"
            ratio = off / limit if limit else 0.0
        out.append((label, float(value), text, ok, float(ratio)))
    return out


def item_for(row: Row, out_root: Path | str) -> Item:
    """out_root: the storage root, a folder or an s3:// URL (then the folder is a URL string)."""
    fp = row.get("fingerprint")
    if is_remote(out_root):
        folder = f"{out_root}/{safe_name(row.sku)}/{fp[:12] if fp else '-'}"
    else:
        folder = output_dir(out_root, row.sku, fp) if fp else Path(out_root) / "-"
    return Item(row, folder, load_json(f"{folder}/qa.json"))


def waiting(sheet: Sheet, out_root: Path | str) -> list[Item]:
    """Rows in needs_review, worst QA first (ties by SKU so pages are stable)."""
    items = [
        item_for(r, out_root) for r in sheet.rows if r.get("status") == "needs_review" and r.sku
    ]
    items.sort(key=lambda i: i.sku)
    items.sort(key=lambda i: i.badness, reverse=True)
    return items


def matches(item: Item, filters: dict[str, str]) -> bool:
    cat, mode, market = filters.get("category"), filters.get("mode"), filters.get("marketplace")
    audit, flag = filters.get("audit"), filters.get("flag")
    if cat and item.row.get("category").casefold() != cat.casefold():
        return False
    if mode and (item.row.get("mode") or "white").casefold() != mode.casefold():
        return False
    if market and market.casefold() not in item.marketplaces:
        return False
    if audit and (audit == "yes") != bool(item.row.get("audit")):
        return False
    if flag == "ok" and item.flags:
        return False
    if flag == "flagged" and not item.flags:
        return False
    named = flag and flag not in ("ok", "flagged")
    return not named or any(f.split(" ")[0] == flag for f in item.flags)


def facets(items: list[Item]) -> dict[str, list[str]]:
    """The values each filter can take in the current queue."""
    flags = {f.split(" ")[0] for i in items for f in i.flags}
    return {
        "category": sorted({i.row.get("category") for i in items if i.row.get("category")}),
        "mode": sorted({i.row.get("mode") or "white" for i in items}),
        "marketplace": sorted({m for i in items for m in i.marketplaces}),
        "flag": ["flagged", "ok", *sorted(flags)],
    }


def paged(items: list, page: int, size: int = PAGE_SIZE) -> tuple[list, int, int]:
    pages = max(1, -(-len(items) // size))
    page = min(max(1, page), pages)
    return items[(page - 1) * size : page * size], page, pages


def neighbours(items: list[Item], sku: str) -> tuple[str | None, str | None, int]:
    """(previous SKU, next SKU, 1-based position) of `sku` in the queue."""
    skus = [i.sku for i in items]
    if sku not in skus:
        return None, (skus[0] if skus else None), 0  # decided already: on to the first one waiting
    at = skus.index(sku)
    return (skus[at - 1] if at else None), (skus[at + 1] if at + 1 < len(skus) else None), at + 1


def find_row(sheet: Sheet, sku: str) -> Row | None:
    rows = [r for r in sheet.rows if r.sku == sku]
    return rows[0] if len(rows) == 1 else None


def files_of(folder: Path | str) -> dict[str, str]:
    """Role -> file name in an output folder (from result.json, else by looking on disk)."""
    files = dict(load_json(f"{folder}/result.json").get("files") or {})
    if not files and isinstance(folder, Path) and folder.is_dir():
        for p in folder.iterdir():
            files.setdefault(p.stem if not p.stem.startswith("source") else "source", p.name)
    return {k: v for k, v in files.items() if "/" not in v and not v.startswith(".")}


def variants(files: dict[str, str]) -> list[tuple[int, str]]:
    """[(1, main), (2, variant_2), ...] when the mode made several pictures."""
    extra = sorted(
        (int(k.split("_")[1]), v)
        for k, v in files.items()
        if k.startswith("variant_") and k.split("_")[1].isdigit()
    )
    return [(1, files["main"]), *extra] if extra and "main" in files else []


def version_folders(out_root: Path | str, sku: str) -> list[tuple[str, str]]:
    """(fp12, folder) of every output of the SKU, newest first (a bucket: by the result's time)."""
    if is_remote(out_root):
        storage = open_storage(out_root)
        try:
            names = storage.ls_dirs(storage.path(safe_name(sku)))
        except VitrinaError:
            return []
        found = [
            (n.rsplit("/", 1)[-1], f"{out_root}/{safe_name(sku)}/{n.rsplit('/', 1)[-1]}")
            for n in names
        ]
        updated = {f: load_json(f"{f}/result.json").get("updated", "") for _, f in found}
        return sorted(found, key=lambda nf: updated[nf[1]], reverse=True)
    base = Path(out_root) / safe_name(sku)
    folders = (
        [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if base.is_dir()
        else []
    )
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [(p.name, str(p)) for p in folders]


def history(out_root: Path | str, row: Row, log: list[dict]) -> list[dict]:
    """Every output folder of the SKU (newest first), with the decisions made on each version."""
    current = row.get("fingerprint")[:12]
    versions = []
    for name, folder in version_folders(out_root, row.sku):
        result, qa = load_json(f"{folder}/result.json"), load_json(f"{folder}/qa.json")
        versions.append(
            {
                "fp": name,
                "current": name == current,
                "updated": result.get("updated", ""),
                "qa": qa.get("summary") or result.get("qa", ""),
                "mode": result.get("mode", ""),
                "main": (result.get("files") or {}).get("main", ""),
                "strokes": _stroke_count(folder, result),
                "decisions": [e for e in log if e.get("fp", "")[:12] == name],
            }
        )
    bound = row.get("decision_fp").partition(":")[0]
    if row.get("decision"):
        for v in versions:
            if v["fp"] == bound:
                v["sheet_decision"] = {
                    "decision": row.get("decision"),
                    "approver": row.get("approver"),
                    "date": row.get("review_date"),
                    "reason": row.get("reject_reason"),
                }
    return versions


def _stroke_count(folder: Path | str, result: dict) -> int:
    """How many touch-up strokes an output obeys (its strokes.json), 0 for none."""
    name = (result.get("files") or {}).get("strokes")
    if not name:
        return 0
    try:  # a folder or a bucket; a finished output's files never change, so the cached read holds
        return len(json.loads(_qa_text(f"{folder}/{name}") or "[]"))
    except (ValueError, TypeError):
        return 0


def status_counts(sheet: Sheet) -> tuple[Counter, Counter, int]:
    """(rows per status, rows per marketplace, audit rows waiting) from a sheet read."""
    statuses, markets, audit = Counter(), Counter(), 0
    for row in sheet.rows:
        statuses[row.get("status") or "new"] += 1
        for m in Item(row, Path()).marketplaces:
            markets[m] += 1
        audit += bool(row.get("audit")) and row.get("status") == "needs_review"
    return statuses, markets, audit


def meaning(label: str) -> str:
    """The explanation of a figure, by its label."""
    return next((m for *_, lab, m in FIGURES if lab == label), "")


def _text(item) -> str | dict:
    """A configured item: plain text, or a table of texts per language ({en=..., ru=...})."""
    if isinstance(item, dict):
        return {str(k): str(v) for k, v in item.items() if str(v).strip()}
    return str(item)


def checklist(settings, category: str) -> list[str | dict]:
    lists = (settings or {}).get("checklists") or {}
    for name, items in lists.items():
        if str(name).strip().casefold() == (category or "").strip().casefold() and items:
            return [_text(i) for i in items]
    default = lists.get("default") if isinstance(lists, dict) else None
    return [_text(i) for i in default] if default else list(DEFAULT_CHECKLIST)


def reject_reasons(settings) -> list[str | dict]:
    """Shipped reasons (English ids, translated on the page) or configured ones; a configured
    table's `en` text (else its first) is what the sheet's Reject reason cell gets."""
    reasons = (settings or {}).get("reject_reasons")
    if isinstance(reasons, str):
        reasons = [r.strip() for r in reasons.split(",")]
    kept = [_text(r) for r in reasons or () if (r if isinstance(r, dict) else str(r).strip())]
    return kept or list(DEFAULT_REASONS)


def reason_value(reason: str | dict) -> str:
    """What the sheet stores for a reason: the same text whoever picks it, in any language."""
    if isinstance(reason, dict):
        return reason.get("en") or next(iter(reason.values()), "")
    return reason
