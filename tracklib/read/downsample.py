"""Shrink long series for display while keeping what the eye must see (pure, vectorised).

Each series is cut into equal-count buckets; each bucket keeps its lowest and its highest
point (NaN and +inf count as highest), so spikes and divergences survive any budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def minmax_indices(series: np.ndarray, values: np.ndarray, max_points: int) -> np.ndarray:
    """Row indices to keep, in order: at most ``max_points`` per series.

    ``series`` labels each row's series (rows of one series must be contiguous, in x order).
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    n = len(series)
    if n == 0:
        return np.arange(0)
    starts = np.flatnonzero(np.r_[True, series[1:] != series[:-1]])
    sizes = np.diff(np.r_[starts, n])
    if sizes.max() <= max_points:
        return np.arange(n)
    series_index = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(n) - starts[series_index]
    size = sizes[series_index]
    buckets = max_points // 2
    bucket = np.where(size <= max_points, position, (position * buckets) // size)  # short: keep all
    group = series_index.astype(np.int64) * (max_points + 1) + bucket  # non-decreasing: contiguous
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    segment = np.repeat(np.arange(len(bounds)), np.diff(np.r_[bounds, n]))
    ranked = np.where(np.isnan(values), np.inf, values)  # NaN ranks with +inf, as a high
    keep = np.zeros(n, dtype=bool)
    for extreme in (np.minimum.reduceat(ranked, bounds), np.maximum.reduceat(ranked, bounds)):
        hits = np.flatnonzero(ranked == extreme[segment])  # O(n), no sorting
        hit_segment = segment[hits]
        keep[hits[np.r_[True, hit_segment[1:] != hit_segment[:-1]]]] = True  # first hit per bucket
    return np.flatnonzero(keep)


def minmax_downsample(
    frame: pd.DataFrame, max_points: int, by: tuple[str, ...] = ("run_id", "key"), value: str = "value"
) -> pd.DataFrame:
    """At most ``max_points`` rows per series (``by``), keeping each bucket's min and max rows.

    ``frame`` must be sorted by ``by`` then x; the result keeps that order.
    """
    if frame.empty:
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points}")
        return frame
    series = frame.groupby(list(by), sort=False, observed=True).ngroup().to_numpy()
    return frame.iloc[minmax_indices(series, frame[value].to_numpy(dtype=np.float64), max_points)]
