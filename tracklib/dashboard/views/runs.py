"""Runs: the runs table with filters, a filter expression, a column chooser and selection.

The table is sorted here and sent a page at a time (``PAGE_ROWS`` rows), as MLflow's and
W&B's run tables are: what the browser and each rerun handle follows what is shown, not
the project's size.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

from tracklib.analysis.filters import FilterError, apply_filter
from tracklib.dashboard import app, urlstate, widgets
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

BASE_COLUMNS = ["name", "status", "start_time", "duration_s", "tags", "group"]
STATUSES = ["running", "finished", "failed", "killed", "stale"]
DEFAULT_METRIC_COLUMNS = 6
PAGE_ROWS = 500
URL_KEYS = ("status", "tags", "since", "filter", "columns", "sort", "asc", "page")
SINCE = urlstate.Day(dt.date(1970, 1, 1), dt.date(2200, 1, 1))  # pandas holds both in ns
PAGE = urlstate.Number(1, 1_000_000, whole=True)  # the widget stops at the last page


def render(ctx: Context) -> None:
    runs = ctx.loaded.runs
    st.title("Runs")
    all_tags = sorted({tag for tags in runs["tags"] for tag in tags})
    choosable = [c for c in runs.columns if c.startswith(("params.", "metrics."))]
    sortable = ["start_time", "name", "status", "duration_s", *choosable]
    widgets.guard_url(
        {
            "status": urlstate.Choice(STATUSES, many=True),
            "tags": urlstate.Choice(all_tags, many=True),
            "since": SINCE,
            "filter": urlstate.Text(),
            "columns": urlstate.Choice(choosable, many=True),
            "sort": urlstate.Choice(sortable),
            "asc": urlstate.Flag(),
            "page": PAGE,
        }
    )
    top = st.columns([3, 2, 2, 1], vertical_alignment="bottom")
    status = top[0].multiselect("Status", STATUSES, key="status", bind="query-params", placeholder="any")
    tags = top[1].multiselect("Tags (any of)", all_tags, key="tags", bind="query-params", placeholder="any")
    since = top[2].date_input(
        "Started on or after",
        value=None,
        min_value=SINCE.low,
        max_value=SINCE.high,
        key="since",
        bind="query-params",
    )
    expression = st.text_input(
        "Filter expression",
        key="filter",
        bind="query-params",
        placeholder='params.lr < 0.01 and metrics.val/acc >= 0.9 and status = "finished"',
    )
    shown = _filtered(runs, status, tags, since, expression)
    if shown is None:
        return
    default = (
        query.varying_params(runs)
        + [f"metrics.{m}" for m in query.metric_names(runs)][:DEFAULT_METRIC_COLUMNS]
    )
    columns = st.multiselect("Columns", choosable, default=default, key="columns", bind="query-params")
    table, where = _page(shown, sortable)
    table = widgets.arrow_safe(table.set_index("run_id")[BASE_COLUMNS + columns])
    st.caption(f"{len(shown):,} of {len(runs):,} runs{where}")

    previously = set(st.query_params.get_all("runs"))
    selected_rows = [i for i, run_id in enumerate(table.index) if run_id in previously]
    event = st.dataframe(
        widgets.style_status(table),
        key=f"runs_table_{_digest(table.index)}",  # another page or filter: a new selection
        on_select="rerun",
        selection_mode="multi-row",
        selection_default={"selection": {"rows": selected_rows}},
        width="stretch",
        hide_index=True,
        column_config=widgets.TIME_COLUMNS,
    )
    on_page = set(table.index)
    kept = set(runs.loc[runs["run_id"].isin(previously), "run_id"]) - on_page
    elsewhere = [run_id for run_id in st.query_params.get_all("runs") if run_id in kept]
    selected = elsewhere + [table.index[i] for i in event.selection.rows]  # picks not shown stay
    st.query_params["runs"] = selected
    links = st.columns(5)
    carry = {"root": ctx.root, "project": ctx.project}
    if len(selected) == 1:
        links[0].page_link(
            app.page("run"),
            label="Open run",
            icon=":material/open_in_new:",
            query_params=carry | {"run": selected[0]},
        )
    destinations = [
        ("curves", "Curves", ":material/show_chart:"),
        ("compare", "Compare", ":material/compare_arrows:"),
        ("leaderboard", "Rank", ":material/leaderboard:"),
    ]
    if selected:
        for column, (name, label, icon) in zip(links[1:4], destinations, strict=True):
            column.page_link(
                app.page(name),
                label=f"{label} ({len(selected)})",
                icon=icon,
                query_params=carry | {"runs": selected},
            )
    else:
        links[1].caption("Select rows to open, plot, compare or rank them")
    with links[4]:
        widgets.share_control(URL_KEYS, {"runs": selected})


def _page(shown: pd.DataFrame, sortable: list[str]) -> tuple[pd.DataFrame, str]:
    """The sort and page widgets: the page's rows, and where they are."""
    row = st.columns([3, 2, 1], vertical_alignment="bottom")
    sort = row[0].selectbox("Sort by", sortable, key="sort", bind="query-params")
    ascending = row[1].toggle("Ascending", key="asc", bind="query-params")
    pages = max(1, -(-len(shown) // PAGE_ROWS))
    page = row[2].number_input(
        "Page", min_value=1, max_value=pages, value=1, key="page", bind="query-params", disabled=pages == 1
    )
    ordered = shown.sort_values(sort, ascending=ascending, na_position="last", kind="stable", key=_sortable)
    first = (page - 1) * PAGE_ROWS
    rows = ordered.iloc[first : first + PAGE_ROWS]
    where = f" · page {page} of {pages}, rows {first + 1:,}–{first + len(rows):,}" if pages > 1 else ""
    return rows, where


def _sortable(column: pd.Series) -> pd.Series:
    """Mixed-type params (an int here, a list there) sort by their text."""
    return column.astype("string") if column.dtype == object else column


def _digest(run_ids: pd.Index) -> str:
    return hashlib.sha1("\n".join(run_ids).encode()).hexdigest()[:12]


def _filtered(
    runs: pd.DataFrame, status: list[str], tags: list[str], since: dt.date | None, expression: str
) -> pd.DataFrame | None:
    shown = runs
    if status:
        shown = shown[shown["status"].isin(status)]
    if tags:
        wanted = set(tags)
        shown = shown[shown["tags"].map(lambda t: bool(wanted.intersection(t)))]
    if since is not None:
        shown = shown[shown["start_time"] >= pd.Timestamp(since, tz="UTC")]
    try:
        return apply_filter(shown, expression or "")
    except FilterError as exc:
        widgets.filter_error(expression, exc.message, exc.position)
        return None


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
