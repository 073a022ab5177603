"""Which console lines a search shows (pure): a plain, case-insensitive substring, never a regex."""

from __future__ import annotations

from datetime import datetime

import pandas as pd


def matching_lines(lines: pd.DataFrame, query: str, until: datetime | None = None) -> pd.DataFrame:
    """The rows of ``lines`` (time, stream, line) whose line contains ``query`` in any case,
    in their order; all of them for an empty query. The query is untrusted (a link, a viewer):
    it is matched as text, so ``.*`` or ``(a+)+$`` is searched for literally and costs the same
    as any other text. ``until``: only lines printed at or before that time (a pinned view)."""
    if until is not None:
        lines = lines[lines["time"] <= pd.Timestamp(until)]
    if query:
        wanted = query.casefold()
        lines = lines[[wanted in line.casefold() for line in lines["line"]]]
    return lines
