"""Diffusion inpainting pipelines: loaded once per worker process, on the right device, offline.

A model is a hub id (read from the local Hugging Face cache only) or a local folder; both end in
the same `from_pretrained(<local folder>)` call, which tests exercise with a tiny pipeline. The
weights are never fetched in the middle of a job: a missing model is a row error that says how to
get it. torch/diffusers are imported lazily (the `gen` extra is optional).
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelMissing, RowError

_cache: dict[tuple[str, str, str], LoadedPipeline] = {}
_lock = threading.Lock()
LOAD_COUNT = {"n": 0}  # pipelines loaded in this process (tests and benchmarks check it stays 1)
DEADLINE_MARGIN_S = 30  # leave RQ's own timeout (SIGALRM) room to never be the one that fires


@dataclass
class LoadedPipeline:
    pipe: Any
    model: str  # as the preset names it (hub id or folder)
    path: Path  # the local folder it was loaded from
    device: str  # "cuda" or "cpu"
    dtype: str  # "float16" or "float32"
    weights_id: str  # short id of the weights (hub commit, else a content digest)

    @property
    def size_multiple(self) -> int:
        """Width/height must be multiples of this (VAE scale x UNet downsampling)."""
        pipe = self.pipe
        return int(pipe.vae_scale_factor) * 2 ** (len(pipe.unet.config.block_out_channels) - 1)


def gen_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "diffusers"))


def gpu_available() -> bool:
    """True when torch is installed and sees a CUDA device."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def pick_device(settings) -> tuple[str, str]:
    """("cuda", "float16") on a GPU; ("cpu", "float32") only if gpu_cpu_ok, else ConfigError.

    A silent CPU fallback would turn a 5-second job into an hour: refuse unless configured.
    """
    if not gen_installed():
        raise ConfigError(
            "generative modes need the gen extra: pip install torch==2.13.0 first, "
            "then pip install 'vitrina-sync[gen]'"
        )
    if gpu_available():
        return "cuda", "float16"
    if settings.get("gpu_cpu_ok", False):
        return "cpu", "float32"
    raise ConfigError(
        "no CUDA GPU visible to this process (torch.cuda.is_available() is False); generative "
        "modes refuse to run on CPU unless the setting gpu_cpu_ok is true (VITRINA_GPU_CPU_OK=1)"
    )


def check_worker_device(settings) -> str:
    """Called by a `gpu` worker at start: a line naming the device, or ConfigError (worker exits)."""
    device, dtype = pick_device(settings)
    if device == "cuda":
        import torch

        return f"gpu worker on {torch.cuda.get_device_name(0)} ({dtype}, SDPA attention)"
    return "gpu worker on CPU (gpu_cpu_ok is set: slow, meant for tests and tiny models)"


def model_name(preset: dict, settings) -> str:
    """Per preset only: the preset is part of the row's fingerprint, so a new model re-opens review
    (a deployment changes it for all rows through its presets file)."""
    name = str(preset.get("diffusion_model") or "").strip()
    if not name:
        raise ConfigError("the preset names no diffusion_model")
    return name


def fetch_hint(name: str) -> str:
    return (
        f"on a machine with network run `hf download {name}` (fills the Hugging Face cache, "
        "HF_HOME) or save the pipeline to a folder and set the preset's diffusion_model to that path"
    )


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


def resolve_model_path(name: str, settings) -> Path:
    """The local folder holding `name`; ModelMissing (with how to get it) when it is not here."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "model_index.json").exists():
            raise ModelMissing(f"diffusion model folder {folder} has no model_index.json")
        return folder
    if _looks_like_path(name):
        raise ModelMissing(f"diffusion model folder {folder} does not exist")
    from huggingface_hub import snapshot_download

    offline = not settings.get("diffusion_downloads", False)
    try:
        return Path(snapshot_download(name, local_files_only=offline))
    except (
        OSError,
        ValueError,
    ) as exc:  # LocalEntryNotFoundError is an OSError; bad ids ValueError
        raise ModelMissing(
            f"diffusion model {name} is not installed here ({type(exc).__name__}); {fetch_hint(name)}"
        ) from None


def weights_id(path: Path) -> str:
    """A cheap, stable id of the weights: the hub commit, else a digest of configs + weight edges.

    Hashing every byte of a 5 GB UNet would cost seconds per worker start for a label.
    """
    if path.parent.name == "snapshots":
        return path.name[:12]
    digest = hashlib.md5()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path)}:{file.stat().st_size}".encode())
        with file.open("rb") as fh:
            digest.update(fh.read(1 << 16))
            if file.stat().st_size > 1 << 17:
                fh.seek(-(1 << 16), 2)
                digest.update(fh.read())
    return digest.hexdigest()[:12]


def _from_pretrained(path: Path, device: str, dtype: str):
    import torch
    from diffusers import AutoPipelineForInpainting

    with warnings.catch_warnings():
        # `torch_dtype` is deprecated in newer diffusers but `dtype` is silently ignored by old ones.
        warnings.simplefilter("ignore", FutureWarning)
        pipe = AutoPipelineForInpainting.from_pretrained(
            str(path), torch_dtype=getattr(torch, dtype), local_files_only=True
        )
    pipe.set_progress_bar_config(disable=True)
    pipe = pipe.to(device)
    if device == "cuda":
        _use_sdpa(pipe)
    return pipe


def _use_sdpa(pipe) -> None:
    """Flash/memory-efficient attention through torch's SDPA (explicit: a loaded pipeline may
    carry other processors)."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    for part in ("unet", "vae"):
        module = getattr(pipe, part, None)
        if module is not None and hasattr(module, "set_attn_processor"):
            module.set_attn_processor(AttnProcessor2_0())


def load_pipeline(name: str, settings) -> LoadedPipeline:
    """The pipeline for `name`, loaded on first use and kept; other models are freed first."""
    device, dtype = pick_device(settings)
    key = (name, dtype, device)
    with _lock:
        if key in _cache:
            return _cache[key]
        path = resolve_model_path(name, settings)
        free_pipelines()  # one model per GPU: two SDXL pipelines do not fit beside the activations
        try:
            pipe = _from_pretrained(path, device, dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelMissing(
                f"diffusion model {name} could not be loaded from {path}: {exc}"
            ) from exc
        _cache[key] = LoadedPipeline(pipe, name, path, device, dtype, weights_id(path))
        LOAD_COUNT["n"] += 1
        return _cache[key]


def free_pipelines() -> None:
    """Drop every kept pipeline and hand the GPU memory back (caller holds the lock or is alone)."""
    if not _cache:
        return
    _cache.clear()
    gc.collect()
    if gpu_available():
        import torch

        torch.cuda.empty_cache()


def gpu_memory_mb() -> float:
    """GPU memory this process holds (torch's reserved pool), for a worker's recycle check:
    long-running diffusion processes fragment and grow it; 0 without a GPU."""
    if not gpu_available():
        return 0.0
    import torch

    return torch.cuda.memory_reserved() / 2**20


def deadline_s(settings) -> float:
    return max(10.0, float(settings.get("job_timeout", 600)) - DEADLINE_MARGIN_S)


class Watchdog:
    """callback_on_step_end that aborts a run past its deadline.

    RQ's SIGALRM cannot interrupt a CUDA call, so a hung or slow job is stopped between steps.
    Started when the job starts, so cut-out time counts too.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds

    def __call__(self, pipe, step: int, timestep, callback_kwargs: dict) -> dict:
        if self.clock() > self.end:
            raise RowError(
                f"diffusion stopped at step {step + 1}: over its {self.seconds:.0f} s deadline "
                "(fewer steps or variants, or a larger job_timeout)"
            )
        return callback_kwargs


def inpaint(loaded: LoadedPipeline, image, mask, preset: dict, seeds: list[int], watchdog) -> list:
    """Paint the white area of `mask` on `image`, one output per seed, in one batched call.

    Seeds drive CPU generators, so the starting noise is the same on any device.
    """
    import torch

    generators = [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]
    try:
        result = _call(loaded.pipe, image, mask, preset, generators, watchdog)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()  # the next job must not inherit a fragmented cache
        raise RowError(
            f"GPU out of memory at {image.width}x{image.height} with {len(seeds)} variant(s); "
            "use fewer variants or a smaller canvas"
        ) from None
    nsfw = getattr(result, "nsfw_content_detected", None) or [False] * len(seeds)
    return list(zip(result.images, nsfw))


def _call(pipe, image, mask, preset: dict, generators: list, watchdog):
    import torch

    with torch.inference_mode():
        return pipe(
            prompt=str(preset.get("prompt", "")),
            negative_prompt=str(preset.get("negative_prompt", "")) or None,
            image=image,
            mask_image=mask,
            width=image.width,
            height=image.height,
            num_inference_steps=int(preset.get("steps", 30)),
            guidance_scale=float(preset.get("guidance", 7.5)),
            num_images_per_prompt=len(generators),
            generator=generators,
            callback_on_step_end=watchdog,
        )
