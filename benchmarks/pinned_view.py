"""What a pinned link (asof=...) costs: cutting a project's runs table and metric history at a
time (``tracklib.analysis.asof.pin``), which a pinned page does once per load of the runs
(cached like the live load); live pages never do it.

Synthetic frames shaped as ``Store.runs_and_summary`` and ``Store.history`` return them:
``--runs`` runs of ``--steps`` points for each of two metrics, the pin in the middle of them.

    .venv/bin/python benchmarks/pinned_view.py [--runs 1000,10000] [--steps 100] [--repeat 5]

``--store ROOT --project P`` times a real store instead: its warm runs table (the live
load), then the pinned load's extra work: reading every metric point, the record times, the cut.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

import tracklib
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


def real_store(root: str, project: str, repeat: int) -> None:
    """The live load and what a pinned load adds, on a store as it is (warm: second reads)."""
    store = tracklib.open_store(root)
    runs, summary = store.runs_and_summary(project)
    store.history(project)
    pin = datetime.now(UTC)
    live, extra = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        runs, summary = store.runs_and_summary(project)
        live.append(time.perf_counter() - started)
        started = time.perf_counter()
        history = store.history(project)
        pinned = asof.pin(runs, summary, history, store.record_times(project), pin, store.stale_after)
        extra.append(time.perf_counter() - started)
    print(
        f"{len(runs):>7,} runs, {len(history):>10,} points: live load {statistics.median(live):6.2f} s, "
        f"pinned load adds {statistics.median(extra):6.2f} s (median of {repeat}; "
        f"{len(pinned.runs):,} runs as of now, {len(pinned.unpinnable):,} values named as not pinnable)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="1000,10000")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", help="a store root to time instead of synthetic frames")
    parser.add_argument("--project", default="scale")
    args = parser.parse_args()
    if args.store:
        real_store(args.store, args.project, args.repeat)
        return
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
