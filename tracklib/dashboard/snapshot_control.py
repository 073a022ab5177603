"""The Snapshot control of Leaderboard, Curves and Sweeps: download the view as one HTML file,
publish it to the store (for those who may write), and hand it to ``tracklib snapshot``.

The command runs the real page headlessly (``snapshot_cli``) and sets ``CAPTURE`` in the
session: the control then leaves the page's own ``make`` under ``CAPTURED``, so a file made
from a link is exactly the one this button makes on that page (one code path).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st

from tracklib.dashboard import access, data, snapshot, urlstate, widgets

CAPTURE = "tracklib_snapshot_capture"  # session flag set by `tracklib snapshot`
CAPTURED = "tracklib_snapshot_make"  # where the page's Snapshot maker is left for it
_PUBLISHED = "tracklib_snapshot_published"  # name -> what the last Publish printed


def snapshot_button(make: Callable[[], snapshot.Snapshot], name: str) -> None:
    """ "Snapshot": this view as ONE HTML file, data and charts inside, that opens anywhere
    with no network. Built only when clicked (``make`` runs on Streamlit's download thread,
    so it must not touch Streamlit: pages hand it values, not session state). Beside it,
    "Publish" for those who may write to the store."""
    if st.session_state.get(CAPTURE):
        st.session_state[CAPTURED] = make
    root = st.session_state.get(urlstate.FRAME["root"].name)
    project = st.session_state.get(urlstate.FRAME["project"].name)
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "Snapshot",
            data=lambda: snapshot.to_html(make()).encode(),
            file_name=f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)[:80]}.html",
            mime="text/html",
            icon=":material/photo_camera:",
            on_click="ignore",
            help="One HTML file with this view's table and charts inside: it opens anywhere, offline.",
        )
        if root is not None and project is not None and access.may_write(root):
            publish_control(make, name, root, project)


@st.fragment
def publish_control(make: Callable[[], snapshot.Snapshot], name: str, root: str, project: str) -> None:
    """A "Publish" popover: store the snapshot under ``snapshots/`` (FORMAT.md §17) and show
    a pre-signed link (S3, GCS: anyone may open it for 7 days) or the stored path, to copy."""
    with st.popover("Publish", icon=":material/cloud_upload:", key=f"publish:{name}"):
        st.caption(
            f"Store this snapshot in {widgets.md_escape(root)} under snapshots/: a link to it "
            "opens without this dashboard (on S3 or GCS for 7 days, without a cloud account)."
        )
        if st.button("Publish snapshot", icon=":material/cloud_upload:", key=f"publish_go:{name}"):
            try:
                st.session_state.setdefault(_PUBLISHED, {})[name] = publish_now(make, root, project)
            except Exception as exc:  # noqa: BLE001 - a read-only store, a network error: say so
                st.error(widgets.md_escape(f"Could not publish the snapshot: {exc}"), icon=":material/error:")
                return
        published = st.session_state.get(_PUBLISHED, {}).get(name)
        if published:
            where, link = published
            if link:
                st.caption("Anyone with this link can open the snapshot for 7 days:")
                st.code(link, language=None)
            st.caption("Stored at:")
            st.code(where, language=None)


def publish_now(make: Callable[[], snapshot.Snapshot], root: str, project: str) -> tuple[str, str | None]:
    """Publish the view to the store named ``root``: (where it is, a pre-signed link or None)."""
    if not access.may_write(root):
        raise PermissionError(access.why_not_write(root))
    storage = data.store_for(root).storage
    where = snapshot.publish(storage, project, snapshot.to_html(make()))
    return where, snapshot.presigned_url(where, snapshot.DEFAULT_EXPIRES_S, fs=storage.fs)
