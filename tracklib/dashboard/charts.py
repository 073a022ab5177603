"""Chart builders: DataFrame in, Altair chart out (pure; no streamlit import)."""

from __future__ import annotations

import json

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


BRUSH = "brush"


def parallel_coordinates(long: pd.DataFrame, ticks: pd.DataFrame, axes: list[str], target: str) -> alt.Chart:
    """One line per run across one vertical axis per param, the target last, coloured by it.

    Axes sit at x = 0, 1, 2, … so that a rectangular brush (x and y) names both the axes
    it covers and the range on them; the page filters runs with it.
    """
    index = {axis: i for i, axis in enumerate(axes)}
    data = long.assign(axis_index=long["axis"].map(index))
    tick_data = ticks.assign(axis_index=ticks["axis"].map(index))
    x = alt.X(
        "axis_index:Q",
        title=None,
        scale=alt.Scale(domain=[-0.2, len(axes) - 0.5], nice=False),  # room for the last labels
        axis=alt.Axis(
            values=list(range(len(axes))),
            labelExpr=_label_expr(axes),
            grid=False,
            labelAngle=0,
            orient="top",
            labelFontWeight="bold",
            labelLimit=140,
            domain=False,
            ticks=False,
        ),
    )
    y = alt.Y("position:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    brush = alt.selection_interval(name=BRUSH, encodings=["x", "y"])
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=1.4, opacity=0.75)
        .encode(
            x=x,
            y=y,
            detail="run_id:N",
            color=alt.Color("target:Q", title=target, scale=alt.Scale(scheme="viridis")),
        )
    )
    points = (
        alt.Chart(data)
        .mark_circle(size=28)
        .encode(
            x=x,
            y=y,
            color=alt.Color("target:Q", scale=alt.Scale(scheme="viridis"), legend=None),
            href="href:N",
            tooltip=[
                alt.Tooltip("name:N", title="run"),
                "axis:N",
                "value:N",
                alt.Tooltip("target:Q", format=".4g"),
            ],
        )
        .add_params(brush)
    )
    rules = alt.Chart(tick_data).mark_rule(color="#9aa0a6").encode(x=x)
    labels = (
        alt.Chart(tick_data)
        .mark_text(align="left", dx=5, fontSize=10, color="#5f6368")
        .encode(x=x, y=y, text="label:N")
    )
    return alt.layer(rules, lines, points, labels).properties(height=380)


def _label_expr(axes: list[str]) -> str:
    """A Vega expression naming axis i; param names are data, so they go in as JSON strings."""
    return f"{json.dumps(axes)}[datum.value]"


def param_scatter(frame: pd.DataFrame, param: str, target: str, log_x: bool, best: str | None) -> alt.Chart:
    """The target against one param; the best run drawn as a large outlined point."""
    numeric = pd.api.types.is_numeric_dtype(frame[param]) and not pd.api.types.is_bool_dtype(frame[param])
    data = pd.DataFrame(  # only what is drawn: the other params may hold values Arrow cannot carry
        {
            "name": frame["name"],
            "target": frame["target"],
            "href": frame["href"] if "href" in frame else "",
            "param_value": frame[param] if numeric else frame[param].astype(str),
            "best": frame["run_id"] == best,
        }
    )
    x = alt.X(
        "param_value:Q" if numeric else "param_value:N",
        title=param.removeprefix("params."),
        scale=alt.Scale(type="log") if log_x else alt.Undefined,
    )
    return (
        alt.Chart(data)
        .mark_point(filled=True)
        .encode(
            x=x,
            y=alt.Y("target:Q", title=target, scale=alt.Scale(zero=False)),
            size=alt.condition("datum.best", alt.value(220), alt.value(45)),
            color=alt.condition("datum.best", alt.value("#e8590c"), alt.value("#4f46e5")),
            href="href:N",
            tooltip=[
                "name:N",
                alt.Tooltip("param_value", title=param.removeprefix("params.")),
                alt.Tooltip("target:Q", format=".4g"),
            ],
        )
        .properties(height=220)
    )


def heatmap(cells: pd.DataFrame, x: str, y: str, target: str) -> alt.Chart:
    """Mean target over two params (cells hold ``x, y, mean, count`` and sort orders)."""
    x_sort = cells.sort_values("x_order")["x"].unique().tolist()
    y_sort = cells.sort_values("y_order")["y"].unique().tolist()
    base = alt.Chart(cells).encode(x=alt.X("x:N", title=x, sort=x_sort), y=alt.Y("y:N", title=y, sort=y_sort))
    rect = base.mark_rect().encode(
        color=alt.Color("mean:Q", title=f"mean {target}", scale=alt.Scale(scheme="viridis")),
        tooltip=["x:N", "y:N", alt.Tooltip("mean:Q", format=".4g"), "count:Q"],
    )
    text = base.mark_text(fontSize=11, color="white").encode(text=alt.Text("mean:Q", format=".3f"))
    return alt.layer(rect, text).properties(height=320)
