"""Sweeps: which hyperparameters drive a target metric — parallel coordinates, scatters,
importance, and a heatmap over two params.

The page studies one sweep (a ``group``; by default the newest run's) or the runs carried
from the Runs page, never every sweep of a project mixed. The brush on the parallel
coordinates is kept in the link, and its runs can be opened on Curves or Compare.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from tracklib.analysis import direction, sweeps
from tracklib.dashboard import (
    app,
    colors,
    data,
    project_settings,
    snapshot,
    snapshot_control,
    sweep_charts,
    tables,
    urlstate,
    widgets,
)
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

URL = urlstate.Keys(  # params are named in the link as the widgets show them: without "params."
    urlstate.Key("metric", urlstate.Choice(None, unknown="This project has no metric")),
    urlstate.Key("agg", urlstate.Choice(query.AGGREGATES)),
    urlstate.Key("params", urlstate.Choice(None, many=True)),
    urlstate.Key("heat_x", urlstate.Choice(None)),
    urlstate.Key("heat_y", urlstate.Choice(None)),
    urlstate.Key("group", urlstate.Choice(None, unknown="This project has no sweep (group) named")),
    urlstate.Key("brush_axes", urlstate.Span(-1.0, 1_000.0)),  # the brush: axes it spans, by index
    urlstate.Key("brush_range", urlstate.Span(-1.0, 2.0)),  # and the range on them (0…1 positions)
    urlstate.Key("runs"),  # run ids carried from the Runs page: only the project's are kept
)
PARALLEL = "parallel"  # the chart's key: its state lives as long as the page shows it
_BRUSH_FROM_LINK = "_sweeps_brush_from_link"
_BRUSH_TOUCHED = "_sweeps_brush_touched"
IMPORTANCE_NOTE = (
    "How to read this: **correlation** (Spearman, −1…1) says whether the target rises or falls as "
    "the param grows — numeric params only. **importance** is how much a random forest's "
    "predictions of the target get worse when that param is shuffled (shares sum to 1); it "
    "also catches non-monotonic and categorical effects. Columns of random numbers are fitted "
    "beside the params: a param whose importance does not clearly exceed theirs (the dashed "
    "noise level) is **indistinguishable from noise**, whatever its rank. Both describe these "
    "runs, not causes."
)


def render(ctx: Context) -> None:
    st.title("Sweeps")
    widgets.guard_url(URL.pick("group", "brush_axes", "brush_range").rules(group=_groups(ctx)))
    runs, group, carried = _scope(ctx)
    metrics = query.metric_names(runs)
    candidates = query.varying_params(runs, missing_is_a_value=False)
    if metrics:  # a link's unknown metric gets its notice even when these runs are no sweep
        widgets.guard_url(URL.pick("metric").rules(metric=metrics))
    if not metrics or not candidates:
        st.info("A sweep needs runs that logged a metric and differ in at least one param.")
        with widgets.controls("share"):
            widgets.share_control(URL, {"runs": carried})
        return
    labels = {p: p.removeprefix("params.") for p in candidates}  # what the widgets show, and the URL holds
    offered = list(labels.values())
    widgets.guard_url(
        URL.pick("metric", "agg", "params", "heat_x", "heat_y").rules(
            metric=metrics, params=offered, heat_x=offered, heat_y=offered
        )
    )
    row = widgets.controls("target").columns([3, 2, 5])
    saved = project_settings.settings_of(ctx.root, ctx.project, ctx.token)
    headline = direction.headline(runs, ctx.loaded.summary, saved).metric  # saved, else guessed
    metric = row[0].selectbox("Target", metrics, index=metrics.index(headline), **URL.bind("metric"))
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
    params = row[2].multiselect(
        "Params", candidates, default=candidates, format_func=labels.get, **URL.bind("params")
    )
    target = f"{agg} {metric}"
    frame = sweeps.sweep_frame(runs, params, query.metric_column(metric, agg))
    if frame.empty or not params:
        st.info("No run has this target yet, or no param is chosen.")
        return
    best = sweeps.best_run(frame, higher_is_better=not lower)
    line = widgets.view_line(
        ctx.project,
        ctx.loaded.loaded_at,
        f"sweep {group}" if not carried else f"{len(carried)} chosen runs",
        f"target: {target}, {'lowest' if lower else 'highest'} best",
        f"{len(frame):,} runs",
        asof=ctx.loaded.asof,
    )
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
    if PARALLEL not in st.session_state:  # the chart opens: it draws the link's brush
        st.session_state[_BRUSH_FROM_LINK] = _link_brush()
        st.session_state[_BRUSH_TOUCHED] = False
    if _chart_reported(PARALLEL):  # asked before the chart is drawn: drawing it fills in a value
        st.session_state[_BRUSH_TOUCHED] = True
    parallel = sweep_charts.parallel_coordinates(
        long, ticks, axes, target, st.session_state[_BRUSH_FROM_LINK]
    )
    shown_charts = [parallel]  # for Snapshot, in page order
    event = st.altair_chart(
        parallel,
        width="stretch",
        key=PARALLEL,
        on_select="rerun",
        selection_mode=sweep_charts.BRUSH,
    )
    brush = _current_brush(event.selection.get(sweep_charts.BRUSH))
    inside = sweeps.brushed_runs(long, axes, brush)
    if inside is not None:
        st.caption(
            f"{len(inside)} of {len(drawn)} runs in the brushed range (drag on the axes; click outside to clear)"
        )
        with widgets.controls("open"):
            _open_elsewhere(ctx, inside)
        shown = sweeps.best_first(drawn[drawn["run_id"].isin(inside)], higher_is_better=not lower)
        brushed = widgets.arrow_safe(shown[["name", "target", *params]]).rename(
            columns={"target": target} | labels
        )
        named, links = tables.run_links(brushed, ctx.project, run_ids=shown["run_id"])
        tables.show_runs(
            named,
            links,
            key="sweeps_brushed",
            hide_index=True,
            width="stretch",
            height=tables.height(len(named)),
            column_config=tables.column_config(brushed),
        )
    else:
        widgets.controls("hint").caption(
            "Drag a rectangle over one or more axes to keep only the runs passing through it."
        )

    st.subheader("Each param against the target")
    columns = st.columns(min(3, len(params)))
    run_colors = colors.run_colors(ctx.loaded.runs)  # by place among the project's runs: as on every page
    for i, param in enumerate(params):
        log_x = sweeps.is_log_scale(frame[param])
        chart = sweep_charts.param_scatter(drawn, param, target, log_x, best, run_colors)
        shown_charts.append(chart)
        columns[i % len(columns)].altair_chart(chart, width="stretch")

    st.subheader("Parameter importance")
    table = data.param_importance(
        ctx.root,
        ctx.project,
        query.metric_column(metric, agg),
        tuple(params),
        ctx.token,
        ctx.loaded.loaded_at,
        group,
        tuple(carried),
        ctx.loaded.asof,
    )
    table["param"] = table["param"].map(labels)
    noisy = table.loc[table["signal"] == sweeps.NOISE, "param"].tolist()
    if noisy:
        st.caption(
            widgets.md_escape(f"Indistinguishable from noise here: {', '.join(noisy)}.")
            if len(noisy) < len(table)
            else "No param's importance clearly exceeds noise in these runs."
        )
    shown_charts.append(sweep_charts.importance_bars(table, table.attrs.get("noise_level")))
    st.altair_chart(shown_charts[-1], width="stretch")
    importance = table.rename(columns={"signal": "vs noise"})
    st.dataframe(
        importance,
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
        row = widgets.controls("heat").columns(2)
        x = row[0].selectbox("x", params, index=0, format_func=labels.get, **URL.bind("heat_x"))
        y = row[1].selectbox("y", params, index=1, format_func=labels.get, **URL.bind("heat_y"))
        if x != y:
            shown_charts.append(
                sweep_charts.heatmap(sweeps.heatmap(frame, x, y), labels[x], labels[y], target)
            )
            st.altair_chart(shown_charts[-1], width="stretch")
    frozen = snapshot.Snapshot(
        "Sweeps", line, importance, shown_charts, widgets.share_link(URL, {"runs": carried})
    )
    row = widgets.controls("share").columns([1, 3, 4])
    with row[0]:
        widgets.share_control(URL, {"runs": carried})
    with row[1]:
        snapshot_control.snapshot_button(lambda: frozen, f"{ctx.project}-sweeps")


def _groups(ctx: Context) -> list[str]:
    return sweeps.group_options(ctx.loaded.runs)


def _scope(ctx: Context) -> tuple[pd.DataFrame, str, list[str]]:
    """The runs this page studies: those carried from the Runs page, else one sweep's (a group
    selector, by default the newest run's group). Returns them, the group and the carried ids."""
    project_runs = ctx.loaded.runs
    picked = URL["runs"].name
    widgets.notice_unknown(picked, set(project_runs["run_id"]), "This project has no run")
    carried = sweeps.carried(project_runs, st.query_params.get_all(picked))
    if carried:
        st.query_params[picked] = carried
        row = widgets.controls("scope").columns([3, 2], vertical_alignment="center")
        row[0].caption(f"{len(carried)} runs carried from the Runs page.")
        row[1].page_link(
            app.page("sweeps"),
            label="Study a whole sweep instead",
            icon=":material/tune:",
            query_params={"root": ctx.root, "project": ctx.project},
        )
        return sweeps.scoped(project_runs, sweeps.ALL_RUNS, carried), sweeps.ALL_RUNS, carried
    options = _groups(ctx)
    default = sweeps.newest_group(project_runs)
    group = widgets.controls("scope").selectbox(
        "Sweep (group)",
        options,
        index=options.index(default),
        help="The runs of one group; the newest run's group unless the link names another.",
        **URL.bind("group"),
    )
    runs = sweeps.scoped(project_runs, group)
    widgets.controls("scope-count").caption(f"{len(runs):,} of {len(project_runs):,} runs of this project.")
    return runs, group, []


def _link_brush() -> sweeps.Brush | None:
    return sweeps.Brush.from_link(
        st.query_params.get(URL["brush_axes"].name), st.query_params.get(URL["brush_range"].name)
    )


def _chart_reported(key: str) -> bool:
    """Whether the browser sent the selection of the chart ``key`` for this run: it does from
    the first brush drawn or cleared in the chart on. The selection alone cannot tell: a brush
    cleared in the chart reads ``{}``, as does a chart nobody touched (showing the link's)."""
    ctx = get_script_run_ctx()
    own = re.compile(rf"\$\$ID-[0-9a-f]+-{re.escape(key)}")  # a keyed element's id ends with its key
    return ctx is not None and any(own.fullmatch(state.id) for state in ctx.session_state.get_widget_states())


def _current_brush(selection: dict[str, list[float]] | None) -> sweeps.Brush | None:
    """The chart's brush once someone has brushed or cleared it, the link's until then;
    written to the link."""
    dragged = sweeps.Brush.from_selection(selection)
    if dragged is not None:
        st.session_state[_BRUSH_TOUCHED] = True
    brush = dragged if st.session_state.get(_BRUSH_TOUCHED) else st.session_state.get(_BRUSH_FROM_LINK)
    for name, value in zip(("brush_axes", "brush_range"), brush.to_link() if brush else (None, None)):
        st.session_state[name] = value  # what the Share link reads for a key with a rule
        if value is None:
            st.query_params.pop(name, None)
        elif st.query_params.get(name) != value:
            st.query_params[name] = value
    return brush


def _open_elsewhere(ctx: Context, run_ids: list[str]) -> None:
    """Links that open the brushed runs on Curves and Compare, as the Runs page carries picks."""
    if not run_ids:
        return
    carry = {"root": ctx.root, "project": ctx.project, "runs": run_ids}
    row = st.columns(4)
    for column, (name, label, icon) in zip(
        row,
        [("curves", "Curves", ":material/show_chart:"), ("compare", "Compare", ":material/compare_arrows:")],
    ):
        column.page_link(
            app.page(name),
            label=f"Open these {len(run_ids)} runs in {label}",
            icon=icon,
            query_params=carry,
        )


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
