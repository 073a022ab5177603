"""W4: metric curves for 50 runs x 100,000 steps of one metric.

Seeds a local store once (through tracklib.init/log), then times, in a fresh Store each
"cold" round and a reused Store for "warm" rounds: reading the chosen runs' history and
turning it into the downsampled chart data the Curves page sends to the browser
(~1,000 points per series, at most 20,000 per chart). Target: warm <= 1 s.

    .venv/bin/python benchmarks/curves.py [--runs 50] [--steps 100000] [--repeats 5] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import tracklib
from tracklib.analysis import curves

METRIC = "train/loss"


def seed(root: str, runs: int, steps: int) -> list[str]:
    store = tracklib.open_store(root)
    if "curves" in store.projects():
        return store.runs("curves")["run_id"].tolist()
    rng = np.random.default_rng(0)
    ids = []
    for i in range(runs):
        values = np.exp(-np.arange(steps) / (steps / (2 + i % 5))) + rng.normal(0, 0.02, steps)
        with tracklib.init("curves", root=root, params={"i": i}, capture=False) as run:
            for value in values.tolist():
                run.log({METRIC: value})
        ids.append(run.id)
    return ids


def chart_data(store: tracklib.Store, ids: list[str]) -> tuple[int, int]:
    """What the Curves page computes before Altair: downsampled history, x axis, smoothing."""
    runs = store.runs("curves")
    spec = curves.CurveSpec(metrics=(METRIC,), smoothing=0.6, points_per_series=1000)
    budget = spec.per_series_budget(len(ids))
    history = store.history("curves", run_ids=ids, keys=[METRIC], max_points=budget)
    points = curves.smooth(curves.add_x(history, runs, spec.x), spec.smoothing)
    return len(points), history.attrs["total_points"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--root", help="store root (default: a temporary folder, seeded once)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("TRACKLIB_SPOOL", os.path.join(tmp, "spool"))
        root = args.root or os.path.join(tmp, "store")
        started = time.perf_counter()
        ids = seed(root, args.runs, args.steps)
        print(f"seeded {len(ids)} runs x {args.steps} steps in {time.perf_counter() - started:.1f} s")
        cold = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            shown, total = chart_data(tracklib.open_store(root), ids)
            cold.append(time.perf_counter() - started)
        store = tracklib.open_store(root)
        chart_data(store, ids)
        warm = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            shown, total = chart_data(store, ids)
            warm.append(time.perf_counter() - started)
    print(f"W4 curves: {len(ids)} runs x {args.steps} steps of one metric, median of {args.repeats}")
    print(f"  chart data, cold store:  {statistics.median(cold):.3f} s")
    print(f"  chart data, warm store:  {statistics.median(warm):.3f} s   (target <= 1 s)")
    print(f"  points sent to the browser: {shown:,} of {total:,}")


if __name__ == "__main__":
    main()
