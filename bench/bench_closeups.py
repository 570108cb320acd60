"""White mode on close-ups: every product of tests/synthetic.py (the project's five and the
issue's shapes) on light, grass, beige and gravel, zoomed to fill more of the frame (the central
0.8 / 0.7 / 0.6 of the scene, resized back; the truth alongside), 132 scenes. Prints each
scene's IoU with the truth and whether QA reads it ok, then a summary and the scenes under 0.95;
writes them as JSON.

    .venv/bin/python bench/bench_closeups.py /tmp/closeups.json
"""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import bench_masks as bm
import numpy as np
import synthetic
from PIL import Image

from vitrina_sync.imaging.load import LoadedImage
from vitrina_sync.modes.base import ModeContext
from vitrina_sync.modes.white import WhiteMode


def main() -> None:
    mode = WhiteMode()
    res = {}
    kinds = list(synthetic.PRODUCTS) + ["chair", "frame", "padlock", "scissors", "hoop", "bluemug"]
    for zoom in (0.8, 0.7, 0.6):
        for kind in kinds:
            for bg in ("light", "grass", "beige", "gravel"):
                sc = synthetic.scene(kind, bg, (900, 1200), 0)
                box = (
                    900 * (1 - zoom) / 2,
                    1200 * (1 - zoom) / 2,
                    900 * (1 + zoom) / 2,
                    1200 * (1 + zoom) / 2,
                )
                img = sc.image.resize((900, 1200), Image.Resampling.LANCZOS, box=box)
                alpha = np.asarray(
                    Image.fromarray(sc.alpha, "F").resize(
                        (900, 1200), Image.Resampling.BILINEAR, box=box
                    ),
                    np.float32,
                )
                out = mode.process(
                    LoadedImage(img, "PNG"),
                    ModeContext(
                        "b",
                        "0",
                        {"canvas": [1200, 1200], "fill": 0.85, "model": "u2netp"},
                        bm.SETTINGS,
                    ),
                )
                truth = np.clip(alpha, 0, 1)
                s = bm.score(out, synthetic.truth_on_canvas(out, truth), truth)
                res[f"{sc.name}@{zoom}"] = [round(s["iou"], 4), s["ok"]]
                print(f"{sc.name}@{zoom}", res[f"{sc.name}@{zoom}"], flush=True)
    values = [v[0] for v in res.values()]
    print(
        f"{len(values)} scenes: mean IoU {statistics.mean(values):.3f}, "
        f"under 0.95: {sum(v < 0.95 for v in values)}, "
        f"under 0.95 read ok: {sum(1 for v in res.values() if v[0] < 0.95 and v[1])}, "
        f"0.95 or over flagged: {sum(1 for v in res.values() if v[0] >= 0.95 and not v[1])}"
    )
    under = [
        f"{k} {v[0]:.3f}" + ("" if v[1] else " flagged") for k, v in res.items() if v[0] < 0.95
    ]
    print("under 0.95: " + ("; ".join(under) or "none"))
    Path(sys.argv[1] if len(sys.argv) > 1 else "closeups.json").write_text(
        json.dumps(res, indent=0)
    )


if __name__ == "__main__":
    main()
