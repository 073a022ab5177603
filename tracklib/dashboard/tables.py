"""How run tables look on every page: numbers by magnitude, humanised durations, clean
headers, a taller table, and run names that open the Run page.

Pure helpers return a display frame and/or the ``column_config`` for ``st.dataframe``;
``show_runs`` draws a run table whose names open the Run page in one click.
A column's ``format`` from ``column_config`` wins over a Styler's text (the status colours
stay), so floats are never shown with pandas' fixed six decimals (``lr 0.000000``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st

from tracklib.dashboard import app, urlstate, widgets

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

SIGNIFICANT = "%.4g"  # sprintf-js: 4 significant digits, trailing zeros dropped (800.1, 0.00123)
SCIENTIFIC = "scientific"  # Intl notation: 1E-5, 1.235E7
TINY, HUGE = 1e-4, 1e6  # a float column holding a value beyond these is shown in scientific notation
ROW_PX, MAX_ROWS = 35, 35  # Streamlit's row height; rows a table shows before it scrolls
PREFIXES = {"params.": "param", "metrics.": "metric"}
LINK_COLOR = "#4f46e5"  # the theme's primary colour: run names read as links


def number_text(value: object) -> str:
    """A number as a person reads it: 4 significant digits, scientific when tiny or huge
    (``1e-05``, ``800.1``, ``1.235e+07``); empty for a missing value."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return "" if value is None else str(value)
    number = float(value)
    if math.isnan(number):
        return ""
    if isinstance(value, (int, np.integer)) and abs(number) < 1e15:
        return f"{int(value)}"
    return f"{number:.4g}"


def number_format(values: pd.Series) -> str | None:
    """The ``NumberColumn`` format of a column: None (Streamlit's own) for whole numbers,
    else 4 significant digits, or scientific when the column holds tiny or huge values."""
    if not pd.api.types.is_float_dtype(values):
        return None
    finite = np.abs(values.to_numpy(dtype=float, na_value=np.nan))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size and (finite.min() < TINY or finite.max() >= HUGE):
        return SCIENTIFIC
    return SIGNIFICANT


def values_as_text(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The frame with these columns' numbers as text, each by its own magnitude: for a table
    whose rows are different metrics (a run's summary), where one column format would show
    ``0.5`` as ``5E-1`` beside an ``lr`` of ``1e-05``. Such a table is not sorted by value."""
    present = [c for c in columns if c in frame.columns]
    return frame.assign(**{c: frame[c].map(number_text) for c in present})


def duration_text(seconds: object) -> str:
    """Seconds as a person says them: ``42s``, ``4m 12s``, ``1h 03m``, ``2d 05h``."""
    if seconds is None or not isinstance(seconds, (int, float, np.number)):
        return ""
    total = float(seconds)
    if not math.isfinite(total):
        return ""
    sign, total = ("-" if total < 0 else ""), abs(total)
    if total < 60:
        return f"{sign}{total:.1f}s" if total < 10 and total % 1 else f"{sign}{int(round(total))}s"
    whole = int(total)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


def headers(columns: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """column -> (header, tooltip): ``params.lr`` -> ``lr`` (a param), ``metrics.val/loss`` ->
    ``val/loss`` (a metric). A name that would repeat (a param and a metric both called
    ``lr``, or a base column) keeps its kind: ``lr (param)``."""
    columns = list(columns)
    short = {}
    for column in columns:
        for prefix, kind in PREFIXES.items():
            if column.startswith(prefix):
                short[column] = (column.removeprefix(prefix), kind)
    taken: dict[str, int] = {}
    for column in columns:
        label = short.get(column, (column, None))[0]
        taken[label] = taken.get(label, 0) + 1
    out: dict[str, tuple[str, str | None]] = {}
    used: set[str] = set(c for c in columns if c not in short)
    for column in columns:
        if column not in short:
            continue
        label, kind = short[column]
        if taken[label] > 1 or label in used:
            label = f"{label} ({kind})"
        while label in used:
            label += "'"
        used.add(label)
        out[column] = (label, f"{kind}: {column.removeprefix(_prefix_of(column))}")
    return out


def _prefix_of(column: str) -> str:
    return next(p for p in PREFIXES if column.startswith(p))


def column_config(frame: pd.DataFrame) -> dict[str, object]:
    """Every column's look: clean param/metric headers with a tooltip, floats by magnitude,
    start time to the minute, durations humanised (see ``display``)."""
    config: dict[str, object] = {
        "start_time": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm"),
        "duration_s": st.column_config.TextColumn("duration", help="run time (end or last heartbeat)"),
        "name": st.column_config.TextColumn("name", pinned=True),
    }
    config = {k: v for k, v in config.items() if k in frame.columns}
    names = headers(frame.columns)
    for column in frame.columns:
        if column in config:
            continue
        label, tooltip = names.get(column, (column, None))
        fmt = number_format(frame[column])
        if fmt is not None:
            config[column] = st.column_config.NumberColumn(label, help=tooltip, format=fmt)
        elif column in names:
            config[column] = st.column_config.Column(label, help=tooltip)
    return config


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as shown: durations as text (``4m 12s``); everything else unchanged."""
    if "duration_s" not in frame.columns:
        return frame
    return frame.assign(duration_s=frame["duration_s"].map(duration_text))


def height(rows: int) -> int:
    """Pixels for a table of ``rows`` rows: all of them up to ``MAX_ROWS``, then it scrolls."""
    return ROW_PX * (min(max(int(rows), 1), MAX_ROWS) + 1) + 3


@dataclass(frozen=True)
class RunLinks:
    """Which column of a table names runs, and the project and run id of each row (by position)."""

    column: str
    projects: tuple[str, ...]
    run_ids: tuple[str, ...]

    def clicked(self, cells: Iterable[Sequence[object]]) -> tuple[str, str] | None:
        """(project, run id) of the first selected cell in the name column, else None."""
        for row, column in cells:
            if column == self.column and isinstance(row, int) and 0 <= row < len(self.run_ids):
                return self.projects[row], self.run_ids[row]
        return None


def run_links(
    frame: pd.DataFrame,
    project: str | None = None,
    *,
    name_column: str = "name",
    run_ids: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, RunLinks]:
    """The frame as shown (a nameless run shows its id) and where each row's name leads.

    Run ids come from ``run_ids``, else a ``run_id`` column (then dropped), else the index;
    the project from ``project``, else each row's ``project`` column.
    """
    if run_ids is None and "run_id" in frame.columns:
        run_ids, frame = frame["run_id"], frame.drop(columns="run_id")
    elif run_ids is None:
        run_ids = frame.index
    ids = tuple(str(r) for r in run_ids)
    projects = tuple([str(project)] * len(frame) if project is not None else map(str, frame["project"]))
    names = [
        r if pd.isna(n) or str(n) == "" else str(n) for r, n in zip(ids, frame[name_column], strict=True)
    ]
    return frame.assign(**{name_column: names}), RunLinks(name_column, projects, ids)


def show_runs(
    data: pd.DataFrame | Styler,
    links: RunLinks,
    *,
    key: str,
    column_config: dict[str, object],
    pinned: bool = False,
    selection_mode: Sequence[str] = (),
    **dataframe: object,
) -> object:
    """``st.dataframe`` of runs where one click on a run name opens its Run page, in this tab.

    A ``LinkColumn`` opens a new tab, and only when the click lands on the text of a hovered
    cell; a cell selection does neither. The click (a callback, so a selection left over from
    an earlier visit opens nothing) sets the project widget; then ``st.switch_page`` passes the
    run id alone, as the bound store and project widgets keep theirs (and Streamlit ``embed``).
    """
    name = st.column_config.TextColumn(
        links.column, help="click a name to open the run's page", pinned=pinned or None
    )
    styled = data.style if isinstance(data, pd.DataFrame) else data
    event = st.dataframe(
        styled.map(lambda _: f"color: {LINK_COLOR}", subset=[links.column]),
        key=key,
        on_select=functools.partial(_open_clicked, key, links),
        selection_mode=[*selection_mode, "single-cell"],
        column_config=column_config | {links.column: name},
        **dataframe,
    )
    run_id = st.session_state.pop(_opening(key), None)
    if run_id is not None:
        st.switch_page(app.page("run"), query_params={"run": run_id} | widgets.pin_params())
    return event


def _opening(key: str) -> str:
    return f"{key}.open_run"


def _open_clicked(key: str, links: RunLinks) -> None:
    state = st.session_state.get(key) or {}
    clicked = links.clicked(state.get("selection", {}).get("cells", []))
    if clicked is None:
        return
    project, run_id = clicked
    project_key = urlstate.FRAME["project"].name
    if st.session_state.get(project_key) != project:  # a table of every project (Overview)
        st.session_state[project_key] = project
    st.session_state[_opening(key)] = run_id


def names_of(values: Iterable[object]) -> list[str]:
    """The run names a table shows: its name column holds them as text (the tables once held
    links here; tests read names through this)."""
    return [str(value) for value in values]
