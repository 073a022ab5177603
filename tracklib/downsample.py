"""Shrink long series for display while keeping what the eye must see (pure, vectorised).

Each series is cut into equal-count buckets; each bucket keeps its lowest and its highest
point (NaN and +inf count as highest), so spikes and divergences survive any budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def minmax_downsample(
    frame: pd.DataFrame, max_points: int, by: tuple[str, ...] = ("run_id", "key"), value: str = "value"
) -> pd.DataFrame:
    """At most ``max_points`` rows per series (``by``), keeping each bucket's min and max rows.

    ``frame`` must be sorted by ``by`` then x; the result keeps that order.
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    if frame.empty:
        return frame
    keys = frame[list(by)]
    series_id = keys.ne(keys.shift()).any(axis=1).cumsum().to_numpy() - 1
    sizes = np.bincount(series_id)
    if sizes.max() <= max_points:
        return frame
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    position = np.arange(len(frame)) - starts[series_id]
    buckets = max_points // 2
    bucket = (position * buckets) // sizes[series_id]
    bucket = np.where(sizes[series_id] <= max_points, position, bucket)  # short series: keep all
    group = series_id.astype(np.int64) * (max_points + 1) + bucket
    values = frame[value].to_numpy(dtype=np.float64)
    ranked = np.where(np.isnan(values), np.inf, values)  # NaN ranks with +inf, as a high
    keep = np.zeros(len(frame), dtype=bool)
    for sort_key in (ranked, -ranked):
        order = np.lexsort((sort_key, group))
        sorted_group = group[order]
        first = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
        keep[order[first]] = True
    return frame[keep]
