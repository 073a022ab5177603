"""Overview: every project at a glance — run counts by status, latest runs, best runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracklib.analysis import table as runs_table
from tracklib.dashboard import charts, data, urlstate, widgets
from tracklib.dashboard.frame import Context, run_page
from tracklib.read import query

LATEST = 10
URL = urlstate.Keys()  # only the frame's keys


def render(ctx: Context) -> None:
    st.title("Overview")
    projects = data.load_projects(ctx.root, ctx.token)
    loaded = {p: data.load_project(ctx.root, p, ctx.token) for p in projects}
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
    best = [_best_row(name, project) for name, project in loaded.items()]
    st.dataframe(
        widgets.style_status(pd.DataFrame([b for b in best if b])),
        hide_index=True,
        width="stretch",
        column_config={"best": st.column_config.NumberColumn(format="%.4f")},
    )

    st.subheader("Latest runs")
    latest = runs_table.newest(all_runs, LATEST)
    view = latest[["project", "name", "status", "start_time", "duration_s", "tags"]]
    st.dataframe(
        widgets.style_status(view), hide_index=True, width="stretch", column_config=widgets.TIME_COLUMNS
    )


def _best_row(project: str, loaded: data.Loaded) -> dict[str, object] | None:
    metric = query.headline_metric(loaded.runs, loaded.summary)
    if metric is None:
        return None
    ascending = query.lower_is_better(metric)
    agg = "min" if ascending else "max"
    board = query.leaderboard(loaded.runs, loaded.summary, metric, agg, ascending, top=1)
    top = board.iloc[0]
    return {
        "project": project,
        "metric": f"{agg} {metric}",
        "best": top[query.metric_column(metric, agg)],
        "run": top["name"],
        "status": top["status"],
        "runs": len(loaded.runs),
    }


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
