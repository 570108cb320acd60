"""Per-job overhead of the scene mode's path over the bare pipeline call (CPU, tiny model).

    .venv/bin/python bench/bench_gen_overhead.py [--repeats 5] [--sizes 128,256]

bare:     pipe(prompt, image, mask, ...) on the kept tiny pipeline, nothing else;
ours:     SceneMode.process - cutout (u2netp), placement, masks, the same pipeline call through
          the watchdog, pixel lock, QA (colour figures + re-segmenting the output);
ours-nocut: the same with the cutout replaced by a fixed alpha: what our own code costs.
Then the host-side steps alone at the shipped 1024x1024 canvas (what a GPU worker's CPU adds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from vitrina_sync import presets
from vitrina_sync.imaging import cutout, diffusion
from vitrina_sync.modes import generative
from vitrina_sync.modes.base import LoadedImage, ModeContext
from vitrina_sync.settings import load_settings


def photo(width: int = 800) -> Image.Image:
    """A striped bottle on a light backdrop, at a phone-photo-like size."""
    h = width * 5 // 4
    img = Image.new("RGB", (width, h), (245, 245, 245))
    draw = ImageDraw.Draw(img)
    box = (width * 5 // 16, h * 3 // 20, width * 11 // 16, h * 9 // 10)
    draw.rounded_rectangle(box, radius=width // 14, fill=(200, 30, 40))
    for y in range(box[1] + 20, box[3] - 20, width // 14):
        draw.rectangle((box[0], y, box[2], y + width // 30), fill=(30, 60, 190))
    return img


def true_alpha(img: Image.Image, model=None, settings=None) -> np.ndarray:
    arr = np.asarray(img.convert("RGB"), np.int16)
    return (np.abs(arr - 245).sum(-1) > 30).astype(np.float32)


def timed(fn) -> float:
    """CPU seconds of this process (all its threads): on a box shared with other jobs, wall time
    measures their load as much as ours; CPU time measures the work this job does."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def measured(fns: dict, repeats: int) -> dict:
    """min and median CPU seconds of each fn, each warmed up and repeated in its own block
    (round-robin put a cold-cache penalty on whichever ran after the ONNX cutout)."""
    out = {}
    for name, fn in fns.items():
        fn()  # warm-up: first-call allocations, ONNX session, thread pools
        times = [timed(fn) for _ in range(repeats)]
        out[name] = (min(times), statistics.median(times))
    return out


def bare_call(loaded, preset: dict):
    placed = generative.place(photo(), true_alpha(photo()), preset)
    image, mask = generative.init_image(placed), generative.inpaint_mask(placed)
    seeds = generative.seeds_for(preset, "bench")
    return lambda: diffusion.inpaint(loaded, image, mask, preset, seeds, None)


def our_call(preset: dict, settings, fake_cut: bool):
    mode = generative.SceneMode()
    ctx = ModeContext("SKU", "bench", preset, settings)
    source = LoadedImage(photo(), "PNG")

    def job():
        real = cutout.predict_alpha
        if fake_cut:
            cutout.predict_alpha = true_alpha
        try:
            return mode.process(source, ctx)
        finally:
            cutout.predict_alpha = real

    return job


def host_side(preset: dict, repeats: int) -> tuple[float, float]:
    """Placement, masks, lock and the imaging.qa figures at the canvas size, fake painting."""
    rgb, alpha = photo(), true_alpha(photo())
    painted = Image.new("RGB", tuple(preset["canvas"]), (90, 120, 80))

    def job():
        placed = generative.place(rgb, alpha, preset)
        generative.init_image(placed), generative.inpaint_mask(placed)
        painting = generative.to_canvas(painted, placed)
        generative.output_figures(generative.lock(painting, placed), painting, placed)
        generative.source_figures(rgb, alpha, placed)

    return measured({"host": job}, repeats)["host"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--sizes", default="64,128")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: steadier on a shared box)"
    )
    args = p.parse_args(argv)
    import torch
    from tiny_pipeline import save_tiny_pipeline

    torch.set_num_threads(args.threads)
    settings = load_settings(env={}, overrides={"gpu_cpu_ok": True})
    base = presets.resolve("scene", "default", settings)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = str(save_tiny_pipeline(Path(tmp) / "tiny"))
        load_s = timed(lambda: diffusion.load_pipeline(model, settings))
        loaded = diffusion.load_pipeline(model, settings)
        for size in [int(s) for s in args.sizes.split(",")]:
            preset = {**base, "canvas": [size, size], "steps": 2, "diffusion_model": model}
            fns = {"bare": bare_call(loaded, preset), "nocut": our_call(preset, settings, True)}
            if cutout.model_path("u2netp", settings).exists():
                fns["full"] = our_call(preset, settings, False)
            rows.append((size, measured(fns, args.repeats)))
    host = host_side({**base, "canvas": [1024, 1024]}, args.repeats)
    print(report(rows, load_s, host, args))
    return 0


def report(rows, load_s: float, host, args) -> str:
    lines = [
        (
            f"tiny pipeline, 2 steps, 1 variant, {args.threads} torch thread(s), {args.repeats} "
            f"runs each, CPU ms of this process, min (median); pipeline load once per worker: {load_s * 1000:.0f} CPU ms"
        ),
        "",
        "| canvas | bare pipe | ours, fixed alpha | overhead | ours, u2netp | overhead |",
        "|---|---|---|---|---|---|",
    ]
    for size, t in rows:
        cells = [f"{size}x{size}", ms(t["bare"])]
        for key in ("nocut", "full"):
            if key in t:
                over = (t[key][0] - t["bare"][0], t[key][1] - t["bare"][1])
                cells += [ms(t[key]), ms(over)]
            else:
                cells += ["n/a", "n/a"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"host-side steps at 1024x1024 (place, masks, lock, QA figures): {ms(host)} ms"]
    return "\n".join(lines)


def ms(pair) -> str:
    return f"{pair[0] * 1000:.0f} ({pair[1] * 1000:.0f})"


if __name__ == "__main__":
    sys.exit(main())
