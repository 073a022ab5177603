"""One colour per run, the same on every page, in every rerun and in every shared link.

A run's colour comes from its place among its project's runs in start order (oldest first),
not from its place in one chart's selection: the run keeps its colour on Curves, Compare,
Sweeps and the Run page, and runs that start later never shift the colours of earlier ones.
The palette holds 20 hues in an order where neighbours differ most (a sweep's consecutive
runs get unlike colours); past 20 runs colours repeat, so charts also highlight on hover.
Pure: no Streamlit here.
"""

from __future__ import annotations

import pandas as pd

# Tableau 20 reordered: the 10 strong hues first, then their light partners, so the first ten
# runs of a sweep never share a hue and a light shade never sits next to its dark one.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
)


def run_colors(runs: pd.DataFrame) -> dict[str, str]:
    """run_id -> colour, for every run of ``runs`` (a project's runs table: ``run_id`` and
    ``start_time``). Ties in start time fall back to the run id, so the order is total."""
    if runs.empty:
        return {}
    ordered = runs[["run_id", "start_time"]].sort_values(
        ["start_time", "run_id"], na_position="last", kind="stable"
    )
    return {run_id: PALETTE[i % len(PALETTE)] for i, run_id in enumerate(ordered["run_id"])}


def color_scale(colors: dict[str, str], run_ids: list[str]) -> tuple[list[str], list[str]]:
    """Domain and range for an Altair ``Scale`` over ``run_ids`` (in their given order)."""
    shown = [run_id for run_id in run_ids if run_id in colors]
    return shown, [colors[run_id] for run_id in shown]
