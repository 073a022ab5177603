"""Pinned links (asof=...): the same rows and numbers however much is written later."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from dashboard.hostile import PROJECT, assert_renders_as_text, seed_hostile_store
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.analysis import asof

from seed import APP

VIEWS = "tracklib/dashboard/views"
BOARD = {"project": "digits", "metric": "val/acc", "agg": "max", "order": "highest"}


def _open(query: dict[str, str], page: str = "leaderboard") -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()  # a reload: everything read again from the store
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.switch_page(f"{VIEWS}/{page}.py")
    return at.run()


def _board(at: AppTest) -> pd.DataFrame:
    assert not at.exception, at.exception
    return at.dataframe[0].value.reset_index(drop=True)


def _lines(at: AppTest) -> str:
    """The page's text as read (Markdown escapes and word joiners taken out)."""
    text = "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.caption)])
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


def _wait_for_records(root: str, count: int) -> None:
    """Until the store lists ``count`` runs (a running run's first record comes after ~1 s)."""
    store = tracklib.open_store(root)
    deadline = time.monotonic() + 30
    while len(store.runs("digits")) < count:
        assert time.monotonic() < deadline, "the running run's record never arrived"
        time.sleep(0.1)


def _next_second() -> None:
    """Let the clock pass a whole second, so the pin (whole seconds) follows every write so far."""
    time.sleep(1.02 - time.time() % 1)


@pytest.fixture
def root(tmp_path, monkeypatch):
    path = str(tmp_path / "store")
    monkeypatch.setenv("TRACKLIB_ROOT", path)
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    return path


def test_a_pinned_leaderboard_shows_the_same_rows_and_values_after_more_is_written(root):
    for name, top in (("adam", 0.9), ("sgd", 0.8)):
        with tracklib.init("digits", root=root, name=name, capture=False) as run:
            for step in range(4):
                run.log({"val/acc": top - 0.1 * (3 - step)})
    growing = tracklib.init("digits", root=root, name="growing", capture=False, flush_interval=0.1)
    for step in range(3):
        growing.log({"val/acc": 0.5 + 0.1 * step})
    _wait_for_records(root, 3)
    _next_second()
    pin = asof.format_asof(datetime.now(UTC))
    live_then = _board(_open(BOARD))
    pinned_then = _open(BOARD | {"asof": pin})
    assert _board(pinned_then).equals(live_then)
    assert f"as of {pin[:10]} {pin[11:19]} UTC (pinned link)" in _lines(pinned_then)

    for step in range(3, 6):  # the growing run overtakes everyone, then finishes
        growing.log({"val/acc": 0.9 + 0.02 * step})
    growing.finish()
    with tracklib.init("digits", root=root, name="newcomer", capture=False) as run:
        run.log({"val/acc": 0.99, "val/loss": 0.1})

    live_now = _board(_open(BOARD))
    assert {"newcomer", "growing"} <= set(live_now["name"][:2])  # the live view moved on
    pinned_now = _open(BOARD | {"asof": pin})
    pd.testing.assert_frame_equal(_board(pinned_now), live_then)
    assert _board(pinned_now).set_index("name").loc["growing", "status"] == "running"

    run_page = _open({"project": "digits", "run": growing.id, "asof": pin}, page="run")
    assert not run_page.exception
    badges = [m.value for m in run_page.markdown if "-badge[" in m.value]
    assert badges and badges[0].endswith("-badge[running]")  # it finished after the pin
    summary = run_page.dataframe[0].value.set_index("key")
    assert float(summary.loc["val/acc", "last"]) == pytest.approx(0.7)
    assert float(summary.loc["val/acc", "max"]) == pytest.approx(0.7)
    datasets = run_page.get("vega_lite_chart")[0].proto.datasets
    (points,) = [pa.ipc.open_stream(d.data.data).read_pandas() for d in datasets]
    assert sorted(points["value"].round(6)) == [0.5, 0.6, 0.7]  # the curve stops at the pin


def test_the_share_popover_pins_the_link_to_now(root):
    with tracklib.init("digits", root=root, name="adam", capture=False) as run:
        run.log({"val/acc": 0.9})
    # A pin is a whole UTC second, taken down: a run written earlier in the same second would
    # fall after it. The run must be in the pinned view, so pin from the next second on.
    time.sleep(1.02 - time.time() % 1)
    at = _open(BOARD)
    before = datetime.now(UTC).replace(microsecond=0)
    assert "asof" not in parse_qs(urlsplit(at.code[0].value).query)
    at.checkbox(key="share_pin").check().run()
    link = parse_qs(urlsplit(at.code[0].value).query)
    pinned = asof.parse_asof(link["asof"][0], datetime.now(UTC))
    assert pinned is not None and before <= pinned <= datetime.now(UTC)
    assert link["metric"] == ["val/acc"] and link["agg"] == ["max"]
    assert "(pinned link)" not in _lines(at)  # ticking pins the link, not the page being read
    time.sleep(1.02 - time.time() % 1)
    at.run()
    assert parse_qs(urlsplit(at.code[0].value).query)["asof"] == link["asof"]  # taken once, kept
    at.checkbox(key="share_pin").uncheck().run()
    assert "asof" not in parse_qs(urlsplit(at.code[0].value).query)
    opened = _open({key: values[0] for key, values in link.items()})
    assert "(pinned link)" in _lines(opened)
    assert "asof" in parse_qs(urlsplit(opened.code[0].value).query)  # sharing a pinned view keeps it


@pytest.mark.parametrize("value", ["2999-01-01T00:00:00Z", "yesterday", "2026-12-02T01:23:45+01:00"])
def test_a_pin_in_the_future_or_unreadable_is_dropped_with_a_notice(root, value):
    with tracklib.init("digits", root=root, name="adam", capture=False) as run:
        run.log({"val/acc": 0.9})
    at = _open(BOARD | {"asof": value})
    assert not at.exception
    assert any("not a past UTC time" in w.value for w in at.warning)
    assert "pinned link" not in _lines(at) and "data as of" in _lines(at)
    assert "asof" not in at.query_params


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return seed_hostile_store(str(tmp_path_factory.mktemp("hostile-pinned") / "store"), runs=12)


@pytest.mark.parametrize("page", ["overview", "runs", "leaderboard", "curves", "sweeps", "compare", "run"])
def test_every_page_of_a_hostile_store_renders_pinned_as_text(hostile, monkeypatch, page):
    monkeypatch.setenv("TRACKLIB_ROOT", hostile.root)
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    pin = asof.format_asof(datetime.now(UTC))
    query = {"project": PROJECT, "asof": pin}
    if page in ("curves", "compare"):
        query["runs"] = list(hostile.ids[:3])
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    if page != "overview":
        at.switch_page(f"{VIEWS}/{page}.py")
    at.run()
    assert not at.exception, at.exception
    assert_renders_as_text(at)
    assert "Pinned link: the runs started by" in _lines(at)
