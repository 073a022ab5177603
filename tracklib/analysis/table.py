"""The Runs page's table (pure): what it offers, which runs pass its filters, their order,
the page of rows sent, and the picked runs kept across pages and filters.

The table is sorted here and sent a page at a time (``PAGE_ROWS`` rows), as MLflow's and W&B's
run tables are: what the browser and each rerun handle follows what is shown, not the
project's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from tracklib.analysis.filters import apply_filter
from tracklib.read import query

BASE_COLUMNS = ["name", "status", "start_time", "duration_s", "tags", "group"]
LEADING = ["name", "status", "start_time", "duration_s"]  # then metrics, params, tags and group
STATUSES = ["running", "finished", "failed", "killed", "stale"]
KEY_METRICS = 4  # shown by default besides the headline one; every metric can be added
PAGE_ROWS = 500


def tag_options(runs: pd.DataFrame) -> list[str]:
    """Every tag any run has, sorted."""
    return sorted({tag for tags in runs["tags"] for tag in tags})


def choosable_columns(runs: pd.DataFrame) -> list[str]:
    """The param, dataset (fingerprint) and metric columns a user may add to the table."""
    return [c for c in runs.columns if c.startswith(("params.", "datasets.", "metrics."))]


def sortable_columns(runs: pd.DataFrame) -> list[str]:
    """What the table sorts by: newest first by default, then any shown or choosable column."""
    return ["start_time", "name", "status", "duration_s", *choosable_columns(runs)]


def default_columns(runs: pd.DataFrame, headline: str | None = None, saved: Sequence[str] = ()) -> list[str]:
    """The headline metric, a few key ones (validation, then test, then the rest, losses
    before others), then the project's saved default columns, else the params that vary."""
    metrics = query.metric_names(runs)
    key = sorted((m for m in metrics if m != headline), key=_key_metric_rank)[:KEY_METRICS]
    shown = [f"metrics.{m}" for m in ([headline] if headline in metrics else []) + key]
    return shown + ([c for c in saved if c not in shown] if saved else query.varying_params(runs))


def _key_metric_rank(metric: str) -> tuple[int, int]:
    name = metric.lower()
    split = 0 if name.startswith(("val", "eval", "valid")) else 1 if name.startswith("test") else 2
    return split, 0 if "loss" in name or "acc" in name else 1


def shown_columns(chosen: Sequence[str]) -> list[str]:
    """The table's columns in order: who and when, the chosen metrics (in the order chosen,
    so the headline stays first), the chosen params, then tags and group."""
    metrics = [c for c in chosen if c.startswith("metrics.")]
    params = [c for c in chosen if not c.startswith("metrics.")]
    return LEADING + metrics + params + [c for c in BASE_COLUMNS if c not in LEADING]


def newest(runs: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` runs started last, newest first."""
    return runs.sort_values("start_time", ascending=False).head(n)


def filter_runs(
    runs: pd.DataFrame,
    status: Sequence[str] = (),
    tags: Sequence[str] = (),
    since: dt.date | None = None,
    expression: str = "",
) -> pd.DataFrame:
    """Runs with any of ``status`` and any of ``tags`` (none chosen: any), started on or after
    ``since`` (UTC), that pass the filter ``expression``. Raises ``FilterError``."""
    shown = runs
    if status:
        shown = shown[shown["status"].isin(status)]
    if tags:
        wanted = set(tags)
        shown = shown[shown["tags"].map(lambda t: bool(wanted.intersection(t)))]
    if since is not None:
        shown = shown[shown["start_time"] >= pd.Timestamp(since, tz="UTC")]
    return apply_filter(shown, expression or "")


def sort_runs(runs: pd.DataFrame, column: str, ascending: bool) -> pd.DataFrame:
    """Runs sorted by ``column``, missing values last either way, ties in their prior order."""
    return runs.sort_values(column, ascending=ascending, na_position="last", kind="stable", key=_sortable)


def _sortable(column: pd.Series) -> pd.Series:
    """Mixed-type params (an int here, a list there) sort by their text."""
    return column.astype("string") if column.dtype == object else column


def page_count(rows: int, per_page: int = PAGE_ROWS) -> int:
    """Pages needed for ``rows`` rows: at least one, even for none."""
    return max(1, -(-rows // per_page))


@dataclass(frozen=True)
class Page:
    """One page of the sorted table: its rows, its number (from 1) of ``pages``, and the
    position (from 1) of its first row."""

    rows: pd.DataFrame
    number: int
    pages: int
    first: int

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def page(ordered: pd.DataFrame, number: int, per_page: int = PAGE_ROWS) -> Page:
    """Page ``number`` of ``ordered`` (clamped to the pages there are)."""
    pages = page_count(len(ordered), per_page)
    number = min(max(int(number), 1), pages)
    start = (number - 1) * per_page
    return Page(ordered.iloc[start : start + per_page], number, pages, start + 1)


def rows_picked(page_ids: Sequence[str], picked: Iterable[str]) -> list[int]:
    """Positions on the page of the picked runs (what the table shows selected)."""
    wanted = set(picked)
    return [i for i, run_id in enumerate(page_ids) if run_id in wanted]


def keep_picks(
    all_ids: pd.Series, picked: Sequence[str], page_ids: Sequence[str], selected_rows: Iterable[int]
) -> list[str]:
    """The picks after a selection on one page: those of the project not on this page (on
    another page, or hidden by a filter) stay, in the order given, then the page's selected rows.
    Ids the project does not have are dropped."""
    known = set(all_ids[all_ids.isin(list(picked))])  # not a set of 100,000 ids
    elsewhere = known - set(page_ids)
    return [run_id for run_id in picked if run_id in elsewhere] + [page_ids[i] for i in selected_rows]
