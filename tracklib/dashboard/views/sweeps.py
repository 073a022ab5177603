"""Sweeps: which hyperparameters drive a target metric — parallel coordinates, scatters,
importance, and a heatmap over two params."""

from __future__ import annotations

import streamlit as st

from tracklib.analysis import sweeps
from tracklib.dashboard import charts, data, urlstate, widgets
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

URL = urlstate.Keys(  # params are named in the link as the widgets show them: without "params."
    urlstate.Key("metric", urlstate.Choice(None, unknown="This project has no metric")),
    urlstate.Key("agg", urlstate.Choice(query.AGGREGATES)),
    urlstate.Key("params", urlstate.Choice(None, many=True)),
    urlstate.Key("heat_x", urlstate.Choice(None)),
    urlstate.Key("heat_y", urlstate.Choice(None)),
)
IMPORTANCE_NOTE = (
    "How to read this: **correlation** (Spearman, −1…1) says whether the target rises or falls as "
    "the param grows — numeric params only. **importance** is how much a random forest's "
    "predictions of the target get worse when that param is shuffled (shares sum to 1); it "
    "also catches non-monotonic and categorical effects. Both describe these runs, not causes."
)


def render(ctx: Context) -> None:
    runs = ctx.loaded.runs
    st.title("Sweeps")
    metrics = query.metric_names(runs)
    candidates = query.varying_params(runs, missing_is_a_value=False)
    if not metrics or not candidates:
        st.info("A sweep needs runs that logged a metric and differ in at least one param.")
        return
    labels = {p: p.removeprefix("params.") for p in candidates}  # what the widgets show, and the URL holds
    offered = list(labels.values())
    widgets.guard_url(URL.rules(metric=metrics, params=offered, heat_x=offered, heat_y=offered))
    row = st.columns([3, 2, 5])
    headline = query.headline_metric(runs, ctx.loaded.summary)
    metric = row[0].selectbox("Target", metrics, index=metrics.index(headline), **URL.bind("metric"))
    lower = query.lower_is_better(metric)
    agg = row[1].segmented_control(
        "Aggregate",
        list(query.AGGREGATES),
        default="min" if lower else "max",
        **URL.bind("agg"),
        required=True,
    )
    params = row[2].multiselect(
        "Params", candidates, default=candidates, format_func=labels.get, **URL.bind("params")
    )
    target = f"{agg} {metric}"
    frame = sweeps.sweep_frame(runs, params, query.metric_column(metric, agg))
    if frame.empty or not params:
        st.info("No run has this target yet, or no param is chosen.")
        return
    best = sweeps.best_run(frame, higher_is_better=not lower)
    drawn = sweeps.chart_runs(frame, higher_is_better=not lower)
    drawn["href"] = drawn["run_id"].map(widgets.run_links(ctx.root, ctx.project, drawn["run_id"]))
    if len(drawn) < len(frame):
        st.caption(
            f"The charts draw {len(drawn):,} of {len(frame):,} runs: the best {sweeps.CHART_RUNS // 10:,} "
            "and the rest at random. Correlations and the heatmap use every run; the importance forest "
            f"fits at most {sweeps.MODEL_RUNS:,} of them, at random. Filter on the Runs page to narrow.",
        )

    st.subheader("Parallel coordinates")
    long, ticks = sweeps.parallel_coordinates(drawn, params, target)
    long = long.merge(drawn[["run_id", "href"]], on="run_id")
    axes = [labels[p] for p in params] + [target]
    event = st.altair_chart(
        charts.parallel_coordinates(long, ticks, axes, target),
        width="stretch",
        key="parallel",
        on_select="rerun",
        selection_mode=charts.BRUSH,
    )
    inside = sweeps.brushed_runs(long, axes, event.selection.get(charts.BRUSH, {}))
    if inside is not None:
        st.caption(
            f"{len(inside)} of {len(drawn)} runs in the brushed range (drag on the axes; click outside to clear)"
        )
        shown = sweeps.best_first(drawn[drawn["run_id"].isin(inside)], higher_is_better=not lower)
        st.dataframe(
            widgets.arrow_safe(shown[["name", "target", *params]]).rename(
                columns={"target": target} | labels
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("Drag a rectangle over one or more axes to keep only the runs passing through it.")

    st.subheader("Each param against the target")
    columns = st.columns(min(3, len(params)))
    for i, param in enumerate(params):
        chart = charts.param_scatter(drawn, param, target, sweeps.is_log_scale(frame[param]), best)
        columns[i % len(columns)].altair_chart(chart, width="stretch")

    st.subheader("Parameter importance")
    table = data.param_importance(
        ctx.root,
        ctx.project,
        query.metric_column(metric, agg),
        tuple(params),
        ctx.token,
        ctx.loaded.loaded_at,
    )
    table["param"] = table["param"].map(labels)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "importance": st.column_config.ProgressColumn(
                "importance", min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "correlation": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption(IMPORTANCE_NOTE)

    if len(params) >= 2:
        st.subheader("Mean target over two params")
        row = st.columns(2)
        x = row[0].selectbox("x", params, index=0, format_func=labels.get, **URL.bind("heat_x"))
        y = row[1].selectbox("y", params, index=1, format_func=labels.get, **URL.bind("heat_y"))
        if x != y:
            st.altair_chart(
                charts.heatmap(sweeps.heatmap(frame, x, y), labels[x], labels[y], target), width="stretch"
            )
    widgets.share_control(URL)


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
