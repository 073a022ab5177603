"""From long histories to what a curves chart draws: x axis, smoothing, group bands (pure).

Smoothing is TensorBoard's: an exponential moving average debiased for its start, so the
first points are not dragged towards zero (``pandas.ewm(adjust=True)`` is exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

X_AXES = ("step", "time", "relative")
BANDS = ("std", "min-max")


@dataclass(frozen=True)
class CurveSpec:
    """What the user asked the curves chart to show."""

    metrics: tuple[str, ...]
    x: str = "step"
    log_y: bool = False
    smoothing: float = 0.0
    group_by: str | None = None
    band: str = "std"
    points_per_series: int = 1000
    # Streamlit draws charts with Vega's CSP-safe expression interpreter, whose cost grows with
    # the points: on 2 cores, 41 runs' smoothing took 2.1 s per slider move at 20,000 points
    # and 0.85 s at 10,000; at 5,000 the first draw of a chart still held the browser ~0.9 s,
    # at 3,000 ~0.55 s (the Curves page of two panels of 41 runs reaches idle in about 2 s).
    # Each series keeps its per-bucket min and max, so the lines keep their spikes; 10 runs
    # still get 300 points each.
    max_points_per_chart: int = 3_000

    def per_series_budget(self, series_per_chart: int) -> int:
        """Points per series so that one chart stays within ``max_points_per_chart``."""
        return max(2, min(self.points_per_series, self.max_points_per_chart // max(1, series_per_chart)))


def ema(values: pd.Series, weight: float) -> pd.Series:
    """TensorBoard's debiased EMA; NaN points are skipped (they stay NaN)."""
    if weight <= 0:
        return values.astype("float64")
    finite = values.where(np.isfinite(values))
    return finite.ewm(alpha=1.0 - weight, adjust=True, ignore_na=True).mean().where(finite.notna())


def add_x(history: pd.DataFrame, runs: pd.DataFrame, x: str) -> pd.DataFrame:
    """A column ``x``: the step, the wall time, or seconds since the run started."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {X_AXES}, got {x!r}")
    if x == "step":
        return history.assign(x=history["step"])
    if x == "time":
        return history.assign(x=history["time"])
    return history.assign(x=with_relative(history, runs)["relative"])


def with_relative(history: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """A column ``relative``: seconds since the run started (so each x axis has its column)."""
    start = history["run_id"].map(runs.set_index("run_id")["start_time"])
    return history.assign(relative=(history["time"] - start).dt.total_seconds())


def smooth(history: pd.DataFrame, weight: float) -> pd.DataFrame:
    """``smoothed`` per (run, metric) series."""
    if weight <= 0 or history.empty:
        return history.assign(smoothed=history["value"])
    smoothed = history.groupby(["run_id", "key"], sort=False, observed=True)["value"].transform(
        lambda series: ema(series, weight)
    )
    return history.assign(smoothed=smoothed)


def positive(history: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The points a log scale can draw (value > 0), and how many are <= 0 (missing values
    are dropped without being counted)."""
    return history[history["value"] > 0], int((history["value"] <= 0).sum())


def group_labels(runs: pd.DataFrame, group_by: str) -> pd.DataFrame:
    """``run_id, group`` pairs; a run with several tags belongs to each tag's group."""
    if group_by == "tags":
        pairs = runs[["run_id", "tags"]].explode("tags").rename(columns={"tags": "group"})
    else:
        pairs = runs[["run_id", group_by]].rename(columns={group_by: "group"})
    pairs["group"] = pairs["group"].map(lambda v: "—" if v is None or v is pd.NA or v != v else str(v))
    return pairs.reset_index(drop=True)


def group_bands(
    history: pd.DataFrame, runs: pd.DataFrame, group_by: str, band: str, bins: int
) -> pd.DataFrame:
    """Per (metric, group, x bin): the mean over runs and a band (±1 std or min–max).

    Runs rarely share exact x values once downsampled or on wall time, so x is cut into
    ``bins`` equal bins per metric; each run contributes its mean within a bin.
    """
    if band not in BANDS:
        raise ValueError(f"band must be one of {BANDS}, got {band!r}")
    data = history.merge(group_labels(runs, group_by), on="run_id")
    if data.empty:
        return pd.DataFrame(columns=["key", "group", "x", "mean", "lower", "upper", "runs"])
    xs = (data["x"].astype("int64") if np.issubdtype(data["x"].dtype, np.datetime64) else data["x"]).astype(
        "float64"
    )
    low = xs.groupby(data["key"], observed=True).transform("min")
    high = xs.groupby(data["key"], observed=True).transform("max")
    width = ((high - low) / bins).where(high > low, 1.0)
    data["bin"] = np.minimum((xs - low) // width, bins - 1).astype("int64")
    per_run = (
        data.groupby(["key", "group", "bin", "run_id"], observed=True)
        .agg(x=("x", "mean"), value=("smoothed", "mean"))
        .reset_index()
    )
    stats = per_run.groupby(["key", "group", "bin"], observed=True).agg(
        x=("x", "mean"),
        mean=("value", "mean"),
        std=("value", "std"),
        low=("value", "min"),
        high=("value", "max"),
    )
    stats["std"] = stats["std"].fillna(0.0)
    if band == "std":
        stats["lower"], stats["upper"] = stats["mean"] - stats["std"], stats["mean"] + stats["std"]
    else:
        stats["lower"], stats["upper"] = stats["low"], stats["high"]
    sizes = data.groupby(["key", "group"], observed=True)["run_id"].nunique().rename("runs")
    stats = stats.reset_index().merge(sizes.reset_index(), on=["key", "group"])
    stats["group"] = stats["group"] + " (n=" + stats["runs"].astype(str) + ")"
    return stats[["key", "group", "x", "mean", "lower", "upper", "runs"]]
