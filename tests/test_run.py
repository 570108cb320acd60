"""The main job end to end: real XLSX, embedded Redis, real RQ worker processes, real u2netp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import write_catalog
from openpyxl import load_workbook
from PIL import Image

from vitrina_sync.runner import run


def sheet_rows(path: Path) -> dict[str, dict]:
    ws = load_workbook(path).active
    headers = [c.value for c in ws[1]]
    return {str(r[0]): dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True)}


ROWS = [
    ["MUG-1", "photos/mug.jpg", "white", "", "kaspi", "kitchen"],
    ["BAG-2", "photos/bag.jpg", "", "portrait", "ozon", "bags"],
    ["00123", "photos/coffee.jpg", "Белый", "", "wb", "food"],
    ["BAD-4", "photos/not-an-image.jpg", "white", "", "", ""],
    ["ESC-5", "../../etc/passwd", "white", "", "", ""],
]


def test_run_processes_writes_back_and_a_second_run_changes_nothing(workspace, settings):
    catalog = write_catalog(workspace / "catalog.xlsx", ROWS)
    summary = run(str(catalog), settings, progress=False)
    assert summary.queued == 4 and summary.processed == 4
    assert summary.statuses == {"needs_review": 3, "error": 2}
    rows = sheet_rows(catalog)
    assert rows["BAD-4"]["Status"] == "error" and "not an image" in rows["BAD-4"]["Message"]
    assert (
        rows["ESC-5"]["Status"] == "error" and "leaves the asset folder" in rows["ESC-5"]["Message"]
    )
    for sku in ("MUG-1", "BAG-2", "00123"):
        row = rows[sku]
        assert row["Status"] == "needs_review" and row["QA"] and "u2netp" in row["AI version"]
        out = workspace / row["Result"]
        assert out.parent == workspace / "vitrina-out" / sku / row["Fingerprint"][:12]
        assert {p.name for p in out.parent.iterdir()} >= {
            "source.jpg",
            "main.jpg",
            "mask.png",
            "qa.json",
        }
        source = next(r[1] for r in ROWS if r[0] == sku)
        assert out.parent.joinpath("source.jpg").read_bytes() == (workspace / source).read_bytes()
    main = np.asarray(Image.open(workspace / rows["BAG-2"]["Result"]))
    assert main.shape == (400, 300, 3)  # the portrait preset of the test presets
    assert (main[:5, :5] >= 250).all()  # white background
    assert rows["00123"]["SKU"] == "00123"

    again = run(str(catalog), settings, progress=False)
    assert again.queued == 0 and again.changed == 0
    assert sheet_rows(catalog) == rows


def test_edited_source_requeues_exactly_that_row_and_models_load_once_per_worker(
    workspace, settings
):
    catalog = write_catalog(workspace / "catalog.xlsx", ROWS[:3])
    first = run(str(catalog), settings, progress=False)
    assert first.processed == 3
    (workspace / "photos/mug.jpg").write_bytes((workspace / "photos/ring.jpg").read_bytes())
    before = sheet_rows(catalog)
    second = run(str(catalog), settings, progress=False)
    assert second.queued == 1 and second.processed == 1
    after = sheet_rows(catalog)
    assert after["MUG-1"]["Fingerprint"] != before["MUG-1"]["Fingerprint"]
    assert after["BAG-2"] == before["BAG-2"] and after["00123"] == before["00123"]
    folders = list((workspace / "vitrina-out" / "MUG-1").iterdir())
    assert (
        len([f for f in folders if not f.name.startswith(".")]) == 2
    )  # old and new output both kept


def test_model_loads_once_per_worker_process(workspace, settings):
    rows = [
        [f"S{i}", "photos/mug.jpg" if i % 2 else "photos/bag.jpg", "white", "", "", ""]
        for i in range(6)
    ]
    catalog = write_catalog(workspace / "catalog.xlsx", rows)
    summary = run(str(catalog), settings, workers=2, progress=False)
    assert summary.processed == 6
    assert len(list((workspace / "vitrina-out").glob("S*/*/result.json"))) == 6
    assert 1 <= len(summary.model_loads) <= 2  # two worker processes did all six jobs
    assert set(summary.model_loads.values()) == {1}  # one u2netp session per process, not per job


def test_cli_run_prints_summary_and_exit_codes(workspace):
    catalog = write_catalog(workspace / "catalog.xlsx", ROWS)
    cmd = [sys.executable, "-m", "vitrina_sync.cli", "run", str(catalog), "--no-progress"]
    first = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=240)
    assert first.returncode == 0, first.stderr
    assert "5 rows synced; 5 rows changed" in first.stdout
    assert "needs_review       3" in first.stdout and "error              2" in first.stdout
    assert "BAD-4" in first.stdout and "ESC-5" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=240)
    assert "0 rows changed" in second.stdout and "queued 0" in second.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "vitrina_sync.cli", "run", str(workspace / "nope.xlsx")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert missing.returncode != 0 and "catalog not found" in missing.stderr
    (workspace / "~$catalog.xlsx").write_text("lock")
    (workspace / "photos/bag.jpg").write_bytes((workspace / "photos/ring.jpg").read_bytes())
    locked = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=240)
    assert locked.returncode != 0 and "open in Excel" in locked.stderr


def test_bad_images_each_get_their_own_error_and_the_batch_goes_on(workspace, settings):
    photos = workspace / "photos"
    data = (photos / "mug.jpg").read_bytes()
    (photos / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (photos / "empty.jpg").write_bytes(b"")
    Image.new("1", (4000, 3000)).save(photos / "bomb.png")  # 12 MP, a few KB on disk
    (workspace / "vitrina.toml").write_text(
        (workspace / "vitrina.toml").read_text() + "max_pixels = 5000000\n"
    )
    from vitrina_sync.settings import settings_for_catalog

    rows = [
        ["OK-1", "photos/mug.jpg", "white", "", "", ""],
        ["TRUNC", "photos/truncated.jpg", "white", "", "", ""],
        ["EMPTY", "photos/empty.jpg", "white", "", "", ""],
        ["BOMB", "photos/bomb.png", "white", "", "", ""],
        ["OK-2", "photos/bag.jpg", "white", "", "", ""],
    ]
    catalog = write_catalog(workspace / "catalog.xlsx", rows)
    summary = run(str(catalog), settings_for_catalog(workspace), workers=1, progress=False)
    got = sheet_rows(catalog)
    assert got["OK-1"]["Status"] == got["OK-2"]["Status"] == "needs_review"
    assert got["TRUNC"]["Status"] == "error" and "truncated" in got["TRUNC"]["Message"].lower()
    assert got["EMPTY"]["Status"] == "error" and "empty" in got["EMPTY"]["Message"].lower()
    assert got["BOMB"]["Status"] == "error" and "pixel cap" in got["BOMB"]["Message"]
    assert len(summary.model_loads) == 1  # one worker did all five: it never crashed


def test_scene_rows_without_a_gpu_worker_say_so_and_cutouts_go_on(workspace, settings):
    catalog = write_catalog(
        workspace / "catalog.xlsx",
        [
            ["SC-1", "photos/mug.jpg", "scene", "", "", ""],
            ["WH-2", "photos/bag.jpg", "white", "", "", ""],
        ],
    )
    summary = run(str(catalog), settings, workers=1, progress=False)
    rows = sheet_rows(catalog)
    assert rows["WH-2"]["Status"] == "needs_review"
    assert rows["SC-1"]["Status"] == "error" and "no GPU worker" in rows["SC-1"]["Message"]
    assert not rows["SC-1"][
        "Fingerprint"
    ]  # transient: the next sync (with a GPU worker) tries again
    assert summary.statuses == {"needs_review": 1, "error": 1}


STARTUP = """
import sys
from vitrina_sync import cli, runner
from vitrina_sync.plugins import modes, plugin_manager
plugin_manager()
assert {"white", "card"} <= set(modes())
heavy = ("scipy.ndimage._filters", "flask", "requests", "onnxruntime", "numba", "openpyxl")
print(",".join(name for name in heavy if name in sys.modules))
"""


def test_cli_parent_plans_without_the_workers_heavy_imports():
    """The parent of `run`/`sync` only plans and queues: loading every plugin and mode must not
    import the image, server or upload stacks, nor openpyxl (reading and patching an XLSX do
    without it): each cost every command 45-180 ms of start-up."""
    done = subprocess.run(
        [sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
    help_text = subprocess.run(
        [sys.executable, "-m", "vitrina_sync.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("serve", "users", "pack", "upload", "plugins", "run", "worker"):
        assert f"  {name} " in help_text  # optional commands still listed (imported for --help)


def test_illegal_characters_pattern_is_openpyxls():
    """catalog.xlsx spells out openpyxl's pattern instead of importing openpyxl at start-up."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from vitrina_sync.catalog import xlsx

    assert xlsx.ILLEGAL_CHARACTERS_RE.pattern == ILLEGAL_CHARACTERS_RE.pattern
    assert xlsx.plain_text("a\x00b\x0bc\td\ne") == "abc\td\ne"


def test_wait_returns_as_soon_as_the_last_result_is_in(monkeypatch):
    """No poll pause after the last result: write-back starts at once (a pause there cost every
    `run` its full poll interval)."""
    from types import SimpleNamespace

    from vitrina_sync import runner

    tasks = {"A": {"fingerprint": "1"}, "B": {"fingerprint": "2"}}
    reads = iter([{"A": {"fingerprint": "1"}}, {s: dict(t) for s, t in tasks.items()}])
    session = SimpleNamespace(
        finished=lambda _tasks: next(reads), broker=SimpleNamespace(conn=None)
    )
    workers = SimpleNamespace(check=lambda conn: [])
    pauses = []
    monkeypatch.setattr(runner, "results_listener", lambda s: None)
    monkeypatch.setattr(runner, "pause", lambda listener, seconds: pauses.append(seconds))
    done = runner.wait_for(session, tasks, workers, runner.Summary(), progress=False)
    assert set(done) == {"A", "B"}
    assert pauses == [0.2]  # one pause, after the first read; none after the last
