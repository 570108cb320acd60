"""Cutout building blocks: rembg sessions, full-size alpha, edge refinement, decontamination."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter
from synthetic import boundary_f, iou, scene

from vitrina_sync import presets
from vitrina_sync.errors import ModelMissing, RowError
from vitrina_sync.imaging import compiled, cutout, edge_colour, local_means, refine, sampling

SETTINGS = {"default_model": "u2netp"}


def test_session_is_created_once_per_process_and_never_downloads(tmp_path):
    first = cutout.session("u2netp", SETTINGS)
    count = cutout.LOAD_COUNT["n"]
    assert cutout.session("u2netp", SETTINGS) is first
    assert cutout.LOAD_COUNT["n"] == count
    with pytest.raises(ModelMissing, match="vitrina-sync models fetch isnet-general-use"):
        cutout.session("isnet-general-use", {"model_dir": str(tmp_path)})
    assert not any(tmp_path.iterdir())  # nothing was fetched


def test_predict_alpha_is_full_size_and_finds_the_product():
    sc = scene("bottle", "light", (300, 400))
    alpha = cutout.predict_alpha(sc.image, "u2netp", SETTINGS)
    assert alpha.shape == (400, 300) and alpha.dtype == np.float32
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0
    assert iou(alpha, sc.alpha) > 0.95


def test_predict_work_reduces_before_the_model():
    sc = scene("box", "green", (900, 1200))
    work, p = cutout.predict_work(sc.image, "u2netp", SETTINGS, side=480)
    assert work.size == (360, 480) and p.shape == (480, 360)
    truth = np.asarray(Image.fromarray((sc.alpha * 255).astype(np.uint8)).resize(work.size)) / 255
    assert iou(p, truth) > 0.98


def test_u2netp_session_gives_rembgs_mask_bytes(monkeypatch):
    """Our u2netp session (no rembg import) against rembg's own session: the same mask bytes."""
    rembg = pytest.importorskip("rembg")
    first = cutout.session("u2netp", SETTINGS)
    assert isinstance(first, cutout.U2netp)  # the CPU-only case of this machine
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    path = cutout.model_path("u2netp")
    monkeypatch.setenv("U2NET_HOME", str(path.parent))
    options = {"onnx_threads": 1}
    ours = cutout.U2netp(cutout._rembg_file(path), cutout._session_options(options))
    theirs = rembg.new_session("u2netp", sess_opts=cutout._session_options(options))
    for kind, bg, size in [
        ("box", "green", (900, 1200)),
        ("ring", "light", (480, 640)),
        ("bag", "coffee", (333, 250)),
    ]:
        img = scene(kind, bg, size).image
        for im in (img, img.convert("RGBA"), img.resize((size[0] // 3, size[1] // 3))):
            a, b = ours.predict(im)[0], theirs.predict(im)[0]
            assert a.mode == b.mode == "L" and a.size == b.size == im.size
            assert a.tobytes() == b.tobytes()
    # the model's input itself, bit for bit (a looked-up table and a compiled resize here),
    # also on a dark photo and an all-black one (rembg divides by 1e-6 there)
    dark = Image.fromarray(np.asarray(scene("ring", "grass", (401, 333)).image) // 9)
    for im in (scene("box", "green", (640, 480)).image, dark, Image.new("RGB", (50, 70))):
        got = ours.normalize(im)[ours.input_name]
        want = theirs.normalize(im, ours.mean, ours.std, (320, 320))[ours.input_name]
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def _step_scene(shift_px: int):
    """A vertical edge at x=100 (+ shift in the coarse mask): red product left, green bg right."""
    img = np.zeros((64, 200, 3), np.uint8)
    img[:, :100] = (200, 30, 40)
    img[:, 100:] = (0, 177, 64)
    coarse = np.zeros((64, 200), np.float32)
    ramp = np.clip((100 + shift_px - np.arange(200) + 6) / 12, 0, 1)  # a soft, misplaced edge
    coarse[:] = ramp
    return img, coarse


def test_refine_alpha_moves_a_soft_misplaced_edge_onto_the_image_edge():
    img, coarse = _step_scene(shift_px=3)
    alpha = refine.refine_alpha(img, coarse, img, (0, 0, 200, 64), {"refine_radius": 6})
    row = alpha[32]
    assert (row[:97] == 1.0).all() and (row[103:] == 0.0).all()
    truth = (np.arange(200) < 100).astype(np.float32)
    assert np.abs(row - truth).sum() < np.abs(coarse[32] - truth).sum() / 3


def test_refine_alpha_upsamples_with_the_full_resolution_guide():
    """Coefficients fitted at 1/4 size, applied to full-size pixels: the edge lands to the pixel."""
    full = np.zeros((256, 800, 3), np.uint8)
    full[:, :401] = (200, 30, 40)
    full[:, 401:] = (0, 177, 64)
    small = np.asarray(Image.fromarray(full).resize((200, 64), Image.Resampling.BOX))
    coarse = np.clip((100 - np.arange(200) + 4) / 8, 0, 1)[None].repeat(64, 0).astype(np.float32)
    alpha = refine.refine_alpha(small, coarse, full, (0, 0, 200, 64), {"refine_radius": 4})
    edge = np.nonzero(alpha[128] < 0.5)[0][0]
    assert abs(edge - 401) <= 1


def test_decontaminate_recovers_the_product_colour_in_the_soft_edge():
    fg, bg = np.array([200.0, 30.0, 40.0]), np.array([0.0, 177.0, 64.0])
    alpha = np.clip((120 - np.arange(240)) / 8 + 0.5, 0, 1)[None].repeat(40, 0).astype(np.float32)
    img = (alpha[..., None] * fg + (1 - alpha[..., None]) * bg + 0.5).astype(np.uint8)
    est = edge_colour.decontaminate(img, alpha)
    soft = (alpha > 0.3) & (alpha < 1.0)
    assert np.abs(est[soft] - fg).max() < 6  # the green is gone from the edge colours
    assert (est[alpha >= 1.0] == img[alpha >= 1.0]).all()  # opaque pixels untouched


def test_edge_colours_off_the_line_between_product_and_background_are_not_trusted():
    """A pixel of the soft edge that is no mix of the local product and background colours
    (a grass blade at a ring's rim) gets the local product colour, not the solve's colour of
    neither (which read as a halo: ring on grass 0.054 > 0.03 at 600x800 before)."""
    from vitrina_sync.modes.base import LoadedImage, ModeContext
    from vitrina_sync.modes.white import WhiteMode

    fg, bg = np.array([200.0, 30.0, 40.0], np.float32), np.array([0.0, 177.0, 64.0], np.float32)
    region = np.zeros((1, 3, 3), np.uint8)
    region[0, 0], region[0, 1], region[0, 2] = (100, 104, 52), (40, 40, 250), (200, 30, 40)
    alpha = np.array([[0.5, 0.5, 1.0]], np.float32)
    fit = {
        "ys": np.zeros(2, np.int64),
        "xs": np.arange(2, dtype=np.int64),
        "fg": np.stack([fg, fg]),
        "bg": np.stack([bg, bg]),
        "mass_f": np.ones(2, np.float32),
        "mass_b": np.ones(2, np.float32),
    }
    colours = np.zeros((2, 3), np.float32)
    edge_colour.off_the_line(region, alpha, fit, fit["ys"], fit["xs"], colours)
    assert (colours[0] == 0).all()  # a mix: the solve's estimate stays
    assert (colours[1] == fg).all()  # blue is neither red nor green: the product's colour
    sc = scene("ring", "grass", (600, 800))
    params = {"canvas": [800, 800], "fill": 0.85, "model": "u2netp"}
    out = WhiteMode().process(LoadedImage(sc.image, "PNG"), ModeContext("S", "0", params, SETTINGS))
    assert out.qa["halo"] < 0.03 and out.qa["de_p95"] < 1.0


@pytest.mark.parametrize("kind, bg", [("box", "green"), ("bag", "grass"), ("mug", "light")])
def test_refinement_improves_boundary_f_at_full_resolution(kind, bg):
    """Same model output; refined edge vs the upscaled soft mask, scored on the truth."""
    from vitrina_sync.imaging import compose

    sc = scene(kind, bg, (900, 1200))
    rgb = sc.image
    work, p = cutout.predict_work(rgb, "u2netp", SETTINGS)
    region = compose.Region((0, 0, 900, 1200), (0.0, 0.0, 900.0, 1200.0))
    k = work.width / rgb.width
    src = np.asarray(compose.resample_region(rgb, region))
    box = (0.0, 0.0, 900 * k, 1200 * k)
    refined = refine.refine_alpha(np.asarray(work), p, src, box, {})
    coarse = refine.refine_alpha(np.asarray(work), p, src, box, {"refine": False})
    assert boundary_f(refined, sc.alpha, 1) > boundary_f(coarse, sc.alpha, 1)
    assert np.abs(refined - sc.alpha).sum() < np.abs(coarse - sc.alpha).sum()


def test_presets_resolve_and_reject():
    params = presets.resolve("white", "", {})
    assert (
        params["canvas"] == [2000, 2000] and params["fill"] == 0.85 and params["model"] == "u2netp"
    )
    assert presets.resolve("white", "Portrait", {})["canvas"] == [1500, 2000]
    assert presets.resolve("card", "gradient", {})["background"].startswith("gradient:")
    with pytest.raises(RowError, match="unknown preset 'neon'"):
        presets.resolve("card", "neon", {})
    assert "fill" in presets.check("white", {"canvas": [100, 100], "fill": 1.5})
    assert "canvas" in presets.check("white", {"canvas": [100], "fill": 0.5})


def test_presets_file_overrides(tmp_path):
    extra = tmp_path / "presets.toml"
    extra.write_text('[card.brand]\nbackground = "#102030"\nfill = 0.7\n', "utf-8")
    params = presets.resolve("card", "brand", {"presets": str(extra)})
    assert params["background"] == "#102030" and params["canvas"] == [1500, 2000]
    bad = tmp_path / "bad.toml"
    bad.write_text("[white.huge]\nfill = 3.0\n", "utf-8")
    with pytest.raises(RowError, match="fill must be"):
        presets.resolve("white", "huge", {"presets": str(bad)})


def test_grid_sampling_matches_the_plain_bilinear_formula():
    rng = np.random.default_rng(5)
    arr = rng.random((37, 53, 4)).astype(np.float32)
    gy, gx = rng.uniform(-2, 40, 5000), rng.uniform(-2, 56, 5000)
    h, w = arr.shape[:2]
    cy, cx = np.clip(gy, 0, h - 1.0), np.clip(gx, 0, w - 1.0)
    y0, x0 = np.minimum(cy.astype(np.int32), h - 2), np.minimum(cx.astype(np.int32), w - 2)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (cy - y0).astype(np.float32)[:, None], (cx - x0).astype(np.float32)[:, None]
    top = arr[y0, x0] * (1 - fx) + arr[y0, x1] * fx
    bottom = arr[y1, x0] * (1 - fx) + arr[y1, x1] * fx
    want = top * (1 - fy) + bottom * fy
    grid = sampling.Grid(arr.shape, gy, gx)
    assert np.array_equal(grid(arr), want)  # bit for bit
    assert np.array_equal(grid(arr[..., 2]), want[:, 2])
    assert np.array_equal(sampling.bilinear(arr[..., 1], gy, gx), want[:, 1])


def test_a_separable_grid_samples_and_marks_as_the_per_pixel_grid(monkeypatch):
    """A Grid built from per-row and per-column tables picked at (ys, xs) (the compiled gather
    adds a pixel's row and column itself) gives the same samples, bit for bit, and marks the
    same cells as a Grid given each pixel's position; so does its numpy path."""
    rng = np.random.default_rng(9)
    for h, w, c in ((37, 53, 4), (1, 9, 1), (64, 1, 9), (120, 97, 5)):
        arr = rng.random((h, w, c)).astype(np.float32)
        rows, cols = rng.uniform(-2, h + 1, 70), rng.uniform(-2, w + 1, 90)
        ys, xs = rng.integers(0, 70, 4000), rng.integers(0, 90, 4000)
        per_pixel = sampling.Grid(arr.shape, rows[ys], cols[xs])
        separable = sampling.Grid(arr.shape, rows, cols, ys, xs)
        want = per_pixel(arr)
        assert np.array_equal(separable(arr), want)
        marked, want_marked = np.zeros(h * w, bool), np.zeros(h * w, bool)
        separable.mark(marked)
        for index in per_pixel.indices():
            want_marked[index] = True
        assert np.array_equal(marked, want_marked)
        with monkeypatch.context() as m:
            m.setattr(compiled, "loops", lambda: None)
            assert np.array_equal(sampling.Grid(arr.shape, rows, cols, ys, xs)(arr), want)


@pytest.mark.parametrize("kind,bg", [("ring", "grass"), ("bottle", "light")])
def test_refinement_and_compositing_give_the_same_bytes_with_and_without_numba(
    kind, bg, monkeypatch
):
    """The whole edge path (refine_alpha: guided fit and its application, two-colour step;
    edge_colours; composite's opaque copy and edge blend) through the compiled kernels and
    through their numpy/scipy/Pillow twins: the same alpha, edge colours and canvas bytes."""
    from vitrina_sync.imaging import compose

    sc = scene(kind, bg, (640, 720))
    work = sc.image.resize((320, 360), Image.Resampling.BOX)
    truth = Image.fromarray((sc.alpha * 255).astype(np.uint8)).resize(work.size)
    p = np.asarray(truth.filter(ImageFilter.GaussianBlur(2)), np.float32) / 255.0
    region = compose.Region((40, 30, 680, 750), (0.0, 0.0, 640.0, 720.0))
    src = np.asarray(compose.resample_region(sc.image, region))
    runs = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(compiled, "loops", lambda: None)
            monkeypatch.setattr(compose, "loops", lambda: None)
        fit = {}
        alpha = refine.refine_alpha(np.asarray(work), p, src, (0.0, 0.0, 320.0, 360.0), {}, fit)
        edge = edge_colour.edge_colours(src, alpha, fit=fit)
        canvas = compose.composite(np.full((800, 760, 3), 250, np.uint8), src, alpha, region, edge)
        runs.append((alpha, edge, canvas))
    (alpha, edge, canvas), (want_alpha, want_edge, want_canvas) = runs
    assert ((alpha > 0) & (alpha < 1)).sum() > 500  # a real soft edge
    assert np.array_equal(alpha, want_alpha)
    for got, want in zip(edge, want_edge, strict=True):
        assert np.array_equal(got, want)
    assert np.array_equal(canvas, want_canvas)


def test_guided_fit_on_the_band_box_matches_the_whole_photo(monkeypatch):
    """The coefficients are fitted on the band's box plus the filters' reach only; the alpha must
    be what fitting on the whole work image gives (a small product in a large photo)."""
    from vitrina_sync.imaging import compose

    sc = scene("mug", "light", (900, 1200))
    work = sc.image.resize((300, 400), Image.Resampling.BOX)
    truth = Image.fromarray((sc.alpha * 255).astype(np.uint8)).resize(work.size)
    p = np.asarray(truth.filter(ImageFilter.GaussianBlur(1.5)), np.float32) / 255.0
    region = compose.Region((0, 0, 600, 700), (150.0, 250.0, 750.0, 950.0))
    src = np.asarray(compose.resample_region(sc.image, region))
    box = (50.0, 250 / 3, 250.0, 950 / 3)
    cropped = refine.refine_alpha(np.asarray(work), p, src, box, {})
    t, b, l, r = refine._reach(refine.edge_band(p, 4), box, 11)
    assert (b - t) * (r - l) < 0.8 * p.size  # the crop is a real saving here
    monkeypatch.setattr(refine, "_reach", lambda band, *args: (0, band.shape[0], 0, band.shape[1]))
    whole = refine.refine_alpha(np.asarray(work), p, src, box, {})
    assert np.abs(cropped - whole).max() < 1e-5
    assert np.array_equal(np.round(cropped * 255), np.round(whole * 255))


@pytest.mark.parametrize("side", [(300, 400), (301, 433)])
def test_hard_alpha_equals_the_thresholded_bilinear_map_outside_the_band(side):
    """refine_alpha keeps (bilinear p > 0.5) only outside the band: there the nearest-neighbour
    shortcut must agree with it pixel for pixel (upscaling); downscaling takes the plain path."""
    sc = scene("ring", "green", (900, 1200))
    truth = Image.fromarray((sc.alpha * 255).astype(np.uint8)).resize((150, 200))
    p = np.asarray(truth.filter(ImageFilter.GaussianBlur(2.0)), np.float32) / 255.0
    for box in [(0.0, 0.0, 150.0, 200.0), (10.3, 7.9, 141.7, 190.2), (20.0, 30.0, 90.0, 120.0)]:
        plain = (refine.resample_float(p, side, box) > 0.5).astype(np.float32)
        fast = refine.hard_alpha(p, side, box, 4)
        outside = ~refine._nearest(refine.edge_band(p, 4), side, box)
        assert outside.any() and np.array_equal(fast[outside], plain[outside])
    small = (60, 80)  # downscaling: every pixel as the plain computation
    assert np.array_equal(
        refine.hard_alpha(p, small, (0.0, 0.0, 150.0, 200.0), 4),
        (refine.resample_float(p, small, (0.0, 0.0, 150.0, 200.0)) > 0.5).astype(np.float32),
    )


def test_sparse_gaussian_matches_scipy_bit_for_bit_where_sampled():
    """smooth_for smooths only the cells a Grid reads; there it must equal scipy's
    gaussian_filter exactly, short lines (several reflections) and wide kernels included."""
    from scipy import ndimage

    rng = np.random.default_rng(11)
    for _ in range(120):
        h, w = (int(v) for v in rng.integers(1, 45, 2))
        c = int(rng.integers(1, 6))
        fields = (rng.random((h, w, c)) * rng.choice([1.0, 255.0, 1e4])).astype(np.float32)
        s = float(rng.choice([0.5, 0.8, 1.7, 3.3, 6.0, 13.0]))
        n = int(rng.integers(1, 40))
        grid = sampling.Grid(fields.shape, rng.uniform(-1, h, n), rng.uniform(-1, w, n))
        want = ndimage.gaussian_filter(fields, (s, s, 0))
        assert np.array_equal(grid(local_means.smooth_for(fields, s, grid)), grid(want))
    # the band's shape: a thin ring on a larger grid, so long runs of needed cells away from the
    # borders (the kernel's vectorised stretch) as well as runs that reach a border
    for trial in range(12):
        h, w = (int(v) for v in rng.integers(60, 170, 2))
        c = (4, 5, 9)[trial % 3]
        fields = (rng.random((h, w, c)) * 255.0).astype(np.float32)
        s = float((0.8, 2.5, 6.0, 16.0)[trial % 4])
        angle = rng.uniform(0, 2 * np.pi, 3000)
        radius = rng.uniform(0.3, 0.62, 3000)  # past 0.5: the ring is cut by the borders
        grid = sampling.Grid(
            fields.shape, h / 2 + radius * h * np.sin(angle), w / 2 + radius * w * np.cos(angle)
        )
        want = ndimage.gaussian_filter(fields, (s, s, 0))
        assert np.array_equal(grid(local_means.smooth_for(fields, s, grid)), grid(want))


def test_local_mean_equals_smoothing_the_whole_grid():
    """local_mean (sparse smoothing) against the plain path: the block fields smoothed
    everywhere by scipy's gaussian_filter."""
    from scipy import ndimage

    sc = scene("bag", "coffee", (600, 800))
    rgb = np.asarray(sc.image)
    weight = sc.alpha > 0.5
    ring = ndimage_ring(weight)
    ys, xs = np.nonzero(ring)
    for sigma, step, spread in [(8.0, 4, False), (12.0, 4, True), (6.0, 2, False)]:
        got = local_means.local_mean(rgb, weight, ys, xs, sigma, step, spread)
        s = local_means.smoothing(sigma, step)
        fields = ndimage.gaussian_filter(
            local_means.block_fields(rgb, weight, step, spread), (s, s, 0)
        )
        want = local_means.from_fields(
            local_means.step_grid(fields.shape, ys, xs, step)(fields), spread
        )
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a, b)


def ndimage_ring(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_dilation(mask, iterations=3) & ~ndimage.binary_erosion(mask, iterations=3)


def test_channel_sum_is_numpys_sum_over_three_channels_bit_for_bit():
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        for shape in [(100_003, 3), (61, 47, 3)]:
            x = (rng.standard_normal(shape) * rng.choice([1e-3, 1.0, 300.0], shape)).astype(dtype)
            assert np.array_equal(sampling.channel_sum(x), x.sum(axis=-1))
            squared = x**2  # as the callers use it
            assert np.array_equal(sampling.channel_sum(squared), squared.sum(axis=-1))


def test_separable_grids_equal_per_pixel_positions():
    """_work_grid and step_grid build per-row/per-column tables and pick them per pixel: the
    indices and weights must be those of the per-pixel formula, bit for bit."""
    rng = np.random.default_rng(4)
    mask = rng.random((230, 310)) < 0.2
    ys, xs = np.nonzero(mask)
    size, box = (310, 230), (3.7, 11.2, 101.9, 88.4)
    l, t, r, b = box
    direct = sampling.Grid(
        (95, 110),
        t + (ys + 0.5) * (b - t) / size[1] - 0.5,
        l + (xs + 0.5) * (r - l) / size[0] - 0.5,
    )
    grids = [(refine._work_grid((95, 110), ys, xs, size, box), direct)]
    for step in (2, 4):
        plain = sampling.Grid((58, 78), (ys + 0.5) / step - 0.5, (xs + 0.5) / step - 0.5)
        grids.append((local_means.step_grid((58, 78), ys, xs, step), plain))
    for fast, plain in grids:
        pairs = [*zip(fast.indices(), plain.indices(), strict=True)]
        pairs += [(fast.fy, plain.fy), (fast.fx, plain.fx)]
        for got, want in pairs:
            assert got.dtype == want.dtype and np.array_equal(got, want)


def test_flat_index_helpers_equal_numpy_fancy_indexing():
    rng = np.random.default_rng(8)
    mask = rng.random((123, 77)) < 0.3
    frozen = mask.copy()
    frozen.flags.writeable = False  # as from Pillow
    # compiled (bool, C layout, read-only too), empty, full, one row or column, strided, 0/1 ints
    masks = [mask, frozen, mask & False, mask | True, mask[:1], mask[:, :1], mask[::2, 1::3]]
    for m in masks + [mask.astype(np.uint8)]:
        ys, xs = sampling.pixel_list(m)
        want_ys, want_xs = np.nonzero(m)
        assert np.array_equal(ys, want_ys) and np.array_equal(xs, want_xs)
        assert ys.dtype == xs.dtype == want_ys.dtype
    rgb = rng.integers(0, 256, (123, 77, 3), dtype=np.uint8)
    alpha = rng.random((123, 77)).astype(np.float32)
    canvas = np.zeros((200, 150, 3), np.uint8)
    view = canvas[10:133, 20:97]  # strided rows: the plain path
    for arr in (rgb, alpha, view):
        got = sampling.pixels_at(arr, ys, xs)
        assert got.dtype == arr.dtype and np.array_equal(got, arr[ys, xs])
    for arr, values in ((alpha.copy(), rng.random(len(ys))), (rgb.copy(), rgb[::-1][ys, xs])):
        want = arr.copy()
        want[ys, xs] = values
        sampling.put_at(arr, ys, xs, values)
        assert np.array_equal(arr, want)


def test_masked_blocks_with_a_binary_mask_equal_the_blended_paste():
    """_masked_blocks pastes through a "1" mask: the same bytes as an "L" 0/255 mask's blend."""
    sc = scene("mug", "chelsea", (601, 803))  # odd sizes: partial blocks at the edges
    rgb = np.asarray(sc.image)
    for weight in (sc.alpha >= 1.0, sc.alpha <= 0.0):
        mask = Image.fromarray(weight.view(np.uint8) * np.uint8(255), "L")
        masked = Image.new("RGB", mask.size, 0)
        masked.paste(sc.image, mask=mask)
        for step in (2, 4):
            num, den = local_means._masked_blocks(rgb, weight, step, sc.image)
            assert np.array_equal(num, np.asarray(masked.reduce(step), np.float32))
            assert np.array_equal(den, np.asarray(mask.reduce(step), np.float32) / 255.0)


def test_split_fields_equal_pillows_masked_reductions_of_both_sides():
    """local_means.split_fields (one compiled pass: kernels.blocks.split_blocks) gives exactly
    the two block_fields it replaces, Pillow's masked reductions of the sure product
    (alpha >= 1) and the sure background (alpha <= 0, with spread): a photo scene and random
    alphas with runs of 0 and 1, sizes leaving partial tiles on both edges, tiles of 1x1 to 5x5
    pixels."""
    assert compiled.loops() is not None  # the compiled path is the one under test
    rng = np.random.default_rng(11)
    sc = scene("ring", "chelsea", (601, 803))
    cases = [(np.asarray(sc.image), sc.alpha.astype(np.float32), sc.image)]
    for h, w in ((1, 1), (3, 7), (17, 5), (64, 64), (129, 250)):
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        alpha = np.clip(rng.normal(0.5, 0.8, (h, w)), 0.0, 1.0).astype(np.float32)
        cases.append((rgb, alpha, None))
    for rgb, alpha, image in cases:
        image = image or Image.fromarray(rgb, "RGB")
        for step in (2, 3, 4, 5):
            want = np.dstack(
                [
                    local_means.block_fields(rgb, alpha >= 1.0, step, image=image),
                    local_means.block_fields(rgb, alpha <= 0.0, step, spread=True, image=image),
                ]
            )
            got = local_means.split_fields(rgb, alpha, step)
            assert got.dtype == want.dtype and np.array_equal(got, want), (rgb.shape, step)


def test_guided_fields_equal_the_scipy_guided_filter_bit_for_bit():
    """refine.guided_fields (numba: the thirteen maps box-filtered side by side, the 3x3 systems
    solved per pixel) gives exactly np.dstack of guided_coefficients (scipy's uniform_filter per
    map, numpy's float32 arithmetic): a photo crop and random maps, radii 1-9 (windows wider
    than the crop too), eps as the presets set it; box_planes alone equals uniform_filter."""
    from scipy import ndimage

    assert compiled.loops() is not None  # the compiled path is the one under test
    rng = np.random.default_rng(21)
    sc = scene("bag", "chelsea", (301, 257))
    photo = np.asarray(sc.image, np.float32) / 255.0
    cases = [(photo, sc.alpha.astype(np.float32))]
    for h, w in ((1, 1), (2, 9), (9, 2), (37, 53), (120, 97)):
        guide = rng.random((h, w, 3)).astype(np.float32)
        p = (rng.random((h, w)) > 0.5).astype(np.float32) * rng.random((h, w)).astype(np.float32)
        cases.append((guide, p))
    for guide, p in cases:
        for r, eps in ((1, 1e-4), (4, 1e-4), (6, 1e-3), (9, 1e-5)):
            mean_a, mean_b = refine.guided_coefficients(guide, p, r, eps)
            got = refine.guided_fields(guide, p, r, eps)
            assert np.array_equal(got, np.dstack([mean_b, mean_a])), (guide.shape, r, eps)
        planes = rng.random(guide.shape[:2] + (5,)).astype(np.float32)
        out = np.empty_like(planes)
        compiled.loops().box_planes(planes, 3, out)
        want = ndimage.uniform_filter(planes, size=(7, 7, 1), mode="reflect")
        assert np.array_equal(out, want), guide.shape


def _soft_noisy_edge(kind: str, bg: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A scene's pixels and its true alpha blurred (sigma 3) with noise (0.05), snapped to 0/1
    under 0.05 / over 0.95: many partial pixels, for the compiled/numpy twin tests."""
    from scipy import ndimage

    sc = scene(kind, bg, (401, 377))
    rng = np.random.default_rng(seed)
    soft = ndimage.gaussian_filter(sc.alpha, 3) + rng.normal(0, 0.05, sc.alpha.shape)
    alpha = np.clip(soft, 0, 1).astype(np.float32)
    alpha[alpha < 0.05], alpha[alpha > 0.95] = 0.0, 1.0
    return np.asarray(sc.image), alpha


@pytest.mark.parametrize("kind,bg", [("ring", "chelsea"), ("bag", "green"), ("mug", "light")])
def test_compiled_two_colour_step_and_edge_colours_equal_the_numpy_twins(kind, bg, monkeypatch):
    """kernels.colour_fit.two_colour and edge_estimates (one pass over the edge pixels) give
    exactly what the numpy code gives: the new alpha, the fit edge_colours reuses, and the
    decontaminated edge colours; on photo and plain backgrounds with a soft, noisy alpha (many
    partial pixels)."""
    assert compiled.loops() is not None  # the compiled path is the one under test
    region, start = _soft_noisy_edge(kind, bg, 7)
    runs = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(compiled, "loops", lambda: None)
        alpha, fit = start.copy(), {}
        refine._two_colour(region, alpha, 6.0, fit)
        runs.append((alpha, fit, edge_colour.edge_colours(region, alpha, fit=fit)))
    (alpha, fit, edge), (want_alpha, want_fit, want_edge) = runs
    assert 0 < ((alpha > 0) & (alpha < 1)).sum() and not np.array_equal(alpha, start)
    assert np.array_equal(alpha, want_alpha)
    for key in ("ys", "xs", "fg", "bg", "mass_f", "mass_b"):
        assert fit[key].dtype == want_fit[key].dtype and np.array_equal(fit[key], want_fit[key])
    for got, want in zip(edge, want_edge, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize("kind,bg", [("ring", "chelsea"), ("bag", "grass"), ("mug", "light")])
def test_compiled_off_the_line_equals_the_numpy_twin(kind, bg):
    """kernels.colour_fit.off_the_line (one pass over the fit's pixels, no search for the edge
    pixels) replaces exactly the colours edge_colour.off_the_line replaces, with the same bits,
    on soft noisy edges over photo and plain backgrounds; over the photos some colours are
    replaced."""
    assert compiled.loops() is not None  # the compiled path is the one under test
    region, alpha = _soft_noisy_edge(kind, bg, 11)
    fit: dict = {}
    refine._two_colour(region, alpha, 6.0, fit)
    assert fit["covers"]
    ys, xs, estimates = edge_colour._edge_estimates(region, alpha, fit=fit)
    fast, numpy_twin = estimates.copy(), estimates.copy()
    assert edge_colour._off_the_line_compiled(region, alpha, fit, fast)
    edge_colour.off_the_line(region, alpha, fit, ys, xs, numpy_twin)
    assert np.array_equal(fast, numpy_twin)
    replaced = int((fast != estimates).any(axis=1).sum())
    assert bg == "light" or replaced > 20, replaced  # a plain background: on the line


def test_halo_masks_equal_the_separate_ring_erosion_and_dilation():
    """kernels.masks.halo_masks (four capped column distances, reached by a diamond) gives the
    pixels qa.halo's masks give one by one: random soft alphas touching the borders, widths 1-7."""
    from scipy import ndimage

    from vitrina_sync.imaging import qa

    rng = np.random.default_rng(13)
    for _ in range(150):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        blur = ndimage.gaussian_filter(rng.random((h, w)), rng.uniform(0.5, 4))
        alpha = np.clip(blur * rng.uniform(1, 4) - rng.uniform(0, 2), 0, 1).astype(np.float32)
        width = int(rng.integers(1, 8))
        band, inner, outer = compiled.loops().halo_masks(alpha, width)
        want_band = qa.edge_ring(alpha, width) | ((alpha > 0.01) & (alpha < 0.99))
        assert np.array_equal(band, want_band)
        assert np.array_equal(inner, refine.erode(alpha >= 0.99, width))
        assert np.array_equal(outer, ~refine.dilate(alpha > 0.01, width))


def test_compiled_disks_equal_opencvs_dilation_and_erosion():
    """openings.grow/shrink by a disk of radius 5 or more (compiled: kernels.masks.disk_within)
    give cv2.dilate/erode's pixels with openings._disk (erosion with the outside unset): random
    specks, blobs and discs touching the borders, views that are not contiguous, radii up to
    over the mask's size (a radius under 5: cv2 itself)."""
    import cv2

    from vitrina_sync.imaging import openings

    rng = np.random.default_rng(29)
    for trial in range(120):
        h, w = (int(v) for v in rng.integers(1, 120, 2))
        if trial % 3 == 0:
            mask = rng.random((h, w)) < rng.random()
        elif trial % 3 == 1:
            mask = ndimage_blur(rng.random((h, w)), rng.uniform(1, 8)) > 0.5
        else:
            yy, xx = np.ogrid[:h, :w]
            mask = np.zeros((h, w), bool)
            for cy, cx, r in rng.integers(0, 120, (4, 3)):
                mask |= (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        if trial % 4 == 0 and w > 2:
            mask = mask[:, 1:-1]  # a view, not contiguous
        for r in (1, 4, 5, 6, 9, 13, 24, 37, 70, 130):
            disk = openings._disk(r)
            want_grown = cv2.dilate(np.ascontiguousarray(mask).view(np.uint8), disk).view(bool)
            want_shrunk = cv2.erode(
                np.ascontiguousarray(mask).view(np.uint8), disk, borderValue=0
            ).view(bool)
            assert np.array_equal(openings.grow(mask, r), want_grown), (trial, r)
            assert np.array_equal(openings.shrink(mask, r), want_shrunk), (trial, r)


def ndimage_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage

    return ndimage.gaussian_filter(values, sigma)


def test_float_block_means_equal_pillows_f_reduce():
    """block_mean of a float map (compiled: kernels.blocks.reduce_float) gives exactly Pillow's
    Image.reduce of the "F" image, byte for byte: values in [0, 1], 0/1 masks, large magnitudes
    and -0.0, sizes with partial tiles on either edge, tiles of 2x2 to 12x12 (qa.ShapeCopy
    reduces a 2000 px region by 6, a 4000 px one by 12)."""
    rng = np.random.default_rng(17)
    for h, w in ((1, 1), (3, 7), (17, 5), (64, 64), (129, 250), (887, 651)):
        negative_zeros = np.where(rng.random((h, w)) > 0.3, -0.0, 1.0)
        for values in (
            rng.random((h, w)),
            rng.random((h, w)) > 0.5,
            rng.normal(0, 1e4, (h, w)),
            negative_zeros,
        ):
            arr = values.astype(np.float32)
            for step in range(2, 13):
                want = np.asarray(Image.fromarray(arr, "F").reduce(step), np.float32)
                got = local_means.block_mean(arr, step)  # the same bytes: -0.0 stays apart from 0.0
                assert got.tobytes() == want.tobytes(), (h, w, step)


def test_compiled_masked_block_means_equal_pillows_masked_reductions():
    """kernels.blocks.masked_blocks (block_fields of a 0/1 weight, one pass) gives exactly Pillow's
    reduce of the mask and of the pasted colours (local_means._masked_blocks): empty, full and
    random masks, sizes with partial tiles, tiles of 2x2 to 8x8 (non powers of two included)."""
    assert compiled.loops() is not None  # the compiled path is the one under test
    rng = np.random.default_rng(23)
    for h, w in ((1, 1), (3, 7), (17, 5), (64, 64), (129, 250), (301, 163)):
        rgb = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
        for share in (0.0, 1.0, 0.3, 0.9):
            weight = rng.random((h, w)) < share
            for step in (2, 3, 4, 5, 8):
                num, den = local_means._masked_blocks(rgb, weight, step)
                got = local_means.block_fields(rgb, weight, step)
                assert np.array_equal(got, np.dstack([den, num])), (h, w, share, step)


def test_compiled_block_means_at_cells_equal_pillows_reduce():
    """kernels.blocks.block_means_at (qa.halo's output, reduced only at the edge band's cells) gives
    exactly Pillow's reduce at those cells: a packed array and a view of a larger canvas, odd
    sizes (partial tiles at the right and bottom edges), white and random pixels."""
    assert compiled.loops() is not None
    rng = np.random.default_rng(29)
    for h, w in ((1, 1), (5, 3), (130, 97), (401, 388)):
        canvas = rng.integers(0, 256, (h + 6, w + 4, 3)).astype(np.uint8)
        canvas[: h // 2] = 255
        for rgb in (canvas[3 : 3 + h, 2 : 2 + w], np.ascontiguousarray(canvas[:h, :w])):
            for step in (2, 3):
                want = local_means.block_mean(np.ascontiguousarray(rgb), step)
                ys, xs = sampling.pixel_list(rng.random(want.shape[:2]) < 0.5)
                got = np.empty((len(ys), 3), np.uint8)
                compiled.loops().block_means_at(rgb, ys, xs, step, got)
                assert np.array_equal(got, want[ys, xs]), (h, w, step)


def test_dilate_and_erode_equal_scipys_iterated_cross_pixel_for_pixel():
    """refine.dilate/erode (one taxicab distance transform) give exactly scipy's binary
    dilation/erosion iterated `width` times: random, smooth, nearly full and single-pixel masks,
    masks touching the border (erosion treats the outside as background), widths 1-9."""
    from scipy import ndimage

    assert compiled.loops() is not None  # the compiled path is the one under test
    rng = np.random.default_rng(5)
    for trial in range(160):
        h, w = (int(v) for v in rng.integers(1, 48, 2))
        kind = trial % 4
        if kind == 0:
            mask = rng.random((h, w)) < rng.random()
        elif kind == 1:
            mask = ndimage.gaussian_filter(rng.random((h, w)), 2) > 0.5
        else:
            mask = np.full((h, w), kind == 2)
            mask[rng.integers(0, h), rng.integers(0, w)] = kind != 2
        for width in (1, 2, 4, 9):
            assert np.array_equal(
                refine.dilate(mask, width), ndimage.binary_dilation(mask, iterations=width)
            )
            assert np.array_equal(
                refine.erode(mask, width), ndimage.binary_erosion(mask, iterations=width)
            )


def test_rgb_image_equals_fromarray():
    """resample.rgb_image (Pillow's raw unpacking into an image it does not fill first) gives
    Image.fromarray's image: sizes down to 1 px, a canvas-sized one, and views that are not
    C-contiguous (through fromarray itself)."""
    from vitrina_sync.imaging import resample

    rng = np.random.default_rng(5)
    for h, w in ((1, 1), (3, 7), (64, 33), (2000, 2000)):
        arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        for pixels in (arr, arr[:, ::-1], arr[::2, 1:]):
            got = resample.rgb_image(pixels)
            want = Image.fromarray(pixels, "RGB")
            assert got.mode == "RGB" and got.size == want.size
            assert got.tobytes() == want.tobytes()


def test_resample_resize_gives_pillows_bytes():
    """resample.resize (numba kernels) equals Pillow's resize(BOX or LANCZOS, box) byte for
    byte: up- and downscales, fractional boxes at and away from the borders, one axis unchanged,
    both pass orders Pillow picks (columns first when the height shrinks much more), a real
    photo region the size white mode resamples; other modes and filters go to Pillow itself."""
    from vitrina_sync.imaging import resample

    assert compiled.loops() is not None  # the compiled path is the one under test
    rng = np.random.default_rng(11)
    orders = set()
    for trial in range(400):
        w, h = (int(v) for v in rng.integers(1, 70, 2))
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
        x0 = rng.uniform(0, w - 0.01) if trial % 3 else 0.0
        y0 = rng.uniform(0, h - 0.01) if trial % 5 else 0.0
        x1 = rng.uniform(x0 + 0.01, w) if trial % 4 else float(w)
        y1 = rng.uniform(y0 + 0.01, h) if trial % 7 else float(h)
        size = (int(rng.integers(1, 110)), int(rng.integers(1, 110)))
        if trial % 9 == 0:
            size = (w, size[1])  # no horizontal pass when the box spans the width
        box = (x0, y0, x1, y1) if trial % 11 else None
        method = Image.Resampling.LANCZOS if trial % 2 else Image.Resampling.BOX
        orders.add(h - size[1] > max(0, (w - size[0]) * 2))
        want = np.asarray(img.resize(size, method, box=box))
        got = np.asarray(resample.resize(img, size, method, box))
        assert np.array_equal(got, want), (w, h, size, box, method)
    assert orders == {True, False}  # both of Pillow's pass orders were exercised
    photo = scene("bag", "coffee", (900, 1200)).image
    box = (131.37, 95.8, 721.44, 1100.19)
    for size in ((764, 1301), (420, 716)):
        want = photo.resize(size, Image.Resampling.LANCZOS, box=box)
        assert (
            resample.resize(photo, size, Image.Resampling.LANCZOS, box).tobytes() == want.tobytes()
        )
    want = photo.resize((480, 640), Image.Resampling.BOX)  # the model's work copy
    assert resample.resize(photo, (480, 640), Image.Resampling.BOX).tobytes() == want.tobytes()
    assert resample.resize(photo, photo.size, Image.Resampling.BOX).tobytes() == photo.tobytes()
    grey = photo.convert("L")
    for method in (Image.Resampling.LANCZOS, Image.Resampling.BILINEAR):
        assert (
            resample.resize(grey, (40, 50), method, box).tobytes()
            == grey.resize((40, 50), method, box=box).tobytes()
        )
    # resize_both: the array np.asarray of the image would give (read-only, as numba's
    # kernels were compiled for), without reading it back; Pillow's own paths too
    for img, size, method in (
        (photo, (764, 1301), Image.Resampling.LANCZOS),
        (grey, (40, 50), Image.Resampling.LANCZOS),
        (photo, (30, 40), Image.Resampling.BICUBIC),
    ):
        pixels, image = resample.resize_both(img, size, method, box)
        want = img.resize(size, method, box=box)
        assert image.tobytes() == want.tobytes()
        assert np.array_equal(pixels, np.asarray(want)) and not pixels.flags.writeable


def test_edge_band_compiled_seeds_equal_the_numpy_twin(monkeypatch):
    """refine.edge_band's one-pass seeds (kernels.masks.edge_seeds: soft pixels and the hard mask's
    cross-dilation less its erosion, border value 0) give the numpy path's band: random maps
    with pixels exactly at and next to the float32 thresholds, one-pixel rows and columns, and a
    blurred mask as the model gives."""
    assert compiled.loops() is not None  # the compiled path is the one under test
    rng = np.random.default_rng(5)
    f32 = np.float32
    edges = [f32(0.02), f32(0.98), f32(0.5)]
    edges += [np.nextafter(v, f32(1)) for v in edges] + [np.nextafter(v, f32(0)) for v in edges]
    maps = []
    for h, w in rng.integers(1, 40, (60, 2)):
        p = (rng.random((h, w)) < rng.random()).astype(np.float32)
        p[rng.random((h, w)) < 0.15] = rng.choice(np.array(edges, np.float32))
        maps.append(p)
    blurred = Image.fromarray((rng.random((120, 160)) > 0.5).astype(np.uint8) * 255)
    maps.append(np.asarray(blurred.filter(ImageFilter.GaussianBlur(3)), np.float32) / 255.0)
    bands = [[refine.edge_band(p, r) for r in (1, 4)] for p in maps]
    monkeypatch.setattr(compiled, "loops", lambda: None)
    for p, got in zip(maps, bands, strict=True):
        for r, band in zip((1, 4), got, strict=True):
            assert np.array_equal(band, refine.edge_band(p, r)), (p.shape, r)
    assert any(b.any() and not b.all() for b, _ in bands)


def test_compiled_mask_steps_equal_numpys_rint_bit_for_bit(monkeypatch):
    """white._quantise's one pass (kernels.masks.quantise) gives numpy's levels and steps: every
    half step (ties to even), its float32 neighbours, 0 and 1, and random alphas."""
    from vitrina_sync.modes import white

    assert compiled.loops() is not None  # the compiled path is the one under test
    f32 = np.float32
    halves = (np.arange(256, dtype=f32) + f32(0.5)) / f32(255.0)
    near = [np.nextafter(halves, f32(0)), halves, np.nextafter(halves, f32(1))]
    edges = np.concatenate(near + [np.array([0.0, 1.0, 1e-9, 1 - 1e-7], f32)])
    rng = np.random.default_rng(3)
    maps = [edges.reshape(1, -1), rng.random((37, 53)).astype(f32)]
    maps.append(np.clip(rng.normal(0.5, 0.6, (64, 80)), 0, 1).astype(f32)[::2, 1::3])  # a view
    got = [white._quantise(a) for a in maps]
    monkeypatch.setattr(compiled, "loops", lambda: None)
    for a, (levels, steps) in zip(maps, got, strict=True):
        want_levels, want_steps = white._quantise(a)
        assert levels.dtype == np.uint8 and steps.dtype == np.float32
        assert np.array_equal(levels, want_levels)
        assert np.array_equal(steps.view(np.uint32), want_steps.view(np.uint32))
    assert {0, 255} <= set(np.unique(got[0][0]))


def test_band_and_hard_mask_from_one_resize_are_the_two_resizes_bit_for_bit():
    sc = scene("ring", "green", (900, 1200))
    truth = Image.fromarray((sc.alpha * 255).astype(np.uint8)).resize((150, 200))
    p = np.asarray(truth.filter(ImageFilter.GaussianBlur(2.0)), np.float32) / 255.0
    band = refine.edge_band(p, 4)
    boxes = [(0.0, 0.0, 150.0, 200.0), (10.3, 7.9, 141.7, 190.2), (20.0, 30.0, 90.0, 120.0)]
    for size in [(300, 400), (301, 433), (60, 80)]:  # up, and down (the plain path)
        for box in boxes:
            got = refine._band_and_hard(band, p, size, box, 4)
            want = (refine._nearest(band, size, box), refine.hard_alpha(p, size, box, 4))
            for a, b in zip(got, want, strict=True):
                assert a.dtype == b.dtype and np.array_equal(a, b)


def test_resize_grey_gives_pillows_bytes():
    """resample.resize_grey (the model's mask back to the work size) equals Pillow's resize of
    an "L" image byte for byte: up- and downscales, soft masks and noise, one axis unchanged,
    both pass orders; another mode, filter or an unchanged size goes to Pillow itself."""
    from vitrina_sync.imaging import resample

    assert compiled.loops() is not None
    rng = np.random.default_rng(12)
    orders = set()
    for trial in range(300):
        w, h = (int(v) for v in rng.integers(1, 90, 2))
        if trial % 2:
            pixels = rng.integers(0, 256, (h, w), dtype=np.uint8)
        else:  # a mask: a hard disc with a soft rim
            yy, xx = np.mgrid[:h, :w]
            r = np.hypot(yy - h / 2, xx - w / 2) / max(1.0, min(h, w) / 3)
            pixels = (np.clip(1.5 - r, 0, 1) * 255).astype(np.uint8)
        img = Image.fromarray(pixels, "L")
        size = (int(rng.integers(1, 150)), int(rng.integers(1, 150)))
        if trial % 7 == 0:
            size = (w, size[1])
        method = Image.Resampling.LANCZOS if trial % 3 else Image.Resampling.BOX
        orders.add(h - size[1] > max(0, (w - size[0]) * 2))
        got = resample.resize_grey(img, size, method)
        assert got.mode == "L" and got.tobytes() == img.resize(size, method).tobytes()
    assert orders == {True, False}
    mask = Image.fromarray(rng.integers(0, 256, (320, 320), dtype=np.uint8), "L")
    want = mask.resize((480, 640), Image.Resampling.LANCZOS)  # u2netp's mask to the work size
    got = resample.resize_grey(mask, (480, 640), Image.Resampling.LANCZOS)
    assert got.tobytes() == want.tobytes()
    rgb = Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8), "RGB")
    for img, size, method in (
        (rgb, (11, 13), Image.Resampling.LANCZOS),
        (mask, (50, 60), Image.Resampling.BILINEAR),
        (mask, mask.size, Image.Resampling.LANCZOS),
    ):
        assert resample.resize_grey(img, size, method).tobytes() == (
            img.resize(size, method).tobytes()
        )
