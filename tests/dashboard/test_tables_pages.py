"""Run tables on the pages: headline metric first, numbers by magnitude, run names that open
the Run page on a click, and a failed run's traceback (AppTest)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from streamlit.proto.Dataframe_pb2 import Dataframe as DataframeProto

import tracklib
from tracklib.dashboard import tables
from tracklib.dashboard.tables import names_of
from tracklib.dashboard.widgets import md_escape

VIEWS = "tracklib/dashboard/views"
SINGLE_CELL = DataframeProto.SelectionMode.SINGLE_CELL


def _app_over(root: str, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from seed import APP

    monkeypatch.setenv("TRACKLIB_ROOT", root)
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=60)


def _config(table) -> dict:
    return json.loads(table.proto.columns)


def _names_open_the_run_page(table, column: str = "name") -> None:
    """The name column is plain text (never a URL) and a click on a cell is a selection
    the page acts on (tables.show_runs), besides any row selection."""
    config = _config(table)[column]
    assert config["type_config"]["type"] == "text" and "open" in config["help"]
    assert SINGLE_CELL in table.proto.selection_mode
    assert not any(str(v).startswith(("run?", "http")) for v in table.value[column])


def test_runs_page_shows_the_headline_metric_first_and_lr_by_magnitude(tmp_path, monkeypatch):
    root = str(tmp_path / "store")
    for lr in (1e-5, 3e-4):
        with tracklib.init("tiny", root=root, capture=False, params={"lr": lr, "seed": 1}) as run:
            run.log({"a/first": 1.0, "throughput": 800.093247, "train/loss": 0.5, "val/acc": 0.9})
    at = _app_over(root, monkeypatch)
    at.query_params["project"] = "tiny"
    at.switch_page(f"{VIEWS}/runs.py").run()
    assert not at.exception
    table = at.dataframe[0]
    columns = table.value.columns.tolist()
    assert columns.index("metrics.val/acc") == 4  # right after name, status, started, duration
    config = _config(table)
    assert config["metrics.val/acc"]["label"] == "val/acc"
    assert config["params.lr"]["label"] == "lr" and "param" in config["params.lr"]["help"]
    assert config["params.lr"]["type_config"]["format"] == "scientific"  # 1E-5, never 0.000000
    assert config["metrics.throughput"]["type_config"]["format"] == "%.4g"  # 800.1


@pytest.mark.parametrize("page", ["overview", "leaderboard", "runs"])
def test_run_names_are_text_cells_a_click_opens(app, seeded_root, page):
    if page != "overview":
        app.query_params["project"] = "digits"
    app.switch_page(f"{VIEWS}/{page}.py").run()
    assert not app.exception
    table = app.dataframe[-1] if page == "overview" else app.dataframe[0]
    _names_open_the_run_page(table)
    assert set(names_of(table.value["name"])) <= set(seeded_root[1]) | {"lonely"}
    if page == "runs":  # picking rows to plot or compare still works beside it
        assert DataframeProto.SelectionMode.MULTI_ROW in table.proto.selection_mode


def test_sweeps_brushed_table_names_open_runs(app, seeded_root):
    app.query_params.update(
        {"project": "digits", "metric": "val/acc", "group": "(all runs)"}
        | {"brush_axes": "-0.1,0.1", "brush_range": "0.0,1.0"}  # the link's brush: every run
    )
    app.switch_page(f"{VIEWS}/sweeps.py").run()
    assert not app.exception
    brushed = app.dataframe[0]
    _names_open_the_run_page(brushed)
    names = names_of(brushed.value["name"])
    assert names and set(names) <= set(seeded_root[1])


@pytest.mark.parametrize("page", ["leaderboard", "runs"])
def test_a_clicked_name_switches_to_its_run_page_keeping_store_and_project(app, seeded_root, page):
    """What the click's callback leaves for the next run (the browser test clicks for real)."""
    run_id = seeded_root[1]["sgd-slow"]
    app.query_params["project"] = "digits"
    app.switch_page(f"{VIEWS}/{page}.py").run()
    key = app.dataframe[0].key
    app.session_state[f"{key}.open_run"] = run_id
    app.run()
    assert not app.exception
    assert app.title[0].value == md_escape("sgd-slow")  # the Run page of that run
    assert app.query_params["run"] == run_id
    assert app.session_state["project"] == "digits" and app.session_state["root"] == "default"


def test_a_click_picks_the_run_of_its_row_only_in_the_name_column():
    frame = pd.DataFrame(
        {"project": ["p", "q"], "name": ["javascript:alert(1)", None], "run_id": ["r1", "r2"]}
    )
    named, links = tables.run_links(frame)
    assert named["name"].tolist() == ["javascript:alert(1)", "r2"]  # as text; nameless: its id
    assert "run_id" not in named
    assert links.clicked([(1, "name")]) == ("q", "r2")
    assert links.clicked([(0, "project")]) is None and links.clicked([]) is None
    assert links.clicked([(2, "name")]) is None  # a stale selection past the table's end


@settings(max_examples=40, deadline=None)
@given(
    names=hs.lists(hs.one_of(hs.none(), hs.text(max_size=30)), min_size=1, max_size=8),
    row=hs.integers(-3, 10),
)
def test_any_names_stay_text_and_a_click_maps_to_its_row(names, row):
    ids = [f"id{i}" for i in range(len(names))]
    frame = pd.DataFrame({"name": names, "status": "finished"}, index=pd.Index(ids, name="run_id"))
    named, links = tables.run_links(frame, "proj")
    shown = named["name"].tolist()
    assert shown == [n if n else i for n, i in zip(names, ids, strict=True)]  # as given, never a link
    expected = ("proj", ids[row]) if 0 <= row < len(ids) else None
    assert links.clicked([(row, "name")]) == expected


def test_a_failed_run_page_shows_its_traceback(tmp_path, monkeypatch):
    root = str(tmp_path / "store")
    with pytest.raises(ValueError):
        with tracklib.init("boom", root=root, capture=False, name="crashy") as run:
            run.log({"loss": 0.0026242152761225897})
            raise ValueError("bad batch 17")
    at = _app_over(root, monkeypatch)
    at.query_params.update({"project": "boom", "run": run.id})
    at.switch_page(f"{VIEWS}/run.py").run()
    assert not at.exception
    assert "bad batch 17" in at.error[0].value
    trace = at.code[0].value
    assert trace.startswith("Traceback (most recent call last):")
    assert trace.splitlines()[-1] == "ValueError: bad batch 17"
    summary = at.dataframe[0].value.set_index("key")
    assert summary.loc["loss", "last"] == "0.002624"  # not 0.0026242152761225897
