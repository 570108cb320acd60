"""Property: whatever people type into their columns, serve's cycle goes on (issue 14).

Random text, numbers, dates, formulas, control-free unicode and very long strings in every people
column (SKU, Source, Mode, Preset, Marketplaces, Category, Decision, Approver, Review date) of a
real XLSX catalog (written by openpyxl) that also holds good rows, through `web.sync.cycle` (the
function serve's loop calls) on a real embedded Redis. No workers run (planning and write-back
are what the cells reach; the image jobs would only slow the examples down): the good rows must be
planned and their jobs be in Redis, every other non-empty row must come back with a status and,
when that status is error, a Message; no exception may leave a cycle; and no people's cell may be
changed by the write-back.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from conftest import EXAMPLES, SMALL_PRESETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from vitrina_sync.catalog.model import cell_text
from vitrina_sync.queue import job_id
from vitrina_sync.settings import settings_for_catalog
from vitrina_sync.web.commands import build_state, shutdown
from vitrina_sync.web.sync import cycle

PEOPLE = [
    "SKU",
    "Source",
    "Mode",
    "Preset",
    "Marketplaces",
    "Category",
    "Decision",
    "Approver",
    "Review date",
]
GOOD = {
    "GOOD-1": ["GOOD-1", "photos/mug.jpg", "white", "", "kaspi, ozon", "mugs", "", "", ""],
    "GOOD-2": ["GOOD-2", "photos/bag.jpg", "", "", "wb", "", "", "", ""],
}

# Control-free: openpyxl refuses control characters (the adapters strip them); XML has no
# surrogates or non-characters, so those can never be in a cell either.
CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Cn"))
TEXT = st.text(CHARS, max_size=40)
HOSTILE = st.one_of(
    st.none(),
    TEXT,
    st.integers(-(10**18), 10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
    TEXT.map(lambda t: "=" + t),  # a formula, maybe a broken one
    st.sampled_from(['=HYPERLINK("http://x","y")', "=1/0", "=A2&B2", "=SUM(A1:A3)"]),
    st.tuples(CHARS, st.integers(1000, 32_000)).map(lambda t: t[0] * t[1]),  # very long
    TEXT.map(lambda t: "9" * 5000 + t),  # past Python's int() digit limit
)
# Values that parse, so that some hostile rows are in fact good and get planned.
PLAUSIBLE = {
    "SKU": st.from_regex(r"H-[0-9]{1,3}", fullmatch=True),
    "Source": st.sampled_from(["photos/mug.jpg", "photos/../photos/bag.jpg", "../x.jpg", "/etc"]),
    "Mode": st.sampled_from(["white", "card", "Белый", "scene", "сцена"]),
    "Preset": st.sampled_from(["", "portrait", "default"]),
    "Marketplaces": st.sampled_from(["kaspi", "wb; ozon", "amazonia", ",,"]),
    "Category": st.sampled_from(["", "mugs"]),
    "Decision": st.sampled_from(["approved", "approved 2", "одобрено 100", "rejected", "maybe"]),
    "Approver": st.sampled_from(["", "anna"]),
    "Review date": st.sampled_from(["", "2026-11-30"]),
}
ROW = st.tuples(*(st.one_of(PLAUSIBLE[h], HOSTILE) for h in PEOPLE))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One catalog folder, one embedded Redis and serve's state, reused by every example."""
    root = tmp_path_factory.mktemp("cells")
    shutil.copytree(EXAMPLES, root / "photos")
    (root / "presets.toml").write_text(SMALL_PRESETS)
    (root / "vitrina.toml").write_text(f'presets = "{root / "presets.toml"}"\nlock_wait = 0.05\n')
    catalog = write_people(root / "catalog.xlsx", [])
    state, embedded = build_state([str(catalog)], settings_for_catalog(root), None, None, None)
    try:
        yield state, next(iter(state.catalogs.values())), catalog
    finally:
        shutdown(state, [], embedded)


def write_people(path, hostile: list[tuple]):
    book = Workbook()
    sheet = book.active
    sheet.title = "Catalog"
    sheet.append(PEOPLE)
    for row in [GOOD["GOOD-1"], *hostile, GOOD["GOOD-2"]]:
        sheet.append(list(row))
    book.create_sheet("Notes").append(["kept", "=1+1"])
    book.save(path)
    return path


def people_cells(path) -> list[tuple]:
    sheet = load_workbook(path)["Catalog"]
    return [tuple(c.value for c in row[: len(PEOPLE)]) for row in sheet.iter_rows(min_row=2)]


def machine_cells(path) -> list[dict]:
    sheet = load_workbook(path)["Catalog"]
    headers = [c.value for c in sheet[1]]
    return [dict(zip(headers, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(hostile=st.lists(ROW, min_size=1, max_size=3))
def test_no_cell_stops_a_cycle(served, hostile):
    state, cs, catalog = served
    assert all(cell_text(row[0]) not in GOOD for row in hostile)
    write_people(catalog, hostile)
    before = people_cells(catalog)
    broker = state.broker()
    broker.conn.flushdb()  # each example starts with an empty queue

    summary = cycle(state, cs)  # raises on a bug: the property fails
    assert summary is not None, cs.snapshot()["last_error"]
    assert not cs.snapshot()["last_error"]

    assert people_cells(catalog) == before  # the write-back never touches people's cells
    rows = machine_cells(catalog)
    by_sku = {cell_text(r["SKU"]): r for r in rows}
    for sku in GOOD:
        assert by_sku[sku]["Status"] == "queued", by_sku[sku]
        fp = by_sku[sku]["Fingerprint"]
        assert broker.conn.exists(f"rq:job:{job_id(sku, fp)}")  # planned and queued
    for row in rows[1:-1]:
        if not any(cell_text(row[h]) for h in PEOPLE):
            continue  # an empty row is no row
        assert row["Status"] in ("queued", "error"), row
        if row["Status"] == "error":
            assert row["Message"] and len(row["Message"]) <= 500, row
        else:
            assert row["Fingerprint"]


def test_hypothesis_ran_hostile_rows_into_errors_and_plans(served):
    """The property above is not vacuous: a fixed hostile catalog gives both outcomes."""
    state, cs, catalog = served
    write_people(
        catalog,
        [
            ("H-1", "photos/mug.jpg", "card", "", "kaspi", "", "approved 2", "anna", ""),
            ("H-2", "photos/mug.jpg", "white", "", "amazonia" * 5000, "", "", "", ""),
            ("H-3", "photos/mug.jpg", "white", "", "", "", "approved " + "9" * 5000, "", ""),
            ("H-4", "=A1&B1", dt.date(2026, 1, 2), 12.5, True, None, "", "", ""),
        ],
    )
    state.broker().conn.flushdb()
    assert cycle(state, cs) is not None
    rows = {cell_text(r["SKU"]): r for r in machine_cells(catalog)}
    assert rows["H-1"]["Status"] == "queued"
    assert rows["H-2"]["Status"] == "error" and rows["H-2"]["Message"].startswith(
        "unknown marketplace 'amazoniaamazonia"
    )
    assert len(rows["H-2"]["Message"]) < 200
    assert "variant number too large" in rows["H-3"]["Message"]
    assert rows["H-4"]["Status"] == "error" and rows["H-4"]["Message"]
