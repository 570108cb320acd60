"""White-mode throughput against `rembg p` and against the decode + inference floor.

    .venv/bin/python bench/bench_white.py            # 48 photos of 1500x2000, all three timings
    .venv/bin/python bench/bench_white.py --profile  # per-stage times for one photo

Photos are synthetic products (tests/synthetic.py) over real scikit-image photos and studio
backgrounds, saved as JPEG q92 into bench/out/white_in/ (git-ignored). Our pipeline runs as a
worker would: one session, reused; decode, cutout, QA, JPEG q95 4:4:4 main image and PNG mask
(as store.py writes it) for every photo, with `--threads` photos in flight so decoding/encoding
overlaps inference. rembg runs as its CLI on the same folder in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "bench" / "out"
SETTINGS = {"default_model": "u2netp"}
PRESET = {"canvas": [2000, 2000], "fill": 0.85, "model": "u2netp"}


def _write(folder: Path, scenes: list[tuple[str, object]], noise: float, seed: int, size):
    """Write the photos `scenes` names ((file name, make the scene's image) pairs) that are not
    there yet. Photo i's noise is the i-th draw of one seeded sequence whichever photos exist:
    the sequence is walked for every photo when any is missing (a folder first made with a
    smaller n gets the same later photos as one made in one go)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / name for name, _ in scenes]
    if all(path.exists() for path in files):
        return files
    rng = np.random.default_rng(seed)
    for path, (_, make) in zip(files, scenes, strict=True):
        grain = rng.normal(0, noise, (size[1], size[0], 3)) if noise else None
        if path.exists():
            continue
        img = make()
        if grain is not None:
            arr = np.asarray(img, np.float32) + grain
            img = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))
        img.save(path, quality=92)
    return files


def generate(folder: Path, n: int, noise: float, size=(1500, 2000)) -> list[Path]:
    """n photos; `noise` adds Gaussian sensor noise (std in levels) as a camera would."""
    import synthetic

    scenes = []
    for i in range(n):
        kind = synthetic.PRODUCTS[i % len(synthetic.PRODUCTS)]
        bg = synthetic.BACKGROUNDS[(i // len(synthetic.PRODUCTS)) % len(synthetic.BACKGROUNDS)]
        scenes.append((f"{i:02d}-{kind}-{bg}.jpg", partial(_image, kind, bg, size, 0)))
    return _write(folder, scenes, noise, 0, size)


def generate_held_out(folder: Path, n: int, noise: float, size=(1500, 2000)) -> list[Path]:
    """n photos of the held-out scenes (tests/synthetic.py HELD_OUT: shapes, seeds and
    backgrounds not used while the openings step was tuned), each case again with other seeds."""
    import synthetic

    scenes = []
    for i in range(n):
        kind, bg, seed, _ = synthetic.HELD_OUT[i % len(synthetic.HELD_OUT)]
        seed += 100 * (i // len(synthetic.HELD_OUT))
        scenes.append((f"{i:02d}-{kind}-{bg}-s{seed}.jpg", partial(_image, kind, bg, size, seed)))
    return _write(folder, scenes, noise, 1, size)


def _image(kind: str, bg: str, size, seed: int) -> Image.Image:
    import synthetic

    return synthetic.scene(kind, bg, size, seed).image


def one(mode, path: Path, out_dir: Path):
    from vitrina_sync.imaging.load import load_image
    from vitrina_sync.modes.base import ModeContext

    loaded = load_image(path)
    out = mode.process(loaded, ModeContext(path.stem, "0" * 12, PRESET, SETTINGS))
    out.image.save(out_dir / f"{path.stem}.jpg", quality=95, subsampling=0)
    save_mask(out.mask, out_dir / f"{path.stem}.mask.png")
    return out.qa


def save_mask(mask: Image.Image, path: Path) -> None:
    """As the job path stores it: store.mask_png where the code has it (run against an older
    commit, Pillow's PNG encoder at compress_level 1 as store.py used then)."""
    from vitrina_sync import store

    if hasattr(store, "mask_png"):
        path.write_bytes(store.mask_png(mask))
    else:
        mask.save(path, "PNG", compress_level=1)


def cpu_self() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def cpu_children() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def ours(files: list[Path], threads: int) -> tuple[float, float, list[dict]]:
    """(wall s with the one-time warm-up, wall s after it, QA reports)."""
    from vitrina_sync import worker
    from vitrina_sync.imaging import cutout
    from vitrina_sync.modes.white import WhiteMode

    out_dir = OUT / "white_ours"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    if hasattr(worker, "keep_freed_memory"):  # as a worker process does (older commits: not)
        worker.keep_freed_memory()
    start = time.perf_counter()
    mode = WhiteMode()
    mode.warm(SETTINGS)  # the one session of this "worker" and its compiled kernels
    if hasattr(worker, "freeze_startup_objects"):  # as a worker process does after warming
        worker.freeze_startup_objects()
    warm = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        qas = list(pool.map(lambda p: one(mode, p, out_dir), files))
    end = time.perf_counter()
    assert cutout.LOAD_COUNT["n"] == 1, cutout.LOAD_COUNT
    return end - start, end - warm, qas


def floor(files: list[Path]) -> tuple[float, float, float]:
    """Decode every photo, run u2netp on it: the work no pipeline can skip. (total, decode, infer)"""
    from rembg import new_session

    sess = new_session("u2netp")  # its own session, onnxruntime's default threads: the fastest
    decode = infer = 0.0
    for path in files:
        t0 = time.perf_counter()
        img = Image.open(path)
        img.load()
        t1 = time.perf_counter()
        sess.predict(img.reduce(4))  # model input is 320 px; the reduction is part of inference
        infer += time.perf_counter() - t1
        decode += t1 - t0
    return decode + infer, decode, infer


def floor_rembg(files: list[Path]) -> float:
    """(c) The floor as rembg's API gives it: decode, then `session.predict` on the full-size
    photo (rembg resizes it to the model's 320 px and the mask back to full size), sequential,
    onnxruntime's default threads. The issue's own figures (0.28 s for this against 0.81 s for
    `rembg p`) have the same proportion to rembg as this floor has here. Wall seconds."""
    from rembg import new_session

    sess = new_session("u2netp")
    start = time.perf_counter()
    for path in files:
        img = Image.open(path)
        img.load()
        sess.predict(img)
    return time.perf_counter() - start


def floor_parallel(files: list[Path], threads: int = 2) -> float:
    """The same floor with `threads` photos in flight on one session of 1 onnxruntime thread
    each run: the stricter floor on a shared box (2-thread inference suffers when another
    process holds a core). Wall seconds."""
    import onnxruntime as ort
    from rembg import new_session

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    sess = new_session("u2netp", sess_opts=opts)

    def one_floor(path: Path) -> None:
        img = Image.open(path)
        img.load()
        sess.predict(img.reduce(4))

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one_floor, files))
    return time.perf_counter() - start


def first_photos(folder: Path, files: list[Path], n: int) -> Path:
    """A folder holding hard links to the first n photos and nothing else (rembg p takes a
    folder)."""
    sub = folder.with_name(f"{folder.name}_first{n}")
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir(parents=True)
    for path in files[:n]:
        os.link(path, sub / path.name)
    return sub


def rembg_cli(folder: Path) -> float | None:
    exe = Path(sys.executable).with_name("rembg")
    out_dir = OUT / "white_rembg"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    cmd = [
        str(exe),
        "p",
        "-m",
        "u2netp",
        "-bgc",
        "255",
        "255",
        "255",
        "255",
        str(folder),
        str(out_dir),
    ]
    start, cpu = time.perf_counter(), cpu_children()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print("rembg p failed:", done.stderr[-2000:], file=sys.stderr)
        return None
    return elapsed, cpu_children() - cpu


def job_path(files: list[Path], workers: int, onnx_threads: int) -> tuple[float, float, dict]:
    """The worker's own path: `vitrina-sync run` on a catalog of these photos (white mode, default
    preset), `workers` worker processes, each job through vitrina_sync.jobs.process_row (load,
    mode, store: JPEG main image, PNG mask, qa.json). Fresh output folder (outputs are reused
    by fingerprint otherwise). Returns (wall s, children's CPU s, status counts)."""
    import json

    import openpyxl

    folder = OUT / "white_job"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(["SKU", "Source", "Mode", "Preset", "Marketplaces", "Category", "Notes"])
    for path in files:
        ws.append([f"SKU-{path.stem}", path.name, "white", None, None, None, None])
    wb.save(folder / "catalog.xlsx")
    (folder / "vitrina.toml").write_text(f"onnx_threads = {onnx_threads}\nworkers = {workers}\n")
    exe = Path(sys.executable).with_name("vitrina-sync")
    cmd = [
        str(exe),
        "run",
        str(folder / "catalog.xlsx"),
        "--workers",
        str(workers),
        "--no-progress",
    ]
    cmd += ["--assets", str(files[0].parent)]
    start, cpu = time.perf_counter(), cpu_children()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=folder)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or "error " in done.stdout:
        print("vitrina-sync run:", done.stdout[-1000:], done.stderr[-2000:], file=sys.stderr)
    statuses: dict = {}
    for result in (folder / "vitrina-out").rglob("result.json"):
        status = json.loads(result.read_text()).get("status", "?")
        statuses[status] = statuses.get(status, 0) + 1
    return elapsed, cpu_children() - cpu, statuses


def profile(path: Path) -> None:
    """Per-stage times for one photo (single thread)."""
    import cProfile
    import pstats

    from vitrina_sync.modes.white import WhiteMode

    mode = WhiteMode()
    mode.warm(SETTINGS)
    out_dir = OUT / "white_profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    one(mode, path, out_dir)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        one(mode, path, out_dir)
    prof.disable()
    pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--onnx-threads", type=int, default=1, help="0 = onnxruntime's default")
    parser.add_argument("--skip-rembg", action="store_true")
    parser.add_argument("--noise", type=float, default=0.0, help="sensor noise std (levels)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--job-path",
        type=int,
        default=0,
        metavar="WORKERS",
        help="also time `vitrina-sync run` with this many worker processes (the job path)",
    )
    parser.add_argument(
        "--set",
        default="project",
        choices=["project", "held-out"],
        help="photos: the project's products x backgrounds, or the held-out scenes (issue 16)",
    )
    parser.add_argument(
        "--job-only",
        action="store_true",
        help="time only the job path (before/after pairs: run once per commit, interleaved)",
    )
    args = parser.parse_args()
    folder = OUT / (f"white_in_noise{args.noise:g}" if args.noise else "white_in")
    if args.set == "held-out":
        folder = folder.with_name(folder.name + "_heldout")
        files = generate_held_out(folder, args.n, args.noise)
    else:
        files = generate(folder, args.n, args.noise)
    if args.profile:
        profile(files[0])
        return
    if args.job_only:
        SETTINGS["onnx_threads"] = args.onnx_threads
        job = job_path(files, args.job_path or 2, args.onnx_threads)
        print(
            f"job path {folder.name}: {job[0]:.2f} s, {job[0] / len(files):.3f} s/photo, "
            f"CPU {job[1] / len(files):.3f} s/photo, load {os.getloadavg()[0]:.2f}, {job[2]}"
        )
        return
    SETTINGS["onnx_threads"] = args.onnx_threads
    print(
        f"{len(files)} photos 1500x2000 in {folder.name}, load average {os.getloadavg()[0]:.2f}, cores {os.cpu_count()}"
    )
    c0 = cpu_self()
    t_floor, t_dec, t_inf = floor(files)
    ca = cpu_self()
    t_floor2 = floor_parallel(files)
    cb = cpu_self()
    t_floor3 = floor_rembg(files)
    c1 = cpu_self()
    t_ours, t_steady, qas = ours(files, args.threads)
    c2 = cpu_self()
    # rembg p takes a whole folder: give it exactly these photos (the input folder may hold more,
    # from an earlier --n; counting those would inflate rembg's time per photo)
    rembg = None if args.skip_rembg else rembg_cli(first_photos(folder, files, len(files)))
    n = len(files)
    # rembg on the first 8 photos: (48-photo time - 8-photo time) / 40 is its cost per photo
    # without its start-up (import, session), to set against ours after the warm-up
    rembg8 = rembg_cli(first_photos(folder, files, 8)) if rembg and n > 8 else None
    job = job_path(files, args.job_path, args.onnx_threads) if args.job_path else None
    # the same run on the first 8 photos: (48-photo time - 8-photo time) / 40 is the job path's
    # steady cost per photo, without worker start-up (imports, session) and sync/write-back
    short = job_path(files[:8], args.job_path, args.onnx_threads) if job and n > 8 else None
    rows = [
        ("decode + u2netp inference floor (sequential)", t_floor, ca - c0),
        ("decode + u2netp inference floor (2 in flight, onnx threads 1)", t_floor2, cb - ca),
        ("decode + rembg session.predict on the full photo (sequential)", t_floor3, c1 - cb),
        (
            f"vitrina white ({args.threads} threads, onnx threads {args.onnx_threads})",
            t_ours,
            c2 - c1,
        ),
    ]
    if rembg:
        rows.append(("rembg p -m u2netp -bgc 255 255 255 255", rembg[0], rembg[1]))
    if job:
        rows.append(
            (
                (
                    f"vitrina-sync run, {args.job_path} worker processes, onnx threads "
                    f"{args.onnx_threads} (job path, start-up included)"
                ),
                job[0],
                job[1],
            )
        )
    print(
        f"floor: decode {t_dec / n * 1000:.0f} ms + inference {t_inf / n * 1000:.0f} ms per photo"
    )
    print("| pipeline | wall s | s/photo | photos/s | CPU s/photo |")
    print("|---|---|---|---|---|")
    for name, t, cpu in rows:
        print(f"| {name} | {t:.1f} | {t / n:.3f} | {n / t:.2f} | {cpu / n:.3f} |")
    print(
        f"ours / floor wall time: {t_ours / t_floor:.2f}x (sequential floor), "
        f"{t_ours / t_floor2:.2f}x (2-in-flight floor), {t_ours / t_floor3:.2f}x (rembg-API floor)"
    )
    if rembg:
        print(
            f"ours vs rembg speed (wall): {rembg[0] / t_ours:.2f}x; CPU: {rembg[1] / (c2 - c1):.2f}x"
        )
    print(
        f"steady state, one-time start-up left out on both sides: ours {t_steady / n:.3f} s/photo "
        f"(warm-up {t_ours - t_steady:.2f} s) = {t_steady / t_floor3:.2f}x the rembg-API floor "
        f"(its session made before timing), {t_steady / t_floor:.2f}x / {t_steady / t_floor2:.2f}x "
        "floors (a) / (b)"
        + (
            f"; rembg {(rembg[0] - rembg8[0]) / (n - 8):.3f} s/photo ({n} vs 8 photos), ours "
            f"{(rembg[0] - rembg8[0]) / (n - 8) / (t_steady / n):.2f}x faster"
            if rembg8
            else ""
        )
    )
    if job:
        print(
            f"job path / floor wall time: {job[0] / t_floor:.2f}x, {job[0] / t_floor2:.2f}x "
            f"(2-in-flight floor), {job[0] / t_floor3:.2f}x (rembg-API floor); statuses {job[2]}"
        )
    if short:
        marginal = (job[0] - short[0]) / (n - 8)
        print(
            f"job path, 8 photos: {short[0]:.1f} s; marginal {marginal:.3f} s/photo "
            f"({marginal / (t_floor / n):.2f}x / {marginal / (t_floor2 / n):.2f}x the two floors; "
            f"fixed cost ~{short[0] - 8 * marginal:.1f} s)"
        )
        if rembg:
            print(f"job path vs rembg speed (wall): {rembg[0] / job[0]:.2f}x")
    flagged = sum(1 for q in qas if q["flags"])
    print(f"QA: {flagged}/{n} flagged; load average now {os.getloadavg()[0]:.2f}")
    print(
        "mean figures:",
        {k: round(float(np.mean([q[k] for q in qas])), 4) for k in ("halo", "fill", "purity")},
    )


if __name__ == "__main__":
    main()
