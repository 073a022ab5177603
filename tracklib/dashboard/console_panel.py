"""The Run page's Console section: what the run printed, searchable, shown as text only.

Every line is untrusted (anything can be printed, and anyone who can write to the store can
write a part): lines go into a dataframe, whose cells are plain text, never into Markdown or
HTML; the search box is matched as a plain substring (``analysis.console_lines``).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from tracklib.analysis.console_lines import matching_lines
from tracklib.dashboard import data
from tracklib.format.console import MAX_LINE_CHARS

SHOWN_LINES = 2_000  # the newest matching lines; a search finds older ones


def show(root_name: str, project: str, run_id: str, token: int, until: datetime | None = None) -> None:
    st.subheader("Console")
    lines = data.load_console(root_name, project, run_id, token)
    if lines.empty:
        st.caption("No console output captured (capture it with tracklib.init(capture=True), the default).")
        return
    query = st.text_input(
        "Search the console",
        key="console_search",
        placeholder="text to find, any case",
        help="Lines containing this text, in any case; matched as plain text, not a pattern.",
    )
    found = matching_lines(lines, query, until)
    shown = found.tail(SHOWN_LINES)
    what = f"{len(found):,} of {len(lines):,} lines" if query else f"{len(lines):,} lines"
    more = f"; the last {len(shown):,} shown" if len(shown) < len(found) else ""
    st.caption(f"{what}{more}, oldest first. stderr lines are marked in the stream column.")
    table = pd.DataFrame(
        {
            "time": shown["time"].dt.strftime("%H:%M:%S.%f").str[:-3],
            "stream": shown["stream"],
            # a crafted part may hold longer lines than a writer stores: the page stays light
            "line": shown["line"].str.slice(0, MAX_LINE_CHARS + 100),
        }
    )
    st.dataframe(
        table.style.apply(_stderr_in_red, axis=1),
        hide_index=True,
        width="stretch",
        column_config={
            "time": st.column_config.TextColumn("time (UTC)", width=110),
            "stream": st.column_config.TextColumn(width=70),
            "line": st.column_config.TextColumn(width="large"),
        },
    )


def _stderr_in_red(row: pd.Series) -> list[str]:
    colour = "color: #d33" if row["stream"] == "stderr" else ""
    return [colour] * len(row)
