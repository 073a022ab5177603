"""W2: a sweep of 1,000 runs x 8 typed params x 3 metrics x 50 steps, then reading it back.

Prints the write time of the whole sweep (one process, runs one after another, as a sweep
driver would), then - in a fresh process, as a dashboard or notebook would - the time of
the leaderboard (all runs with params and val_acc, sorted) and of the val_loss history of
20 runs. Medians of --repeats reads. Peers (MLflow, W&B) are not run yet: see issue 6.

    .venv/bin/python benchmarks/sweep.py [--runs 1000] [--repeats 5] [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import tracklib

STEPS = 50


def write_sweep(root: str, runs: int) -> float:
    started = time.perf_counter()
    for i in range(runs):
        params = {
            "lr": 10 ** -(1 + i % 4),
            "batch_size": 2 ** (4 + i % 5),
            "optimizer": ["adam", "sgd"][i % 2],
            "dropout": (i % 10) / 20,
            "layers": 1 + i % 4,
            "warmup": i % 3 == 0,
            "seed": i,
            "schedule": ["cosine", "linear", "constant"][i % 3],
        }
        with tracklib.init("sweep", root=root, params=params, capture=False) as run:
            for step in range(STEPS):
                run.log(
                    {
                        "train_loss": 1 / (step + 1 + i % 7),
                        "val_loss": 1.1 / (step + 1 + i % 5),
                        "val_acc": 1 - 1 / (step + 2 + i % 11),
                    }
                )
    return time.perf_counter() - started


READ = """
import json, statistics, sys, time
started = time.perf_counter()
import tracklib
root, repeats = sys.argv[1], int(sys.argv[2])
store = tracklib.open_store(root)
first = time.perf_counter()
board = store.leaderboard("sweep", "val_acc", agg="max")
cold = time.perf_counter() - first
warm = []
for _ in range(repeats):
    t = time.perf_counter(); store.leaderboard("sweep", "val_acc", agg="max"); warm.append(time.perf_counter() - t)
ids = board["run_id"].head(20).tolist()
hist = []
for _ in range(repeats):
    t = time.perf_counter(); h = store.history("sweep", run_ids=ids, keys=["val_loss"]); hist.append(time.perf_counter() - t)
print(json.dumps({"cold": cold, "warm": statistics.median(warm), "history": statistics.median(hist),
                  "rows": len(board), "points": len(h), "with_import": time.perf_counter() - started}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--root", help="store root (default: a fresh temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("TRACKLIB_SPOOL", os.path.join(tmp, "spool"))
        root = args.root or os.path.join(tmp, "store")
        written = write_sweep(root, args.runs)
        out = subprocess.run(
            [sys.executable, "-c", READ, root, str(args.repeats)], capture_output=True, text=True, check=True
        ).stdout
        read = json.loads(out)
    print(f"W2 sweep: {args.runs} runs x 8 params x 3 metrics x {STEPS} steps (local root)")
    print(
        f"  write the sweep:                 {written:.2f} s  ({written / args.runs * 1000:.1f} ms per run)"
    )
    print(
        f"  leaderboard, fresh process:      {read['cold']:.3f} s  ({read['rows']} runs; "
        f"{read['with_import']:.2f} s including import and all reads)"
    )
    print(f"  leaderboard, warm, median:       {read['warm']:.3f} s")
    print(f"  val_loss history of 20 runs:     {read['history']:.3f} s  ({read['points']} points)")


if __name__ == "__main__":
    main()
