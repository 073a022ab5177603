"""Leaderboard: runs ranked by a metric, optionally the best per group; a stakeholder view."""

from __future__ import annotations

import streamlit as st

from tracklib.analysis import direction, ranking
from tracklib.analysis.filters import FilterError
from tracklib.dashboard import (
    csv_export,
    data,
    project_settings,
    snapshot,
    snapshot_control,
    tables,
    urlstate,
    widgets,
)
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

TOP = urlstate.Number(1, 10_000, whole=True)
URL = urlstate.Keys(
    urlstate.Key("metric", urlstate.Choice(None, unknown="This project has no metric")),
    urlstate.Key("agg", urlstate.Choice(query.AGGREGATES)),
    urlstate.Key("order", urlstate.Choice(ranking.ORDERS)),
    urlstate.Key("top", TOP),
    urlstate.Key("filter", urlstate.Text()),
    urlstate.Key("group_by", urlstate.Choice(None)),
    urlstate.Key("columns", urlstate.Choice(None, many=True)),
    urlstate.Key("runs"),  # run ids carried from the Runs page: only the project's are kept
)


def render(ctx: Context) -> None:
    runs, summary = ctx.loaded.runs, ctx.loaded.summary
    metrics = query.metric_names(runs)
    st.title("Leaderboard")
    if not metrics:
        st.info("No run in this project has logged a metric yet.")
        return
    groups = ranking.group_options(runs)
    params = [c for c in runs.columns if c.startswith("params.")]
    widgets.guard_url(URL.rules(metric=metrics, group_by=groups, columns=params))
    saved = project_settings.settings_of(ctx.root, ctx.project, ctx.token)
    headline = direction.headline(runs, summary, saved).metric  # saved, else guessed
    with widgets.controls("settings"), st.expander("Settings", expanded=True):
        row = st.columns([3, 2, 2, 1])
        metric = row[0].selectbox("Metric", metrics, index=metrics.index(headline), **URL.bind("metric"))
        judged = direction.judged_by(metric, saved)
        row[0].caption(judged.label)
        lower = judged.lower_is_better
        agg = row[1].segmented_control(
            "Aggregate",
            list(query.AGGREGATES),
            default="min" if lower else "max",
            **URL.bind("agg"),
            required=True,
        )
        order = row[2].segmented_control(
            "Best is",
            list(ranking.ORDERS),
            default="lowest" if lower else "highest",
            **URL.bind("order"),
            required=True,
        )
        top = row[3].number_input(
            "Top",
            min_value=int(TOP.low),
            max_value=int(TOP.high),
            value=20,
            step=1,
            **URL.bind("top"),
        )
        row = st.columns([4, 2, 3])
        expression = row[0].text_input(
            "Filter expression", placeholder='status = "finished"', **URL.bind("filter")
        )
        group_by = row[1].selectbox("Best run per", groups, **URL.bind("group_by"))
        columns = row[2].multiselect(
            "Params shown",
            params,
            default=direction.default_columns(
                saved, params, data.varying_params(ctx.root, ctx.project, ctx.loaded)
            ),
            **URL.bind("columns"),
        )
    picked = URL["runs"].name  # carried from the Runs page's selection
    widgets.notice_unknown(picked, data.run_ids(ctx.root, ctx.project, ctx.loaded), "This project has no run")
    chosen = ranking.carried(runs, st.query_params.get_all(picked))
    if chosen:
        st.caption(f"Only the {len(chosen)} runs selected on the Runs page.")
    try:  # ranked once per view for every session showing it (many viewers of one link)
        board, competing = data.leaderboard(
            ctx.root,
            ctx.project,
            ctx.loaded,
            chosen,
            metric=metric,
            agg=agg,
            order=order,
            expression=expression,
            group_by=group_by,
            top=int(top),
        )
    except FilterError as exc:
        widgets.filter_error(expression, exc.message, exc.position)
        return
    shown = widgets.arrow_safe(ranking.shown(board, metric, agg, columns))
    line = widgets.view_line(
        ctx.project,
        ctx.loaded.loaded_at,
        f"{agg} of {metric}, {order} first",
        f"filter: {expression}" if expression else "",
        f"best run per {group_by}" if group_by != ranking.NO_GROUP else "",
        f"{len(board)} of {competing} runs",
        asof=ctx.loaded.asof,
    )
    named, links = tables.run_links(shown, ctx.project, run_ids=board["run_id"])
    tables.show_runs(
        widgets.style_status(named),
        links,
        key="leaderboard_table",
        hide_index=True,
        width="stretch",
        height=tables.height(len(shown)),
        column_config=tables.column_config(shown),
    )
    row = widgets.controls("share").columns([1, 1, 3, 3])
    row[0].download_button(
        "CSV",
        csv_export.csv_text(shown, lineterminator="\n"),
        file_name=f"{ctx.project}-leaderboard.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    with row[1]:
        widgets.share_control(URL, {"runs": chosen})
    frozen = snapshot.Snapshot("Leaderboard", line, shown, (), widgets.share_link(URL, {"runs": chosen}))
    with row[2]:
        snapshot_control.snapshot_button(lambda: frozen, f"{ctx.project}-leaderboard")


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
