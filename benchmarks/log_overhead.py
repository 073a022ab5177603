"""W1: the cost of run.log() inside a training loop, next to MLflow and W&B offline.

One run, 10 metrics logged together per step, 5,000 steps, to a local root. Prints the
median over --repeats runs of: microseconds per point inside the loop, and total seconds
from init() to the end of finish(). Targets: <= 0.3 us/point, <= 0.2 s total, and per point
>= 100x faster than W&B offline and >= 1,000x faster than MLflow's default (sqlite) store.

Peers take milliseconds per step, so they log --peer-steps steps and are compared per point.
The total incl. init+finish is compared at --peer-steps for all, tracklib included, since
fixed costs weigh more on a short run. Without mlflow/wandb (the test venv) peers are skipped.

    .venv/bin/python benchmarks/log_overhead.py [--repeats 5] [--steps 5000] [--peer-steps 500]
        [--peer-repeats 3] [--peers mlflow_sqlite,mlflow_file,wandb_offline | none] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import peers

import tracklib

METRICS = [f"metric_{i}" for i in range(10)]


def rows(steps: int) -> list[dict[str, float]]:
    return [{key: 0.1 * i + step for i, key in enumerate(METRICS)} for step in range(steps)]


def one_run(root: str, steps: int) -> tuple[float, float]:
    """(seconds in the logging loop, seconds from init to the end of finish)."""
    values = rows(steps)
    started = time.perf_counter()
    run = tracklib.init("bench", root=root, params={"lr": 0.001})
    loop_start = time.perf_counter()
    for metrics in values:
        run.log(metrics)
    loop = time.perf_counter() - loop_start
    run.finish()
    return loop, time.perf_counter() - started


def summary(results: list[tuple[float, float]], steps: int) -> dict:
    points = steps * len(METRICS)
    return {
        "steps": steps,
        "repeats": len(results),
        "us_per_point": statistics.median(r[0] for r in results) / points * 1e6,
        "total_s": statistics.median(r[1] for r in results),
        "us_per_point_total": statistics.median(r[1] for r in results) / points * 1e6,
        "all_us_per_point": [r[0] / points * 1e6 for r in results],
        "all_total_s": [r[1] for r in results],
    }


def run_peers(names: list[str], steps: int, repeats: int, tmp: str) -> tuple[dict, dict]:
    skipped = peers.skipped(names)
    results = {}
    for name in names:
        if name in skipped:
            continue
        folder = os.path.join(tmp, name)
        try:
            peers.w1(name, folder, rows(20))  # warm imports, the db, W&B's service
            results[name] = summary([peers.w1(name, folder, rows(steps)) for _ in range(repeats)], steps)
        except Exception as exc:  # a broken peer install must not hide tracklib's figures
            skipped[name] = f"failed: {exc!r}"[:300]
    return results, skipped


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--peer-steps", type=int, default=500)
    parser.add_argument("--peer-repeats", type=int, default=3)
    peers.add_arguments(parser)
    args = parser.parse_args()
    names = peers.chosen(args)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("TRACKLIB_SPOOL", os.path.join(tmp, "spool"))
        root = args.root or os.path.join(tmp, "store")
        one_run(root, 200)  # warm imports and caches
        ours = summary([one_run(root, args.steps) for _ in range(args.repeats)], args.steps)
        ours_short = summary([one_run(root, args.peer_steps) for _ in range(args.repeats)], args.peer_steps)
        theirs, skipped = run_peers(names, args.peer_steps, args.peer_repeats, tmp)

    print(f"W1 log overhead: 1 run x {len(METRICS)} metrics x {args.steps} steps, median of {args.repeats}")
    print(f"  in the loop:          {ours['us_per_point']:.3f} us/point   (target <= 0.3)")
    print(f"  total incl. finish:   {ours['total_s']:.3f} s          (target <= 0.2)")
    print(f"  all runs (us/point):  {', '.join(f'{v:.3f}' for v in ours['all_us_per_point'])}")
    print(f"  all runs (total s):   {', '.join(f'{v:.3f}' for v in ours['all_total_s'])}")
    if theirs:
        print(
            f"Peers: {args.peer_steps} steps x {len(METRICS)} metrics, median of {args.peer_repeats}; "
            "ratio = peer / tracklib"
        )
        print(f"  {'':34} {'in loop, us/point':>24} {f'incl. init+finish @{args.peer_steps} steps':>30}")
        print(f"  {'tracklib':34} {ours['us_per_point']:>24.3f} {ours_short['us_per_point_total']:>30.3f}")
        for name, fig in theirs.items():
            loop_ratio = fig["us_per_point"] / ours["us_per_point"]
            total_ratio = fig["us_per_point_total"] / ours_short["us_per_point_total"]
            print(
                f"  {peers.LABELS[name]:34} {fig['us_per_point']:>12.1f} ({loop_ratio:>7,.0f}x)"
                f" {fig['us_per_point_total']:>18.1f} ({total_ratio:>7,.0f}x)"
            )
    for name, why in skipped.items():
        print(f"  skipped {peers.LABELS[name]}: {why}")
    if args.json:
        figures = {
            "workload": "W1",
            "command": [os.path.basename(sys.executable), *sys.argv],
            "metrics": len(METRICS),
            "tracklib": ours,
            "tracklib_at_peer_steps": ours_short,
            "peers": theirs,
            "skipped": skipped,
            "labels": peers.LABELS,
        }
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
