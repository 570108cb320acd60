"""Background removal with rembg sessions (u2netp on CPU: the same steps without importing rembg),
created once per process and reused for every job."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ModelMissing
from . import as_rgb
from .resample import resize, resize_grey, resized_array

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
    """The session for `name` (rembg's, or `U2netp` for u2netp on the CPU: the same masks),
    created on first use; ModelMissing if its file is absent.

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
        opts = _session_options(settings)
        if name == "u2netp" and _cpu_only():
            _sessions[name] = U2netp(_rembg_file(path), opts)
        else:
            from rembg import new_session  # heavy import (numba): only when a cutout is needed

            _sessions[name] = new_session(name, sess_opts=opts)
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


def _cpu_only() -> bool:
    """rembg would run its session on onnxruntime's CPU provider alone (its own provider choice:
    CUDA or ROCm on a GPU device, else OpenVINO where installed, else CPU)."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    device = ort.get_device()
    if device == "GPU" and "CUDAExecutionProvider" in available:
        return False
    if device[:3] == "GPU" and "ROCMExecutionProvider" in available:
        return False
    return "OpenVINOExecutionProvider" not in available


def _rembg_file(path: Path) -> Path:
    """The file rembg itself would load for `path` (U2NET_HOME = its folder): its per-model
    folder `models/<name>/` first, then the flat layout."""
    nested = path.parent / "models" / path.stem / path.name
    return nested if nested.exists() else path


class U2netp:
    """u2netp on onnxruntime directly, doing what rembg's U2netpSession does, step for step.

    Why not rembg's session: `import rembg` costs ~0.45 s of CPU per process (its matting module
    compiles numba code at import) and ~0.2 s more at exit, and every worker start pays it; the
    default model needs nothing from rembg but this pre/post-processing. Same arithmetic as
    rembg 2.0.x (`BaseSession.normalize` + `U2netpSession.predict`: LANCZOS to 320x320, scaled
    by the image's max, float64 normalisation, float32 input; min-max of the output, truncation to
    uint8, LANCZOS back), so the same mask bytes (tests compare it with rembg's session). Used
    only where rembg would run on the CPU provider alone; elsewhere rembg's session is used.
    """

    mean = (0.485, 0.456, 0.406)
    std = (0.229, 0.224, 0.225)

    def __init__(self, path: Path, opts) -> None:
        import onnxruntime as ort

        if "OMP_NUM_THREADS" in os.environ:  # as rembg's new_session: fills unset thread counts
            threads = int(os.environ["OMP_NUM_THREADS"])
            if opts.inter_op_num_threads == 0:
                opts.inter_op_num_threads = threads
            if opts.intra_op_num_threads == 0:
                opts.intra_op_num_threads = threads
        self.inner_session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.inner_session.get_inputs()[0].name
        # rembg reads the first output (d0, the fused map); the six side outputs are computed
        # on the way anyway, but asking for d0 alone spares copying them out (6 x 400 KB)
        self.output_names = [self.inner_session.get_outputs()[0].name]

    def normalize(self, img: Image.Image) -> dict:
        """rembg's input: float64 (v / max - mean) / std per channel, as float32. An 8-bit
        channel has 256 values, so each is worked out once (the same float64 operations on
        the same values, so the same bits) and looked up; the LANCZOS resize compiled (the same
        bytes as Pillow's): ~2 ms instead of ~4.8 per photo."""
        rgb, lanczos = as_rgb(img), Image.Resampling.LANCZOS
        im = resized_array(rgb, (320, 320), lanczos)
        top = max(np.max(im), 1e-6)
        levels = np.arange(256, dtype=np.uint8) / top
        planes = np.empty((1, 3) + im.shape[:2], np.float32)
        for c in range(3):
            table = ((levels - self.mean[c]) / self.std[c]).astype(np.float32)
            planes[0, c] = table.take(im[:, :, c])
        return {self.input_name: planes}

    def predict(self, img: Image.Image, *args, **kwargs) -> list[Image.Image]:
        pred = self.inner_session.run(self.output_names, self.normalize(img))[0][:, 0, :, :]
        ma, mi = np.max(pred), np.min(pred)
        pred = np.squeeze((pred - mi) / (ma - mi))
        mask = Image.fromarray((pred * 255).astype("uint8"), mode="L")
        return [resize_grey(mask, img.size, Image.Resampling.LANCZOS)]  # Pillow's bytes


def predict_work(img: Image.Image, model: str, settings=None, side: int = 640, pixels=None):
    """The model's alpha on a reduced copy of `img` (long side <= `side`), with that copy.

    The model only sees ~320-1024 px anyway; predicting on a reduced copy saves rembg's full-size
    LANCZOS resizes, and the copy is the guide for refine.guided_coefficients.
    Returns (work image RGB, alpha float32 in [0, 1] at the work size). pixels:
    np.asarray(img) of an RGB image, where the caller has it.
    """
    rgb = as_rgb(img)
    factor = side / max(rgb.size)
    if factor < 1.0:
        size = (max(1, round(rgb.width * factor)), max(1, round(rgb.height * factor)))
        # Pillow's bytes, ~2x faster
        rgb = resize(rgb, size, Image.Resampling.BOX, pixels=pixels if rgb is img else None)
    sess = session(model, settings)
    mask = sess.predict(rgb)[0]
    return rgb, np.asarray(mask, dtype=np.float32) / 255.0


def predict_alpha(img: Image.Image, model: str, settings=None) -> np.ndarray:
    """Alpha in [0, 1] at the image's full size, predicted by `model` (no post-processing)."""
    sess = session(model, settings)
    mask = sess.predict(img.convert("RGB"))[0]  # "L" image, already resized to img.size
    return np.asarray(mask, dtype=np.float32) / 255.0


SECOND_LOOK_SHARE = 0.35  # a product under this share of the long side (the model saw it at < 112
# of its 320 px) gets a second look; larger ones are resolved well enough by the openings step
SECOND_LOOK_MARGIN = 0.25  # of the product's long side, around it, in the crop the model sees


def second_look(rgb: Image.Image, work_size, p_work: np.ndarray, model: str, settings, side: int):
    """The model again on the product's own crop of the full-resolution photo, when the product
    is small in the frame: u2netp sees the photo at 320 px, where a small ring's hole or a mug
    handle's opening is a few pixels and gets filled; on the crop it is several times larger
    (a ring at a third of the frame: IoU 0.67 -> 0.98). Its alpha replaces the first one inside
    the crop (work resolution). Returns p_work unchanged when the product is large or absent, or
    when the second look's outline (p > 0.5, openings filled) is under steps.LEAST_LEFT of
    the first's (the bound every step after the model keeps): a resolved opening leaves the
    outline, a model that loses it on the crop has lost the product (a brown chair on a
    brown-stained micrograph: the output was empty)."""
    box = _box(p_work)
    if box is None:
        return p_work
    l, t, r, b = box
    if max(r - l, b - t) >= SECOND_LOOK_SHARE * max(p_work.shape):
        return p_work
    m = SECOND_LOOK_MARGIN * max(r - l, b - t)
    h, w = p_work.shape
    l, t = max(0, int(l - m)), max(0, int(t - m))
    r, b = min(w, int(np.ceil(r + m))), min(h, int(np.ceil(b + m)))
    kx, ky = rgb.width / work_size[0], rgb.height / work_size[1]
    crop = rgb.crop((round(l * kx), round(t * ky), round(r * kx), round(b * ky)))
    _, p_crop = predict_work(crop, model, settings, side)
    back = Image.fromarray(p_crop, "F").resize((r - l, b - t), Image.Resampling.BILINEAR)
    back = np.clip(np.asarray(back, np.float32), 0.0, 1.0)
    from .openings import fill_holes
    from .steps import LEAST_LEFT

    first = fill_holes(p_work[t:b, l:r] > 0.5).sum()
    if fill_holes(back > 0.5).sum() < LEAST_LEFT * first:
        return p_work
    out = p_work.copy()
    out[t:b, l:r] = back
    return out


def _box(p: np.ndarray):
    rows, cols = np.flatnonzero((p > 0.5).any(axis=1)), np.flatnonzero((p > 0.5).any(axis=0))
    if len(rows) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
