"""Worker throughput with outputs in object storage vs the local folder (issue 15).

    .venv/bin/python bench/bench_storage.py                  # 12 photos x 3 rounds
    .venv/bin/python bench/bench_storage.py --photos 20 --rounds 3
    .venv/bin/python bench/bench_storage.py --rounds 0 --plan-rows 1000   # planning only

One warmed worker process (this one) runs the job body (`jobs.make_output`: load, white-mode
cutout at the shipped preset, QA, encode, store) on the same 1500x2000 photos in three arms,
interleaved photo by photo with the order rotated every round, so drift of the machine hits every
arm alike:
  local     source on disk, outputs in a local folder (the baseline, today's layout)
  s3-out    source on disk, outputs in a bucket
  s3-both   source in the bucket (metadata, header range, body), outputs in the bucket
The bucket is a moto server (`moto_server`) in its own process on loopback: the real S3 protocol
through s3fs, with no network latency (a real service adds its round trips; see BENCHMARKS.md).
Every job has its own fingerprint, so nothing is reused. Prints wall seconds per job per arm and
the ratio to the baseline (the goal: within 10%), and this process's CPU seconds per job: with the
S3 server on the same cores, wall time includes the server's own work, which a real service does
elsewhere; the worker's CPU is what bounds the throughput of several workers on one machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "storage"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

ARMS = ("local", "s3-out", "s3-both")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def task_for(arm: str, n: int, rnd: int, source: str, out_root: str, preset: dict, settings):
    fp = hashlib.sha256(f"{arm}|{n}|{rnd}|{time.time_ns()}".encode()).hexdigest()
    return {
        "sku": f"P{n:03d}",
        "fingerprint": fp,
        "source": source,
        "mode": "white",
        "preset_name": "default",
        "preset": preset,
        "category": "",
        "out_root": out_root,
        "catalog_key": "",
        "reopened": "",
        "settings": {
            k: settings.get(k)
            for k in ("max_pixels", "max_source_bytes", "s3_endpoint_url", "onnx_threads")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plan-rows", type=int, default=0, help="also time planning N rows")
    args = parser.parse_args()

    from bench_sync import make_photos

    shutil.rmtree(OUT, ignore_errors=True)
    names = make_photos(OUT / "photos", args.photos)
    moto, endpoint = start_moto()
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        VITRINA_S3_ENDPOINT_URL=endpoint,
    )
    try:
        if args.rounds:
            run_bench(names, endpoint, args.rounds)
        if args.plan_rows:
            plan_bench(args.plan_rows)
    finally:
        moto.terminate()
        moto.wait(10)


def run_bench(names: list[str], endpoint: str, rounds: int) -> None:
    import boto3

    from vitrina_sync import jobs, presets
    from vitrina_sync.plugins import modes
    from vitrina_sync.settings import load_settings

    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="bench")
    for name in names:
        client.put_object(Bucket="bench", Key=name, Body=(OUT / name).read_bytes())
    settings = load_settings(overrides={"s3_endpoint_url": endpoint, "onnx_threads": 1})
    preset = presets.resolve("white", "", settings)
    modes()["white"].warm(settings)
    local_out = str(OUT / "out")
    sources = {
        "local": lambda n: str(OUT / n),
        "s3-out": lambda n: str(OUT / n),
        "s3-both": lambda n: f"s3://bench/{n}",
    }
    outs = {"local": local_out, "s3-out": "s3://bench/out", "s3-both": "s3://bench/out2"}
    # one untimed job per arm: the first s3fs session, the first model call
    for arm in ARMS:
        jobs.make_output(task_for(arm, 0, -1, sources[arm](names[0]), outs[arm], preset, settings))
    times: dict[str, list[float]] = {a: [] for a in ARMS}
    cpu: dict[str, list[float]] = {a: [] for a in ARMS}
    for rnd in range(rounds):
        for n, name in enumerate(names):
            order = ARMS[(n + rnd) % 3 :] + ARMS[: (n + rnd) % 3]
            for arm in order:
                task = task_for(arm, n, rnd, sources[arm](name), outs[arm], preset, settings)
                started, cpu_started = time.perf_counter(), time.process_time()
                result = jobs.make_output(task)
                times[arm].append(time.perf_counter() - started)
                cpu[arm].append(time.process_time() - cpu_started)
                assert result["status"] == "needs_review" and not result.get("reused"), result
    base, base_cpu = statistics.median(times["local"]), statistics.median(cpu["local"])
    print(f"{len(names)} photos 1500x2000, {rounds} rounds, white mode (shipped preset)")
    print(
        f"{'arm':<10}{'jobs':>6}{'median s':>10}{'mean s':>9}{'jobs/s':>8}{'vs local':>10}"
        f"{'cpu s':>8}{'cpu vs local':>14}"
    )
    for arm in ARMS:
        med, mean = statistics.median(times[arm]), statistics.fmean(times[arm])
        med_cpu = statistics.median(cpu[arm])
        print(
            f"{arm:<10}{len(times[arm]):>6}{med:>10.3f}{mean:>9.3f}{1 / mean:>8.2f}"
            f"{med / base:>10.3f}{med_cpu:>8.3f}{med_cpu / base_cpu:>14.3f}"
        )


def plan_bench(rows: int) -> None:
    """Planning `rows` unchanged rows whose sources are objects: one metadata request per row
    (HEAD by key) against one listing per sync (list_assets, 1,000 keys per request)."""
    import boto3

    from vitrina_sync import sources
    from vitrina_sync.settings import load_settings

    endpoint = os.environ["VITRINA_S3_ENDPOINT_URL"]
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="plan")
    keys = [f"p{i:05d}.jpg" for i in range(rows)]
    for key in keys:
        client.put_object(Bucket="plan", Key=f"photos/{key}", Body=b"\xff\xd8" + key.encode())
    settings = load_settings(overrides={"s3_endpoint_url": endpoint})
    root = "s3://plan/photos"
    sources.resolve(keys[0], root, settings)  # the session, once
    started = time.perf_counter()
    by_key = [sources.resolve(k, root, settings)[1] for k in keys]
    head_s = time.perf_counter() - started
    started = time.perf_counter()
    sources.list_assets(root, settings)
    listed = [sources.resolve(k, root, settings)[1] for k in keys]
    sources.forget_assets(root)
    list_s = time.perf_counter() - started
    assert listed == by_key  # the same ETags either way
    print(f"\nplanning {rows} unchanged bucket-sourced rows (metadata only, no bytes)")
    print(f"{'how':<22}{'requests':>10}{'seconds':>10}")
    print(f"{'HEAD per row':<22}{rows:>10}{head_s:>10.2f}")
    print(f"{'one listing':<22}{-(-rows // 1000):>10}{list_s:>10.2f}")


if __name__ == "__main__":
    main()
