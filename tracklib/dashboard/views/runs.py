"""Runs: the runs table with filters, a filter expression, a column chooser and selection.

What the table shows, in what order and a page at a time, is ``tracklib.analysis.table``;
this page draws it and keeps the picked runs in the link.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

from tracklib.analysis import direction
from tracklib.analysis import table as runs_table
from tracklib.analysis.filters import FilterError
from tracklib.dashboard import app, project_settings, tables, urlstate, widgets
from tracklib.dashboard.frame import Context, run_page

SINCE = urlstate.Day(dt.date(1970, 1, 1), dt.date(2200, 1, 1))  # pandas holds both in ns
PAGE = urlstate.Number(1, 1_000_000, whole=True)  # the widget stops at the last page
URL = urlstate.Keys(
    urlstate.Key("status", urlstate.Choice(runs_table.STATUSES, many=True)),
    urlstate.Key("tags", urlstate.Choice(None, many=True)),
    urlstate.Key("since", SINCE),
    urlstate.Key("filter", urlstate.Text()),
    urlstate.Key("columns", urlstate.Choice(None, many=True)),
    urlstate.Key("sort", urlstate.Choice(None)),
    urlstate.Key("asc", urlstate.Flag()),
    urlstate.Key("page", PAGE),
    urlstate.Key("runs"),  # the picked run ids: only the project's are kept
)


def render(ctx: Context) -> None:
    runs = ctx.loaded.runs
    st.title("Runs")
    all_tags = runs_table.tag_options(runs)
    choosable = runs_table.choosable_columns(runs)
    sortable = runs_table.sortable_columns(runs)
    widgets.guard_url(URL.rules(tags=all_tags, columns=choosable, sort=sortable))
    top = st.columns([3, 2, 2, 1], vertical_alignment="bottom")
    status = top[0].multiselect("Status", runs_table.STATUSES, placeholder="any", **URL.bind("status"))
    tags = top[1].multiselect("Tags (any of)", all_tags, placeholder="any", **URL.bind("tags"))
    since = top[2].date_input(
        "Started on or after",
        value=None,
        min_value=SINCE.low,
        max_value=SINCE.high,
        **URL.bind("since"),
    )
    expression = st.text_input(
        "Filter expression",
        placeholder='params.lr < 0.01 and metrics.val/acc >= 0.9 and status = "finished"',
        **URL.bind("filter"),
    )
    try:
        shown = runs_table.filter_runs(runs, status, tags, since, expression)
    except FilterError as exc:
        widgets.filter_error(expression, exc.message, exc.position)
        return
    saved = project_settings.settings_of(ctx.root, ctx.project, ctx.token)
    default = runs_table.default_columns(
        runs, headline_metric(ctx), direction.default_columns(saved, choosable, [])
    )
    columns = st.multiselect(
        "Columns",
        choosable,
        default=default,
        help="The headline metric and a few key ones are shown first; add any param or metric.",
        **URL.bind("columns"),
    )
    table, where = _page(shown, sortable)
    table = widgets.arrow_safe(table.set_index("run_id")[runs_table.shown_columns(columns)])
    st.caption(f"{len(shown):,} of {len(runs):,} runs{where}")

    picks = URL["runs"].name
    picked = st.query_params.get_all(picks)
    selected_rows = runs_table.rows_picked(table.index, picked)
    named, links = tables.run_links(tables.display(table), ctx.project)
    event = tables.show_runs(
        widgets.style_status(named),
        links,
        key=f"runs_table_{_digest(table.index)}",  # another page or filter: a new selection
        pinned=True,
        selection_mode=["multi-row"],
        selection_default={"selection": {"rows": selected_rows}},
        width="stretch",
        height=tables.height(len(table)),
        hide_index=True,
        column_config=tables.column_config(table),
    )
    selected = runs_table.keep_picks(runs["run_id"], picked, table.index, event.selection.rows)
    st.query_params[picks] = selected  # picks on other pages or hidden by a filter stay
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
                query_params=carry | {picks: selected},
            )
    else:
        links[1].caption("Select rows to open, plot, compare or rank them")
    with links[4]:
        widgets.share_control(URL, {"runs": selected})


def headline_metric(ctx: Context) -> str | None:
    """The metric the project is judged by: its saved setting, else the guess."""
    headline = project_settings.headline_of(
        ctx.root, ctx.project, ctx.token, ctx.loaded.runs, ctx.loaded.summary
    )
    return headline.metric if headline is not None else None


def _page(shown: pd.DataFrame, sortable: list[str]) -> tuple[pd.DataFrame, str]:
    """The sort and page widgets: the page's rows, and where they are."""
    row = st.columns([3, 2, 1], vertical_alignment="bottom")
    sort = row[0].selectbox("Sort by", sortable, **URL.bind("sort"))
    ascending = row[1].toggle("Ascending", **URL.bind("asc"))
    pages = runs_table.page_count(len(shown))
    number = row[2].number_input(
        "Page", min_value=1, max_value=pages, value=1, disabled=pages == 1, **URL.bind("page")
    )
    page = runs_table.page(runs_table.sort_runs(shown, sort, ascending), number)
    where = f" · page {page.number} of {pages}, rows {page.first:,}–{page.last:,}" if pages > 1 else ""
    return page.rows, where


def _digest(run_ids: pd.Index) -> str:
    return hashlib.sha1("\n".join(run_ids).encode()).hexdigest()[:12]


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
