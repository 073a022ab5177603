"""Small Streamlit pieces shared by pages: safe text, link checks, status colours, share link."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.errors import StreamlitAPIException

from tracklib.analysis import asof as pinning
from tracklib.dashboard import urlstate

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
# CommonMark lets a backslash escape any ASCII punctuation: escaping all of it leaves no
# link, image, HTML, emphasis, table, heading, directive (:red[...]) or math ($...$).
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit finds some things in the text *after* escapes are undone: GFM autolinks (https://…,
# www.…, a@b.c), :material/…: icons, :emoji: and :streamlit: shortcodes, and arrows (->, <=).
# An invisible word joiner after each ':' and '@', inside 'www.' and between arrow
# characters keeps the text as it reads and matches none of them.
_JOIN = "\u2060"
_BREAK = re.compile(r"(?<=[:@])|(?<=www)(?=\.)|(?<=[-<>~])(?=[-<>=])", re.IGNORECASE)
# Leading spaces would make an indented code block, which shows escapes as backslashes.
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
_NOTICES = "_link_notices"  # notices carried over the rerun that corrects a link
ASOF = urlstate.FRAME["asof"].name  # a pinned link's time
_PIN, _PIN_AT = "share_pin", "share_pin_at"  # the Share popover's "Pin to now" and its time
CONTROLS = "controls-"  # key prefix of the containers that hold a page's widgets
# The stakeholder view hides the controls (their widgets still read the link, so the content
# is the view the link names), the charts' own sliders, and Streamlit's sidebar toggle.
_STAKEHOLDER_CSS = (
    f"<style>[class*='st-key-{CONTROLS}'], .vega-bindings, [data-testid='stSidebarCollapsedControl'],"
    " [data-testid='stExpandSidebarButton'] {display: none !important}</style>"
)


def stakeholder() -> bool:
    """A link with ``embed=true`` is for someone who reads rather than explores: content only."""
    return bool(st.context.is_embedded)


def hide_controls() -> None:
    """In the stakeholder view, hide every ``controls`` container (drawn once per page)."""
    if stakeholder():
        st.html(_STAKEHOLDER_CSS)


def controls(name: str) -> DeltaGenerator:
    """The container a page draws widgets in: shown to explorers, hidden from stakeholders."""
    return st.container(key=f"{CONTROLS}{name}")


def view_text(project: str, loaded_at: float, *parts: str, asof: datetime | None = None) -> str:
    """The one line that says what a view shows: project, what is measured, filters, the
    time its data was read, or the time a pinned link shows (the stakeholder view's subtitle
    and a snapshot's)."""
    if asof is not None:
        when = f"as of {asof.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC (pinned link)"
    else:
        when = f"data as of {datetime.fromtimestamp(loaded_at, UTC):%Y-%m-%d %H:%M} UTC"
    return " · ".join([project, *(p for p in parts if p), when])


def view_line(project: str, loaded_at: float, *parts: str, asof: datetime | None = None) -> str:
    """Show ``view_text`` under the page's title (to everyone) and return it."""
    text = view_text(project, loaded_at, *parts, asof=asof)
    st.markdown(md_escape(text))
    return text


def md_escape(text: object) -> str:
    """Text from a link or a record, made literal for any Streamlit API that renders Markdown.

    The only way such text may reach Markdown (st.markdown, caption, info/warning/error,
    titles, metric labels and values, badges, expander, widget and page-link labels, help,
    spinners, toasts): it shows as written, line breaks and indentation kept, and nothing in
    it becomes a link, an image, HTML, formatting, an icon or math.
    """
    flat = str(text).replace("\r\n", "\n").replace("\r", "\n")
    flat = _INDENT.sub(lambda m: "\u00a0" * len(m.group().expandtabs(4)), flat)
    escaped = _ASCII_PUNCTUATION.sub(r"\\\1", _BREAK.sub(_JOIN, flat))
    return escaped.replace("\n", "  \n")  # a hard line break where the text had one


def notice(text: str) -> None:
    """A warning about something a link or a record asked for, shown as text."""
    st.warning(md_escape(text), icon=":material/warning:")


def guard_url(rules: Mapping[str, urlstate.Rule]) -> None:
    """Check the link's values for ``rules`` before any widget bound to them is drawn.

    Streamlit seeds a bound widget from the address the page was opened with, before the
    page's code sees the value, and raises on some (a number input given ``inf``). So a link
    with a value no widget may take is corrected in the address and the page runs again,
    telling the user what was dropped or clamped.
    """
    given = {key: st.query_params.get_all(key) for key in rules}
    changes, notices = urlstate.clean(rules, given)
    corrected = False
    for key, values in changes.items():
        try:
            if values:
                st.query_params[key] = values if rules[key].many else values[0]
            else:
                del st.query_params[key]
        except StreamlitAPIException:  # bound to a widget drawn already: it holds a valid value
            continue
        corrected = True
    if corrected:
        st.session_state[_NOTICES] = [*st.session_state.get(_NOTICES, []), *notices]
        st.rerun()
    for text in [*st.session_state.pop(_NOTICES, []), *notices]:
        notice(text)


def arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every column Arrow can carry to the browser: a record may hold an int
    beyond int64 in a param, which a column of Python objects keeps and Streamlit's
    conversion refuses with an error, so such a column is shown as text."""
    wide = [c for c in frame.columns if frame[c].dtype == object and frame[c].map(_beyond_int64).any()]
    return frame.assign(**{c: frame[c].map(_as_text) for c in wide}) if wide else frame


def _beyond_int64(value: object) -> bool:
    return isinstance(value, int) and not -(2**63) <= value < 2**63


def _as_text(value: object) -> object:
    return value if value is None or isinstance(value, str) else str(value)


def style_status(frame: pd.DataFrame) -> object:
    """A Styler colouring the ``status`` column (st.dataframe renders Stylers)."""
    if "status" not in frame.columns:
        return frame

    def colour(value: object) -> str:
        return f"color: {STATUS_COLORS.get(str(value), 'inherit')}; font-weight: 600"

    return frame.style.map(colour, subset=["status"])


@st.fragment
def share_control(keys: urlstate.Keys, given: Mapping[str, object] | None = None) -> None:
    """A "Share" popover with the full link to this exact view and a copy button.

    A fragment that reruns when the popover opens: a panel's own controls (a fragment too)
    or the chart's smoothing slider may have changed the view since the page last ran.

    It carries the frame's shared keys and the page's: a widget-bound key's value from the
    widget, a key the page checks itself (``rule=None``, e.g. picked run ids) from ``given``.
    """
    with st.popover("Share", icon=":material/share:", key="share", on_change="rerun"):
        pinned = pinned_at()
        if pinned is None:
            st.checkbox(
                "Pin to now",
                key=_PIN,
                on_change=_pin_now,
                help="The link then shows these runs and numbers forever: no run started later, "
                "no value logged later.",
            )
        ticked = pinned is None and st.session_state.get(_PIN)
        now = pinning.format_asof(datetime.now(UTC))
        link = share_link(keys, given, pin_to=st.session_state.setdefault(_PIN_AT, now) if ticked else None)
        st.caption("Anyone who can open this dashboard sees exactly this view:")
        st.code(link, language=None)
        if pinned is not None:
            st.caption(f"This view is pinned to {pinning.format_asof(pinned)}; the link keeps it.")


def _pin_now() -> None:
    """The pin is taken when the box is ticked, so the link stays the same until unticked."""
    if st.session_state.get(_PIN):
        st.session_state[_PIN_AT] = pinning.format_asof(datetime.now(UTC))
    else:
        st.session_state.pop(_PIN_AT, None)


def pinned_at() -> datetime | None:
    """The time the page's link is pinned to (checked by the frame's ``guard_url``), or None."""
    value = st.query_params.get(ASOF)
    return pinning.parse_asof(value, datetime.now(UTC)) if value else None


def pin_params() -> dict[str, str]:
    """The pinned link's key, for a page switch (plain query params do not survive one)."""
    value = st.query_params.get(ASOF)
    return {ASOF: value} if value and pinned_at() is not None else {}


def share_link(
    keys: urlstate.Keys, given: Mapping[str, object] | None = None, pin_to: str | None = None
) -> str:
    """The full link to this exact view (see ``share_control``): pinned when the page is, or
    to ``pin_to`` (an ``asof`` value: the Share popover's "Pin to now")."""
    given = dict(given or {})
    own = {key.name for key in keys.shared if key.rule is None}
    if set(given) != own:
        raise ValueError(f"the Share link takes {sorted(own)} from the page, got {sorted(given)}")
    params: dict[str, object] = {}
    for key in (*urlstate.FRAME.shared, *keys.shared):
        value = st.session_state.get(key.name) if key.rule is not None else given[key.name]
        if value not in (None, "", []):
            params[key.name] = (
                [str(v) for v in value] if isinstance(value, (list, tuple)) else _url_value(value)
            )
    pin = pin_params().get(ASOF) or pin_to
    if pin:
        params[ASOF] = pin
    return f"{st.context.url}?{urlencode(params, doseq=True)}" if params else st.context.url


def _url_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def filter_error(expression: str, message: str, position: int | None) -> None:
    """Show a filter syntax error inline, with a caret under the offending character."""
    st.error(md_escape(f"Filter: {message}"), icon=":material/error:")  # the message quotes the link
    if position is not None:
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
    base = {"root": root, "project": project} | pin_params()
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
    unknown = list(dict.fromkeys(value for value in st.query_params.get_all(key) if value not in options))
    if unknown:
        notice(f"{missing} {urlstate.quoted(', '.join(unknown))}; showing the default instead.")
