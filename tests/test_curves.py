"""Pure curve transforms: TensorBoard's debiased EMA, x axes, group bands."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tracklib.analysis import curves


def test_ema_matches_tensorboards_debiased_smoothing_by_hand():
    values = [1.0, 2.0, 3.0, 10.0]
    w = 0.6
    # TensorBoard: last = last*w + (1-w)*v; smoothed = last / (1 - w**n)
    last, expected = 0.0, []
    for n, v in enumerate(values, start=1):
        last = last * w + (1 - w) * v
        expected.append(last / (1 - w**n))
    assert curves.ema(pd.Series(values), w).tolist() == pytest.approx(expected)
    assert expected[0] == pytest.approx(1.0)  # debiased: the first point is not pulled to zero


def test_ema_skips_nan_and_zero_weight_is_identity():
    smoothed = curves.ema(pd.Series([1.0, math.nan, 3.0]), 0.5).tolist()
    assert smoothed[0] == 1.0 and math.isnan(smoothed[1])
    assert smoothed[2] == pytest.approx((0.5 * 1.0 + 3.0) / 1.5)
    assert curves.ema(pd.Series([1.0, 5.0]), 0.0).tolist() == [1.0, 5.0]


def _history(run_values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {
            "run_id": run,
            "key": "acc",
            "step": step,
            "value": v,
            "time": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(seconds=10 * step),
        }
        for run, values in run_values.items()
        for step, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


RUNS = pd.DataFrame(
    {
        "run_id": ["a", "b", "c"],
        "start_time": [pd.Timestamp("2026-01-01", tz="UTC")] * 3,
        "group": ["g1", "g1", "g2"],
        "tags": [["x"], ["x", "y"], []],
        "params.lr": [0.1, 0.1, 0.01],
    }
)


def test_relative_x_is_seconds_since_the_run_started():
    history = curves.add_x(_history({"a": [1, 2, 3]}), RUNS, "relative")
    assert history["x"].tolist() == [0.0, 10.0, 20.0]


def test_group_bands_mean_std_and_run_counts():
    history = curves.smooth(
        curves.add_x(_history({"a": [1, 2], "b": [3, 6], "c": [5, 5]}), RUNS, "step"), 0.0
    )
    bands = curves.group_bands(history, RUNS, "params.lr", "std", bins=2).sort_values(["group", "x"])
    g1 = bands[bands["group"] == "0.1 (n=2)"]
    assert g1["mean"].tolist() == [2.0, 4.0]
    assert g1["upper"].tolist() == pytest.approx([2 + np.std([1, 3], ddof=1), 4 + np.std([2, 6], ddof=1)])
    minmax = curves.group_bands(history, RUNS, "params.lr", "min-max", bins=2)
    g1 = minmax[minmax["group"] == "0.1 (n=2)"].sort_values("x")
    assert g1["lower"].tolist() == [1, 2] and g1["upper"].tolist() == [3, 6]
    assert set(minmax["group"]) == {"0.1 (n=2)", "0.01 (n=1)"}


def test_grouping_by_tags_puts_a_run_in_each_of_its_tags():
    history = curves.smooth(curves.add_x(_history({"a": [1], "b": [3], "c": [5]}), RUNS, "step"), 0.0)
    bands = curves.group_bands(history, RUNS, "tags", "std", bins=1)
    assert dict(zip(bands["group"], bands["mean"])) == {"x (n=2)": 2.0, "y (n=1)": 3.0, "— (n=1)": 5.0}


def test_budget_per_series_respects_the_chart_limit():
    spec = curves.CurveSpec(metrics=("acc",), points_per_series=1000, max_points_per_chart=20_000)
    assert spec.per_series_budget(5) == 1000 and spec.per_series_budget(50) == 400
