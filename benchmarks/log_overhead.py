"""W1: the cost of run.log() inside a training loop.

One run, 10 metrics logged together per step, 5,000 steps, to a local root. Prints the
median over --repeats runs of: microseconds per point inside the loop, and total seconds
from init() to the end of finish(). Targets: <= 0.5 us/point (0.3 for the scale issue),
<= 0.2 s total.

    .venv/bin/python benchmarks/log_overhead.py [--repeats 5] [--steps 5000] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import tracklib

METRICS = [f"metric_{i}" for i in range(10)]


def one_run(root: str, steps: int) -> tuple[float, float]:
    values = [{key: 0.1 * i + step for i, key in enumerate(METRICS)} for step in range(steps)]
    started = time.perf_counter()
    run = tracklib.init("bench", root=root, params={"lr": 0.001})
    loop_start = time.perf_counter()
    for metrics in values:
        run.log(metrics)
    loop = time.perf_counter() - loop_start
    run.finish()
    total = time.perf_counter() - started
    return loop / (steps * len(METRICS)) * 1e6, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--root", help="store root (default: a fresh temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("TRACKLIB_SPOOL", os.path.join(tmp, "spool"))
        root = args.root or os.path.join(tmp, "store")
        one_run(root, 200)  # warm imports and caches
        results = [one_run(root, args.steps) for _ in range(args.repeats)]
    per_point = statistics.median(r[0] for r in results)
    total = statistics.median(r[1] for r in results)
    print(f"W1 log overhead: 1 run x {len(METRICS)} metrics x {args.steps} steps, median of {args.repeats}")
    print(f"  in the loop:          {per_point:.3f} us/point   (target <= 0.5)")
    print(f"  total incl. finish:   {total:.3f} s          (target <= 0.2)")
    print(f"  all runs (us/point):  {', '.join(f'{r[0]:.3f}' for r in results)}")
    print(f"  all runs (total s):   {', '.join(f'{r[1]:.3f}' for r in results)}")


if __name__ == "__main__":
    main()
