"""Sweep analysis: importance finds the param that matters, the chart data is laid out right."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tracklib.analysis.sweeps import (
    MISSING_POSITION,
    best_run,
    chart_runs,
    heatmap,
    importance,
    is_log_scale,
    parallel_coordinates,
    sweep_frame,
)
from tracklib.read.query import varying_params


def _runs(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A sweep shaped like ``Store.runs``: only lr matters (best near 1e-2), the rest is noise."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-5, -1, n)
    return pd.DataFrame(
        {
            "run_id": [f"run{i:03d}" for i in range(n)],
            "name": [f"name-{i}" for i in range(n)],
            "status": "finished",
            "params.lr": lr,
            "params.batch_size": pd.array(rng.choice([16, 32, 64, 128, 256], n), dtype="Int64"),
            "params.optimizer": pd.array(rng.choice(["adam", "sgd", "rmsprop"], n), dtype="string"),
            "params.seed": pd.array(rng.integers(0, 10_000, n), dtype="Int64"),
            "params.model": pd.array(["mlp"] * n, dtype="string"),
            "metrics.val_acc": 1 - 0.05 * (np.log10(lr) + 2) ** 2 + rng.normal(0, 0.01, n),
        }
    )


@pytest.fixture(scope="module")
def sweep() -> tuple[pd.DataFrame, list[str]]:
    runs = _runs()
    params = varying_params(runs, missing_is_a_value=False)
    return sweep_frame(runs, params, "metrics.val_acc"), params


def test_varying_params_keeps_params_that_vary_and_sorts_them():
    runs = pd.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "params.z": [1.0, 2.0, 2.0],
            "params.const": pd.array([3, 3, 3], dtype="Int64"),
            "params.const_or_missing": pd.array(["x", None, "x"], dtype="string"),
            "params.flag": pd.array([True, False, None], dtype="boolean"),
            "params.mixed": pd.Series([1, "one", None], dtype=object),
            "metrics.acc": [0.1, 0.2, 0.3],
        }
    )
    assert varying_params(runs, missing_is_a_value=False) == ["params.flag", "params.mixed", "params.z"]
    assert varying_params(runs) == ["params.const_or_missing", "params.flag", "params.mixed", "params.z"]
    assert varying_params(_runs(), missing_is_a_value=False) == [
        "params.batch_size",
        "params.lr",
        "params.optimizer",
        "params.seed",
    ]


def test_sweep_frame_keeps_runs_with_a_finite_target():
    runs = _runs(5).assign(**{"metrics.val_acc": [0.5, np.nan, np.inf, 0.7, -np.inf]})
    frame = sweep_frame(runs, ["params.lr", "params.optimizer"], "metrics.val_acc")
    assert list(frame.columns) == ["run_id", "name", "params.lr", "params.optimizer", "target"]
    assert frame["run_id"].tolist() == ["run000", "run003"] and frame["target"].tolist() == [0.5, 0.7]
    assert frame["params.optimizer"].tolist() == runs["params.optimizer"].iloc[[0, 3]].tolist()


def test_learning_rate_ranks_first_and_noise_params_do_not_matter(sweep):
    frame, params = sweep
    result = importance(frame, params)
    assert list(result.columns) == ["param", "correlation", "importance", "kind", "signal"]
    assert result["param"].iloc[0] == "params.lr" and result["importance"].iloc[0] > 0.5
    assert result["importance"].sum() == pytest.approx(1.0) and (result["importance"] >= 0).all()
    assert result["importance"].is_monotonic_decreasing
    by_param = result.set_index("param")
    assert by_param.loc["params.optimizer", "kind"] == "categorical"
    assert math.isnan(by_param.loc["params.optimizer", "correlation"])
    assert (by_param.drop("params.optimizer")["kind"] == "numeric").all()
    strength = by_param["correlation"].abs().dropna()
    assert strength.idxmax() == "params.lr" and strength.drop("params.lr").max() < 0.2


def test_importance_is_reproducible_for_a_seed(sweep):
    frame, params = sweep
    pd.testing.assert_frame_equal(importance(frame, params, seed=3), importance(frame, params, seed=3))


def test_with_fewer_than_five_runs_there_is_no_importance_but_still_correlation(sweep):
    frame, params = sweep
    result = importance(frame.head(4), params).set_index("param")
    assert result["importance"].isna().all()
    numeric = result.drop("params.optimizer")
    assert numeric["correlation"].notna().all() and numeric["correlation"].between(-1, 1).all()


def test_log_scale_is_detected_for_learning_rates_only(sweep):
    frame, _ = sweep
    assert is_log_scale(frame["params.lr"])
    assert not is_log_scale(frame["params.batch_size"])  # 16..256: 16x, not two decades
    assert not is_log_scale(frame["params.optimizer"])
    assert not is_log_scale(pd.Series([-1e-3, 1.0, 10.0]))  # not all positive
    assert is_log_scale(pd.Series([1e-4, None, 1e-1]))  # missing values are ignored


def test_parallel_coordinates_has_one_row_per_run_and_axis_target_last(sweep):
    frame, params = sweep
    long, ticks = parallel_coordinates(frame, params, "val_acc")
    assert list(long.columns) == ["run_id", "name", "axis", "position", "value", "target"]
    assert list(dict.fromkeys(long["axis"])) == ["batch_size", "lr", "optimizer", "seed", "val_acc"]
    assert len(long) == len(frame) * 5 and not long.duplicated(["run_id", "axis"]).any()
    assert long["position"].between(0, 1).all()
    # every axis uses its full range and the colour is the run's own target
    extremes = long.groupby("axis")["position"].agg(["min", "max"])
    assert (extremes["min"] == 0).all() and (extremes["max"] == 1).all()
    merged = long.merge(frame[["run_id", "target"]], on="run_id", suffixes=("", "_run"))
    assert (merged["target"] == merged["target_run"]).all()
    # categories are sorted and evenly spaced
    optimizer = long[long["axis"] == "optimizer"].groupby("value")["position"].unique()
    assert {k: list(v) for k, v in optimizer.items()} == {"adam": [0.0], "rmsprop": [0.5], "sgd": [1.0]}
    # readable ticks for every axis
    assert set(ticks["axis"]) == set(long["axis"]) and ticks["position"].between(0, 1).all()
    labels = ticks.groupby("axis")["label"].apply(list)
    assert labels["lr"][1] != "" and labels["optimizer"] == ["adam", "rmsprop", "sgd"]
    assert all(len(label) <= 9 for label in ticks["label"])


def test_parallel_coordinates_scales_log_linear_constant_and_missing_axes():
    frame = pd.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "name": ["x", "y", "z"],
            "params.lr": [1e-5, 1e-3, 1e-1],
            "params.batch_size": pd.array([16, 136, 256], dtype="Int64"),
            "params.width": [64.0, 64.0, 64.0],
            "params.act": pd.array(["relu", None, "gelu"], dtype="string"),
            "target": [0.2, 0.9, 0.5],
        }
    )
    params = ["params.lr", "params.batch_size", "params.width", "params.act"]
    long, ticks = parallel_coordinates(frame, params, "acc")
    position = long.pivot(index="run_id", columns="axis", values="position")
    assert position["lr"].tolist() == pytest.approx([0.0, 0.5, 1.0])  # 1e-3 halfway on a log axis
    assert position["batch_size"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert position["width"].tolist() == [0.5, 0.5, 0.5]
    assert position["act"].tolist() == [1 / 2, 1.0, 0.0]  # gelu, relu, then missing last
    assert position["acc"].tolist() == pytest.approx([0.0, 1.0, 3 / 7])
    value = long.pivot(index="run_id", columns="axis", values="value")
    assert value.loc["b"].to_dict() == {
        "acc": "0.9",
        "act": "None",
        "batch_size": "136",
        "lr": "0.001",
        "width": "64",
    }
    labels = ticks.groupby("axis")["label"].apply(list)
    assert labels["lr"] == ["1e-05", "0.001", "0.1"]  # log-space middle
    assert labels["batch_size"] == ["16", "136", "256"]
    assert labels["width"] == ["64"] and labels["act"] == ["gelu", "relu", "None"]


def test_heatmap_means_are_the_group_means():
    frame = pd.DataFrame(
        {
            "run_id": list("abcdef"),
            "name": list("abcdef"),
            "params.opt": pd.array(["sgd", "adam", "sgd", "sgd", "adam", "adam"], dtype="string"),
            "params.bs": pd.array([16, 16, 128, 16, 128, 128], dtype="Int64"),
            "target": [1.0, 2.0, 3.0, 5.0, 7.0, 10.0],
        }
    )
    cells = heatmap(frame, "params.bs", "params.opt")
    assert list(cells.columns) == ["x", "y", "mean", "count", "min", "max", "x_order", "y_order"]
    got = cells.set_index(["x", "y"])
    assert got.loc[("16", "sgd"), ["mean", "count", "max"]].tolist() == [3.0, 2, 5.0]
    assert got.loc[("16", "adam"), ["mean", "count"]].tolist() == [2.0, 1]
    assert got.loc[("128", "adam"), ["mean", "count", "min", "max"]].tolist() == [8.5, 2, 7.0, 10.0]
    assert got.loc[("128", "sgd"), ["mean", "count"]].tolist() == [3.0, 1]
    # numbers sort as numbers (16 before 128), text alphabetically
    assert cells.drop_duplicates("x").sort_values("x_order")["x"].tolist() == ["16", "128"]
    assert cells.drop_duplicates("y").sort_values("y_order")["y"].tolist() == ["adam", "sgd"]


def test_heatmap_bins_many_valued_params_into_quantiles(sweep):
    frame, _ = sweep
    cells = heatmap(frame, "params.lr", "params.optimizer", max_bins=8)
    per_bin = cells.groupby("x_order")["count"].sum()
    assert len(per_bin) == 8 and (per_bin == len(frame) // 8).all()
    assert cells["count"].sum() == len(frame)
    # a log-scale param is binned (and labelled) in log space: half a decade per bin here
    even = pd.DataFrame({"params.lr": np.logspace(-5, -1, 81), "target": np.arange(81.0)})
    labels = heatmap(even, "params.lr", "params.lr").sort_values("x_order")["x"].tolist()
    assert labels[:2] == ["[1e-05, 3.16e-05]", "(3.16e-05, 0.0001]"] and labels[-1] == "(0.0316, 0.1]"
    assert len(labels) == 8 and labels[3].endswith(", 0.001]")


def test_best_run_respects_direction_and_ignores_missing():
    frame = pd.DataFrame({"run_id": ["a", "b", "c"], "target": [0.3, np.nan, 0.9]})
    assert best_run(frame) == "c" and best_run(frame, higher_is_better=False) == "a"
    assert best_run(frame.assign(target=np.nan)) is None


def test_degenerate_sweeps_give_empty_or_neutral_answers_without_warnings():
    params = ["params.a", "params.b", "params.none"]
    flat = pd.DataFrame(
        {
            "run_id": list("abcdef"),
            "name": list("abcdef"),
            "params.a": [1.0, 2.0, 3.0, 4.0, 5.0, np.nan],
            "params.b": pd.array(["x", "y", None, "x", "y", "x"], dtype="string"),
            "params.none": [np.nan] * 6,
            "target": [1.0] * 6,
        }
    )
    result = importance(flat, params)  # a constant target: nothing explains it
    assert (result["importance"] == 0).all() and result["correlation"].isna().all()
    long, _ = parallel_coordinates(flat, params, "t")
    assert long.loc[long["axis"] == "t", "position"].eq(0.5).all()
    assert long.loc[long["axis"] == "none", "position"].eq(MISSING_POSITION).all()  # the "None" spot
    empty = flat.iloc[:0]
    assert importance(empty, params)["importance"].isna().all()
    assert parallel_coordinates(empty, params, "t")[0].empty and heatmap(empty, "params.a", "params.b").empty
    assert best_run(empty) is None


def test_importing_tracklib_does_not_import_scikit_learn():
    code = "import sys, tracklib, tracklib.analysis.sweeps; sys.exit('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_big_sweep_is_drawn_as_its_best_runs_plus_a_fixed_random_sample():
    frame = sweep_frame(_runs(5_000), ["params.lr"], "metrics.val_acc")
    drawn = chart_runs(frame, higher_is_better=True, limit=1_000)
    assert len(drawn) == 1_000 and drawn["run_id"].is_unique
    best = frame.nlargest(100, "target")["run_id"]
    assert set(best) <= set(drawn["run_id"])
    assert drawn["target"].min() < frame["target"].quantile(0.1)  # not only the top: the cloud too
    pd.testing.assert_frame_equal(drawn, chart_runs(frame, higher_is_better=True, limit=1_000))
    assert len(chart_runs(frame.head(10), higher_is_better=True)) == 10  # a small sweep: every run


def test_importance_of_a_big_sweep_still_finds_the_param_that_matters():
    frame = sweep_frame(_runs(20_000), ["params.lr", "params.seed"], "metrics.val_acc")
    result = importance(frame, ["params.lr", "params.seed"])  # fits on a sample: seconds, not minutes
    assert result["param"].iloc[0] == "params.lr" and result["importance"].iloc[0] > 0.8
