"""Checks of the generative path that only a CUDA machine can make (seconds; run before gpu_scene.py).

    .venv/bin/python bench/gpu_checks.py

Uses production's loader (imaging.diffusion.load_pipeline -> from_pretrained of a local folder)
on the tiny random-weight pipeline the CPU tests build, and reports:
- the device and dtype the loader picks by itself (expected: cuda, float16) and the attention
  processors it sets (expected: AttnProcessor2_0, i.e. torch SDPA);
- seed reproducibility on the GPU (same seeds -> same bytes, batched and one at a time);
- product pixels locked after painting on the GPU (max |difference| inside the opaque core);
- GPU memory handed back by free_pipelines() between models.
Exits non-zero when a check fails, so a run's output says plainly what held.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    import torch

    smoke = "--cpu" in (
        sys.argv[1:] if argv is None else argv
    )  # a smoke run of this script on a CPU box (gpu_cpu_ok)
    if not torch.cuda.is_available() and not smoke:
        print("gpu_checks.py needs a CUDA GPU (none visible here); --cpu runs a smoke test")
        return 2
    settings = {"gpu_cpu_ok": True} if smoke else {}
    want = ("cpu", "float32", torch.float32) if smoke else ("cuda", "float16", torch.float16)
    from tiny_pipeline import save_tiny_pipeline

    from vitrina_sync.imaging import diffusion
    from vitrina_sync.modes import generative

    failed = []

    def check(name: str, ok: bool, detail: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
        if not ok:
            failed.append(name)

    print(diffusion.check_worker_device(settings))
    preset = {
        "canvas": [128, 128] if smoke else [512, 512], "fill": 0.6, "blend_band": 6, "steps": 4, "guidance": 7.5,
        "prompt": "a wooden table", "negative_prompt": "text", "variants": 2,
    }  # fmt: skip
    rgb = np.full((300, 200, 3), 240, np.uint8)
    rgb[40:260, 50:150] = (200, 30, 40)
    rgb[40:260:9, 50:150] = (20, 70, 200)
    alpha = np.zeros((300, 200), np.float32)
    alpha[40:260, 50:150] = 1.0
    from PIL import Image

    placed = generative.place(Image.fromarray(rgb), alpha, preset)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = save_tiny_pipeline(Path(tmp) / "tiny")
        loaded = diffusion.load_pipeline(str(folder), settings)
        unet = loaded.pipe.unet
        procs = {type(p).__name__ for p in unet.attn_processors.values()}
        check(
            "device picked by the loader",
            (loaded.device, loaded.dtype, unet.dtype) == want,
            f"{loaded.device}, {loaded.dtype}, unet {unet.dtype}, attention {sorted(procs)}",
        )
        check("SDPA attention", procs == {"AttnProcessor2_0"}, f"{sorted(procs)}")
        mode = generative.SceneMode()
        watchdog = diffusion.Watchdog(120)
        runs = [mode.paint(loaded, placed, preset, [11, 12], watchdog) for _ in range(2)]
        one = mode.paint(loaded, placed, preset, [12], watchdog)
        as_bytes = lambda painted: [np.asarray(img).tobytes() for img, _ in painted]
        check("same seeds, same bytes (batched)", as_bytes(runs[0]) == as_bytes(runs[1]), "2 runs")
        diff_one = np.abs(
            np.asarray(one[0][0], np.int16) - np.asarray(runs[0][1][0], np.int16)
        ).max()
        print(
            f"INFO  seed 12 alone vs as variant 2 of [11, 12]: max |difference| {diff_one} "
            "(diffusers encodes the masked image once, with the batch's first generator: a variant "
            "is reproduced by its job's whole seed list, which qa.json and the AI version record)"
        )
        painting = generative.to_canvas(runs[0][0][0], placed)
        locked = generative.lock(painting, placed)
        out = np.asarray(locked.convert("RGB"), np.int16)
        src = np.clip(placed.rgb + 0.5, 0, 255).astype(np.int16)
        err = int(np.abs(out - src)[placed.solid].max())
        check("product pixels locked", err == 0, f"max |difference| on the opaque product {err}")
        figures = generative.output_figures(locked, painting, placed)
        print(f"INFO  output figures on the GPU painting: {figures}")
        if smoke:
            print("smoke run done" if not failed else f"FAILED: {failed}")
            return 1 if failed else 0
        # Memory: an SD-1.5-sized pipeline (random weights, saved to a folder) through the same
        # loader, then free_pipelines(). The baseline is taken after the tiny model ran, so
        # cuBLAS/cuDNN workspaces (torch's, kept per process) are in it and not blamed on us.
        import gc

        from gpu_scene import SD15, build_pipeline

        loaded = unet = runs = one = None
        diffusion.free_pipelines()
        big = Path(tmp) / "sd15"
        pipe = build_pipeline(SD15, "cuda")
        pipe.save_pretrained(big)
        pipe = None
        gc.collect()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        loaded = diffusion.load_pipeline(str(big), {})
        held = torch.cuda.memory_allocated()
        loaded = None
        diffusion.free_pipelines()
        after = torch.cuda.memory_allocated()
        mib = lambda b: f"{b / 2**20:.0f} MiB"
        check(
            "free_pipelines hands an SD-1.5-sized pipeline's memory back",
            held - base > 1 << 30 and after - base < 16 << 20,
            f"allocated {mib(base)} -> {mib(held)} loaded -> {mib(after)} after free_pipelines()",
        )
    print("all GPU checks passed" if not failed else f"FAILED: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
