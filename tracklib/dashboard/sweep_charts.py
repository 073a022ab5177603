"""The Sweeps page's charts: DataFrame in, Altair chart out (pure; no streamlit import).

Colour: the parallel coordinates colour each line by the target on a sequential scale, not by
the run's own colour. Its question is "where do the good runs pass?", which a light-to-dark
scale answers at a glance over 50 to 1,000 lines, while 20 repeating run hues would say
nothing there. Every chart that shows runs one by one as categories (the scatters) uses the
run's colour from ``colors.run_colors``, the same as on Curves and Compare.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from tracklib.analysis import sweeps
from tracklib.dashboard.colors import color_scale

BRUSH = "brush"
FADED = 0.07  # a line outside the brush: still there, so the brush's context stays readable
SHOWN = 0.8
NOISE_GREY = "#b0b4ba"
SIGNAL_BLUE = "#1f77b4"


def parallel_coordinates(
    long: pd.DataFrame,
    ticks: pd.DataFrame,
    axes: list[str],
    target: str,
    brush: sweeps.Brush | None = None,
) -> alt.Chart:
    """One line per run across one vertical axis per param, the target last, coloured by it.

    Axes sit at x = 0, 1, 2, … so that a rectangular brush (x and y) names both the axes it
    covers and the range on them; the page filters runs with it, and ``brush`` (from the
    link) is drawn as the chart opens. A line that leaves the brush on any axis it covers
    fades: its opacity is a condition on the brush param, counted per run in the browser, so
    it follows the drag without a round trip.
    """
    index = {axis: i for i, axis in enumerate(axes)}
    data = long.assign(axis_index=long["axis"].map(index))
    tick_data = ticks.assign(axis_index=ticks["axis"].map(index))
    low = sweeps.MISSING_POSITION - 0.05 if (ticks["position"] < 0).any() else 0.0
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
    y = alt.Y("position:Q", axis=None, scale=alt.Scale(domain=[low, 1], nice=False))
    initial = {"x": list(brush.axes), "y": list(brush.positions)} if brush else alt.Undefined
    selection = alt.selection_interval(name=BRUSH, encodings=["x", "y"], value=initial)
    color = alt.Color("target:Q", title=target, scale=alt.Scale(scheme="viridis"))
    lines = (
        alt.Chart(data)
        .transform_calculate(_miss=_MISS)
        .transform_joinaggregate(_misses="sum(_miss)", groupby=["run_id"])
        .mark_line(strokeWidth=1.4)
        .encode(
            x=x,
            y=y,
            detail="run_id:N",
            color=color,
            opacity=alt.condition("datum._misses == 0", alt.value(SHOWN), alt.value(FADED)),
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
        .add_params(selection)
    )
    rules = alt.Chart(tick_data).mark_rule(color="#9aa0a6").encode(x=x)
    labels = (
        alt.Chart(tick_data)
        .mark_text(align="left", dx=5, fontSize=10, color="#5f6368")
        .encode(x=x, y=y, text="label:N")
    )
    return alt.layer(rules, lines, points, labels).properties(height=380)


# 1 where a run's point sits on an axis the brush covers but outside its range (the brush
# signal is {} until someone drags: no misses, every line shown).
_B = BRUSH
_MISS = (
    f"isValid({_B}.axis_index) && isValid({_B}.position)"
    f" && datum.axis_index >= min({_B}.axis_index[0], {_B}.axis_index[1])"
    f" && datum.axis_index <= max({_B}.axis_index[0], {_B}.axis_index[1])"
    f" && !(datum.position >= min({_B}.position[0], {_B}.position[1])"
    f" && datum.position <= max({_B}.position[0], {_B}.position[1])) ? 1 : 0"
)


def _label_expr(axes: list[str]) -> str:
    """A Vega expression naming axis i; param names are data, so they go in as JSON strings."""
    return f"{json.dumps(axes)}[datum.value]"


def param_scatter(
    frame: pd.DataFrame, param: str, target: str, log_x: bool, best: str | None, colors: dict[str, str]
) -> alt.Chart:
    """The target against one param, each run in its own colour; the best run large and outlined.

    A categorical param shows a missing value as "None" like every chart of the page; on a
    numeric axis a missing value has no place, so those runs are left out and the title says so.
    """
    numeric = pd.api.types.is_numeric_dtype(frame[param]) and not pd.api.types.is_bool_dtype(frame[param])
    data = pd.DataFrame(  # only what is drawn: the other params may hold values Arrow cannot carry
        {
            "run_id": frame["run_id"],
            "name": frame["name"],
            "target": frame["target"],
            "href": frame["href"] if "href" in frame else "",
            "param_value": frame[param] if numeric else sweeps.value_labels(frame[param]),
            "best": frame["run_id"] == best,
        }
    )
    title = param.removeprefix("params.")
    unset = int(data["param_value"].isna().sum()) if numeric else 0
    if unset:
        data = data[data["param_value"].notna()]
    domain, palette = color_scale(colors, data["run_id"].tolist())
    x = alt.X(
        "param_value:Q" if numeric else "param_value:N",
        title=title,
        scale=alt.Scale(type="log") if log_x else alt.Undefined,
    )
    chart_title = f"{title} ({unset} runs with None not drawn)" if unset else alt.Undefined
    return (
        alt.Chart(data, title=chart_title)
        .mark_point(filled=True)
        .encode(
            x=x,
            y=alt.Y("target:Q", title=target, scale=alt.Scale(zero=False)),
            size=alt.condition("datum.best", alt.value(220), alt.value(45)),
            color=alt.Color("run_id:N", scale=alt.Scale(domain=domain, range=palette), legend=None),
            stroke=alt.condition("datum.best", alt.value("#111111"), alt.value(None)),
            strokeWidth=alt.condition("datum.best", alt.value(2), alt.value(0)),
            href="href:N",
            tooltip=[
                "name:N",
                alt.Tooltip("param_value", title=title),
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


def importance_bars(table: pd.DataFrame, noise_level: float) -> alt.Chart:
    """Each param's importance as a bar, grey when it is indistinguishable from noise, with the
    noise level as a dashed rule: a bar must clear it to mean anything."""
    data = table[["param", "importance", "signal"]].assign(importance=table["importance"].fillna(0.0))
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("param:N", title=None, sort=None),
            x=alt.X("importance:Q", title="importance (share)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "signal:N",
                title=None,
                scale=alt.Scale(
                    domain=[sweeps.ABOVE_NOISE, sweeps.NOISE, sweeps.TOO_FEW],
                    range=[SIGNAL_BLUE, NOISE_GREY, NOISE_GREY],
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["param:N", alt.Tooltip("importance:Q", format=".3f"), "signal:N"],
        )
    )
    if not pd.notna(noise_level):
        return bars.properties(height=alt.Step(22))
    rule = (
        alt.Chart(pd.DataFrame({"noise": [min(noise_level, 1.0)]}))
        .mark_rule(strokeDash=[4, 3], color="#e0393e")
        .encode(x="noise:Q", tooltip=[alt.Tooltip("noise:Q", title="noise level", format=".3f")])
    )
    return alt.layer(bars, rule).properties(height=alt.Step(22))
