"""scene mode on a GPU: images/s and peak GPU memory, plain `pipe(...)` vs our worker path.

    .venv/bin/python bench/gpu_scene.py                # one H100/H200, ~5-8 min
    .venv/bin/python bench/gpu_scene.py --dry-run      # CPU smoke run with tiny configs (seconds)

Pipelines are SD-1.5-inpainting- and SDXL-inpainting-sized, built from configs with random
weights on the GPU (same compute as real weights; nothing is downloaded). For each:
  plain: fp32 (what from_pretrained gives without a dtype), one `pipe(...)` call per variant;
  ours:  the worker path - fp16, SDPA attention, a kept pipeline, variants in one batched call,
         plus placement, masks, pixel lock and the colour QA figure (host side).
Loading is not in either row (a kept pipeline pays it once per worker); the load a plain
per-job script would pay is measured once for SD-1.5 (save + from_pretrained) and printed below.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the local tokenizer builder (no downloads)
sys.path.insert(0, str(ROOT))

CLIP_L = {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
          "num_hidden_layers": 12, "vocab_size": 49408, "hidden_act": "quick_gelu",
          "projection_dim": 768}  # fmt: skip
CLIP_BIGG = {"hidden_size": 1280, "intermediate_size": 5120, "num_attention_heads": 20,
             "num_hidden_layers": 32, "vocab_size": 49408, "hidden_act": "gelu",
             "projection_dim": 1280}  # fmt: skip
SD_VAE = {"block_out_channels": (128, 256, 512, 512), "layers_per_block": 2, "sample_size": 512}
SD15 = {
    "unet": {
        "block_out_channels": (320, 640, 1280, 1280),
        "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        "layers_per_block": 2,
        "cross_attention_dim": 768,
        "attention_head_dim": 8,
        "sample_size": 64,
    },
    "vae": SD_VAE,
    "text": [CLIP_L],
}
SDXL = {
    "unet": {
        "block_out_channels": (320, 640, 1280),
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        "layers_per_block": 2,
        "cross_attention_dim": 2048,
        "attention_head_dim": (5, 10, 20),
        "transformer_layers_per_block": (1, 2, 10),
        "use_linear_projection": True,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,  # 6 time ids x 256 + 1280 pooled text
        "sample_size": 128,
    },
    "vae": {**SD_VAE, "sample_size": 1024, "force_upcast": True},
    "text": [CLIP_L, CLIP_BIGG],
}
TINY_SD15 = {
    "unet": {
        "block_out_channels": (16, 32),
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "layers_per_block": 1,
        "cross_attention_dim": 32,
        "attention_head_dim": 8,
        "norm_num_groups": 8,
        "sample_size": 32,
    },
    "vae": {"block_out_channels": (16, 32), "layers_per_block": 1, "norm_num_groups": 8},
    "text": [{"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4,
              "num_hidden_layers": 2, "vocab_size": 1000, "projection_dim": 32}],
}  # fmt: skip
TINY_SDXL = {
    "unet": {
        **TINY_SD15["unet"],
        "cross_attention_dim": 64,
        "use_linear_projection": True,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 8,
        "projection_class_embeddings_input_dim": 80,  # 6 x 8 + 32
    },
    "vae": TINY_SD15["vae"],
    "text": TINY_SD15["text"] * 2,
}


def build_pipeline(cfg: dict, device: str):
    """A random-weight inpainting pipeline (SD or SDXL by the number of text encoders), fp32."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionInpaintPipeline,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from tiny_pipeline import tiny_tokenizer
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    with torch.device(device):  # initialise on the GPU: seconds instead of minutes on the CPU
        unet = UNet2DConditionModel(in_channels=9, out_channels=4, **cfg["unet"])
        vae = AutoencoderKL(
            down_block_types=("DownEncoderBlock2D",) * len(cfg["vae"]["block_out_channels"]),
            up_block_types=("UpDecoderBlock2D",) * len(cfg["vae"]["block_out_channels"]),
            latent_channels=4, **cfg["vae"],
        )  # fmt: skip
        texts = [
            cls(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, **tc))
            for cls, tc in zip((CLIPTextModel, CLIPTextModelWithProjection), cfg["text"])
        ]
    sched = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    common = {
        "vae": vae,
        "unet": unet,
        "scheduler": sched,
        "text_encoder": texts[0],
        "tokenizer": tiny_tokenizer(),
    }
    if len(texts) == 1:
        pipe = StableDiffusionInpaintPipeline(
            **common, safety_checker=None, feature_extractor=None, requires_safety_checker=False
        )
    else:
        pipe = StableDiffusionXLInpaintPipeline(
            **common, text_encoder_2=texts[1], tokenizer_2=tiny_tokenizer(),
            requires_aesthetics_score=False,
        )  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    return pipe


def product(canvas: int):
    """A synthetic product (a striped bottle) with its exact alpha: no cutout model on the GPU box."""
    from PIL import Image

    h, w = canvas, canvas * 2 // 3
    rgb = np.full((h, w, 3), 245, np.uint8)
    rgb[h // 8 : h * 7 // 8, w // 4 : w * 3 // 4] = (200, 30, 40)
    rgb[h // 8 : h * 7 // 8 : 12, w // 4 : w * 3 // 4] = (30, 60, 190)
    alpha = np.zeros((h, w), np.float32)
    alpha[h // 8 : h * 7 // 8, w // 4 : w * 3 // 4] = 1.0
    return Image.fromarray(rgb), alpha


class Timer:
    def __init__(self, device: str):
        self.device = device

    def sync(self):
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()

    def run(self, fn) -> tuple[float, float]:
        """Seconds and peak GPU memory (GiB, 0 on CPU) of fn()."""
        import torch

        self.sync()
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        fn()
        self.sync()
        peak = torch.cuda.max_memory_allocated() / 2**30 if self.device == "cuda" else 0.0
        return time.perf_counter() - start, peak


def plain_job(pipe, image, mask, preset, seeds):
    """What a script without our worker does: one call per variant."""
    import torch

    for seed in seeds:
        pipe(
            prompt=preset["prompt"], negative_prompt=preset["negative_prompt"], image=image,
            mask_image=mask, width=image.width, height=image.height,
            num_inference_steps=preset["steps"], guidance_scale=preset["guidance"],
            generator=torch.Generator("cpu").manual_seed(seed),
        )  # fmt: skip


def our_job(loaded, rgb, alpha, preset, seeds):
    """The scene mode's path after the cutout: place, paint (batched), lock, QA figures
    (all but re-segmenting the output: no cutout model on the GPU box)."""
    from vitrina_sync.imaging import diffusion
    from vitrina_sync.modes import generative

    mode = generative.SceneMode()
    placed = generative.place(rgb, alpha, preset)
    watchdog = diffusion.Watchdog(600)
    painted = mode.paint(loaded, placed, preset, seeds, watchdog)
    paintings = [generative.to_canvas(img, placed) for img, _ in painted]
    outputs = [generative.lock(painting, placed) for painting in paintings]
    generative.output_figures(outputs[0], paintings[0], placed)
    return outputs


def scene_inputs(args) -> dict:
    from vitrina_sync.modes import generative

    preset = {
        "canvas": [args.size, args.size], "fill": 0.6, "blend_band": 6, "steps": args.steps,
        "guidance": 7.5, "prompt": "product photo on a wooden table, soft daylight",
        "negative_prompt": "text, watermark", "variants": args.variants,
    }  # fmt: skip
    rgb, alpha = product(args.size)
    placed = generative.place(rgb, alpha, preset)
    return {
        "preset": preset, "warm": {**preset, "steps": 2}, "rgb": rgb, "alpha": alpha,
        "image": generative.init_image(placed), "mask": generative.inpaint_mask(placed),
        "seeds": list(range(1234, 1234 + args.variants)),
    }  # fmt: skip


def best_of(timer: Timer, fn, repeats: int) -> tuple[float, float]:
    """Fastest of `repeats` runs (after a short warm-up run by the caller) and its peak memory."""
    return min((timer.run(fn) for _ in range(repeats)), key=lambda r: r[0])


def measure(name: str, cfg: dict, args, timer: Timer, budget, notes: list) -> list[tuple]:
    import torch

    from vitrina_sync.imaging import diffusion

    x, rows = scene_inputs(args), []
    start = time.perf_counter()
    pipe = build_pipeline(cfg, args.device)
    notes.append(
        f"{name}: random-weight pipeline built on the device in {time.perf_counter() - start:.1f} s"
    )
    if budget():
        plain_job(pipe, x["image"], x["mask"], x["warm"], x["seeds"][:1])  # kernels, autotune
        run = lambda: plain_job(pipe, x["image"], x["mask"], x["preset"], x["seeds"])
        rows.append(
            (name, "plain pipe(...) fp32, 1 call/variant", *best_of(timer, run, args.repeats))
        )
    if args.measure_load and name == "SD-1.5" and budget():
        notes.append(f"{name}: load per job (save_pretrained + from_pretrained fp32 + .to(cuda), "
                     f"warm page cache) {load_seconds(pipe, args):.1f} s: a kept pipeline pays it once")  # fmt: skip
    dtype = "float16" if args.device == "cuda" else "float32"
    if args.device == "cuda":
        pipe = pipe.to(torch.float16)
        diffusion._use_sdpa(pipe)
    loaded = diffusion.LoadedPipeline(pipe, name, Path("."), args.device, dtype, "random")
    if budget():
        our_job(loaded, x["rgb"], x["alpha"], x["warm"], x["seeds"][:1])
        run = lambda: our_job(loaded, x["rgb"], x["alpha"], x["preset"], x["seeds"])
        path = f"ours: {dtype}, SDPA, kept, batched + lock/QA"
        rows.append((name, path, *best_of(timer, run, args.repeats)))
    pipe = loaded = None  # free the GPU before the next size is built
    if args.device == "cuda":
        torch.cuda.empty_cache()
    return rows


def load_seconds(pipe, args) -> float:
    """What a per-job script pays before its first step (our worker pays it once)."""
    from diffusers import AutoPipelineForInpainting

    with tempfile.TemporaryDirectory() as tmp:
        pipe.save_pretrained(tmp)
        start = time.perf_counter()
        again = AutoPipelineForInpainting.from_pretrained(tmp).to(args.device)
        Timer(args.device).sync()
        secs = time.perf_counter() - start
    del again
    return secs


def table(rows: list[tuple], args) -> str:
    lines = [
        f"scene mode, {args.size}x{args.size}, {args.steps} steps, {args.variants} variants per job",
        "",
        "| pipeline | path | s/job | images/s | peak GPU GiB |",
        "|---|---|---|---|---|",
    ]
    for name, path, secs, peak in rows:
        lines.append(f"| {name} | {path} | {secs:.2f} | {args.variants / secs:.3f} | {peak:.1f} |")
    return "\n".join(lines)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dry-run", action="store_true", help="tiny configs on CPU (a smoke test)")
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--steps", type=int, default=30, help="the shipped presets use 30")
    p.add_argument("--repeats", type=int, default=2, help="timed runs per path (fastest kept)")
    p.add_argument("--variants", type=int, default=2)
    p.add_argument("--only", choices=["SD-1.5", "SDXL"], help="one pipeline size only")
    p.add_argument("--budget-s", type=float, default=420, help="skip measurements after this")
    p.add_argument("--no-load", dest="measure_load", action="store_false")
    args = p.parse_args(argv)
    if args.dry_run:
        args.size, args.steps, args.repeats, args.measure_load = 64, 2, 1, False
    return args


def main(argv=None) -> int:
    args = parse(argv)
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        print(
            "gpu_scene.py needs a CUDA GPU (none visible here); --dry-run runs tiny configs on CPU"
        )
        return 2
    args.device = "cpu" if args.dry_run else "cuda"
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()  # casting random weights to fp16 warns per model
    specs = {
        "SD-1.5": TINY_SD15 if args.dry_run else SD15,
        "SDXL": TINY_SDXL if args.dry_run else SDXL,
    }
    t0 = time.perf_counter()
    budget = lambda: time.perf_counter() - t0 < args.budget_s
    rows, notes = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random fp16 weights overflow to NaN: timing is unaffected
        for name, cfg in specs.items():
            if args.only in (None, name):
                rows += measure(name, cfg, args, Timer(args.device), budget, notes)
    if not budget():
        notes.append(f"time budget {args.budget_s:.0f} s ran out: later measurements skipped")
    device = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU (dry run)"
    print(f"{device}, torch {torch.__version__}, total {time.perf_counter() - t0:.0f} s\n")
    print(table(rows, args))
    print("\n" + "\n".join(f"- {note}" for note in notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
