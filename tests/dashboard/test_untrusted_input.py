"""Links and records are untrusted input: any URL value, any record text, any artifact path.

Every page runs with arbitrary query values (hostile numbers, payloads, repeats, unknown keys)
over a store whose records carry Markdown/HTML payloads, raises nothing, and renders every
such string as text; a record's artifact paths are served only inside the run's own folder.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
import streamlit as st
from dashboard.hostile import (
    EVIL,
    PAYLOADS,
    PROJECT,
    SECRET,
    assert_renders_as_text,
    live_markup,
    markdown_strings,
    reads_as,
    seed_hostile_store,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.dashboard import app, data, urlstate
from tracklib.dashboard.widgets import md_escape

from seed import APP

VIEWS = "tracklib/dashboard/views"
FRAME_KEYS = urlstate.FRAME.names  # root, project, live
VIEW_MODULES = {page: importlib.import_module(f"tracklib.dashboard.views.{page}") for page in app.PAGES}
PAGE_KEYS = {page: module.URL.names for page, module in VIEW_MODULES.items()}  # each page's declaration
NUMBERS = ["inf", "-inf", "Infinity", "1e309", "-1e309", "nan", "1e308"]  # most crashed a number input
HOSTILE_VALUES = [
    *PAYLOADS,
    *("", " ", "0", "-0", "-1", "1.5", "1e3", str(2**64), "9" * 400, "true", "FALSE", "maybe"),
    *("0001-01-01", "2024-02-30", "9999-12-31", "x" * 5_000),
    *("名前", "\x00", "%", "../../etc/passwd", "(none)", "params.lr", "metrics.val/acc"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return seed_hostile_store(str(tmp_path_factory.mktemp("hostile") / "store"))


@pytest.fixture
def hostile_root(hostile, monkeypatch):
    monkeypatch.setenv("TRACKLIB_ROOT", hostile.root)
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    return hostile


def _open(page: str, params: dict[str, str | list[str]]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    if page != "overview":
        at.switch_page(f"{VIEWS}/{page}.py")
    return at.run()


_urls = hs.one_of(
    hs.sampled_from(NUMBERS),
    hs.one_of(
        hs.sampled_from(HOSTILE_VALUES),
        hs.text(hs.characters(codec="utf-8"), max_size=30),
        hs.floats().map(repr),
    ),
)


@pytest.mark.parametrize("page", list(PAGE_KEYS))
@settings(
    max_examples=4,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking reruns the page hundreds of times
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(choice=hs.data())
def test_any_link_to_any_page_renders_as_text_and_raises_nothing(hostile_root, page, choice):
    pinned = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # asof: the page as of now
    valid = hs.sampled_from(
        [*hostile_root.ids[:3], "val/acc", PROJECT, "other", "step", "true", "20", pinned]
    )
    values = hs.lists(hs.one_of(_urls, valid), min_size=1, max_size=3)  # once, or the key repeated
    unknown = hs.dictionaries(
        hs.text(hs.characters(codec="utf-8"), min_size=1, max_size=8), values, max_size=3
    )
    params = choice.draw(unknown, label="unknown keys")
    params |= {key: choice.draw(values, label=key) for key in (*PAGE_KEYS[page], *FRAME_KEYS)}
    at = _open(page, params)
    assert_renders_as_text(at)
    assert at.title, "the page shows its default view"


@pytest.mark.parametrize(
    "page,key,bad",
    [
        ("leaderboard", "top", "inf"),
        ("leaderboard", "top", "-1e309"),
        ("runs", "page", "inf"),
        ("curves", "points", "inf"),
        ("curves", "smooth", "nan"),
        ("runs", "since", "0001-01-01"),
        ("compare", "diff_only", "maybe"),
    ],
)
def test_a_value_no_widget_takes_falls_back_to_the_default_with_a_notice(hostile_root, page, key, bad):
    at = _open(page, {"project": PROJECT, key: bad})
    assert_renders_as_text(at)
    assert any(f"{key}={bad}" in reads_as(w.value) for w in at.warning), [w.value for w in at.warning]
    assert key not in at.query_params  # the link was corrected, so a reload is clean


def test_numbers_out_of_range_are_clamped(hostile_root):
    at = _open("leaderboard", {"project": PROJECT, "top": "99999999999999999999"})
    assert at.number_input(key="top").value == 10_000
    assert any("out of range" in reads_as(w.value) for w in at.warning)
    at = _open("curves", {"project": PROJECT, "points": "3", "smooth": "7"})
    assert at.number_input(key="points").value == 50
    # smoothing is the chart's own slider (no rerun): the link's 7 starts it at its top, 0.99
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert [p["value"] for p in spec["params"] if p["name"] == "smooth"] == [[{"w": 0.99}]]


@pytest.mark.parametrize("page", ["runs", "leaderboard"])
@pytest.mark.parametrize("template", ['start_time >= "{}"', 'params.lr = "{}"', '"{}" = 1'])
def test_a_filter_error_quotes_the_link_as_text(hostile_root, page, template):
    for payload in PAYLOADS[:3]:  # a link, an image, HTML
        expression = template.format(payload)
        at = _open(page, {"project": PROJECT, "filter": expression})
        assert_renders_as_text(at)
        message = reads_as(at.error[0].value)
        assert message.startswith("Filter: ") and payload in message  # quoted, and only as text
        assert at.code[0].value.startswith(expression)  # the expression itself, verbatim


def test_a_hostile_project_folder_is_not_offered(tmp_path, monkeypatch):
    root = tmp_path / "store"
    with tracklib.init("plain", root=str(root), capture=False) as run:
        run.log({"loss": 1.0})
    (root / "records" / f"project=<img src=x onerror=alert(1)> [a](https:{EVIL})").mkdir()
    monkeypatch.setenv("TRACKLIB_ROOT", str(root))
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in ("overview", "runs"):
        at = _open(page, {"project": "<img src=x onerror=alert(1)> [a](https:evil.example)"})
        assert_renders_as_text(at)
        assert at.sidebar.selectbox[1].options == ["plain"]


def test_record_text_shows_literally_on_the_run_page(hostile_root):
    victim = hostile_root.victim
    at = _open("run", {"project": PROJECT, "run": victim})
    assert_renders_as_text(at)
    assert reads_as(at.title[0].value) == f"{PAYLOADS[0]} #0"
    assert reads_as(at.error[0].value) == PAYLOADS[0]  # the run's error, as text
    metrics = {m.label: reads_as(m.value) for m in at.metric}
    assert metrics["Group"] == PAYLOADS[1] and metrics["Tags"] == f"{PAYLOADS[0]}, t0"


def test_crafted_artifact_paths_are_not_offered(hostile_root):
    victim = hostile_root.victim
    at = _open("run", {"project": PROJECT, "run": victim})
    assert_renders_as_text(at)
    names = [t.value for t in at.text]
    assert {"model.bin", "passwd", "absolute", "neighbour", "linked.txt"} <= set(names)
    downloads = [b for b in at.get("download_button") if b.label == "Download"]  # not the Reproduce panel's
    refused = [b for b in at.button if b.label == "Download"]
    assert len(downloads) == 1  # model.bin; linked.txt is a link leading out of the run's folder
    assert len(refused) == 5 and all(b.disabled for b in refused)
    notes = [reads_as(c.value) for c in at.caption if reads_as(c.value).startswith("Not offered")]
    assert len(notes) == 5 and any("../../../../etc/passwd" in n for n in notes)
    assert any("leads out of" in n for n in notes)
    assert not any(SECRET.decode() in s for s in markdown_strings(at.main) + names)


def test_the_symlink_out_of_the_folder_is_refused_when_read(hostile_root):
    """Its path is well formed, so only the store can tell (the page asks it up front); a read
    that got past the page would be refused too."""
    store = tracklib.open_store(hostile_root.root)
    artifacts = store.run(PROJECT, hostile_root.victim).artifacts.set_index("name")["path"]
    with pytest.raises(tracklib.UnsafePathError):
        data.read_artifact("default", artifacts["linked.txt"], PROJECT, hostile_root.victim)
    with pytest.raises(tracklib.UnsafePathError):  # another project's file, named by this run's record
        data.read_artifact("default", artifacts["neighbour"], PROJECT, hostile_root.victim)
    assert data.read_artifact("default", artifacts["model.bin"], PROJECT, hostile_root.victim)


@settings(max_examples=400, deadline=None)
@given(hs.text(hs.characters(codec="utf-8")) | hs.sampled_from(PAYLOADS))
def test_escaped_text_reads_as_written_and_holds_no_markup(text):
    escaped = md_escape(text)
    assert live_markup(escaped) == []
    written = text.replace("\r\n", "\n").replace("\r", "\n")
    expected = "\n".join(_expand_indent(line) for line in written.split("\n")).replace("\u00a0", " ")
    assert reads_as(escaped) == expected.replace("\u2060", "").replace("\u200b", "")


def _expand_indent(line: str) -> str:
    body = line.lstrip(" \t")
    return line[: len(line) - len(body)].expandtabs(4) + body


_RULES = {
    "n": urlstate.Number(1, 10_000, whole=True),
    "f": urlstate.Number(0.0, 0.99),
    "b": urlstate.Flag(),
    "d": urlstate.Day(dt.date(1970, 1, 1), dt.date(2200, 1, 1)),
    "t": urlstate.Text(limit=20),
    "c": urlstate.Choice(["a", "b"]),
    "m": urlstate.Choice(["a", "b"], many=True),
}


@settings(max_examples=300, deadline=None)
@given(
    hs.dictionaries(
        hs.sampled_from(list(_RULES)),
        hs.lists(hs.one_of(_urls, hs.sampled_from(["a", "b", "5", "0.5", "true", "2024-01-31"])), max_size=4),
    )
)
def test_cleaning_a_link_ends_and_keeps_only_values_the_widgets_take(given_params):
    changes, _ = urlstate.clean(_RULES, given_params)
    fixed = {**given_params, **changes}
    assert urlstate.clean(_RULES, fixed) == ({}, [])  # a corrected link needs no second correction
    for key, values in fixed.items():
        assert _RULES[key].many or len(values) <= 1
        for value in values:
            assert _RULES[key].fix(value) == value or (value == "" and key != "t")
    if fixed.get("n"):
        assert 1 <= int(fixed["n"][0]) <= 10_000


_JSON = hs.recursive(
    hs.none() | hs.booleans() | hs.floats() | hs.integers() | hs.text(max_size=20),
    lambda inner: hs.lists(inner, max_size=3) | hs.dictionaries(hs.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(event=hs.dictionaries(hs.sampled_from(["smooth", "pick"]), _JSON, max_size=2), weight=_JSON)
def test_a_smoothing_event_from_the_browser_is_a_weight_in_range_or_ignored(event, weight):
    """The chart's slider reaches the server as a selection event the browser sends: whatever
    arrives, the link gets a number in [0, 0.99] or keeps what it had."""
    from tracklib.dashboard.vega_smoothing import chosen as chosen_smoothing

    for sent in (event, {"smooth": [{"w": weight}]}):
        value = chosen_smoothing(sent)
        assert value is None or (isinstance(value, float) and 0.0 <= value <= 0.99)


def test_a_smoothing_event_moves_the_link_to_that_weight():
    from tracklib.dashboard.vega_smoothing import chosen as chosen_smoothing

    assert chosen_smoothing({"smooth": [{"w": 0.8}]}) == 0.8
    assert chosen_smoothing({"smooth": [{"w": 5}]}) == 0.99
    assert chosen_smoothing({"smooth": []}) is None
