"""Chart builders: DataFrame in, Altair chart out (pure; no streamlit import)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from tracklib.dashboard import colors as run_colours
from tracklib.dashboard.line_charts import AT_X


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


def small_curves(
    history: pd.DataFrame,
    color: str | None = None,
    columns: int = 3,
    width: int = 260,
    height: int = 150,
    x: str = "step",
    x_title: str = "step",
) -> alt.FacetChart:
    """One small line chart per metric of one run (each with its own y scale), in the run's
    colour; a rule follows the pointer with the ``x`` (a numeric column) and value under it."""
    data = history.assign(value=history["value"].where(np.isfinite(history["value"])))
    at_step = alt.selection_point(
        name=AT_X, fields=[x], nearest=True, on="pointermove", clear="pointerout", empty=False
    )
    x_axis = alt.X(f"{x}:Q", title=x_title)
    line = (
        alt.Chart()
        .mark_line(strokeWidth=1.8, color=color or run_colours.PALETTE[0])
        .encode(x=x_axis, y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)))
    )
    points = (
        alt.Chart()
        .mark_circle(size=40, color=color or run_colours.PALETTE[0])
        .encode(
            x=x_axis,
            y=alt.Y("value:Q"),
            opacity=alt.condition(at_step, alt.value(1), alt.value(0)),
            tooltip=[
                alt.Tooltip("key:N", title="metric"),
                "step:Q" if x == "step" else alt.Tooltip(f"{x}:Q", title=x_title, format=",.3~f"),
                alt.Tooltip("value:Q", format=".5~g"),
            ],
        )
        .add_params(at_step)
    )
    rule = alt.Chart().transform_filter(at_step).mark_rule(color="#9aa0a6").encode(x=x_axis)
    return (
        alt.layer(line, rule, points, data=data)
        .properties(width=width, height=height)
        .facet(facet=alt.Facet("key:N", title=None), columns=columns)
        .resolve_scale(y="independent")
    )
