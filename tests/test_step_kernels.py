"""The compiled twins of the steps after the model give their numpy twins' bits: the parts'
sizes, strong counts and boxes (openings.components, openings._candidates), the colour models'
histogram bins (openings.bins) and refine's band/hard maps (refine._band_and_hard)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from vitrina_sync.imaging import compiled, openings, refine


def _blobs(rng, shape, density):
    import cv2

    noise = rng.random(shape).astype(np.float32)
    return cv2.blur(noise, (7, 7)) > density


@pytest.mark.parametrize("seed", range(6))
def test_components_and_candidates_match_numpy(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in rng.integers(1, 260, 2))
    weak = _blobs(rng, shape, 0.5 + 0.02 * seed)
    strong = weak & (rng.random(shape) < 0.6)
    n, labels, area = openings.components(weak)
    got = [(r.copy(), sl) for r, sl in openings._candidates(weak, strong, 3.0)]
    monkeypatch.setattr(openings, "loops", lambda: None)
    n0, labels0, area0 = openings.components(weak)
    want = [(r.copy(), sl) for r, sl in openings._candidates(weak, strong, 3.0)]
    assert n == n0 and np.array_equal(labels, labels0)
    assert area.dtype == area0.dtype and np.array_equal(area, area0)
    assert len(got) == len(want)
    for (region, sl), (region0, sl0) in zip(got, want, strict=True):
        assert sl == sl0 and np.array_equal(region, region0)


@pytest.mark.parametrize("seed", range(6))
def test_histogram_bins_match_numpy(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 200, 2))
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    lab = openings.lab(rgb)
    tex = openings.texture(lab[..., 0])
    if seed % 2:  # values on the bins' edges and outside their range
        lab = (rng.standard_normal((h, w, 3)) * 90).astype(np.float32)
        lab.reshape(-1)[::5] = np.float32(-64.0)
        lab.reshape(-1)[::7] = np.float32(64.0)
        lab.reshape(-1)[::11] = np.float32(-0.5)
        tex.reshape(-1)[::3] = np.float32(1.5)
        tex.reshape(-1)[::4] = np.float32(10.0)
    got = openings.bins(lab, tex)
    monkeypatch.setattr(openings, "loops", lambda: None)
    want = openings.bins(lab, tex)
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_band_and_hard_match_numpy(monkeypatch):
    rng = np.random.default_rng(3)
    p = np.clip(rng.random((90, 120)).astype(np.float32) * 1.4 - 0.2, 0, 1)
    band = rng.random((90, 120)) < 0.3
    args = (band, p, (400, 300), (3.5, 2.25, 110.0, 86.5), 4)
    got = refine._band_and_hard(*args)
    monkeypatch.setattr(compiled, "loops", lambda: None)
    want = refine._band_and_hard(*args)
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
