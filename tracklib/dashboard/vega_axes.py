"""The x axis and the log scale of a runs chart, switched by Vega in the browser.

A radio under the chart (step · wall time · seconds since start) and a "log y" checkbox are
one-field selections, like the smoothing slider (``vega_smoothing``): Vega picks the x column
and takes log10 of y at once, with no rerun and nothing sent again (a panel rerun that
re-sent 41 runs' points took ~1 s per click), and Streamlit hears the change so the link
follows. The data carries every x column and its hover buckets. The browser's values are
untrusted: ``chosen`` accepts only known names and booleans.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

X_PICK, X_FIELD = "xaxis", "axis"  # a one-field selection bound to the radio
LOG_PICK, LOG_FIELD = "logy", "on"  # and one bound to the checkbox
X_NOW, LOG_NOW = "x_now", "log_now"  # signals: the choices, checked once per change
TITLES = {"step": "step", "time": "wall time (UTC)", "relative": "seconds since start"}
COLUMNS = {"step": ("xs", "xbs"), "time": ("xt", "xbt"), "relative": ("xr", "xbr")}  # x, its bucket
TIME_TICKS = 6
_TIME_STEPS_MS = (
    1,
    5,
    10,
    50,
    100,
    200,
    500,
    *(1000 * s for s in (1, 5, 15, 30, 60, 300, 900, 1800)),
    *(3_600_000 * h for h in (1, 3, 6, 12, 24, 168, 720, 2160, 8760)),  # up to 30, 90, 365 days
)


def params(x: str, log_y: bool) -> list[alt.Parameter]:
    """The radio and the checkbox, starting at ``x`` and ``log_y``, and their checked signals."""
    x_pick = alt.selection_point(
        name=X_PICK,
        fields=[X_FIELD],
        value=[{X_FIELD: x}],
        bind=alt.binding_radio(options=list(TITLES), labels=list(TITLES.values()), name="x axis "),
    )
    log_pick = alt.selection_point(
        name=LOG_PICK,
        fields=[LOG_FIELD],
        value=[{LOG_FIELD: bool(log_y)}],
        bind=alt.binding_checkbox(name="log y "),
    )
    chosen_x = f"{X_PICK}_{X_FIELD}"
    return [
        log_pick,  # Vega-Lite lists bound inputs in the reverse order: x axis, log y, smoothing
        x_pick,
        alt.param(
            name=X_NOW, expr=f"indexof({json.dumps(list(TITLES))}, {chosen_x}) >= 0 ? {chosen_x} : 'step'"
        ),
        alt.param(name=LOG_NOW, expr=f"{LOG_PICK}_{LOG_FIELD} === true"),
    ]


def _by_axis(pick: int) -> str:
    """The chosen axis's column (``pick``: 0 the x value, 1 its hover bucket)."""
    step, time, relative = (COLUMNS[name][pick] for name in ("step", "time", "relative"))
    return f"{X_NOW} == 'time' ? datum.{time} : {X_NOW} == 'relative' ? datum.{relative} : datum.{step}"


def log_of(field: str) -> str:
    """``field`` as drawn: its log10 on a log scale (a value <= 0 is not drawn), else itself."""
    return f"{LOG_NOW} ? (datum.{field} > 0 ? log(datum.{field}) / LN10 : null) : datum.{field}"


def transforms() -> list[dict[str, str]]:
    """``x`` and ``xb`` from the chosen axis, ``y`` the smoothed value as drawn."""
    return [
        {"calculate": _by_axis(0), "as": "x"},
        {"calculate": _by_axis(1), "as": "xb"},
        {"calculate": log_of("smoothed"), "as": "y"},
    ]


def columns(points: pd.DataFrame, buckets: Callable[[pd.Series], pd.Series]) -> dict[str, pd.Series]:
    """Every axis's x (wall time as epoch milliseconds) and its hover bucket (``buckets``)."""
    found: dict[str, pd.Series] = {}
    for name, (x, bucket) in COLUMNS.items():
        values = points[name]
        if name == "time":
            values = (values - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(milliseconds=1)
        found[x] = values.astype("float64")
        found[bucket] = buckets(found[x])
    return found


def x_axis(times_ms: pd.Series, field: str = "x") -> alt.X:
    """The x encoding of every layer: the chosen column, with wall time labelled in 24-hour
    UTC at round times (the ticks a temporal scale would pick, computed here)."""
    ticks, fmt = time_ticks(times_ms)
    return alt.X(
        f"{field}:Q",
        title=TITLES["step"],  # replaced by the chosen axis's title (``AxisTitled.to_dict``)
        scale=alt.Scale(zero=False, nice=False),
        axis=alt.Axis(
            labelExpr=f"{X_NOW} == 'time' ? utcFormat(datum.value, '{fmt}') : datum.label",
            values=alt.ExprRef(f"{X_NOW} == 'time' ? {json.dumps(ticks)} : null"),
        ),
    )


def y_axis(title: str) -> alt.Axis:
    """The y axis: on a log scale its ticks are log10 values, labelled with the values."""
    return alt.Axis(title=title, labelExpr=f"{LOG_NOW} ? format(pow(10, datum.value), '.2~g') : datum.label")


def time_ticks(times_ms: pd.Series, count: int = TIME_TICKS) -> tuple[list[float] | None, str]:
    """About ``count`` round UTC times across the span (None: too few, Vega's own ticks),
    and the label format they need."""
    finite = times_ms[np.isfinite(times_ms)]
    if finite.empty:
        return None, "%H:%M"
    low, high = float(finite.min()), float(finite.max())
    step = min(_TIME_STEPS_MS, key=lambda s: abs((high - low) / s - count))
    ticks = [float(t) for t in np.arange(np.ceil(low / step) * step, high + 1e-9, step)]
    fmt = (
        "%H:%M:%S.%L"
        if step < 1000
        else "%H:%M:%S"
        if step < 60_000
        else "%H:%M"
        if high - low < 86_400_000
        else "%b %d %H:%M"
    )
    return (ticks if len(ticks) >= 2 else None), fmt


def x_heading(field: str) -> str:
    """The hover list's heading: the x under the pointer, as a Vega expression of ``field``."""
    return (
        f"{X_NOW} == 'time' ? utcFormat({field}, '%Y-%m-%d %H:%M:%S') + ' UTC' : "
        f"{X_NOW} == 'relative' ? format({field}, ',.6~g') + ' s since start' : "
        f"'step ' + format({field}, ',.6~g')"
    )


def chosen(selection: Mapping[str, object]) -> dict[str, object]:
    """What the chart's radio and checkbox were set to, from Streamlit's selection event: the
    browser sends it, so only a known axis name and a real boolean count."""
    found: dict[str, object] = {}
    x, on = _picked(selection, X_PICK, X_FIELD), _picked(selection, LOG_PICK, LOG_FIELD)
    if isinstance(x, str) and x in TITLES:
        found["x"] = x
    if isinstance(on, bool):
        found["log"] = on
    return found


def _picked(selection: Mapping[str, object], name: str, field: str) -> object:
    """The value of a one-field selection in Streamlit's event, or None."""
    try:
        return selection[name][0][field]  # type: ignore[index]
    except (LookupError, TypeError):
        return None


class AxisTitled(alt.LayerChart):
    """A layered chart whose x axis title follows the radio. Vega-Lite takes an expression
    there (it becomes a Vega signal); Altair's schema does not, so it goes in after Altair
    has checked the rest."""

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        spec = super().to_dict(*args, **kwargs)
        title = {
            "expr": " : ".join(f"{X_NOW} == '{k}' ? {json.dumps(v)}" for k, v in TITLES.items()) + " : ''"
        }
        for layer in spec.get("layer", []):
            axis = layer.get("encoding", {}).get("x", {}).get("axis")
            if isinstance(axis, dict):
                axis["title"] = title
        return spec
