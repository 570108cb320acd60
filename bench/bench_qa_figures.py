"""CPU milliseconds of each white-mode QA figure and of edge_colour.edge_colours, on saved maps.

    .venv/bin/python bench/bench_qa_figures.py capture bench/out/qa_maps --n 8  # inputs, once
    .venv/bin/python bench/bench_qa_figures.py time bench/out/qa_maps           # ms per figure

`capture` runs white mode on the noisy set's first n photos (model output cached as in
compare_outputs.py) and pickles what figures() and edge_colours() were given; `time` reruns
each figure on those same maps, min of 5 CPU times (time.process_time) per photo, summed
over the photos and divided by their count. Run `time` with PYTHONPATH on the old and on the
new code to compare them on identical inputs.

Results (issue 16 speed, branch s16 against 28db366; 8 noisy-set photos, 2000 px canvas, ms
CPU per photo, min of 5; a shared 2-core box, so +-5%):

    edge_colours            3.4 -> 1.4   off_the_line compiled over the fit's pixels
    halo                   17.6 -> 12.6  masked block means and the output's band means compiled
    uncertainty             0.75 -> 0.13 the box from row/column any
    bg_inside + soft_holes 21.7 -> 14.8  one 320 px copy for both; soft_holes' colours lazily
    figures() all          63.2 -> 46.7
    colour_drift, border, fill, sharpness, purity: unchanged (1.6, 0.2, 0.4, 2.9, 2.2)

Job CPU per photo, white mode: process() + mask PNG with the model's output cached
(compare_outputs.py time, 16 photos) 215 -> 180-190 ms; bench_white.py --profile (one photo,
u2netp inference included, cProfile on process_time) 491 -> 473-477 ms. Outputs:
compare_outputs.py, 16 noisy-set photos and 8 held-out scenes x 3 configs, 72 of 72 identical.

kept_opening (issue 16 round 5, branch qk16 against 8bbdfd6; the same 8 photos, ms CPU per
photo, min of 5, a shared 2-core box under load, so +-5%):

    kept_opening on its own models        8.1  (15.8 before its edges and band were one pass each)
    bg_inside + soft_holes               15.1
      + kept_opening on bg_inside's      18.7  (+3.6: the models are refitted, not rebuilt)
    figures() all                  51.0 -> 52.6

uncertainty on the finished alpha, sharpness also at the crop's edges (issue 16 round 5, branch
qs16 against 336cbb9; the same 8 photos, ms CPU per photo, min of 5, a shared 2-core box):

    uncertainty   0.14 -> 1.0   the region's alpha (every 2nd pixel at 2000 px), not the 640 px map
    sharpness     3.6  -> 4.0   + a 5x5 max - min of the 512 px grey copy
    figures() all 60.4 -> 63.3  (+-5%: the two figures account for +1.3)
"""

from __future__ import annotations

import argparse
import inspect
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
REPEATS = 5


def capture(folder: Path, n: int, held_out: bool = False) -> None:
    import bench_white
    import compare_outputs as co

    from vitrina_sync.imaging.load import load_image
    from vitrina_sync.modes import white
    from vitrina_sync.modes.base import ModeContext

    edge_colour = edge_module()
    white.cutout.predict_work = co.cached_predict(folder / "model_cache")
    if held_out:  # bench_white.py's held-out scenes (tests/synthetic.py HELD_OUT)
        files = bench_white.generate_held_out(bench_white.OUT / "white_in_noise3_heldout", n, 3.0)
    else:
        files = bench_white.generate(bench_white.OUT / "white_in_noise3", n, 3.0)
    seen: list = []
    figures, edge = white.WhiteMode.figures, edge_colour.edge_colours

    def keep_figures(self, *args):
        seen.append(("figures", args))
        return figures(self, *args)

    def keep_edge(*args, **kwargs):
        seen.append(("edge", (args, kwargs)))
        return edge(*args, **kwargs)

    white.WhiteMode.figures, edge_colour.edge_colours = keep_figures, keep_edge
    mode = white.WhiteMode()
    for path in files:
        mode.process(load_image(path), ModeContext(path.stem, "0" * 12, co.BASE, co.SETTINGS))
    (folder / "maps.pickle").write_bytes(pickle.dumps(seen))
    print(f"captured {len(seen)} calls from {len(files)} photos")


def edge_module():
    """The module white mode calls edge_colours through (refine.py before its split)."""
    try:
        from vitrina_sync.imaging import edge_colour
    except ImportError:
        from vitrina_sync.imaging import refine as edge_colour
    return edge_colour


def cpu_ms(call) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best * 1000


def plain(args):
    """figures()' arguments with a one-colour background broadcast again (pickling copied it)."""
    rgb, cut, out, mask, new_bg, shadow, image = args
    if (new_bg == new_bg[0, 0]).all():
        new_bg = np.broadcast_to(new_bg[0, 0], new_bg.shape)
    return rgb, cut, out, mask, new_bg, shadow, image


def _both(qa, cut, extra, both, kept=False):
    """bg_inside and soft_holes as figures() calls them (sharing one reduced copy if it can);
    kept: and kept_opening after them, on bg_inside's colour models (new code only)."""
    shape = both["shape"]() if both else None
    kwargs = {"shape": shape} if shape is not None else {}
    qa.background_inside(cut.source, cut.alpha, cut.image, **kwargs)
    qa.soft_holes(cut.source, cut.alpha, *([] if kwargs else extra), **kwargs)
    if kept:
        qa.kept_opening(cut.source, cut.alpha, **kwargs)


def figure_calls(args):
    from vitrina_sync.imaging import qa, refine

    rgb, cut, out, mask, new_bg, _shadow, image = plain(args)
    l, t, r, b = cut.region.canvas
    out_region = out[t:b, l:r]
    extra = [cut.image] if "image" in inspect.signature(qa.soft_holes).parameters else []
    shared = hasattr(qa, "ShapeCopy")  # new code: one reduced copy for both (made in figures())
    shape = (lambda: qa.ShapeCopy(cut.source, cut.alpha, cut.image)) if shared else None
    both = {"shape": shape} if shared else {}
    compiled = hasattr(refine.loops(), "block_means_at")  # as figures() (old code: the crop)
    images = (cut.image, None if compiled else image.crop((l, t, r, b)))
    calls = {
        "colour_drift": lambda: qa.colour_drift(cut.source, out_region, cut.alpha >= 1.0),
        "halo": lambda: qa.halo(cut.source, out_region, cut.alpha, new_bg, images),
        "uncertainty (model's map)": lambda: qa.uncertainty(cut.p_work),  # figures() before qs16
        "uncertainty (final alpha)": lambda: qa.uncertainty(cut.alpha),  # figures() since qs16
        "bg_inside": lambda: qa.background_inside(cut.source, cut.alpha, cut.image),
        "bg_inside + soft_holes": lambda: _both(qa, cut, extra, both),
        "border": lambda: qa.border(cut.alpha, cut.region.source, rgb.size),
        "soft_holes": lambda: qa.soft_holes(cut.source, cut.alpha, *extra),
        "fill": lambda: qa.fill(mask),
        "sharpness": lambda: qa.sharpness(rgb.crop(cut.placement.crop)),
        "purity": lambda: qa.purity(out, mask, None, cut.region.canvas),
    }
    if hasattr(qa, "kept_opening"):  # new code: with its own models, and after bg_inside
        calls["kept_opening"] = lambda: qa.kept_opening(cut.source, cut.alpha, cut.image)
        calls["bg_inside + soft_holes + kept_opening"] = lambda: _both(qa, cut, extra, both, True)
    return calls


def timing(folder: Path) -> None:
    from vitrina_sync.imaging import refine
    from vitrina_sync.modes import white

    refine.warm()
    edge_colour = edge_module()
    seen = pickle.loads((folder / "maps.pickle").read_bytes())
    totals: dict[str, float] = {}
    photos = 0
    for kind, args in seen:
        if kind == "edge":
            calls = {"edge_colours": lambda a=args: edge_colour.edge_colours(*a[0], **a[1])}
        else:
            photos += 1
            calls = figure_calls(args)
            calls["figures (all)"] = lambda a=args: white.WhiteMode().figures(*plain(a))
        for name, call in calls.items():
            call()  # warm (numba, caches)
            totals[name] = totals.get(name, 0.0) + cpu_ms(call)
    for name, total in totals.items():
        print(f"{name:>16}: {total / photos:7.2f} ms CPU per photo")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("capture", "time"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--set", default="project", choices=["project", "held-out"])
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    capture(args.folder, args.n, args.set == "held-out") if args.action == "capture" else timing(
        args.folder
    )


if __name__ == "__main__":
    main()
