"""Curves: chosen metrics of chosen runs, one panel per metric in a grid of 2–3 per row.

Each panel has its own x axis, log scale and smoothing, kept in the link (``x``/``log``/
``smooth`` for the first panel, ``x2``/``log2``/``smooth2``… for the next). Per run, they
sit under the chart and switch in the browser, as do hover highlight and legend isolation;
the link (and the Share link) follows them. Per group, they are widgets of the panel, a
fragment that reruns alone on the rows the page read once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from tracklib.analysis import curves, direction
from tracklib.analysis import table as runs_table
from tracklib.dashboard import (
    colors,
    data,
    line_charts,
    project_settings,
    snapshot,
    snapshot_control,
    urlstate,
    vega_axes,
    vega_smoothing,
    widgets,
)
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

RECENT = 10
GROUP_BINS = 200
MAX_PANELS = 9
SMOOTH = urlstate.Number(0.0, 0.99)
POINTS = urlstate.Number(50, 20_000, whole=True)
NO_GROUP = "(none)"
KEPT_CHARTS = 32  # built charts kept for every session (a few MB)
DRAWN = "_curves_drawn"  # session key: panel index -> its chart as last drawn (for Snapshot)


def panel_key(kind: str, index: int) -> str:
    """The URL key of panel ``index``'s control (the first panel keeps the plain names)."""
    return kind if index == 0 else f"{kind}{index + 1}"


URL = urlstate.Keys(
    urlstate.Key("metrics", urlstate.Choice(None, many=True, unknown="This project has no metric")),
    *[
        key
        for i in range(MAX_PANELS)
        for key in (
            urlstate.Key(panel_key("x", i), urlstate.Choice(curves.X_AXES)),
            urlstate.Key(panel_key("log", i), urlstate.Flag()),
            urlstate.Key(panel_key("smooth", i), SMOOTH),
        )
    ],
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
    with widgets.controls("view"):
        run_ids = run_selector(runs, URL["runs"].name)
        chosen = st.multiselect(
            "Metrics (one panel each)",
            metrics_all,
            default=main_metrics(runs, ctx.loaded.summary),
            max_selections=MAX_PANELS,
            **URL.bind("metrics"),
        )
        group_by, band, points_per_series = _page_controls(runs)
    if not run_ids or not chosen:
        st.info("Choose at least one run and one metric.")
        return
    spec = curves.CurveSpec(
        metrics=tuple(chosen), group_by=group_by, band=band, points_per_series=points_per_series
    )
    budget = spec.per_series_budget(len(run_ids))
    with st.spinner(f"Reading {len(run_ids)} histories…"):
        history = data.load_history(
            ctx.root, ctx.project, tuple(run_ids), tuple(chosen), budget, ctx.token, ctx.loaded.asof
        )
    total = history.attrs.get("total_points", len(history))
    line = widgets.view_line(
        ctx.project,
        ctx.loaded.loaded_at,
        f"{len(run_ids)} of {len(runs)} runs",
        f"mean per {group_by} with {band} band" if group_by else "",
        asof=ctx.loaded.asof,
    )
    widgets.controls("hint").caption(
        f"showing {len(history):,} of {total:,} points (at most {budget:,} per series) · "
        "hover a line or a legend entry to highlight it, click legend entries to isolate runs "
        "(shift-click adds)"
    )
    links = widgets.run_links(ctx.root, ctx.project, run_ids)  # only theirs: 100,000 cost 1 s
    saved = project_settings.settings_of(ctx.root, ctx.project, ctx.token)
    per_row = panels_per_row(len(chosen))
    for start in range(0, len(chosen), per_row):
        columns = st.columns(per_row)
        for offset, metric in enumerate(chosen[start : start + per_row]):
            with columns[offset]:
                panel = Panel(start + offset, metric, direction.judged_by(metric, saved).lower_is_better)
                _panel(panel, history[history["key"] == metric], runs, spec, per_row, links)
    drawn = st.session_state.setdefault(DRAWN, {})  # each panel's chart as last drawn

    def frozen() -> snapshot.Snapshot:  # at click time: the panels' latest axes and scales
        charts = [drawn[i] for i in range(len(chosen)) if i in drawn]
        return snapshot.Snapshot("Curves", line, None, charts, link)

    link = widgets.share_link(URL, {"runs": run_ids})
    row = widgets.controls("share").columns([1, 3, 4])
    with row[0]:
        widgets.share_control(URL, {"runs": run_ids})
    with row[1]:
        snapshot_control.snapshot_button(frozen, f"{ctx.project}-curves")


def panels_per_row(count: int) -> int:
    """One wide panel alone, two per row for 2 or 4 metrics, three otherwise."""
    return 1 if count == 1 else 2 if count in (2, 4) else 3


@dataclass(frozen=True)
class Panel:
    """Which panel: its place in the grid (its URL keys), its metric, which way is better."""

    index: int
    metric: str
    lower_is_better: bool


@st.fragment
def _panel(
    panel: Panel,
    points: pd.DataFrame,
    runs: pd.DataFrame,
    spec: curves.CurveSpec,
    per_row: int,
    links: dict[str, str],
) -> None:
    """One metric's chart and its own controls; a change reruns this panel only.

    Per run, the x axis, log scale and smoothing are under the chart and switch in the
    browser (``vega_axes``, ``vega_smoothing``); per group, the bands are computed here, so
    they are widgets above the chart and a change redraws it."""
    if spec.group_by:
        _group_panel(panel, points, runs, spec, per_row)
        return
    index, metric = panel.index, panel.metric
    x, log_y, smoothing = _chart_controls(index)
    names = dict(zip(runs["run_id"], runs["name"], strict=False))
    run_colors = colors.run_colors(runs)
    build = partial(
        _curves_chart,
        points,
        runs,
        metric,
        x,
        log_y,
        smoothing,
        run_colors,
        names,
        legend_columns=legend_columns(per_row),
        lower_is_better=panel.lower_is_better,  # the project's saved direction first
        links=links,
    )
    shown = runs[runs["run_id"].isin(points["run_id"].unique())]
    inputs = (
        metric,
        x,
        log_y,
        smoothing,
        per_row,
        panel.lower_is_better,
        int(pd.util.hash_pandas_object(points[["run_id", "step", "time", "value"]], index=False).sum()),
        tuple(
            (r, names[r], run_colors[r], links.get(r), t)
            for r, t in zip(shown["run_id"], shown["start_time"])
        ),
    )
    chart = _kept_chart(inputs, build)
    st.session_state.setdefault(DRAWN, {})[index] = chart
    chart_key = f"chart_{panel_key('smooth', index)}"
    st.altair_chart(
        chart,
        width="stretch",
        key=chart_key,
        on_select=partial(_chart_moved, chart_key, index),
        selection_mode=[vega_smoothing.SMOOTH, vega_axes.X_PICK, vega_axes.LOG_PICK],
    )
    if st.session_state.get(panel_key("log", index)):  # as now, not as drawn: the checkbox may have moved
        dropped = curves.positive(points)[1]
        if dropped:
            st.caption(f"log scale: {dropped} points ≤ 0 are not drawn")


def _curves_chart(
    points: pd.DataFrame, runs: pd.DataFrame, *args: object, **kwargs: object
) -> alt.LayerChart:
    """``line_charts.curves`` of ``points`` with every x axis's column."""
    return line_charts.curves(curves.with_relative(points, runs), *args, **kwargs)  # type: ignore[arg-type]


@st.cache_resource(max_entries=KEPT_CHARTS, show_spinner=False)
def _kept_chart(inputs: tuple, _build: Callable[[], alt.LayerChart]) -> alt.LayerChart:
    """The chart for ``inputs`` (what it is drawn from), built again only when they change:
    building the four layers costs ~150 ms (mostly Altair's schema checks), and a control
    moved under the chart reruns the panel with the same inputs only to write the link."""
    return _build()


def _group_panel(
    panel: Panel, points: pd.DataFrame, runs: pd.DataFrame, spec: curves.CurveSpec, per_row: int
) -> None:
    index, metric = panel.index, panel.metric
    left, right = widgets.controls(f"panel{index}").columns([3, 1])
    x = left.segmented_control(
        "x axis", list(curves.X_AXES), default="step", required=True, **URL.bind(panel_key("x", index))
    )
    log_y = right.toggle("log y", **URL.bind(panel_key("log", index)))
    points = curves.add_x(points, runs, x)
    if log_y:
        points, dropped = curves.positive(points)
        if dropped:
            st.caption(f"log scale: {dropped} points ≤ 0 are not drawn")
    smoothing = widgets.controls(f"smooth{index}").slider(
        "Smoothing (EMA)", SMOOTH.low, SMOOTH.high, 0.0, 0.01, **URL.bind(panel_key("smooth", index))
    )
    bands = curves.group_bands(curves.smooth(points, smoothing), runs, spec.group_by, spec.band, GROUP_BINS)
    chart = line_charts.group_curves(bands, metric, x, log_y, legend_columns=legend_columns(per_row))
    st.session_state.setdefault(DRAWN, {})[index] = chart
    st.altair_chart(chart, width="stretch")


def _chart_controls(index: int) -> tuple[str, bool, float]:
    """Where the chart's own controls start: the link's x axis, log scale and smoothing
    (checked by ``guard_url``).

    When one of them just moved in the chart, the chart keeps the values it was drawn with:
    the browser already shows the change, and a changed spec would draw the chart again.
    Any other change draws it anyway, starting from the latest values.
    """
    seed = f"_panel{index}_drawn"
    if st.session_state.pop(f"_panel{index}_moved", False) and seed in st.session_state:
        return st.session_state[seed]
    x_key, log_key, smooth_key = (panel_key(kind, index) for kind in ("x", "log", "smooth"))
    drawn = (
        st.query_params.get(x_key) or "step",
        (st.query_params.get(log_key) or "").lower() == "true",
        float(st.query_params.get(smooth_key) or 0.0),
    )
    for key, value in zip((x_key, log_key, smooth_key), drawn):
        st.session_state[key] = value  # the Share link carries them on
    st.session_state[seed] = drawn
    return drawn


def _chart_moved(chart_key: str, index: int) -> None:
    """A control under the chart moved: the link follows (the browser already redrew)."""
    selection = st.session_state[chart_key].get("selection", {})
    moved: dict[str, object] = dict(vega_axes.chosen(selection))
    smoothing = vega_smoothing.chosen(selection)
    if smoothing is not None:
        moved["smooth"] = smoothing
    st.session_state[f"_panel{index}_moved"] = True
    for kind, value in moved.items():
        key = panel_key(kind, index)
        st.session_state[key] = value
        default = {"x": "step", "log": False, "smooth": 0.0}[kind]
        if value == default:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = f"{value:g}" if kind == "smooth" else str(value).lower()


def legend_columns(per_row: int) -> int:
    return {1: 5, 2: 2}.get(per_row, 1)


def run_selector(runs: pd.DataFrame, key: str, newest: int = RECENT, label: str = "Runs shown") -> list[str]:
    """A compact run picker (no wall of 40 chips): a count, a popover with the picker and
    "show a group"; without a choice, the ``newest`` runs."""
    recent = runs_table.newest(runs, newest)["run_id"].tolist()
    count, pick = st.columns([3, 2])
    with pick.popover("Choose runs", icon=":material/filter_list:", width="stretch"):
        groups = _group_values(runs)
        if groups:
            st.selectbox(
                "Show one group",
                [NO_GROUP, *groups],
                key=f"{key}_group",
                on_change=_show_group,
                args=(runs, key),
            )
        run_ids = widgets.run_picker(runs, key=key, label=label, multi=True, default=recent)
    count.markdown(f"**{len(run_ids)} of {len(runs)} runs shown**")
    return run_ids


def _group_values(runs: pd.DataFrame) -> list[str]:
    if "group" not in runs:
        return []
    return sorted({str(v) for v in runs["group"].dropna() if str(v)})


def _show_group(runs: pd.DataFrame, key: str) -> None:
    group = st.session_state.get(f"{key}_group")
    if group in (None, NO_GROUP):
        return
    members = runs.loc[runs["group"].astype(str) == group, "run_id"].tolist()
    st.session_state[key] = members
    st.query_params[key] = members


def _page_controls(runs: pd.DataFrame) -> tuple[str | None, str, int]:
    row = st.columns([2, 1, 1])
    group_by = row[0].selectbox("Group by", _groups(runs), **URL.bind("group_by"))
    band = row[1].selectbox("Band", list(curves.BANDS), **URL.bind("band"))
    points = row[2].number_input(
        "Points/series", int(POINTS.low), int(POINTS.high), 1000, 50, **URL.bind("points")
    )
    return (None if group_by == NO_GROUP else group_by), band, int(points)


def _groups(runs: pd.DataFrame) -> list[str]:
    return [NO_GROUP, "group", "tags", *[c for c in runs.columns if c.startswith("params.")]]


def main_metrics(runs: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """The headline metric and, if there is one, a loss to go with it."""
    headline = query.headline_metric(runs, summary)
    losses = [m for m in query.metric_names(runs) if "loss" in m.lower() and m != headline]
    return [m for m in (headline, *losses[:1]) if m]


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
