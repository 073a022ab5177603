"""The "Project settings" control: a team saves its headline metric, which way is better and
the default columns, for every page and everyone (FORMAT.md §16).

Pages read the saved settings through ``headline_of`` and fall back to the guess of
``analysis.direction``; saving clears the cache, so the change shows at once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracklib.analysis import direction
from tracklib.dashboard import access, data, widgets
from tracklib.format.settings import DIRECTIONS, MAX_COLUMNS, ProjectSettings
from tracklib.read import query

BETTER = {"min": "lower is better", "max": "higher is better"}


def settings_of(root: str, project: str, token: int) -> ProjectSettings | None:
    return data.project_settings(root, project, token)


def headline_of(
    root: str, project: str, token: int, runs: pd.DataFrame, summary: pd.DataFrame | None
) -> direction.Headline | None:
    """The project's headline metric and direction: saved, else guessed."""
    return direction.headline(runs, summary, settings_of(root, project, token))


def control(root: str, project: str, token: int, runs: pd.DataFrame, summary: pd.DataFrame) -> None:
    """A sidebar popover to see and save the project's settings (Save only where
    ``access.may_write`` lets this viewer write to the store)."""
    metrics = query.metric_names(runs)
    if not metrics:
        return
    settings = settings_of(root, project, token)
    current = direction.headline(runs, summary, settings)
    params = [c for c in runs.columns if c.startswith("params.")]
    with st.sidebar.popover("Project settings", icon=":material/tune:", width="stretch"):
        st.caption(f"What every page of {widgets.md_escape(project)} ranks by, for everyone.")
        metric = st.selectbox(
            "Headline metric", metrics, index=metrics.index(current.metric), key=f"settings_metric:{project}"
        )
        guessed = direction.judged_by(metric, settings)
        better = st.segmented_control(
            "Best is",
            list(DIRECTIONS),
            default=guessed.direction,
            format_func=BETTER.get,
            required=True,
            key=f"settings_direction:{project}:{metric}",
        )
        columns = st.multiselect(
            "Default params shown",
            params,
            default=direction.default_columns(settings, params, []),
            format_func=lambda c: c.removeprefix("params."),
            max_selections=MAX_COLUMNS,
            key=f"settings_columns:{project}",
        )
        if not access.may_write(root):
            st.caption(widgets.md_escape(access.why_not_write(root)))
            return
        if st.button("Save for everyone", icon=":material/save:", key=f"settings_save:{project}"):
            try:
                data.save_project_settings(root, project, metric, better, columns)
            except Exception as exc:  # noqa: BLE001 - a read-only store, a network error: say so
                st.error(f"Could not save the settings: {widgets.md_escape(exc)}")
            else:
                st.rerun()
