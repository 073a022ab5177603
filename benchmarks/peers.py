"""MLflow and W&B offline on the W1 and W2 workloads, so log_overhead.py and sweep.py can print ratios.

The peers come with `pip install -e '.[bench]'` (`make bench` does it in .venv-bench). Where they
are missing - the test venv - `skipped()` says so without importing them, and the scripts run
tracklib alone. Each peer is driven the way its docs tell users to: MLflow's fluent API with
`log_metrics(dict, step=)` per step, W&B's `wandb.init(mode="offline")`, `run.log(dict)`, `finish()`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

LABELS = {
    "mlflow_sqlite": "MLflow (default sqlite store)",
    "mlflow_file": "MLflow (file store)",
    "wandb_offline": "W&B offline",
}
_MODULE = {"mlflow_sqlite": "mlflow", "mlflow_file": "mlflow", "wandb_offline": "wandb"}

Params = Callable[[int], Mapping[str, Any]]
Metrics = Callable[[int, int], Mapping[str, float]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options W1 and W2 share: which peers, the store root, where to write JSON."""
    parser.add_argument("--peers", default=",".join(LABELS), help="comma-separated, or 'none'")
    parser.add_argument("--root", help="store root (default: a fresh temporary folder)")
    parser.add_argument("--json", help="also write the figures to this JSON file")


def chosen(args: argparse.Namespace) -> list[str]:
    return [] if args.peers == "none" else args.peers.split(",")


def skipped(names: list[str] | None = None) -> dict[str, str]:
    """Why each peer cannot run here (empty when all can); checked without importing them."""
    reasons = {}
    for name in names or list(LABELS):
        module = _MODULE[name]
        if importlib.util.find_spec(module) is None:
            reasons[name] = f"{module} is not installed (pip install -e '.[bench]')"
    return reasons


def _quiet() -> None:
    """No network, no prompts, no console capture; INFO logs and deprecation noise off."""
    os.environ.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_CONSOLE="off",
        WANDB_DISABLE_CODE="true",
        WANDB__DISABLE_STATS="true",  # no system-metrics sampler: tracklib logs none either
        MLFLOW_ALLOW_FILE_STORE="true",  # 3.x refuses the file store unless asked (maintenance mode)
        MLFLOW_ENABLE_ASYNC_LOGGING="false",
        MLFLOW_LOGGING_LEVEL="WARNING",
        GIT_PYTHON_REFRESH="quiet",
    )
    warnings.filterwarnings("ignore")


def _mlflow():
    """mlflow, imported quietly (it sets its loggers' levels on import, so quiet them after)."""
    _quiet()
    import mlflow

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return mlflow


def _mlflow_uri(name: str, tmp: str) -> str:
    # The default store in MLflow 3.x is sqlite:///mlflow.db in the cwd; point it at tmp instead.
    if name == "mlflow_sqlite":
        return f"sqlite:///{os.path.join(tmp, 'mlflow.db')}"
    return "file://" + os.path.join(tmp, "mlruns")


# --- W1: one run, N metrics per step -----------------------------------------------------------


def w1_mlflow(name: str, tmp: str, rows: list[dict[str, float]]) -> tuple[float, float]:
    """(seconds in the logging loop, seconds from start_run to the end of end_run)."""
    mlflow = _mlflow()

    mlflow.set_tracking_uri(_mlflow_uri(name, tmp))
    experiment = mlflow.set_experiment("bench")  # creates the db once, outside the timing
    started = time.perf_counter()
    with mlflow.start_run(experiment_id=experiment.experiment_id):
        mlflow.log_params({"lr": 0.001})
        loop_start = time.perf_counter()
        for step, metrics in enumerate(rows):
            mlflow.log_metrics(metrics, step=step)
        loop = time.perf_counter() - loop_start
    return loop, time.perf_counter() - started


def w1_wandb(tmp: str, rows: list[dict[str, float]]) -> tuple[float, float]:
    """(seconds in the logging loop, seconds from init to the end of finish)."""
    _quiet()
    import wandb

    started = time.perf_counter()
    run = wandb.init(mode="offline", dir=tmp, project="bench", config={"lr": 0.001})
    loop_start = time.perf_counter()
    for metrics in rows:
        run.log(metrics)
    loop = time.perf_counter() - loop_start
    run.finish()
    return loop, time.perf_counter() - started


def w1(name: str, tmp: str, rows: list[dict[str, float]]) -> tuple[float, float]:
    return w1_wandb(tmp, rows) if name == "wandb_offline" else w1_mlflow(name, tmp, rows)


# --- W2: a sweep, then the leaderboard and some histories ----------------------------------------


def w2_write_mlflow(name: str, tmp: str, runs: int, steps: int, params: Params, metrics: Metrics) -> float:
    """Seconds to log the sweep run after run, as a sweep driver using the fluent API would."""
    mlflow = _mlflow()

    mlflow.set_tracking_uri(_mlflow_uri(name, tmp))
    experiment_id = mlflow.set_experiment("sweep").experiment_id  # db creation is not the sweep's
    started = time.perf_counter()
    for i in range(runs):
        with mlflow.start_run(experiment_id=experiment_id):
            mlflow.log_params(params(i))
            for step in range(steps):
                mlflow.log_metrics(metrics(i, step), step=step)
    return time.perf_counter() - started


def w2_write_wandb(tmp: str, runs: int, steps: int, params: Params, metrics: Metrics) -> float:
    """Seconds to log the sweep offline; W&B has no local query API, so this is all it can show."""
    _quiet()
    # Defaults against defaults: W&B keeps its git and metadata capture (tracklib's sweep runs with
    # its default capture). Its system-metrics sampler and console capture stay off (_quiet): by
    # default tracklib records neither.
    import wandb

    started = time.perf_counter()
    for i in range(runs):
        run = wandb.init(mode="offline", dir=tmp, project="sweep", config=dict(params(i)))
        for step in range(steps):
            run.log(metrics(i, step))
        run.finish()
    return time.perf_counter() - started


def w2_write(name: str, tmp: str, runs: int, steps: int, params: Params, metrics: Metrics) -> float:
    if name == "wandb_offline":
        return w2_write_wandb(tmp, runs, steps, params, metrics)
    return w2_write_mlflow(name, tmp, runs, steps, params, metrics)


def w2_fill_mlflow(tmp: str, start: int, runs: int, steps: int, params: Params, metrics: Metrics) -> float:
    """Top the sqlite store up to `runs` runs with one log_batch per run (untimed fast path).

    Writing 1,000 runs through the per-step API would take most of the time budget; the
    leaderboard only needs the same rows in the store, however they got there.
    """
    mlflow = _mlflow()
    from mlflow.entities import Metric, Param, RunStatus
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(_mlflow_uri("mlflow_sqlite", tmp))
    client = MlflowClient()
    experiment_id = mlflow.set_experiment("sweep").experiment_id
    started = time.perf_counter()
    now = int(time.time() * 1000)
    for i in range(start, runs):
        run_id = client.create_run(experiment_id).info.run_id
        batch = [
            Metric(key, value, now, step) for step in range(steps) for key, value in metrics(i, step).items()
        ]
        client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params(i).items()], metrics=batch)
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
    return time.perf_counter() - started


_MLFLOW_READ = """
import json, logging, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
started = time.perf_counter()
import mlflow
from mlflow.tracking import MlflowClient
for name in ("mlflow", "alembic"):
    logging.getLogger(name).setLevel(logging.WARNING)
uri, repeats = sys.argv[1], int(sys.argv[2])
first = time.perf_counter()
mlflow.set_tracking_uri(uri)
experiment_ids = [mlflow.get_experiment_by_name("sweep").experiment_id]  # opens the store
search = lambda: mlflow.search_runs(experiment_ids=experiment_ids, order_by=["metrics.val_acc DESC"])
board = search()
cold = time.perf_counter() - first
warm = []
for _ in range(repeats):
    t = time.perf_counter(); search(); warm.append(time.perf_counter() - t)
client = MlflowClient()
ids = board["run_id"].head(20).tolist()
hist = []
for _ in range(repeats):
    t = time.perf_counter(); points = sum(len(client.get_metric_history(i, "val_loss")) for i in ids)
    hist.append(time.perf_counter() - t)
params = sum(c.startswith("params.") for c in board.columns)
print(json.dumps({"cold": cold, "warm": statistics.median(warm), "history": statistics.median(hist),
                  "rows": len(board), "params": params, "points": points,
                  "with_import": time.perf_counter() - started}))
"""


def w2_read_mlflow(tmp: str, repeats: int) -> dict[str, float]:
    """The leaderboard (search_runs) and 20 histories in a fresh process, like tracklib's read."""
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    out = subprocess.run(
        [sys.executable, "-c", _MLFLOW_READ, _mlflow_uri("mlflow_sqlite", tmp), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])
