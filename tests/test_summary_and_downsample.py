"""Pure pieces: per-metric summaries and min/max downsampling."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tracklib.format.summary import MetricSummary, merge, summarize
from tracklib.read.downsample import minmax_downsample


def _summarize(rows):
    keys, steps, values = zip(*rows)
    return summarize(pa.array(keys), np.array(steps, dtype=np.int64), np.array(values, dtype=np.float64))


def test_summary_last_is_highest_step_and_ties_go_to_later_logged():
    s = _summarize([("a", 5, 1.0), ("a", 2, 9.0), ("a", 5, 3.0), ("b", 0, 4.0)])
    assert s["a"] == MetricSummary(last=3.0, last_step=5, min=1.0, min_step=5, max=9.0, max_step=2, count=3)
    assert s["b"].count == 1 and s["b"].last == 4.0


def test_summary_min_max_ignore_nan_keep_infinity():
    s = _summarize([("x", 0, math.nan), ("x", 1, 2.0), ("x", 2, math.inf), ("x", 3, math.nan)])["x"]
    assert (s.min, s.min_step, s.max, s.max_step, s.count) == (2.0, 1, math.inf, 2, 4)
    assert math.isnan(s.last) and s.last_step == 3
    only_nan = _summarize([("y", 0, math.nan)])["y"]
    assert math.isnan(only_nan.min) and only_nan.min_step is None


def test_merging_batches_equals_summarizing_everything():
    rng = np.random.default_rng(0)
    rows = [(f"k{rng.integers(3)}", int(step), float(rng.normal())) for step in range(300)]
    whole = _summarize(rows)
    pieces = merge(merge(_summarize(rows[:100]), _summarize(rows[100:250])), _summarize(rows[250:]))
    assert pieces == whole


def _series(n, run="r", key="loss"):
    return pd.DataFrame(
        {"run_id": run, "key": key, "step": np.arange(n), "value": np.sin(np.arange(n) / 50.0)}
    )


def test_downsample_respects_budget_and_keeps_every_bucket_extreme():
    frame = _series(10_000)
    frame.loc[4321, "value"] = 99.0
    frame.loc[777, "value"] = -99.0
    frame.loc[5000, "value"] = math.nan
    small = minmax_downsample(frame, 500)
    assert len(small) <= 500
    assert {4321, 777, 5000} <= set(small["step"])
    assert small["step"].is_monotonic_increasing


def test_downsample_leaves_short_series_alone_and_handles_several():
    frame = pd.concat([_series(50, run="a"), _series(5000, run="b"), _series(5000, run="b", key="acc")])
    small = minmax_downsample(frame, 200)
    assert (small["run_id"] == "a").sum() == 50
    assert small.groupby(["run_id", "key"]).size().max() <= 200


def test_downsample_refuses_a_budget_below_two():
    with pytest.raises(ValueError):
        minmax_downsample(_series(10), 1)
