"""Curves: chosen metrics of chosen runs over step or time, smoothed, grouped, downsampled."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracklib.analysis import curves
from tracklib.analysis import table as runs_table
from tracklib.dashboard import charts, data, urlstate, widgets
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

RECENT = 10
GROUP_BINS = 200
SMOOTH = urlstate.Number(0.0, 0.99)
POINTS = urlstate.Number(50, 20_000, whole=True)
URL = urlstate.Keys(
    urlstate.Key("metrics", urlstate.Choice(None, many=True, unknown="This project has no metric")),
    urlstate.Key("x", urlstate.Choice(curves.X_AXES)),
    urlstate.Key("log", urlstate.Flag()),
    urlstate.Key("smooth", SMOOTH),
    urlstate.Key("group_by", urlstate.Choice(None)),
    urlstate.Key("band", urlstate.Choice(curves.BANDS)),
    urlstate.Key("points", POINTS),
    urlstate.Key("runs"),  # run ids: the run picker keeps the project's
)


def render(ctx: Context) -> None:
    runs = ctx.loaded.runs
    st.title("Curves")
    metrics_all = query.metric_names(runs)
    if not metrics_all:
        st.info("No run in this project has logged a metric yet.")
        return
    widgets.guard_url(URL.rules(metrics=metrics_all, group_by=_groups(runs)))
    recent = runs_table.newest(runs, RECENT)["run_id"].tolist()
    run_ids = widgets.run_picker(runs, key=URL["runs"].name, label="Runs", multi=True, default=recent)
    chosen = st.multiselect(
        "Metrics",
        metrics_all,
        default=main_metrics(runs, ctx.loaded.summary),
        **URL.bind("metrics"),
    )
    spec = _controls(runs)
    if not run_ids or not chosen:
        st.info("Choose at least one run and one metric.")
        return
    spec = curves.CurveSpec(metrics=tuple(chosen), **spec)
    budget = spec.per_series_budget(len(run_ids))
    with st.spinner(f"Reading {len(run_ids)} histories…"):
        history = data.load_history(ctx.root, ctx.project, tuple(run_ids), tuple(chosen), budget, ctx.token)
    total = history.attrs.get("total_points", len(history))
    history = curves.smooth(curves.add_x(history, runs, spec.x), spec.smoothing)
    if spec.log_y:
        history, dropped = curves.positive(history)
        if dropped:
            st.caption(f"log scale: {dropped} points ≤ 0 are not drawn")
    st.caption(f"showing {len(history):,} of {total:,} points (at most {budget:,} per series)")
    names = runs.set_index("run_id")["name"]
    for metric in chosen:
        points = history[history["key"] == metric]
        if spec.group_by:
            bands = curves.group_bands(points, runs, spec.group_by, spec.band, GROUP_BINS)
            st.altair_chart(charts.group_curves(bands, metric, spec.x, spec.log_y), width="stretch")
        else:
            links = widgets.run_links(ctx.root, ctx.project, run_ids)  # only theirs: 100,000 cost 1 s
            points = points.assign(name=points["run_id"].map(names), href=points["run_id"].map(links))
            st.altair_chart(
                charts.curves(points, metric, spec.x, spec.log_y, spec.smoothing > 0), width="stretch"
            )
    widgets.share_control(URL, {"runs": run_ids})


def _controls(runs: pd.DataFrame) -> dict[str, object]:
    row = st.columns([2, 1, 2, 2, 1, 1])
    x = row[0].segmented_control(
        "x axis", list(curves.X_AXES), default="step", required=True, **URL.bind("x")
    )
    log_y = row[1].toggle("log y", **URL.bind("log"))
    smoothing = row[2].slider("Smoothing (EMA)", SMOOTH.low, SMOOTH.high, 0.0, 0.01, **URL.bind("smooth"))
    group_by = row[3].selectbox("Group by", _groups(runs), **URL.bind("group_by"))
    band = row[4].selectbox("Band", list(curves.BANDS), **URL.bind("band"))
    points = row[5].number_input(
        "Points/series", int(POINTS.low), int(POINTS.high), 1000, 50, **URL.bind("points")
    )
    return {
        "x": x,
        "log_y": log_y,
        "smoothing": smoothing,
        "group_by": None if group_by == "(none)" else group_by,
        "band": band,
        "points_per_series": int(points),
    }


def _groups(runs: pd.DataFrame) -> list[str]:
    return ["(none)", "group", "tags", *[c for c in runs.columns if c.startswith("params.")]]


def main_metrics(runs: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """The headline metric and, if there is one, a loss to go with it."""
    headline = query.headline_metric(runs, summary)
    losses = [m for m in query.metric_names(runs) if "loss" in m.lower() and m != headline]
    return [m for m in (headline, *losses[:1]) if m]


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
