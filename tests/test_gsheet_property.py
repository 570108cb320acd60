"""Property: whatever people do between reads and write-backs (insert, delete, sort rows, edit
people's cells and SKUs, insert columns), every result lands on its SKU's row and no people's
cell ever changes."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitrina_sync.catalog import RowUpdate, open_catalog
from vitrina_sync.columns import MACHINE_KEYS, column_key
from vitrina_sync.settings import load_settings

sys.path.insert(0, str(Path(__file__).parent))  # tests/fakes, whatever pytest's import mode
from fakes.sheets_api import FakeSheetsApi

TITLE = "Каталог 1"  # a title that needs quoting in A1 ranges
HEADER = ["SKU", "Source", "Статус", "Decision", "RowId", "Result"]
PEOPLE_EDITABLE = ["Source", "Decision", "SKU"]
books = itertools.count()


@pytest.fixture(scope="module")
def api():
    with FakeSheetsApi() as fake:
        yield fake


class World:
    """The fake sheet plus what each row (by a hidden RowId people never touch) should hold."""

    def __init__(self, api: FakeSheetsApi, n_rows: int):
        self.api, self.book = api, f"book{next(books)}"
        self.people = {
            f"r{i}": {"SKU": f"{i:05d}", "Source": f"p{i}.jpg", "Decision": ""}
            for i in range(n_rows)
        }
        self.machine: dict[str, str] = {}  # RowId -> Status we last wrote there
        self.ids = itertools.count(n_rows)
        rows = [[p["SKU"], p["Source"], "", "", rid] for rid, p in self.people.items()]
        api.add_sheet(self.book, TITLE, [HEADER] + rows, cols=8)
        settings = load_settings(
            env={}, overrides={"google_credentials": "none", "google_api_url": api.url}
        )
        settings.update(google_reads_per_minute=1e6, google_writes_per_minute=1e6)
        self.catalog = open_catalog(f"gsheet://{self.book}/{TITLE}", settings)
        self.catalog.read()

    def grid(self) -> tuple[list[str], list[list[str]]]:
        values = self.api.values(self.book, TITLE)
        return values[0], [row + [""] * (len(values[0]) - len(row)) for row in values[1:]]

    def row_id_at(self, index: int) -> str:
        header, rows = self.grid()
        return rows[index][header.index("RowId")]

    def sku_row(self) -> dict[str, str]:
        return {p["SKU"]: rid for rid, p in self.people.items()}

    def check(self) -> None:
        header, rows = self.grid()
        assert sorted(r[header.index("RowId")] for r in rows) == sorted(self.people)
        status = next(i for i, h in enumerate(header) if column_key(h) == "status")
        for row in rows:
            rid = row[header.index("RowId")]
            for name, value in self.people[rid].items():
                assert row[header.index(name)] == value, (rid, name)
            assert row[status] == self.machine.get(rid, ""), (rid, row)
            machine = [i for i, h in enumerate(header) if column_key(h) in MACHINE_KEYS]
            for i in machine:  # whatever we wrote in this row names this row's SKU at the time
                assert row[i] in ("", self.machine.get(rid)), (rid, header[i], row[i])


def do_insert(world: World, data) -> None:
    at = data.draw(st.integers(2, len(world.people) + 2), label="insert at")
    rid = f"r{next(world.ids)}"
    world.people[rid] = {"SKU": f"N{rid}", "Source": "new.jpg", "Decision": ""}
    header, _ = world.grid()
    row = [""] * len(header)
    for name, value in [("RowId", rid), *world.people[rid].items()]:
        row[header.index(name)] = value
    world.api.insert_rows(world.book, TITLE, at, [row])


def do_delete(world: World, data) -> None:
    if world.people:
        index = data.draw(st.integers(0, len(world.people) - 1), label="delete")
        del world.people[world.row_id_at(index)]
        world.api.delete_rows(world.book, TITLE, index + 2)


def do_sort(world: World, data) -> None:
    header, _ = world.grid()
    name = data.draw(st.sampled_from(["SKU", "Source", "RowId"]), label="sort by")
    world.api.sort_rows(world.book, TITLE, header.index(name) + 1, reverse=data.draw(st.booleans()))


def do_edit(world: World, data) -> None:
    if not world.people:
        return
    index = data.draw(st.integers(0, len(world.people) - 1), label="edit row")
    name = data.draw(st.sampled_from(PEOPLE_EDITABLE), label="edit column")
    rid = world.row_id_at(index)
    value = (
        f"E{rid}-{name}" if name == "SKU" else data.draw(st.sampled_from(["x.jpg", "approved", ""]))
    )
    world.people[rid][name] = value
    header, _ = world.grid()
    world.api.set_cell(world.book, TITLE, index + 2, header.index(name) + 1, value)


def do_insert_column(world: World, data) -> None:
    header, _ = world.grid()
    at = data.draw(st.integers(1, len(header) + 1), label="column at")
    world.api.insert_column(world.book, TITLE, at, f"Extra{next(world.ids)}")


def do_write(world: World, data, step: int) -> None:
    present = sorted(world.sku_row())
    chosen = (
        data.draw(st.lists(st.sampled_from(present), unique=True, max_size=6), label="write")
        if present
        else []
    )
    ghosts = ["ghost"] if data.draw(st.booleans(), label="ghost") else []
    updates = [
        RowUpdate(sku, {"status": f"{sku}@{step}", "result": f"{sku}@{step}"})
        for sku in chosen + ghosts
    ]
    report = world.catalog.write_back(updates)
    owners = world.sku_row()
    for sku in chosen:
        world.machine[owners[sku]] = f"{sku}@{step}"
    assert sorted(report.written) == sorted(chosen) and report.missing == ghosts


OPS = {
    "insert": do_insert,
    "delete": do_delete,
    "sort": do_sort,
    "edit": do_edit,
    "column": do_insert_column,
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n_rows=st.integers(0, 8), data=st.data())
def test_results_land_on_their_sku_and_people_cells_never_change(api, n_rows, data):
    world = World(api, n_rows)
    steps = data.draw(st.lists(st.sampled_from([*OPS, "write", "write", "read"]), max_size=12))
    for step, op in enumerate(steps):
        if op == "write":
            do_write(world, data, step)
        elif op == "read":
            world.catalog.read()
        else:
            OPS[op](world, data)
        world.check()
