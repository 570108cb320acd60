"""A simulated reviewer for the touch-up benches: on a scene whose true mask is known, it finds
the largest wrong region of an output (false product or missing product) and draws one stroke
through it, as a person would with the review page's brush: "remove" over false product, "keep"
over missing product, along the region's middle (its skeleton's longest path), with a brush a
little narrower than the region (so it stays inside it), in source pixels.

    stroke = reviewer.next_stroke(out, truth_on_canvas)   # None: nothing worth a stroke
"""

from __future__ import annotations

from collections import deque

import numpy as np

FILL = 0.7  # the brush covers this share of the region's thickness
MAX_WIDTH = 0.05  # of the canvas's long side: a sensible brush, not a bucket
MIN_AREA = 0.0005  # of the canvas: smaller wrong regions are not worth a stroke
CLEAN = 0.003  # of the canvas's long side: slivers thinner than twice this are edge noise


def wrong_regions(mask: np.ndarray, truth: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(kind, region) of every wrong region worth a stroke on the canvas, largest first."""
    import cv2

    r = max(1, round(CLEAN * max(mask.shape)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    out = []
    for kind, wrong in (
        ("remove", (mask > 0.5) & (truth <= 0.5)),
        ("keep", (truth > 0.5) & (mask <= 0.5)),
    ):
        opened = cv2.morphologyEx(wrong.astype(np.uint8), cv2.MORPH_OPEN, disk)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] >= MIN_AREA * mask.size:
                out.append((kind, labels == i))
    out.sort(key=lambda kr: -int(kr[1].sum()))
    return out


def _neighbours(y: int, x: int):
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                yield y + dy, x + dx


def _on(mask: np.ndarray, yx: tuple[int, int]) -> bool:
    return 0 <= yx[0] < mask.shape[0] and 0 <= yx[1] < mask.shape[1] and bool(mask[yx])


def _farthest(skeleton: np.ndarray, start: tuple[int, int]):
    """Breadth-first over the skeleton's pixels: (the farthest pixel, its path from start)."""
    came = {start: None}
    queue, last = deque([start]), start
    while queue:
        last = queue.popleft()
        for nb in _neighbours(*last):
            if nb not in came and _on(skeleton, nb):
                came[nb] = last
                queue.append(nb)
    path, node = [], last
    while node is not None:
        path.append(node)
        node = came[node]
    return last, path


def middle_line(region: np.ndarray) -> tuple[list[tuple[int, int]], float]:
    """Points (x, y) along the region's middle and the brush width (canvas px) that keeps a
    stroke along them inside the region."""
    import cv2
    from skimage.morphology import skeletonize

    dist = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    skeleton = skeletonize(region) & (dist >= 0.5 * dist.max())
    ys, xs = np.nonzero(skeleton)
    centre = np.unravel_index(int(np.argmax(dist)), dist.shape)
    if len(ys) < 2:
        return [(int(centre[1]), int(centre[0]))], 2 * FILL * float(dist.max())
    nearest = int(np.argmin((ys - centre[0]) ** 2 + (xs - centre[1]) ** 2))
    end, _ = _farthest(skeleton, (int(ys[nearest]), int(xs[nearest])))
    _, path = _farthest(skeleton, end)
    depth = np.array([dist[p] for p in path])
    width = 2 * FILL * float(np.median(depth))
    inside = [p for p, d in zip(path, depth, strict=True) if d >= width / 2]
    if not inside:
        inside = [path[int(np.argmax(depth))]]
    step = max(1, round(width / 2))
    points = inside[::step] + ([inside[-1]] if (len(inside) - 1) % step else [])
    return [(int(x), int(y)) for y, x in points], width


def next_stroke(out, truth: np.ndarray, size: tuple[int, int]) -> dict | None:
    """One stroke (source pixels, the review page's JSON) through the largest wrong region of
    `out` (a ModeOutput with its geometry) against `truth` (the true alpha on its canvas);
    size: the source's (width, height)."""
    mask = np.asarray(out.mask, np.float32) / 255.0
    regions = wrong_regions(mask, truth)
    if not regions:
        return None
    kind, region = regions[0]
    points, width = middle_line(region)
    width = max(2.0, min(width, MAX_WIDTH * max(mask.shape)))
    g = out.extra["geometry"]
    (l, t, r, b), (sl, st, sr, sb) = g["region"], g["region_source"]
    kx, ky = (sr - sl) / (r - l), (sb - st) / (b - t)
    src = [
        [
            min(max(sl + (x + 0.5 - l) * kx, 0.0), size[0]),
            min(max(st + (y + 0.5 - t) * ky, 0.0), size[1]),
        ]
        for x, y in points
    ]
    return {"kind": kind, "width": width * (kx + ky) / 2, "points": src}
