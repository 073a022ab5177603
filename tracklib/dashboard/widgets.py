"""Small Streamlit pieces shared by pages: safe text, status colours, share link, errors."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

STATUS_COLORS = {
    "running": "#1c83e1",
    "finished": "#21a366",
    "failed": "#e0393e",
    "killed": "#f08c00",
    "stale": "#8a8f98",
}
PICKER_RUNS = 1_000  # newest runs a run picker offers, besides those chosen

TIME_COLUMNS = {
    "start_time": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm"),
    "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$&])")
# GitHub-style autolinks (https://…, www.…, a@b.c) ignore backslash escapes and entities;
# a zero-width space inside their trigger keeps the text as it reads, but never a link.
_AUTOLINK = re.compile(r"(://|www\\\.|@)", re.I)


def md_escape(text: object) -> str:
    """User data rendered as literal text inside Markdown: no HTML, formatting or links."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
    return _AUTOLINK.sub(lambda m: m.group(1)[0] + "\u200b" + m.group(1)[1:], escaped)


def style_status(frame: pd.DataFrame) -> object:
    """A Styler colouring the ``status`` column (st.dataframe renders Stylers)."""
    if "status" not in frame.columns:
        return frame

    def colour(value: object) -> str:
        return f"color: {STATUS_COLORS.get(str(value), 'inherit')}; font-weight: 600"

    return frame.style.map(colour, subset=["status"])


def share_control(state_keys: Iterable[str], extra: dict[str, object] | None = None) -> None:
    """A "Share" popover with the full link to this exact view and a copy button."""
    params: dict[str, object] = {}
    for key in ("root", "project", *state_keys):
        value = st.session_state.get(key)
        if value not in (None, "", []):
            params[key] = [str(v) for v in value] if isinstance(value, (list, tuple)) else _url_value(value)
    params.update({k: v for k, v in (extra or {}).items() if v not in (None, "", [])})
    link = f"{st.context.url}?{urlencode(params, doseq=True)}" if params else st.context.url
    with st.popover("Share", icon=":material/share:"):
        st.caption("Anyone who can open this dashboard sees exactly this view:")
        st.code(link, language=None)


def _url_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def filter_error(expression: str, message: str, position: int | None) -> None:
    """Show a filter syntax error inline, with a caret under the offending character."""
    if position is None:
        st.error(f"Filter: {message}", icon=":material/error:")
        return
    st.error(f"Filter: {message}", icon=":material/error:")
    st.code(f"{expression}\n{' ' * position}^", language=None)


def first_run_message(root_url: str) -> None:
    st.title("tracklib")
    st.info(f"No runs in {md_escape(root_url)} yet. Create one with three lines of Python:")
    st.code(
        "import tracklib\n"
        'with tracklib.init(project="my-project", params={"lr": 1e-3}) as run:\n'
        '    run.log({"train/loss": 0.25})',
        language="python",
    )
    st.caption("Or write a demo sweep: `tracklib demo`. Then press Refresh in the sidebar.")


def run_links(root: str, project: str, run_ids: Iterable[str]) -> dict[str, str]:
    """run id -> the relative link to its Run page (only for the runs a page draws)."""
    base = {"root": root, "project": project}
    return {run_id: f"run?{urlencode(base | {'run': run_id})}" for run_id in run_ids}


def run_picker(
    runs: pd.DataFrame, key: str, label: str, multi: bool, default: list[str] | None = None
) -> list[str]:
    """Pick runs by name while the URL holds their ids (``?key=<id>&key=<id>``).

    A bound widget would put its *labels* in the URL; names need not be unique, ids are.
    It offers the chosen runs and the ``PICKER_RUNS`` newest: a widget with 100,000
    options cost a second per rerun and megabytes per page. Older runs are picked on the
    Runs page, whose selection every page takes.
    """
    ids = runs["run_id"]
    asked = st.query_params.get_all(key)
    held = st.session_state.get(key) or []
    held = [held] if isinstance(held, str) else list(held)
    present = set(ids[ids.isin([*asked, *held, *(default or [])])])  # not a set of 100,000 ids
    notice_unknown(key, present, "This project has no run")
    known = [r for r in asked if r in present]
    if known:
        st.session_state[key] = known if multi else known[0]
    elif key not in st.session_state and default:
        st.session_state[key] = default if multi else default[0]

    def to_url() -> None:
        st.query_params[key] = st.session_state[key] or []

    newest = runs.nlargest(PICKER_RUNS, "start_time")["run_id"] if len(runs) > PICKER_RUNS else ids
    wanted = [r for r in [*known, *held, *(default or [])] if r in present]
    options = list(dict.fromkeys([*wanted, *newest]))
    offered = runs[ids.isin(options)]
    names = dict(zip(offered["run_id"], offered["name"], strict=True))
    if multi:
        chosen = st.multiselect(label, options, format_func=names.get, key=key, on_change=to_url)
    else:
        chosen = [
            st.selectbox(label, options, format_func=lambda r: f"{names[r]} · {r}", key=key, on_change=to_url)
        ]
    st.query_params[key] = chosen
    return chosen


def notice_unknown(key: str, options: Collection[str], missing: str) -> None:
    """A link naming a value this view does not have gets a notice (the widget falls back)."""
    unknown = [value for value in st.query_params.get_all(key) if value not in options]
    if unknown:
        st.warning(f"{missing} {md_escape(', '.join(unknown))}; showing the default instead.")
