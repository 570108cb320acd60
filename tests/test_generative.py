"""scene / apparel modes on a real (tiny, random-weight) diffusers pipeline, on CPU, offline.

The tiny pipeline paints noise everywhere it may; the tests check that the product's pixels are
still the cutout's, that seeds reproduce bytes, that variants come back, and that a missing model
or a GPU worker without a GPU says so.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import bench_script
from PIL import Image, ImageDraw

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from vitrina_sync import plugins, presets
from vitrina_sync.errors import ConfigError, ModelMissing, RowError
from vitrina_sync.imaging import compose, cutout, diffusion, qa
from vitrina_sync.imaging.colour import delta_e_rgb
from vitrina_sync.modes import generative
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.settings import load_settings

sys.path.insert(0, str(Path(__file__).parent))
from tiny_pipeline import save_tiny_pipeline

pytestmark = pytest.mark.gen
HAVE_U2NETP = cutout.model_path("u2netp").exists()


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and spinning OpenMP threads on a busy 2-core box
    made these tests 20x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return save_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-inpaint")


@pytest.fixture
def settings():
    return load_settings(env={}, overrides={"gpu_cpu_ok": True, "job_timeout": 600})


@pytest.fixture
def fake_cutout(monkeypatch):
    """The product's true alpha instead of u2netp (fast, exact); the real model is tested once."""

    def predict(img, model, settings=None):
        arr = np.asarray(img.convert("RGB"), np.int16)
        return (np.abs(arr - 245).sum(-1) > 30).astype(np.float32)

    monkeypatch.setattr(cutout, "predict_alpha", predict)


def product_photo() -> LoadedImage:
    """A striped (printed) bottle on a light backdrop."""
    img = Image.new("RGB", (160, 200), (245, 245, 245))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((50, 30, 110, 180), radius=12, fill=(200, 30, 40))
    for y in range(40, 170, 12):
        draw.rectangle((50, y, 110, y + 5), fill=(30, 60, 190))
    return LoadedImage(img, "PNG")


def preset_for(mode: str, model: Path, settings, **override) -> dict:
    base = presets.resolve(mode, "default", settings)
    return {**base, "canvas": [96, 80], "steps": 2, "diffusion_model": str(model), **override}


def run(mode, model, settings, fingerprint="f" * 16, **override):
    ctx = ModeContext(
        "SKU-1", fingerprint, preset_for(mode.name, model, settings, **override), settings
    )
    return mode.process(product_photo(), ctx)


def placed_cutout(preset: dict, settings) -> np.ndarray:
    """The cutout placed on the canvas, computed here without the mode's own code."""
    src = product_photo().image
    alpha = cutout.predict_alpha(src, preset["model"], settings)
    p = compose.plan_placement(compose.bbox(alpha), tuple(preset["canvas"]), preset["fill"])
    canvas = np.zeros((preset["canvas"][1], preset["canvas"][0], 3), np.float64)
    l, t, r, b = p.box
    canvas[t:b, l:r] = np.asarray(compose.resample(src, p), np.float64)
    return canvas


def assert_locked(image: Image.Image, mask: Image.Image, expected: np.ndarray) -> None:
    opaque = np.asarray(mask) == 255
    assert opaque.sum() > 500, "the test product should have a real opaque core"
    out = np.asarray(image, np.float64)[opaque]
    de = delta_e_rgb(out, expected[opaque])
    assert np.percentile(de, 95) < 1.0
    assert np.array_equal(out, expected[opaque])  # locked means the same bytes


def test_production_loader_keeps_one_pipeline(tiny_model, settings):
    first = diffusion.load_pipeline(str(tiny_model), settings)
    count = diffusion.LOAD_COUNT["n"]
    again = diffusion.load_pipeline(str(tiny_model), settings)
    assert again is first and diffusion.LOAD_COUNT["n"] == count
    assert type(first.pipe).__name__ == "StableDiffusionInpaintPipeline"
    assert (first.device, first.dtype) == ("cpu", "float32")


def test_switching_models_frees_the_previous(tiny_model, tmp_path, settings):
    other = shutil.copytree(tiny_model, tmp_path / "other")
    diffusion.load_pipeline(str(tiny_model), settings)
    diffusion.load_pipeline(str(other), settings)
    assert [key[0] for key in diffusion._cache] == [str(other)]


def test_scene_paints_background_and_locks_product(tiny_model, settings, fake_cutout):
    out = run(generative.SceneMode(), tiny_model, settings)
    assert out.image.size == (96, 80) and out.mask.size == (96, 80)
    expected = placed_cutout(preset_for("scene", tiny_model, settings), settings)
    assert_locked(out.image, out.mask, expected)
    background = np.asarray(out.image, np.float64)[np.asarray(out.mask) == 0]
    assert background.std() > 10, "the model painted the background (noise from random weights)"
    assert out.qa["de_p95"] < 1.0 and out.qa["seeds"] == [1234]
    assert "seeds 1234" in out.ai_version and out.extra == {"seeds": [1234]}
    assert out.qa["summary"].startswith("dE 0.0 | halo ") and isinstance(out.qa["flags"], list)
    figures = ("halo", "uncertainty", "bg_inside", "border", "soft_holes", "kept_opening")
    figures = (*figures, "sharpness", "headroom")
    for figure in (*figures, "shape_iou"):
        assert figure in out.qa  # imaging.qa's figures, as white mode reports them


@pytest.mark.skipif(not HAVE_U2NETP, reason="u2netp.onnx not installed")
def test_scene_with_the_real_cutout_model(tiny_model, settings):
    out = run(generative.SceneMode(), tiny_model, settings, canvas=[128, 128])
    assert out.image.size == (128, 128)
    expected = placed_cutout(preset_for("scene", tiny_model, settings, canvas=[128, 128]), settings)
    assert_locked(out.image, out.mask, expected)


def test_same_seed_same_bytes(tiny_model, settings, fake_cutout):
    mode = generative.SceneMode()
    a, b = run(mode, tiny_model, settings), run(mode, tiny_model, settings)
    assert a.image.tobytes() == b.image.tobytes()
    c = run(mode, tiny_model, settings, seed=99)
    assert c.image.tobytes() != a.image.tobytes()


def test_variants_are_returned_with_their_seeds(tiny_model, settings, fake_cutout):
    out = run(generative.SceneMode(), tiny_model, settings, variants=3, seed=7)
    assert len(out.variants) == 2  # the main image is variant 1
    assert out.qa["seeds"] == [7, 8, 9] and out.qa["variants"] == 3
    assert "seeds 7,8,9" in out.ai_version
    images = [out.image, *out.variants]
    assert len({img.tobytes() for img in images}) == 3
    assert set(out.qa["variant_figures"]) == {"2", "3"}
    assert out.qa["variant_figures"]["3"]["de_p95"] < 1.0
    expected = placed_cutout(preset_for("scene", tiny_model, settings), settings)
    for img in images:
        assert_locked(img, out.mask, expected)


def test_negative_seed_comes_from_the_fingerprint(tiny_model, settings, fake_cutout):
    seeds = generative.seeds_for({"seed": -1, "variants": 2}, "abc123")
    assert seeds == generative.seeds_for({"seed": -1, "variants": 2}, "abc123")
    assert seeds[1] == seeds[0] + 1
    with pytest.raises(RowError, match="variants must be 1-3"):
        generative.seeds_for({"seed": 1, "variants": 4}, "abc")


def test_apparel_checks_hem_and_print(tiny_model, settings, fake_cutout):
    out = run(generative.ApparelMode(), tiny_model, settings, canvas=[64, 96])
    assert out.image.size == (64, 96)
    for figure in ("hem_iou", "de_mean", "de_p95", "fill", "bbox_grow"):
        assert figure in out.qa
    assert out.qa["de_p95"] < 1.0
    if not cutout.model_path("u2net_cloth_seg").exists():
        assert out.qa["mask_model"] == "u2netp" and "u2net_cloth_seg" in out.qa["mask_note"]
    assert out.qa["summary"].startswith("print dE 0.0 | halo")


def test_missing_model_is_a_row_error_with_a_fetch_hint(settings, fake_cutout, tmp_path):
    mode = generative.SceneMode()
    with pytest.raises(ModelMissing, match="hf download nobody/no-such-inpainting"):
        run(mode, "nobody/no-such-inpainting", settings)
    with pytest.raises(ModelMissing, match="does not exist"):
        run(mode, tmp_path / "absent" / "model", settings)


def test_watchdog_stops_a_run_past_its_deadline(tiny_model, settings, fake_cutout, monkeypatch):
    monkeypatch.setattr(diffusion, "deadline_s", lambda s: -1.0)
    with pytest.raises(RowError, match="deadline"):
        run(generative.SceneMode(), tiny_model, settings)


def test_gpu_worker_without_gpu_refuses_unless_allowed(monkeypatch):
    monkeypatch.setattr(diffusion, "gpu_available", lambda: False)
    strict = load_settings(env={}, overrides={"gpu_cpu_ok": False})
    with pytest.raises(ConfigError, match="gpu_cpu_ok"):
        diffusion.check_worker_device(strict)
    assert "CPU" in diffusion.check_worker_device(
        load_settings(env={}, overrides={"gpu_cpu_ok": True})
    )


def test_modes_register_on_the_gpu_queue():
    modes = plugins.modes(plugins.build_plugin_manager(load_entry_points=False))
    assert modes["scene"].queue == "gpu" and modes["apparel"].queue == "gpu"


def test_gpu_bench_dry_run_and_refusal_without_cuda(capsys):
    bench = bench_script("gpu_scene")
    assert bench.main(["--dry-run", "--only", "SD-1.5"]) == 0
    assert "| SD-1.5 | ours:" in capsys.readouterr().out
    import torch

    if not torch.cuda.is_available():
        assert bench.main([]) == 2
        assert "needs a CUDA GPU" in capsys.readouterr().out


def test_gpu_checks_smoke_run_on_cpu(capsys):
    """bench/gpu_checks.py (the checks a GPU machine runs) goes through production's loader; on
    CPU its --cpu smoke run must pass the same checks, bar the dtype and the memory one."""
    checks = bench_script("gpu_checks")
    assert checks.main(["--cpu"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "smoke run done" in out
    for name in ("device picked by the loader: cpu, float32", "same seeds, same bytes",
                 "product pixels locked: max |difference| on the opaque product 0"):  # fmt: skip
        assert f"PASS  {name}" in out
    import torch

    if not torch.cuda.is_available():
        assert checks.main([]) == 2


def test_gpu_bench_configs_are_the_real_sizes():
    import torch
    from diffusers import UNet2DConditionModel

    bench = bench_script("gpu_scene")
    for cfg, millions in ((bench.SD15, 859.5), (bench.SDXL, 2567.5)):
        with torch.device("meta"):  # shapes only: no memory, no init time
            unet = UNet2DConditionModel(in_channels=9, out_channels=4, **cfg["unet"])
        assert round(sum(p.numel() for p in unet.parameters()) / 1e6, 1) == millions


def test_colour_drift_inside_the_product_is_measured(fake_cutout):
    src = product_photo().image
    placed = generative.place(
        src, cutout.predict_alpha(src, "u2netp"), {"canvas": [96, 80], "fill": 0.6}
    )
    painting = np.zeros((80, 96, 3), np.float32) + (0, 90, 0)
    locked = np.asarray(generative.lock(painting, placed)).copy()
    figures = generative.output_figures(Image.fromarray(locked), painting, placed)
    assert (figures["de_mean"], figures["de_p95"]) == (0.0, 0.0)
    locked[placed.solid] = np.clip(locked[placed.solid].astype(int) + 25, 0, 255)  # a repaint
    figures = generative.output_figures(Image.fromarray(locked), painting, placed)
    assert figures["de_p95"] > 2.0  # over imaging.qa's default de_p95_max: flagged


def test_source_figures_on_a_full_size_canvas():
    """A product filling 90% of a 1024 px canvas: qa's reduced copies (k > 1) of the placed
    float pixels. It used to raise TypeError (Pillow has no float RGB) before the first figure."""
    src = product_photo().image
    alpha = (np.abs(np.asarray(src, np.int16) - 245).sum(-1) > 30).astype(np.float32)
    placed = generative.place(src, alpha, {"canvas": [1024, 1024], "fill": 0.9})
    assert max(placed.box[2] - placed.box[0], placed.box[3] - placed.box[1]) > 640
    figures = generative.source_figures(src, alpha, placed)
    assert figures["bg_inside"] == 0.0 and figures["soft_holes"] == 0.0
    assert figures["border"] == 0.0  # the bottle is inside the frame


def test_scene_figures_see_a_cut_along_the_frame_and_a_cut_out_gloss():
    """Deliberately wrong cutouts: the model took a band touching the photo's edge (border), and
    cut a hole where the photo has no edge (soft holes); both flagged as in white mode."""
    src = product_photo().image
    alpha = (np.abs(np.asarray(src, np.int16) - 245).sum(-1) > 30).astype(np.float32)
    along = alpha.copy()
    along[:, :12] = 1.0  # a strip of backdrop down the photo's left edge, joined to nothing
    placed = generative.place(src, along, {"canvas": [256, 256], "fill": 0.8})
    limits = qa.thresholds({}, "default")
    figures = generative.source_figures(src, along, placed)
    flags = qa.flags(figures, limits, None)
    assert figures["border"] > limits["border_max"] and any(f.startswith("border") for f in flags)
    glossy = Image.new("RGB", (160, 200), (245, 245, 245))
    ImageDraw.Draw(glossy).rounded_rectangle((40, 30, 120, 180), radius=12, fill=(200, 30, 40))
    arr = np.asarray(glossy, np.float32).copy()
    yy, xx = np.mgrid[0:200, 0:160]
    spot = np.exp(-((xx - 80.0) ** 2 + (yy - 100.0) ** 2) / (2 * 14.0**2))[..., None]
    arr = arr * (1 - spot) + 250.0 * spot  # a smooth highlight, no edge in the photo
    glossy = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))
    cut = np.zeros((200, 160), np.float32)
    cut[30:181, 40:121] = 1.0
    cut[(xx - 80) ** 2 + (yy - 100) ** 2 < 14**2] = 0.0  # the highlight cut out as background
    placed = generative.place(glossy, cut, {"canvas": [256, 256], "fill": 0.8})
    figures = generative.source_figures(glossy, cut, placed)
    assert figures["soft_holes"] > limits["soft_holes_max"]
    assert any(f.startswith("soft holes") for f in qa.flags(figures, limits, None))
    assert figures["border"] == 0.0


def test_hub_id_loads_from_the_local_cache_only(tiny_model, tmp_path, settings, monkeypatch):
    import huggingface_hub

    snapshot = tmp_path / "models--acme--tiny" / "snapshots" / ("c0ffee" * 7)[:40]
    shutil.copytree(tiny_model, snapshot)
    calls = []

    def fake_snapshot_download(repo_id, local_files_only=False, **kw):
        calls.append((repo_id, local_files_only))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    loaded = diffusion.load_pipeline("acme/tiny", settings)
    assert calls == [("acme/tiny", True)]  # never a download in the middle of a job
    assert loaded.weights_id == ("c0ffee" * 7)[:12] and loaded.path == snapshot


def test_apparel_uses_the_cloth_model_when_installed(tiny_model, settings, monkeypatch, tmp_path):
    asked = []

    class ClothSession:
        def predict(self, img, cc=None):
            asked.append(cc)
            arr = np.asarray(img.convert("RGB"), np.int16)
            return [Image.fromarray(((np.abs(arr - 245).sum(-1) > 30) * 255).astype(np.uint8))]

    cloth = tmp_path / "u2net_cloth_seg.onnx"
    cloth.write_bytes(b"x")
    monkeypatch.setattr(cutout, "model_path", lambda name, settings=None: cloth)
    monkeypatch.setattr(cutout, "session", lambda name, settings=None: ClothSession())
    out = run(generative.ApparelMode(), tiny_model, settings)
    assert out.qa["mask_model"] == "u2net_cloth_seg" and "mask_note" not in out.qa
    assert asked and set(asked) == {"attire"}  # every garment class, not only the upper body
    assert out.qa["de_p95"] < 1.0
    # this fake calls any non-backdrop pixel garment, painted noise included: the hem check sees it
    assert any(flag.startswith("hem_iou") for flag in out.qa["flags"])


def test_odd_canvas_and_bottom_placement(tiny_model, settings, fake_cutout):
    out = run(generative.SceneMode(), tiny_model, settings, canvas=[97, 83], placement="bottom")
    assert out.image.size == (97, 83)  # painted at 96x80 (the model's multiple), scaled back
    expected = placed_cutout(preset_for("scene", tiny_model, settings, canvas=[97, 83]), settings)
    rows = np.nonzero(np.asarray(out.mask).max(axis=1))[0]
    centred_rows = np.nonzero(expected.max(axis=(1, 2)))[0]
    assert rows.max() > centred_rows.max()  # stands lower than the centred placement


@pytest.mark.skipif(not HAVE_U2NETP, reason="u2netp.onnx not installed")
def test_warm_says_which_model_is_missing(settings):
    # the shipped default names a hub id that is not in this machine's cache
    with pytest.raises(ModelMissing, match="hf download stable-diffusion-v1-5"):
        generative.SceneMode().warm(settings)
