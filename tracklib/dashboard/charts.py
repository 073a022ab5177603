"""Chart builders: DataFrame in, Altair chart out (pure; no streamlit import)."""

from __future__ import annotations

import altair as alt
import pandas as pd

# The multi-run line charts live in line_charts.py; these names stay for the pages that use them.
from tracklib.dashboard.line_charts import curves as curves
from tracklib.dashboard.line_charts import group_curves as group_curves
from tracklib.dashboard.line_charts import small_curves as small_curves


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
