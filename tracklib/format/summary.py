"""Per-metric summaries (last, min, max with their steps, count), merged batch by batch (pure).

"last" is the value at the highest step, ties going to the one logged later (as MLflow's
latest metric); min and max ignore NaN, keep ±inf, and remember the first step they were hit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class MetricSummary:
    last: float
    last_step: int | None
    min: float
    min_step: int | None
    max: float
    max_step: int | None
    count: int


def summarize(keys: pa.Array, steps: np.ndarray, values: np.ndarray) -> dict[str, MetricSummary]:
    """Summaries of one batch of long rows (in logging order), one per key."""
    if len(keys) == 0:
        return {}
    encoded = keys.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    names = encoded.dictionary.to_pylist()
    position = np.arange(len(codes))
    last = _first_of_groups(np.lexsort((-position, -steps, codes)), codes)
    low = _first_of_groups(np.lexsort((steps, values, codes)), codes)  # NaN sorts last
    high = _first_of_groups(np.lexsort((steps, -values, codes)), codes)
    counts = np.bincount(codes, minlength=len(names))
    result = {}
    for code, name in enumerate(names):
        lo, hi = values[low[code]], values[high[code]]
        result[name] = MetricSummary(
            last=float(values[last[code]]),
            last_step=int(steps[last[code]]),
            min=float(lo),
            min_step=None if math.isnan(lo) else int(steps[low[code]]),
            max=float(hi),
            max_step=None if math.isnan(hi) else int(steps[high[code]]),
            count=int(counts[code]),
        )
    return result


def _first_of_groups(order: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """For rows sorted by ``order`` (code first), the row index that opens each code's group."""
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    first = np.empty(int(sorted_codes.max()) + 1, dtype=np.int64)
    first[sorted_codes[starts]] = order[starts]
    return first


def merge(old: dict[str, MetricSummary], new: dict[str, MetricSummary]) -> dict[str, MetricSummary]:
    """The summary of old rows followed by new rows."""
    merged = dict(old)
    for key, b in new.items():
        a = merged.get(key)
        merged[key] = b if a is None else _merge_one(a, b)
    return merged


def _merge_one(a: MetricSummary, b: MetricSummary) -> MetricSummary:
    out = a
    if a.last_step is None or (b.last_step is not None and b.last_step >= a.last_step):
        out = replace(out, last=b.last, last_step=b.last_step)
    if math.isnan(a.min) or b.min < a.min:
        out = replace(out, min=b.min, min_step=b.min_step)
    if math.isnan(a.max) or b.max > a.max:
        out = replace(out, max=b.max, max_step=b.max_step)
    return replace(out, count=a.count + b.count)
