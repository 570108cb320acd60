"""The compiled kernels (imaging.kernels) where numba is installed, and the array layouts they take.

Every edge step asks `loops()` at call time and keeps a numpy/scipy/Pillow twin for None, so one
switch (tests patch `compiled.loops`) runs the whole edge path either way.
"""

from __future__ import annotations

import numpy as np


def loops():
    """The compiled kernels (the imaging.kernels package: every kernel by name, and warm()), or
    None without numba."""
    try:
        from . import kernels
    except ImportError:  # pragma: no cover - numba comes with rembg
        return None
    return kernels


def readonly(region: np.ndarray) -> np.ndarray:
    """A read-only view: regions come read-only from Pillow, and numba compiles per flag."""
    if region.flags.writeable:
        region = region.view()
        region.flags.writeable = False
    return region


def compiled_layouts(samples, region, alpha) -> bool:
    """Whether the compiled edge kernels take these arrays as they are (one signature each)."""
    return (
        samples.dtype == alpha.dtype == np.float32
        and region.dtype == np.uint8
        and region.ndim == 3
        and samples.flags.c_contiguous
        and region.flags.c_contiguous
        and alpha.flags.c_contiguous
        and alpha.flags.writeable
    )
