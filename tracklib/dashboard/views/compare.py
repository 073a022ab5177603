"""Compare: two or more runs side by side — params, metrics, environment — and their curves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracklib.analysis import compare, curves
from tracklib.dashboard import colors, data, image_gallery, line_charts, urlstate, widgets
from tracklib.dashboard.frame import Context, run_page
from tracklib.dashboard.views.curves import legend_columns, main_metrics, panels_per_row, run_selector
from tracklib.read import query

URL = urlstate.Keys(
    urlstate.Key("diff_only", urlstate.Flag()),
    urlstate.Key("metrics", urlstate.Choice(None, many=True, unknown="This project has no metric")),
    urlstate.Key("runs"),  # run ids: the run picker keeps the project's
)


def render(ctx: Context) -> None:
    runs = ctx.loaded.runs
    st.title("Compare")
    metric_names = query.metric_names(runs)
    widgets.guard_url(URL.rules(metrics=metric_names))
    run_ids = run_selector(runs, URL["runs"].name, newest=2, label="Runs to compare")
    if len(run_ids) < 2:
        st.info("Choose at least two runs.")
        return
    chosen = runs.set_index("run_id").loc[run_ids].reset_index()
    environments = {r: data.load_run(ctx.root, ctx.project, r, ctx.token).environment for r in run_ids}
    table = compare.comparison(chosen, environments)
    only_differences = st.toggle("Only differences", value=True, **URL.bind("diff_only"))
    shown = table[table["differs"]] if only_differences else table
    st.caption(f"{int(table['differs'].sum())} of {len(table)} fields differ")
    st.dataframe(_highlight(shown.drop(columns="differs")), hide_index=True, width="stretch")

    metrics = st.multiselect(
        "Metrics",
        metric_names,
        default=main_metrics(runs, ctx.loaded.summary),
        **URL.bind("metrics"),
    )
    if metrics:
        history = data.load_history(
            ctx.root,
            ctx.project,
            tuple(run_ids),
            tuple(metrics),
            _budget(metrics, len(run_ids)),
            ctx.token,
            ctx.loaded.asof,
        )
        history = curves.with_relative(history, runs)  # every x axis the chart can switch to
        names = dict(zip(runs["run_id"], runs["name"], strict=False))
        run_colors = colors.run_colors(runs)  # the same colour as on Curves and the Run page
        per_row = panels_per_row(len(metrics))  # the grid of the Curves page
        for start in range(0, len(metrics), per_row):
            for column, metric in zip(st.columns(per_row), metrics[start : start + per_row], strict=False):
                chart = line_charts.curves(
                    history[history["key"] == metric],
                    metric,
                    "step",
                    False,
                    0.0,
                    run_colors,
                    names,
                    height=260,
                    legend_columns=legend_columns(per_row),
                )
                column.altair_chart(chart, width="stretch")
    image_gallery.compare_images(ctx, run_ids, dict(zip(runs["run_id"], runs["name"], strict=False)))
    widgets.share_control(URL, {"runs": run_ids})


def _budget(metrics: list[str], runs: int) -> int:
    """Points per series: the Curves page's cap per chart, so 49 runs draw as fast there as here."""
    return curves.CurveSpec(metrics=tuple(metrics)).per_series_budget(runs)


def _highlight(table: pd.DataFrame) -> object:
    """Cells that differ from the first run's value are highlighted."""
    runs = [c for c in table.columns if c not in ("section", "field")]

    def row_style(row: pd.Series) -> list[str]:
        first = row[runs[0]]
        return [
            "" if c not in runs or row[c] == first else "background-color: #fff3bf" for c in table.columns
        ]

    return table.style.apply(row_style, axis=1)


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
