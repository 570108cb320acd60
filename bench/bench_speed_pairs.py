"""Before/after seconds per photo on the job path, interleaved in one run (issue 16's speed goal:
within +15% of the base commit on the same photos, on two photo sets, and 2x `rembg p`).

    git worktree add /tmp/base 78fe031
    .venv/bin/python bench/bench_speed_pairs.py --base /tmp/base --rounds 2 --noise 3

For each set (the project's photos, and the held-out scenes not used while tuning) and each
round: `vitrina-sync run` on 48 photos of 1500x2000 with 2 workers (bench_white.py --job-only),
first with PYTHONPATH pointing at the base tree, then at this tree; then `rembg p` once on the
same folder. Other work on the box moves both sides of a pair alike, so the ratio of each pair
is what to read.

78fe031's worker stalls on redis-py 8.2 (its pubsub stop joins a thread blocked in a 60 s read;
fixed in ca4c7fc), which halves its speed on today's packages. --extra-path puts a folder first
on both sides' path, e.g. redis-py 8.1.0, which both trees run on:

    .venv/bin/pip install --target /tmp/redis81 --no-deps redis==8.1.0
    .venv/bin/python bench/bench_speed_pairs.py --base /tmp/base --extra-path /tmp/redis81
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def pythonpath(tree: Path, extra: Path | None = None) -> str:
    parts = [tree] + [tree / "plugins" / p for p in ("kaspi", "wildberries", "ozon")]
    return os.pathsep.join(str(p) for p in ([extra] if extra else []) + parts)


def job(tree: Path, set_name: str, n: int, noise: float, extra: Path | None = None) -> float:
    env = dict(os.environ, PYTHONPATH=pythonpath(tree, extra))
    cmd = [sys.executable, str(ROOT / "bench" / "bench_white.py"), "--job-only", "--job-path", "2"]
    cmd += ["--set", set_name, "--n", str(n), "--noise", str(noise)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    print("   ", tree.name, done.stdout.strip(), flush=True)
    return float(re.search(r"([0-9.]+) s/photo", done.stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, type=Path, help="a worktree of the base commit")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--noise", type=float, default=3.0)
    parser.add_argument("--sets", default="project,held-out")
    parser.add_argument(
        "--extra-path", type=Path, help="a folder put first on both trees' path (see above)"
    )
    args = parser.parse_args()
    import bench_white

    for set_name in args.sets.split(","):
        print(f"set {set_name}:", flush=True)
        ratios = []
        for _ in range(args.rounds):
            before = job(args.base, set_name, args.n, args.noise, args.extra_path)
            after = job(ROOT, set_name, args.n, args.noise, args.extra_path)
            ratios.append(after / before)
            print(f"  before {before:.3f}  after {after:.3f}  after/before {after / before:.3f}")
        folder = bench_white.OUT / (f"white_in_noise{args.noise:g}" if args.noise else "white_in")
        if set_name == "held-out":
            folder = folder.with_name(folder.name + "_heldout")
        files = sorted(folder.glob("*.jpg"))[: args.n]
        rembg = bench_white.rembg_cli(bench_white.first_photos(folder, files, len(files)))
        if rembg:
            print(f"  rembg p: {rembg[0] / len(files):.3f} s/photo, load {os.getloadavg()[0]:.2f}")
        print(f"  after/before per round: {', '.join(f'{r:.3f}' for r in ratios)}", flush=True)


if __name__ == "__main__":
    main()
