"""What every page shares: the sidebar (store, project, refresh, live mode) and the data."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from tracklib.dashboard import access, data, project_settings, urlstate, widgets
from tracklib.dashboard.data import Loaded

LIVE_EVERY_S = 10
URL = urlstate.FRAME  # root, project, live


@dataclass(frozen=True)
class Context:
    """The store and project the user is looking at, and what was loaded from them."""

    root: str
    root_url: str
    project: str
    loaded: Loaded
    token: int


def run_page(render: Callable[[Context], None]) -> None:
    """Draw the frame, then the page (when there is something to show)."""
    ctx = render_frame()
    if ctx is not None:
        project_settings.control(ctx.root, ctx.project, ctx.token, ctx.loaded.runs, ctx.loaded.summary)
        widgets.hide_controls()
        notice = st.container()  # above the page, filled after it: its own reads count too
        _pinned_note(ctx.loaded)
        render(ctx)
        _skipped_notice(notice, data.skipped_in(ctx.root, ctx.project))


def render_frame() -> Context | None:
    """Draw the sidebar; None when there is nothing to show (the first-run message is shown)."""
    roots = access.viewable(data.roots())  # with sign-in on, only the stores this viewer may see
    if access.refuse_link(roots):
        return None
    if not roots:
        access.no_store_message()
        return None
    names = list(roots)
    widgets.guard_url(URL.pick("root", "live", "asof").rules(root=names))  # projects not known yet
    root = st.sidebar.selectbox("Store", names, disabled=len(names) == 1, **URL.bind("root"))
    st.sidebar.caption(widgets.md_escape(roots[root]))
    token = st.session_state.setdefault("refresh_token", 0)
    projects = data.load_projects(root, token)
    if not projects:
        widgets.first_run_message(roots[root])
        _refresh_controls(root, None)
        return None
    widgets.guard_url(URL.pick("project").rules(project=projects))
    project = st.sidebar.selectbox("Project", projects, **URL.bind("project"))
    with st.spinner(f"Loading runs of {widgets.md_escape(project)}…"):
        loaded = data.load_project(root, project, token, widgets.pinned_at())
    if loaded.asof is not None and st.sidebar.button("Show live data", icon=":material/update:"):
        del st.query_params[widgets.ASOF]  # the pinned link's time: back to the live view
        st.rerun()
    _refresh_controls(root, loaded)
    return Context(root, roots[root], project, loaded, token)


def _pinned_note(loaded: Loaded) -> None:
    """A pinned link says what it shows and names what it could not pin (left out, or shown
    as logged): never a later value as if it were pinned."""
    if loaded.asof is None:
        return
    st.caption(
        f"Pinned link: the runs started by {loaded.asof:%Y-%m-%d %H:%M:%S} UTC, each value from the "
        "metric points logged by then. Files are immutable and every point has its time, so these "
        "are exactly the numbers of that moment."
    )
    unpinnable = loaded.unpinnable
    if unpinnable is None or unpinnable.empty:
        return
    named = [f"{row.name} · {row.key}".rstrip(" ·") for row in unpinnable.head(5).itertuples()]
    more = f" and {len(unpinnable) - 5} more" if len(unpinnable) > 5 else ""
    st.caption(
        widgets.md_escape(
            f"Not pinned ({len(unpinnable)}): {', '.join(named)}{more}: "
            "the files do not say when these were set, so they are left out (a hand-set last "
            "value shows the logged one)."
        )
    )
    with st.expander("Values that cannot be pinned", icon=":material/warning:"):
        st.dataframe(unpinnable, hide_index=True)


def _skipped_notice(container: st.delta_generator.DeltaGenerator, skipped: dict[str, str]) -> None:
    """What the store could not use: a table (plain text cells), never Markdown."""
    if not skipped:
        return
    with container.expander(
        f"{len(skipped)} file(s), row(s) or folder(s) in this store could not be used and were skipped",
        icon=":material/warning:",
    ):
        st.dataframe({"path": list(skipped), "why": list(skipped.values())}, hide_index=True)


def _refresh_controls(root: str, loaded: Loaded | None) -> None:
    sidebar = st.sidebar
    if sidebar.button("Refresh", icon=":material/refresh:"):
        data.store_for(root).list_everything_next()  # a click finds even a resumed old run
        _bump()
        st.rerun()
    if loaded is not None:
        age = max(0, int(time.time() - loaded.loaded_at))
        sidebar.caption(f"loaded {len(loaded.runs)} runs, {age} s ago")
    if sidebar.toggle("Live", help=f"reload every {LIVE_EVERY_S} s", **URL.bind("live")):
        st.session_state["frame_drawn_at"] = time.time()
        _live_ticker()


def _bump() -> None:
    st.session_state["refresh_token"] = st.session_state.get("refresh_token", 0) + 1


@st.fragment(run_every=LIVE_EVERY_S)
def _live_ticker() -> None:
    # Runs with the page, then on its own every LIVE_EVERY_S: reload only when it is due.
    if time.time() - st.session_state.get("frame_drawn_at", 0) >= LIVE_EVERY_S - 0.5:
        _bump()
        st.rerun(scope="app")
