"""bench/bench_masks.py measures each background model as white mode's shipped preset for it runs
it: the larger models' presets (`white.isnet`, `white.birefnet`) work at 1024 px, and measuring
them at u2netp's 640 would hand them an upsampled copy (round 15 first did)."""

from __future__ import annotations

import pytest
from conftest import bench_script


@pytest.fixture(scope="module")
def bench():
    return bench_script("bench_masks")


def test_each_model_gets_its_shipped_presets_work_side(bench):
    from vitrina_sync.presets import all_presets

    white = all_presets({})["white"]
    by_model = {p["model"]: p for p in white.values() if "model" in p}
    assert by_model["isnet-general-use"]["work_side"] == 1024  # the shipped file this guards
    for model in bench.MODELS:
        expected = by_model[model].get("work_side")
        assert bench.model_keys(model).get("work_side") == expected
    assert bench.model_keys("u2netp") == {}  # the mode's default work size, 640
    assert bench.model_keys("no-such-model") == {}


def test_run_hands_the_model_keys_to_white_mode(bench, monkeypatch):
    seen = []

    class Seen(Exception):
        pass

    class Recorder:
        def process(self, loaded, ctx):
            seen.append(dict(ctx.preset))
            raise Seen  # the preset is all this test reads

    monkeypatch.setattr(bench, "WhiteMode", Recorder)
    monkeypatch.setattr(bench, "cases", lambda name: [("box", "green", 0, False)])
    for model, side in (("isnet-general-use", 1024), ("u2netp", None)):
        with pytest.raises(Seen):
            bench.run("tune", (90, 120), 120, model, {"after (default)": {}})
        assert seen[-1]["model"] == model
        assert seen[-1].get("work_side") == side
