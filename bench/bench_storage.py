"""Worker throughput with outputs in object storage vs the local folder (issue 15).

    .venv/bin/python bench/bench_storage.py                  # 12 photos x 3 rounds
    .venv/bin/python bench/bench_storage.py --photos 20 --rounds 3

One warmed worker process (this one) runs the job body (`jobs.make_output`: load, white-mode
cutout at the shipped preset, QA, encode, store) on the same 1500x2000 photos in three arms,
interleaved photo by photo with the order rotated every round, so drift of the machine hits every
arm alike:
  local     source on disk, outputs in a local folder (the baseline, today's layout)
  s3-out    source on disk, outputs in a bucket
  s3-both   source in the bucket (metadata, header range, body), outputs in the bucket
The bucket is a moto server (`moto_server`) in its own process on loopback: the real S3 protocol
through s3fs, with no network latency (a real service adds its round trips; see BENCHMARKS.md).
Every job has its own fingerprint, so nothing is reused. Prints seconds per job per arm and the
ratio of each arm to the baseline; the goal is within 10%.
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
        run_bench(names, endpoint, args.rounds)
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
    for rnd in range(rounds):
        for n, name in enumerate(names):
            order = ARMS[(n + rnd) % 3 :] + ARMS[: (n + rnd) % 3]
            for arm in order:
                task = task_for(arm, n, rnd, sources[arm](name), outs[arm], preset, settings)
                started = time.perf_counter()
                result = jobs.make_output(task)
                times[arm].append(time.perf_counter() - started)
                assert result["status"] == "needs_review" and not result.get("reused"), result
    base = statistics.median(times["local"])
    print(f"{len(names)} photos 1500x2000, {rounds} rounds, white mode (shipped preset)")
    print(f"{'arm':<10}{'jobs':>6}{'median s':>10}{'mean s':>9}{'jobs/s':>8}{'vs local':>10}")
    for arm in ARMS:
        med, mean = statistics.median(times[arm]), statistics.fmean(times[arm])
        print(
            f"{arm:<10}{len(times[arm]):>6}{med:>10.3f}{mean:>9.3f}{1 / mean:>8.2f}"
            f"{med / base:>10.3f}"
        )


if __name__ == "__main__":
    main()
