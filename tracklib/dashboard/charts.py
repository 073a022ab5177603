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
