"""The compiled kernels (imaging.kernels): warm() loads every kernel the modes call, for the
layouts they pass, so a worker's first jobs compile nothing (a new layout costs ~1 s mid-job).

Run in a fresh interpreter: kernels compiled by earlier tests in this process would hide a
layout warm() misses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")

TESTS = Path(__file__).parent

# warm as a worker does, note every kernel's signatures, run white, white with shadow and card
# jobs on a plain and a photo background, note them again
JOBS = """
import json
import sys

from numba.core.registry import CPUDispatcher
from synthetic import scene

from vitrina_sync.imaging import kernels
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.modes.card import CardMode
from vitrina_sync.modes.white import WhiteMode


def signatures():
    return {
        f"{module.__name__}.{name}": sorted(str(s) for s in kernel.signatures)
        for module in kernels.MODULES
        for name, kernel in vars(module).items()
        if isinstance(kernel, CPUDispatcher)
        and kernel.py_func.__module__ == module.__name__  # not floats.clip01 where imported
        and not name.startswith("_")
    }


SETTINGS = {"default_model": "u2netp"}
BASE = {"canvas": [600, 600], "fill": 0.85, "model": "u2netp"}
JOBS = [
    (WhiteMode(), BASE),
    (WhiteMode(), {**BASE, "shadow": True}),
    (CardMode(), {**BASE, "background": "gradient:#FFFFFF:#DDE3EA"}),
]
JOBS[0][0].warm(SETTINGS)
warmed = signatures()
for kind, bg in (("box", "light"), ("ring", "chelsea")):
    image = scene(kind, bg, (450, 600)).image
    for mode, preset in JOBS:
        context = ModeContext("SKU-1", "f" * 12, preset, SETTINGS)
        mode.process(LoadedImage(image, "PNG"), context)
json.dump({"warmed": warmed, "after_jobs": signatures()}, sys.stdout)
"""


@pytest.fixture(scope="module")
def signatures():
    done = subprocess.run(
        [sys.executable, "-c", JOBS],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def test_warm_loads_every_kernel(signatures):
    """Every public kernel of every kernels module has a signature after warm() (a kernel
    added to a module but not to its warm() fails here)."""
    missing = [name for name, loaded in signatures["warmed"].items() if not loaded]
    assert len(signatures["warmed"]) >= 25
    assert missing == []


def test_first_jobs_after_warm_compile_no_kernel(signatures):
    """White, shadow and card jobs after warm() add no signature to any kernel."""
    added = {
        name: sorted(set(after) - set(signatures["warmed"][name]))
        for name, after in signatures["after_jobs"].items()
        if after != signatures["warmed"][name]
    }
    assert added == {}
