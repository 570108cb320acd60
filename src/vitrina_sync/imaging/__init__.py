"""Image loading, cutouts, compositing and QA figures."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name`, imported on first attribute access (the importlib documentation's LazyLoader
    recipe). The modes register in every process that builds the plugin manager, including the
    CLI's parent that only plans and queues rows; scipy.ndimage alone costs it ~0.18 s there."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
