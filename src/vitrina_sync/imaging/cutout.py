"""Background removal with rembg sessions, created once per process and reused for every job."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ModelMissing

MODEL_FILES = {
    "u2netp": "u2netp.onnx",
    "u2net": "u2net.onnx",
    "isnet-general-use": "isnet-general-use.onnx",
    "birefnet-general": "BiRefNet-general-epoch_244.onnx",
    "birefnet-general-lite": "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
    "u2net_cloth_seg": "u2net_cloth_seg.onnx",
    "silueta": "silueta.onnx",
}

_sessions: dict[str, object] = {}
_lock = threading.Lock()
LOAD_COUNT = {"n": 0}  # sessions created in this process (benchmarks check it stays 1 per model)


def model_dir(settings=None) -> Path:
    configured = (settings or {}).get("model_dir") if settings is not None else ""
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("U2NET_HOME", Path.home() / ".u2net")).expanduser()


def model_path(name: str, settings=None) -> Path:
    return model_dir(settings) / MODEL_FILES.get(name, f"{name}.onnx")


def weights_hash(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def session(name: str, settings=None):
    """The rembg session for `name`, created on first use; ModelMissing if its file is absent.

    Never downloads: rembg would fetch a missing model from the network in the middle of a job.
    """
    with _lock:
        if name in _sessions:
            return _sessions[name]
        path = model_path(name, settings)
        if name not in MODEL_FILES and not path.exists():
            raise ModelMissing(f"unknown background model {name!r}")
        if not path.exists():
            raise ModelMissing(
                f"model {name} is not installed ({path}); run `vitrina-sync models fetch {name}`"
            )
        os.environ.setdefault("U2NET_HOME", str(path.parent))
        os.environ["U2NET_HOME"] = str(path.parent)
        from rembg import new_session  # heavy import (numba): only when a cutout is needed

        _sessions[name] = new_session(name, sess_opts=_session_options(settings))
        LOAD_COUNT["n"] += 1
        return _sessions[name]


def _session_options(settings):
    """onnxruntime options; `onnx_threads` (when set) caps intra-op threads so a pipeline can keep
    a core for decoding and encoding while the model runs."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    threads = int((settings or {}).get("onnx_threads", 0) or 0) if settings is not None else 0
    if threads > 0:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    return opts


def predict_work(img: Image.Image, model: str, settings=None, side: int = 640):
    """The model's alpha on a reduced copy of `img` (long side <= `side`), with that copy.

    The model only sees ~320-1024 px anyway; predicting on a reduced copy saves rembg's full-size
    LANCZOS resizes, and the copy is the guide for refine.guided_coefficients.
    Returns (work image RGB, alpha float32 in [0, 1] at the work size).
    """
    rgb = img.convert("RGB")
    factor = side / max(rgb.size)
    if factor < 1.0:
        size = (max(1, round(rgb.width * factor)), max(1, round(rgb.height * factor)))
        rgb = rgb.resize(size, Image.Resampling.BOX)
    sess = session(model, settings)
    mask = sess.predict(rgb)[0]
    return rgb, np.asarray(mask, dtype=np.float32) / 255.0


def predict_alpha(img: Image.Image, model: str, settings=None) -> np.ndarray:
    """Alpha in [0, 1] at the image's full size, predicted by `model` (no post-processing)."""
    sess = session(model, settings)
    mask = sess.predict(img.convert("RGB"))[0]  # "L" image, already resized to img.size
    return np.asarray(mask, dtype=np.float32) / 255.0
