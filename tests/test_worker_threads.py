"""A worker's OpenCV thread pool follows its share of the cores (worker.share_cores)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import cv2; default = cv2.getNumThreads(); from vitrina_sync.worker import share_cores; "
    "print(default, share_cores(), cv2.getNumThreads())"
)


def probe(omp: str | None) -> tuple[int, int, int]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    default, returned, after = (int(x) for x in done.stdout.split())
    return default, returned, after


def test_opencv_pool_takes_the_workers_share():
    default, returned, after = probe("1")
    assert (returned, after) == (1, 1)
    # OpenCV itself ignores OMP_NUM_THREADS: without share_cores a worker would keep its default
    assert default == max(1, cv2_cores())


@pytest.mark.parametrize("omp", [None, "", "abc", "0"])
def test_opencv_default_kept_without_a_share(omp):
    default, returned, after = probe(omp)
    assert returned == 0
    assert after == default


def cv2_cores() -> int:
    import cv2

    return cv2.getNumberOfCPUs()
