"""Overview: every project at a glance — run counts by status, latest runs, best runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracklib.analysis import table as runs_table
from tracklib.dashboard import charts, data, project_settings, tables, urlstate, widgets
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

LATEST = 10
URL = urlstate.Keys()  # only the frame's keys


def render(ctx: Context) -> None:
    st.title("Overview")
    projects = data.load_projects(ctx.root, ctx.token)
    loaded = {p: data.load_project(ctx.root, p, ctx.token, ctx.loaded.asof) for p in projects}
    all_runs = pd.concat([project.runs for project in loaded.values()], ignore_index=True)

    cols = st.columns(4)
    cols[0].metric("Projects", len(projects))
    cols[1].metric("Runs", len(all_runs))
    cols[2].metric("Running", int((all_runs["status"] == "running").sum()))
    cols[3].metric("Failed", int((all_runs["status"] == "failed").sum()))

    counts = all_runs.groupby(["project", "status"]).size().rename("runs").reset_index()
    st.subheader("Runs by status")
    st.altair_chart(charts.status_bars(counts, widgets.STATUS_COLORS), width="stretch")

    st.subheader("Best run per project")
    best = [_best_row(name, project, ctx.root, ctx.token) for name, project in loaded.items()]
    best_table = pd.DataFrame([b for b in best if b])
    if not best_table.empty:
        named, links = tables.run_links(best_table, name_column="run")
        tables.show_runs(
            widgets.style_status(named),
            links,
            key="overview_best",
            hide_index=True,
            width="stretch",
            column_config=tables.column_config(named),
        )

    st.subheader("Latest runs")
    latest = runs_table.newest(all_runs, LATEST)
    view = latest[["project", "name", "status", "start_time", "duration_s", "tags", "run_id"]]
    named, links = tables.run_links(tables.display(view))
    tables.show_runs(
        widgets.style_status(named),
        links,
        key="overview_latest",
        hide_index=True,
        width="stretch",
        height=tables.height(len(named)),
        column_config=tables.column_config(view),
    )


def _best_row(project: str, loaded: data.Loaded, root: str, token: int) -> dict[str, object] | None:
    """The project's best run by its headline metric: the saved one, else the guess."""
    headline = project_settings.headline_of(root, project, token, loaded.runs, loaded.summary)
    if headline is None:
        return None
    metric, ascending = headline.metric, headline.lower_is_better
    agg = headline.direction
    board = query.leaderboard(loaded.runs, loaded.summary, metric, agg, ascending, top=1)
    top = board.iloc[0]
    return {
        "project": project,
        "metric": f"{agg} {metric}",
        "judged": headline.label,
        "best": top[query.metric_column(metric, agg)],
        "run": top["name"],
        "run_id": top["run_id"],  # the run link's; not shown
        "status": top["status"],
        "runs": len(loaded.runs),
    }


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
