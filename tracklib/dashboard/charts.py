"""Chart builders: DataFrame in, Altair chart out (pure; no streamlit import)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def small_curves(history: pd.DataFrame, columns: int = 3, width: int = 260, height: int = 150) -> alt.Chart:
    """One small line chart per metric of one run (each with its own y scale)."""
    data = history.assign(value=history["value"].where(history["value"].abs() != float("inf")))
    return (
        alt.Chart(data)
        .mark_line(point=False, strokeWidth=1.8)
        .encode(
            x=alt.X("step:Q", title="step"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("key:N", title="metric"), "step:Q", alt.Tooltip("value:Q", format=".4g")],
        )
        .properties(width=width, height=height)
        .facet(facet=alt.Facet("key:N", title=None), columns=columns)
        .resolve_scale(y="independent")
    )


def status_bars(counts: pd.DataFrame, colors: dict[str, str]) -> alt.Chart:
    """Run counts by status per project, as horizontal stacked bars."""
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            y=alt.Y("project:N", title=None),
            x=alt.X("runs:Q", title="runs"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["project:N", "status:N", "runs:Q"],
        )
        .properties(height=alt.Step(28))
    )


_X_ENCODING = {
    "step": ("x:Q", "step"),
    "time": ("x:T", "wall time"),
    "relative": ("x:Q", "seconds since start"),
}


def curves(
    points: pd.DataFrame, metric: str, x: str, log_y: bool, smoothed: bool, height: int = 320
) -> alt.Chart:
    """Lines of one metric, one per run: raw faintly behind the smoothed line when smoothing.

    Invisible points carry the tooltip and the link to the run's page (``href``).
    """
    field, title = _X_ENCODING[x]
    y_scale = alt.Scale(type="log" if log_y else "linear", zero=False)
    base = alt.Chart(points).encode(
        x=alt.X(field, title=title),
        color=alt.Color("name:N", title="run", legend=alt.Legend(orient="right", labelLimit=220)),
        detail="run_id:N",
    )
    raw = base.mark_line(strokeWidth=1, opacity=0.25 if smoothed else 1.0).encode(
        y=alt.Y("value:Q", title=metric, scale=y_scale)
    )
    value = "smoothed" if smoothed else "value"
    hover = base.mark_circle(size=40, opacity=0).encode(
        y=alt.Y(f"{value}:Q", scale=y_scale),
        href="href:N",
        tooltip=[
            alt.Tooltip("name:N", title="run"),
            alt.Tooltip("step:Q"),
            alt.Tooltip("value:Q", format=".5g"),
            alt.Tooltip("smoothed:Q", format=".5g"),
            alt.Tooltip("time:T", format="%Y-%m-%d %H:%M:%S"),
        ],
    )
    layers = (
        [raw, base.mark_line(strokeWidth=2).encode(y=alt.Y("smoothed:Q", scale=y_scale)), hover]
        if smoothed
        else [raw, hover]
    )
    return alt.layer(*layers).properties(title=metric, height=height)


def group_curves(bands: pd.DataFrame, metric: str, x: str, log_y: bool, height: int = 320) -> alt.Chart:
    """One mean line per group with its band; the legend names each group with its run count."""
    field, title = _X_ENCODING[x]
    y_scale = alt.Scale(type="log" if log_y else "linear", zero=False)
    base = alt.Chart(bands).encode(
        x=alt.X(field, title=title),
        color=alt.Color("group:N", title="group", legend=alt.Legend(labelLimit=260)),
    )
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("lower:Q", title=metric, scale=y_scale), y2="upper:Q")
    line = base.mark_line(strokeWidth=2).encode(
        y=alt.Y("mean:Q", scale=y_scale),
        tooltip=[
            "group:N",
            alt.Tooltip("mean:Q", format=".5g"),
            alt.Tooltip("lower:Q", format=".5g"),
            alt.Tooltip("upper:Q", format=".5g"),
            "runs:Q",
        ],
    )
    return alt.layer(band, line).properties(title=metric, height=height)
