"""System metrics (``system/*``) apart from the user's curves, against time since the start (pure).

Their step is a sample index, not a training step: drawn against the run's clock instead.
"""

from __future__ import annotations

import pandas as pd

from tracklib.format.record import SYSTEM_PREFIX


def split_system(history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(the user's metrics, the system metrics)`` of long history rows."""
    is_system = history["key"].str.startswith(SYSTEM_PREFIX)
    return history[~is_system], history[is_system]


def minutes_since(system: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """The rows with ``minutes``: their time since ``start``; the ``system/`` prefix cut from
    ``key`` (the section's title says it). Rows without a time are left out."""
    timed = system[system["time"].notna()]
    minutes = (timed["time"] - start).dt.total_seconds() / 60
    return timed.assign(minutes=minutes, key=timed["key"].str.removeprefix(SYSTEM_PREFIX))
