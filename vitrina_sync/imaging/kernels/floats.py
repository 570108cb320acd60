"""The float32 constants the kernels compare and compute with, and their clip to [0, 1].

numpy casts a Python float to float32 against a float32 array, while numba computes `x * 0.2`
in float64: kernels write F32(0.2), or a constant from here, to keep numpy's bits. numba
freezes these into each compiled kernel and its cache checks only the kernel's own file, so
after changing a value here, touch the kernel modules (or clear their __pycache__).
"""

from __future__ import annotations

import numba
import numpy as np

F32 = np.float32
SNAP = F32(0.04)  # refine.SNAP
SNAP_SPAN = F32(1.0 - 2.0 * 0.04)
TINY, NEAR_ONE = F32(0.5 / 255.0), F32(1.0 - 0.5 / 255.0)
ZERO, ONE = F32(0.0), F32(1.0)


@numba.njit(cache=True, nogil=True, inline="always")
def clip01(v):  # pragma: no cover - compiled
    return min(max(v, ZERO), ONE)
