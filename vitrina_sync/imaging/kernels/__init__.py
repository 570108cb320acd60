"""Loops compiled with numba (cache=True, nogil), each giving the same bits as its numpy/scipy/
Pillow twin (kept as the fallback). This package is what `compiled.loops()` hands out: every
kernel by name, whichever module owns it, and `warm()`.

- canvas: whole-region byte loops over (h,w,3) uint8 images (QA's comparisons, compositing);
- blocks: block means as Pillow's reduce gives them (local_means, qa.halo);
- masks: dilation/erosion by a few pixels as one distance transform, edge seeds, halo masks;
- sampling: bilinear gathers on sampling.Grid's tables, the guided filter's alpha;
- filters: scipy's uniform and sparse Gaussian filters, the guided filter's maps and systems;
- colour_fit: refine's two-colour step and edge_colour's estimates from its fit;
- clusters: the k-means rounds of parted's colour mixtures;
- resampling: Pillow's resize (BOX, LANCZOS);
- figures: QA's faint body and count, highlights' neighbour steps;
- floats: the float32 constants they share.

Imported lazily through `loops()`: numba is a heavy import (it comes with rembg), and
refine.warm() loads these from numba's cache before the first job, for the array layouts the
modes pass (views of the canvas are "A" layout, the region's own arrays "C").
"""

from __future__ import annotations

from . import blocks, canvas, clusters, colour_fit, figures, filters, masks, resampling, sampling
from .blocks import block_means_at, halved_fields, masked_blocks, reduce_float, split_blocks
from .canvas import (
    any_changed,
    blend_edge,
    copy_opaque,
    copy_where,
    count_white,
    edge_pairs,
    neighbour_steps,
    uncertain_count,
)
from .clusters import kmeans_rounds
from .colour_fit import edge_estimates, histogram_bins, off_the_line, two_colour
from .figures import (
    area_means,
    drift_and_white,
    faint_body,
    faint_count,
    halo_known,
    halo_verdict,
)
from .filters import box_planes, guided_solve, guided_stats, smooth
from .masks import (
    disk_within,
    edge_seeds,
    halo_masks,
    label_boxes,
    label_sizes,
    mask_pixels,
    quantise,
    split_codes,
    taxicab_within,
)
from .resampling import BOX, LANCZOS, filter_taps, resample_columns, resample_rows
from .sampling import gather, gather_rows_cols, guided_apply, mark_rows_cols

MODULES = (canvas, blocks, masks, sampling, filters, colour_fit, resampling, clusters, figures)
__all__ = [
    "BOX",
    "LANCZOS",
    "any_changed",
    "area_means",
    "blend_edge",
    "block_means_at",
    "box_planes",
    "copy_opaque",
    "copy_where",
    "count_white",
    "disk_within",
    "drift_and_white",
    "edge_estimates",
    "edge_pairs",
    "edge_seeds",
    "faint_body",
    "faint_count",
    "filter_taps",
    "gather",
    "gather_rows_cols",
    "guided_apply",
    "guided_solve",
    "guided_stats",
    "halo_known",
    "halo_masks",
    "halo_verdict",
    "halved_fields",
    "histogram_bins",
    "kmeans_rounds",
    "label_boxes",
    "label_sizes",
    "mark_rows_cols",
    "mask_pixels",
    "masked_blocks",
    "neighbour_steps",
    "off_the_line",
    "quantise",
    "reduce_float",
    "resample_columns",
    "resample_rows",
    "smooth",
    "split_blocks",
    "split_codes",
    "taxicab_within",
    "two_colour",
    "uncertain_count",
    "warm",
]


def warm() -> None:
    """Load (or compile) each kernel for the layouts the modes pass: the region's own arrays
    ("C" layout) against views of the canvas ("A"); other layouts compile on first use."""
    for module in MODULES:
        module.warm()
