"""What a pinned link (asof=...) costs: cutting a project's runs table and metric history at a
time (``tracklib.analysis.asof.pin``), which a pinned page does once per load of the runs
(cached like the live load); live pages never do it.

Synthetic frames shaped as ``Store.runs_and_summary`` and ``Store.history`` return them:
``--runs`` runs of ``--steps`` points for each of two metrics, the pin in the middle of them.

    .venv/bin/python benchmarks/pinned_view.py [--runs 1000,10000] [--steps 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from tracklib.analysis import asof

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def frames(runs: int, steps: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """A finished sweep: run i starts at i seconds and logs a point per metric each second."""
    rng = np.random.default_rng(0)
    ids = np.array([f"run-{i:06d}" for i in range(runs)])
    keys = np.array(["val/acc", "train/loss"])
    run_of = np.repeat(np.arange(runs), steps * len(keys))
    step = np.tile(np.repeat(np.arange(steps), len(keys)), runs)
    history = pd.DataFrame(
        {
            "run_id": ids[run_of],
            "key": np.tile(keys, runs * steps),
            "step": step,
            "value": rng.random(len(run_of)),
            "time": pd.to_datetime(T0) + pd.to_timedelta(run_of + step, unit="s"),
        }
    ).sort_values(["run_id", "key", "step"], kind="stable", ignore_index=True)
    summary = asof.summary_until(history)
    start = pd.Series(pd.to_datetime(T0) + pd.to_timedelta(np.arange(runs), unit="s"))
    table = pd.DataFrame(
        {
            "run_id": ids,
            "name": ids,
            "status": "finished",
            "start_time": start,
            "end_time": start + pd.Timedelta(seconds=steps),
            "duration_s": float(steps),
        }
    )
    table = asof.with_metrics(table, summary)
    record_times = pd.Series(table["end_time"].to_numpy(), index=ids)
    return table, summary, history, record_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="1000,10000")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for runs in (int(n) for n in args.runs.split(",")):
        table, summary, history, record_times = frames(runs, args.steps)
        pin = T0 + timedelta(seconds=runs // 2 + args.steps // 2)
        seconds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            pinned = asof.pin(table, summary, history, record_times, pin, 600)
            seconds.append(time.perf_counter() - started)
        print(
            f"{runs:>7,} runs, {len(history):>10,} points: pin {statistics.median(seconds):6.2f} s "
            f"(median of {args.repeat}; {len(pinned.runs):,} runs as of the pin)"
        )


if __name__ == "__main__":
    main()
