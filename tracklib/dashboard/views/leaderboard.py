"""Leaderboard: runs ranked by a metric, optionally the best per group; a stakeholder view."""

from __future__ import annotations

import streamlit as st

from tracklib.analysis.filters import FilterError, apply_filter
from tracklib.dashboard import urlstate, widgets
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

URL_KEYS = ("metric", "agg", "order", "top", "filter", "group_by", "columns")
TOP = urlstate.Number(1, 10_000, whole=True)
ORDERS = ["highest", "lowest"]


def render(ctx: Context) -> None:
    runs, summary = ctx.loaded.runs, ctx.loaded.summary
    metrics = query.metric_names(runs)
    st.title("Leaderboard")
    if not metrics:
        st.info("No run in this project has logged a metric yet.")
        return
    groups = [
        "(none)",
        "group",
        *sorted(c.removeprefix("params.") for c in runs.columns if c.startswith("params.")),
    ]
    params = [c for c in runs.columns if c.startswith("params.")]
    widgets.guard_url(
        {
            "metric": urlstate.Choice(metrics, unknown="This project has no metric"),
            "agg": urlstate.Choice(query.AGGREGATES),
            "order": urlstate.Choice(ORDERS),
            "top": TOP,
            "filter": urlstate.Text(),
            "group_by": urlstate.Choice(groups),
            "columns": urlstate.Choice(params, many=True),
        }
    )
    headline = query.headline_metric(runs, summary)
    with st.expander("Settings", expanded=not st.context.is_embedded):
        row = st.columns([3, 2, 2, 1])
        metric = row[0].selectbox(
            "Metric", metrics, index=metrics.index(headline), key="metric", bind="query-params"
        )
        lower = query.lower_is_better(metric)
        agg = row[1].segmented_control(
            "Aggregate",
            list(query.AGGREGATES),
            default="min" if lower else "max",
            key="agg",
            bind="query-params",
            required=True,
        )
        order = row[2].segmented_control(
            "Best is",
            ORDERS,
            default="lowest" if lower else "highest",
            key="order",
            bind="query-params",
            required=True,
        )
        top = row[3].number_input(
            "Top",
            min_value=int(TOP.low),
            max_value=int(TOP.high),
            value=20,
            step=1,
            key="top",
            bind="query-params",
        )
        row = st.columns([4, 2, 3])
        expression = row[0].text_input(
            "Filter expression", key="filter", bind="query-params", placeholder='status = "finished"'
        )
        group_by = row[1].selectbox("Best run per", groups, key="group_by", bind="query-params")
        columns = row[2].multiselect(
            "Params shown", params, default=query.varying_params(runs), key="columns", bind="query-params"
        )
    known = set(runs["run_id"])
    widgets.notice_unknown("runs", known, "This project has no run")
    picked = st.query_params.get_all("runs")  # carried from the Runs page's selection
    chosen = [r for r in dict.fromkeys(picked) if r in known]
    if chosen:
        runs = runs[runs["run_id"].isin(chosen)]
        st.caption(f"Only the {len(runs)} runs selected on the Runs page.")
    try:
        candidates = apply_filter(runs, expression or "")
    except FilterError as exc:
        widgets.filter_error(expression, exc.message, exc.position)
        return
    board = query.leaderboard(candidates, summary, metric, agg, ascending=order == "lowest")
    if group_by != "(none)":
        board = query.best_per_group(board, group_by if group_by == "group" else f"params.{group_by}")
    board = board.head(int(top))
    value = query.metric_column(metric, agg)
    shown = widgets.arrow_safe(board[["rank", "name", value, "step", "status", "group", *columns]]).rename(
        columns={value: f"{agg} {metric}"}
    )
    st.caption(
        f"{agg} of {widgets.md_escape(metric)}, {order} first · {len(board)} of {len(candidates)} runs"
    )
    st.dataframe(
        widgets.style_status(shown),
        hide_index=True,
        width="stretch",
        column_config={f"{agg} {metric}": st.column_config.NumberColumn(format="%.4f")},
    )
    row = st.columns([1, 1, 6])
    row[0].download_button(
        "CSV",
        shown.to_csv(index=False),
        file_name=f"{ctx.project}-leaderboard.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    with row[1]:
        widgets.share_control(URL_KEYS, {"runs": chosen})


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
