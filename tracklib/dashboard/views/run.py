"""Run: one run in full — status, timings, params, summary, curves, system use, artifacts, environment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tracklib.analysis import asof, system_series
from tracklib.dashboard import (
    charts,
    colors,
    console_panel,
    data,
    image_gallery,
    reproduce_panel,
    tables,
    urlstate,
    widgets,
)
from tracklib.dashboard.frame import Context, run_page
from tracklib.format.errors import UnsafePathError

CURVE_POINTS = 1000
URL = urlstate.Keys(urlstate.Key("run"))  # a run id: the run picker keeps the project's


def render(ctx: Context) -> None:
    runs = ctx.loaded.runs
    with widgets.controls("run"):
        (run_id,) = widgets.run_picker(runs, key=URL["run"].name, label="Run", multi=False)
    if run_id is None:  # a pinned link from before the project's first run: nothing to show
        st.info("No run of this project had started by this link's pin.")
        return
    details = data.load_run(ctx.root, ctx.project, run_id, ctx.token)
    pinned = ctx.loaded.asof
    if pinned is not None:  # the run picker offers only runs started by the pin
        details = asof.details_at(details, ctx.loaded.runs, ctx.loaded.summary, pinned)

    st.title(widgets.md_escape(details.name))
    widgets.view_line(
        ctx.project,
        ctx.loaded.loaded_at,
        f"run {run_id}",
        f"group {details.group}" if details.group else "",
        asof=pinned,
    )
    if pinned is not None:
        st.caption(
            "Status, times, summary and curves are as of the pin. Params, tags, notes and "
            "artifacts are as the run's newest record has them: the files do not say when they were set."
        )
    st.badge(widgets.md_escape(details.status), color=_badge_color(details.status))
    row = st.columns(4)
    started = details.start_time
    row[0].metric(
        "Started",
        widgets.md_escape(started.strftime("%b %d, %H:%M")),
        help=widgets.md_escape(f"{started} UTC"),
    )
    duration = ((details.end_time or details.heartbeat_time) - details.start_time).total_seconds()
    row[1].metric("Duration", tables.duration_text(duration), help=f"{duration:,.1f} s")
    row[2].metric("Group", widgets.md_escape(details.group or "—"))  # st.metric renders Markdown
    row[3].metric("Tags", widgets.md_escape(", ".join(details.tags) or "—"))
    if details.error:
        _failure(details.error)
    if details.notes:
        st.text(details.notes)

    st.subheader("Summary")
    st.dataframe(  # whole: every metric and column, never a scrolled box
        tables.values_as_text(details.summary, ("last", "min", "max")),
        hide_index=True,
        width="stretch",
        height="content",
    )
    st.subheader("Params")
    values = [tables.number_text(v) for v in details.params.values()]
    st.dataframe(
        pd.DataFrame({"param": list(details.params), "value": values}),
        hide_index=True,
        width="stretch",
        height="content",
    )

    st.subheader("Curves")
    history = data.load_history(ctx.root, ctx.project, (run_id,), None, CURVE_POINTS, ctx.token, pinned)
    curves, system = system_series.split_system(history)
    colour = colors.run_colors(ctx.loaded.runs).get(run_id)  # the run's colour on every page
    if curves.empty:
        st.caption("No metrics logged.")
    else:
        # three panels of 330 px fill the page's wide layout (260 x 150 left a third of it empty)
        st.altair_chart(charts.small_curves(curves, color=colour, width=330, height=190), width="content")
    if not system.empty:
        _system(system_series.minutes_since(system, details.start_time), colour)

    image_gallery.run_images(ctx, run_id)
    st.subheader("Artifacts")
    if details.artifacts.empty:
        st.caption("No artifacts.")
    for i, artifact in enumerate(details.artifacts.itertuples()):
        cols = st.columns([4, 2, 2])
        cols[0].text(str(artifact.name))
        cols[1].text(f"{artifact.size:,} bytes")
        _download(cols, i, ctx, run_id, artifact.path)
        image_gallery.artifact_preview(ctx, run_id, artifact.name, artifact.path, artifact.size)
    console_panel.show(ctx.root, ctx.project, run_id, ctx.token, pinned)
    _environment(details.environment)
    reproduce_panel.show(details)
    with widgets.controls("share"):
        widgets.share_control(URL, {"run": run_id})


def _system(system: pd.DataFrame, colour: str | None) -> None:
    """The run's machine over time: what ``init(system_metrics=...)`` sampled."""
    st.subheader("System")
    st.caption(
        "CPU, memory, disk and network use sampled while the run was open (system_metrics=), "
        "against minutes since it started. CPU % of the process counts each core as 100."
    )
    st.altair_chart(
        # 3 x 280 px: up to eleven host panels (more with GPUs) that fit beside the sidebar at 1400 px
        charts.small_curves(system, color=colour, width=280, height=150, x="minutes", x_title="minutes"),
        width="content",
    )


def _failure(error: str) -> None:
    """Why the run failed: its last line (the exception) up front, the whole traceback below
    as plain text (st.code renders no Markdown; the record is untrusted)."""
    lines = error.rstrip().splitlines() or [error]
    st.error(widgets.md_escape(lines[-1]), icon=":material/error:")
    if len(lines) > 1:
        with st.expander("Traceback", expanded=True):
            st.code(error, language=None)


def _download(cols: list, i: int, ctx: Context, run_id: str, path: object) -> None:
    """A download for a path the record gives, only inside this run's own artifacts folder.

    The record is untrusted (anyone who can write to the store can write one): a path that
    leaves the folder or names another run's file gets a disabled button and a note. The store
    checks again when the file is read (symlinks out of the folder are refused there).
    """
    try:
        data.check_artifact(ctx.root, str(path), ctx.project, run_id)
    except UnsafePathError as exc:
        cols[2].button("Download", key=f"dl-{i}", icon=":material/block:", disabled=True)
        cols[0].caption(widgets.md_escape(f"Not offered: {exc}"))
        return
    cols[2].download_button(
        "Download",
        data=lambda: data.read_artifact(ctx.root, str(path), ctx.project, run_id),
        file_name=str(path).rsplit("/", 1)[-1],
        key=f"dl-{i}",
        icon=":material/download:",
        on_click="ignore",  # a rerun at the click replaced the file being fetched: no download
    )


def _environment(env: dict[str, object]) -> None:
    st.subheader("Environment")
    git = {k: env.get(k) for k in ("git_commit", "git_branch", "git_dirty", "git_remote")}
    system = {k: env.get(k) for k in ("host", "user", "pid", "python", "platform")}
    table = {
        **git,
        **system,
        "argv": " ".join(env.get("argv") or []),
        "gpus": ", ".join(env.get("gpus") or []),
    }
    st.dataframe(
        pd.DataFrame({"": list(table), "value": [("" if v is None else str(v)) for v in table.values()]}),
        hide_index=True,
        width="stretch",
    )
    if env.get("git_diff"):
        with st.expander("Uncommitted changes (git diff)"):
            st.code(str(env["git_diff"]), language="diff")
    with st.expander(f"Installed packages ({len(env.get('packages') or [])})"):
        st.code("\n".join(env.get("packages") or []), language=None)


def _badge_color(status: str) -> str:
    return {"running": "blue", "finished": "green", "failed": "red", "killed": "orange"}.get(status, "gray")


if __name__ == "__main__":  # Streamlit runs each page file as a script
    run_page(render)
