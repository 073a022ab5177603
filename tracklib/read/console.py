"""Reading what a run printed (FORMAT.md §19): its console parts as one frame, in print order."""

from __future__ import annotations

import pandas as pd

from tracklib.format.console import CONSOLE_SCHEMA, console_dir

CONSOLE_COLUMNS = ["time", "stream", "line"]


class ReadsConsole:
    """The console method of :class:`tracklib.Store` (which provides ``_files``)."""

    def console(self, project: str, run_id: str) -> pd.DataFrame:
        """The run's stdout and stderr lines: ``time`` (UTC), ``stream`` (``stdout``,
        ``stderr``, or ``tracklib`` for the writer's own notes, such as output cut at the
        cap), ``line``; in the order printed (parts by file name, each part's rows in order).
        Empty when the run captured nothing. The rows are untrusted text: show them as text."""
        (listed,) = self._files.read_listed([console_dir(project, run_id)], CONSOLE_SCHEMA)  # type: ignore[attr-defined]
        frame = listed.table.select(CONSOLE_COLUMNS).to_pandas()
        frame["stream"] = frame["stream"].fillna("").astype(str)
        frame["line"] = frame["line"].fillna("").astype(str)
        return frame.reset_index(drop=True)
