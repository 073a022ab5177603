"""The Run page's Reproduce panel: what ``tracklib reproduce`` gives, with the patch, the
requirements and the steps as downloads. Every value comes from the run's record (untrusted):
shown with st.text / st.code (literal) or through widgets.md_escape, never as HTML."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from tracklib.analysis.reproduce import PATCH_FILE, REQUIREMENTS_FILE, STEPS_FILE, reproduction
from tracklib.dashboard import widgets

# What each download is, and what the panel says when the record gives none.
DOWNLOADS = (
    (PATCH_FILE, "text/x-diff", "No uncommitted changes to apply."),
    (REQUIREMENTS_FILE, "text/plain", "No packages recorded."),
    (STEPS_FILE, "text/x-shellscript", ""),
)


def show(details: Any) -> None:
    """The panel, collapsed: most visits do not reproduce the run."""
    found = reproduction(details)
    contents = {PATCH_FILE: found.patch, REQUIREMENTS_FILE: found.requirements, STEPS_FILE: found.steps()}
    with st.expander("Reproduce", icon=":material/replay:"):
        st.caption(
            "The steps back to this run's starting point: its commit, its uncommitted changes, its "
            "packages, its command and the fingerprints of its datasets. Save the three files in one folder and run "
            "sh reproduce.sh (tracklib reproduce gives the same)."
        )
        st.text(f"Commit: {found.commit or 'not recorded'}")
        st.text(f"Branch: {found.branch or 'not recorded'}")
        st.text(f"Command: {found.command_line() or 'not recorded'}")
        cols = st.columns(len(DOWNLOADS))
        for col, (name, mime, missing) in zip(cols, DOWNLOADS, strict=True):
            text = contents[name]
            if text is None:
                col.button(name, key=f"reproduce-{name}", icon=":material/block:", disabled=True)
                col.caption(missing)
                continue
            col.download_button(
                name,
                data=text.encode("utf-8", errors="replace"),
                file_name=name,
                mime=mime,
                key=f"reproduce-{name}",
                icon=":material/download:",
                on_click="ignore",
            )
        if found.datasets:
            columns = ["name", "fingerprint", "kind", "files", "bytes", "source"]
            rows = [{c: row.get(c) for c in columns} for row in found.datasets]
            st.dataframe(pd.DataFrame(rows, columns=columns).astype("string"), hide_index=True)
        st.code(contents[STEPS_FILE], language="bash", wrap_lines=True)  # the comments say what is missing
        for gap in found.gaps:
            st.caption(widgets.md_escape(f"Not reproduced: {gap}"))
