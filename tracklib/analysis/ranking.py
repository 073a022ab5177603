"""The Leaderboard's ranking (pure): which runs compete, in what order, how many are shown."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from tracklib.analysis.filters import apply_filter
from tracklib.read import query

NO_GROUP = "(none)"
ORDERS = ("highest", "lowest")


def group_options(runs: pd.DataFrame) -> list[str]:
    """What "Best run per" offers: nothing, the run's group, or any param (by its bare name)."""
    params = sorted(c.removeprefix("params.") for c in runs.columns if c.startswith("params."))
    return [NO_GROUP, "group", *params]


def carried(runs: pd.DataFrame, picked: Iterable[str]) -> list[str]:
    """The picked run ids this project has, each once, in the order given."""
    wanted = list(dict.fromkeys(picked))
    if not wanted:
        return []
    known = set(runs.loc[runs["run_id"].isin(wanted), "run_id"])  # not a set of every run id
    return [run_id for run_id in wanted if run_id in known]


def board(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    metric: str,
    agg: str,
    order: str,
    *,
    expression: str = "",
    group_by: str = NO_GROUP,
    top: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """The ranked runs shown, and how many runs competed (those passing ``expression``).

    Runs without the metric rank last, unranked; ties go to the earlier step, then keep the
    runs table's order. ``group_by`` keeps the best run of each group and ranks those.
    Raises ``FilterError`` for an expression that does not parse.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    candidates = apply_filter(runs, expression or "")
    ranked = query.leaderboard(candidates, summary, metric, agg, ascending=order == "lowest")
    if group_by != NO_GROUP:
        ranked = query.best_per_group(ranked, group_by if group_by == "group" else f"params.{group_by}")
    if top is not None:
        ranked = ranked.head(top)
    return ranked, len(candidates)


def shown(ranked: pd.DataFrame, metric: str, agg: str, params: list[str]) -> pd.DataFrame:
    """The table's columns: rank, name, the value (headed ``<agg> <metric>``), step, status,
    group and the chosen params."""
    value = query.metric_column(metric, agg)
    table = ranked[["rank", "name", value, "step", "status", "group", *params]]
    return table.rename(columns={value: f"{agg} {metric}"})
