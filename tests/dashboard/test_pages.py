"""Every page through AppTest, asserting what a user sees."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.dashboard.tables import names_of
from tracklib.read.store import open_store

from seed import APP, seed_store

PAGES = ["overview", "runs", "leaderboard", "run", "curves", "compare"]
VIEWS = "tracklib/dashboard/views"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(app, page):
    app.query_params["project"] = "digits"
    app.run()
    if page != "overview":
        app.switch_page(f"{VIEWS}/{page}.py").run()
    assert not app.exception, app.exception
    assert app.title, "page has no title"


def test_overview_counts_runs_and_names_best_run(app):
    app.run()
    assert app.title[0].value == "Overview"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Projects"] == "2" and metrics["Runs"] == "6" and metrics["Failed"] == "1"
    best = app.dataframe[0].value.set_index("project")
    assert names_of([best.loc["digits", "run"]]) == ["rmsprop"]  # a link to its Run page, showing the name
    assert best.loc["digits", "metric"] == "max val/acc"


def test_leaderboard_order_and_ranks_follow_query_params(app):
    app.query_params.update(
        {"project": "digits", "metric": "val/acc", "agg": "max", "order": "highest", "top": "3"}
    )
    app.switch_page(f"{VIEWS}/leaderboard.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert names_of(table["name"]) == ["rmsprop", "adam-fast", "adam-slow"]
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["max val/acc"].tolist() == pytest.approx([0.97, 0.95, 0.91])


def test_leaderboard_filter_and_best_per_group(app):
    app.query_params.update(
        {"project": "digits", "metric": "val/acc", "filter": 'status = "finished"', "group_by": "optimizer"}
    )
    app.switch_page(f"{VIEWS}/leaderboard.py").run()
    table = app.dataframe[0].value
    assert names_of(table["name"]) == ["adam-fast", "sgd-fast"]


def test_runs_filter_expression_selects_the_matching_runs(app):
    app.query_params.update(
        {
            "project": "digits",
            "filter": 'params.lr < 0.05 and (params.optimizer in ["adam"] or tags contains "baseline")',
        }
    )
    app.switch_page(f"{VIEWS}/runs.py").run()
    assert not app.exception
    assert sorted(names_of(app.dataframe[0].value["name"])) == ["adam-fast", "adam-slow", "sgd-slow"]


def test_runs_filter_syntax_error_is_shown_inline_with_position(app):
    app.query_params.update({"project": "digits", "filter": "params.lr < "})
    app.switch_page(f"{VIEWS}/runs.py").run()
    assert not app.exception
    assert app.error and "Filter" in app.error[0].value
    assert "^" in app.code[0].value
    assert len(app.dataframe) == 0


def test_run_page_shows_params_and_artifacts(app, seeded_root):
    run_id = seeded_root[1]["adam-fast"]
    app.query_params.update({"project": "digits", "run": run_id})
    app.switch_page(f"{VIEWS}/run.py").run()
    assert not app.exception
    assert app.title[0].value == "adam\\-fast"
    params = app.dataframe[1].value.set_index("param")["value"].to_dict()  # under the summary
    assert params == {"lr": "0.01", "model.layers": "2", "optimizer": "adam"}
    texts = [t.value for t in app.text]
    assert "model.pkl" in texts and "2,400 bytes" in texts
    assert [b.label for b in app.get("download_button") if b.label == "Download"] == ["Download"]


def test_unknown_project_in_link_gets_a_friendly_notice(app):
    app.query_params["project"] = "no-such-project"
    app.run()
    assert not app.exception
    assert any("no-such-project" in w.value.replace("\\", "") for w in app.warning)  # shown escaped


def test_empty_default_root_shows_first_run_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKLIB_ROOT", str(tmp_path / "empty"))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "No runs in" in at.info[0].value
    assert "tracklib.init" in at.code[0].value


def test_leaderboard_ranks_only_runs_carried_from_the_runs_page(app, seeded_root):
    ids = seeded_root[1]
    app.query_params.update(
        {"project": "digits", "metric": "val/acc", "runs": [ids["sgd-slow"], ids["adam-slow"]]}
    )
    app.switch_page(f"{VIEWS}/leaderboard.py").run()
    assert names_of(app.dataframe[0].value["name"]) == ["adam-slow", "sgd-slow"]


def test_runs_page_keeps_selection_from_the_link(app, seeded_root):
    ids = seeded_root[1]
    app.query_params.update({"project": "digits", "runs": [ids["adam-fast"]]})
    app.switch_page(f"{VIEWS}/runs.py").run()
    assert not app.exception
    assert app.query_params["runs"] in (
        ids["adam-fast"],
        [ids["adam-fast"]],
    )  # the selection stays in the URL
    assert [link.label for link in app.get("page_link")][0] == "Open run"


def test_refresh_shows_a_run_written_after_the_page_loaded(tmp_path, monkeypatch):
    root = str(tmp_path / "live")
    seed_store(root)
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["project"] = "digits"
    at.run()
    assert {m.label: m.value for m in at.metric}["Runs"] == "6"
    with tracklib.init("digits", root=root, name="late-arrival", capture=False) as run:
        run.log({"val/acc": 0.5})
    at.sidebar.button[0].click().run()
    assert {m.label: m.value for m in at.metric}["Runs"] == "7"
    assert any(c.value.startswith("loaded 6 runs") for c in at.sidebar.caption)  # digits: 5 + 1


def test_a_curves_chart_kept_between_reruns_follows_points_written_since(tmp_path, monkeypatch):
    """The page keeps each built chart for its inputs; a refresh with new points draws them."""
    root = str(tmp_path / "growing")
    with tracklib.init("p", root=root, name="long", capture=False) as run:
        for step in range(5):
            run.log({"loss": 1.0 / (1 + step)}, step=step)
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"project": "p", "metrics": "loss"})
    at.switch_page(f"{VIEWS}/curves.py").run()
    assert _chart_rows(at)["xs"].max() == 4
    at.run()  # a rerun with the same inputs: the same chart
    assert _chart_rows(at)["xs"].max() == 4
    with tracklib.init("p", root=root, run_id=run.id, resume=True, capture=False) as resumed:
        resumed.log({"loss": 0.01}, step=9)
    at.sidebar.button[0].click().run()  # Refresh
    assert not at.exception
    assert _chart_rows(at)["xs"].max() == 9 and 0.01 in set(_chart_rows(at)["value"])


def test_the_log_scale_caption_follows_the_checkbox_under_the_chart(tmp_path, monkeypatch):
    """Points <= 0 are not drawn on a log scale, and the page says so as soon as the chart's
    own checkbox is ticked (the chart itself keeps the spec it was drawn with)."""
    root = str(tmp_path / "signed")
    with tracklib.init("p", root=root, capture=False) as run:
        for step, value in enumerate([1.0, 0.0, -2.0, 0.5]):
            run.log({"margin": value}, step=step)
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"project": "p", "metrics": "margin"})
    at.switch_page(f"{VIEWS}/curves.py").run()
    assert not [c for c in at.caption if "not drawn" in c.value]
    at.session_state["log"] = True  # what the checkbox's selection event writes (_chart_moved)
    at.session_state["_panel0_moved"] = True
    at.run()
    assert not at.exception
    assert [c.value for c in at.caption if "not drawn" in c.value] == ["log scale: 2 points ≤ 0 are not drawn"]
    (spec,) = _chart_specs(at)
    assert [p["value"] for p in spec["params"] if p["name"] == "logy"] == [[{"on": False}]]  # not redrawn


def test_links_can_only_pick_a_configured_store_by_name(tmp_path, monkeypatch, seeded_root):
    other = str(tmp_path / "other")
    with tracklib.init("elsewhere", root=other, capture=False):
        pass
    monkeypatch.setenv("TRACKLIB_ROOTS", f"main={seeded_root[0]}; second={other}")
    st.cache_data.clear()
    st.cache_resource.clear()

    picked = AppTest.from_file(APP, default_timeout=60)
    picked.query_params["root"] = "second"
    picked.run()
    assert picked.sidebar.selectbox[1].options == ["elsewhere"]

    hostile = AppTest.from_file(APP, default_timeout=60)
    hostile.query_params["root"] = "s3://attacker-bucket/x"
    hostile.run()
    assert not hostile.exception
    assert any("not configured" in w.value for w in hostile.warning)
    assert hostile.sidebar.selectbox[0].value == "main"
    assert hostile.sidebar.selectbox[1].options == ["digits", "other-project"]


def _chart_specs(at):
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _chart_rows(at, index: int = 0) -> pd.DataFrame:
    """The (largest) table a chart sends to the browser: Streamlit ships them as Arrow beside the spec."""
    datasets = at.get("vega_lite_chart")[index].proto.datasets
    frames = [pa.ipc.open_stream(dataset.data.data).read_pandas() for dataset in datasets]
    return max(frames, key=len)


def test_curves_first_visit_shows_recent_runs_main_metrics(app):
    app.query_params["project"] = "digits"
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    assert app.multiselect[1].value == ["val/acc", "train/loss"]
    assert len(app.multiselect[0].value) == 5  # all runs: fewer than the 10 most recent
    assert len(app.get("vega_lite_chart")) == 2
    assert any(c.value.startswith("showing 100 of 100 points") for c in app.caption)


def test_curves_smoothing_log_scale_and_point_budget(tmp_path, monkeypatch):
    root = str(tmp_path / "long")
    for lr in (0.1, 0.01, 0.001):
        with tracklib.init("long", root=root, params={"lr": lr}, capture=False) as run:
            for step in range(3000):
                run.log({"train/loss": 1.0 / (1 + lr * step)})
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update(
        {"project": "long", "metrics": "train/loss", "smooth": "0.6", "log": "true", "points": "100"}
    )
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    rows = _chart_rows(app)
    assert 3 * 50 <= len(rows) <= 3 * 100
    assert rows.groupby("run_id").size().max() <= 100
    assert any(c.value.startswith(f"showing {len(rows):,} of 9,000 points") for c in app.caption)
    (spec,) = _chart_specs(app)
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rule", "line", "line", "circle"]  # hover rule, raw, smoothed, points at the rule
    assert spec["layer"][1]["encoding"]["opacity"]["value"] == 0.25  # raw behind the smoothed line
    (log_y,) = [p for p in spec["params"] if p["name"] == "logy"]
    assert log_y["value"] == [{"on": True}] and log_y["bind"]["input"] == "checkbox"  # log y, in the chart
    (smooth,) = [p for p in spec["params"] if p["name"] == "smooth"]
    assert (
        smooth["value"] == [{"w": 0.6}] and smooth["bind"]["input"] == "range"
    )  # the link's value, in the chart


def test_curves_grouping_draws_bands_with_run_counts(app):
    app.query_params.update(
        {"project": "digits", "metrics": "val/acc", "group_by": "params.optimizer", "band": "min-max"}
    )
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    (spec,) = _chart_specs(app)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["area", "line"]
    assert set(_chart_rows(app)["group"]) == {"adam (n=2)", "sgd (n=2)", "rmsprop (n=1)"}


def test_compare_shows_only_differences_by_default(app, seeded_root):
    ids = seeded_root[1]
    app.query_params.update({"project": "digits", "runs": [ids["adam-fast"], ids["adam-slow"]]})
    app.switch_page(f"{VIEWS}/compare.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert "lr" in set(table["field"]) and "optimizer" not in set(table["field"])  # same optimizer: hidden
    lr = table.set_index("field").loc["lr"]
    assert sorted(lr.drop("section").tolist()) == ["0.001", "0.01"]
    assert len(app.get("vega_lite_chart")) == 2

    app.toggle[0].set_value(False).run()
    everything = app.dataframe[0].value
    assert {"optimizer", "git diff"} <= set(everything["field"]) and len(everything) > len(table)


def test_compare_shows_runs_whose_names_and_id_endings_are_alike(tmp_path, monkeypatch):
    # Users may choose run ids: "exp-000001" and "abc-000001" end alike, and a sweep repeats names.
    root = str(tmp_path / "store")
    for run_id, lr in (("exp-000001", 0.1), ("abc-000001", 0.01)):
        with tracklib.init("p", root=root, run_id=run_id, name="same", params={"lr": lr}, capture=False) as run:
            run.log({"loss": lr})
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"project": "p", "runs": ["exp-000001", "abc-000001"]})
    at.switch_page(f"{VIEWS}/compare.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert {"same · exp-000001", "same · abc-000001"} <= set(table.columns)
    assert sorted(table.set_index("field").loc["lr"].drop("section").tolist()) == ["0.01", "0.1"]


def test_runs_selection_links_to_curves_compare_and_rank(app, seeded_root):
    ids = seeded_root[1]
    app.query_params.update({"project": "digits", "runs": [ids["adam-fast"], ids["sgd-fast"]]})
    app.switch_page(f"{VIEWS}/runs.py").run()
    labels = [link.label for link in app.get("page_link")]
    assert labels == ["Curves (2)", "Compare (2)", "Rank (2)"]


def test_sweeps_page_charts_importance_and_heatmap(app):
    app.query_params.update({"project": "digits", "metric": "val/acc", "agg": "max", "group": "(all runs)"})
    app.switch_page(f"{VIEWS}/sweeps.py").run()
    assert not app.exception
    specs = _chart_specs(app)
    parallel = _chart_rows(app, 0)
    assert set(parallel["axis"]) == {"lr", "model.layers", "optimizer", "max val/acc"}
    assert parallel["position"].between(0, 1).all()
    assert specs[0]["params"][0]["name"] == "brush"
    importance = app.dataframe[0].value
    assert set(importance["param"]) == {"lr", "model.layers", "optimizer"}
    assert any("How to read this" in c.value for c in app.caption)
    heat = _chart_rows(app, len(specs) - 1)
    assert {"x", "y", "mean", "count"} <= set(heat.columns)


@pytest.mark.parametrize("x", ["time", "relative"])
def test_curves_x_axis_can_be_wall_time_or_time_since_start(app, seeded_root, x):
    app.query_params.update({"project": "digits", "metrics": "val/acc", "x": x})
    app.switch_page(f"{VIEWS}/curves.py").run()
    assert not app.exception
    (spec,) = _chart_specs(app)
    assert [p["value"] for p in spec["params"] if p["name"] == "xaxis"] == [[{"axis": x}]]
    rows = _chart_rows(app)  # every axis is in the data: the radio under the chart switches
    runs = open_store(seeded_root[0]).runs("digits").set_index("run_id")
    first = rows.groupby("run_id", observed=True)[["xt", "xr"]].min()
    start_ms = (runs["start_time"] - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(milliseconds=1)
    assert (first["xr"] >= 0).all() and (first["xr"] < 60).all()  # seconds since each run started
    assert ((first["xt"] - start_ms.reindex(first.index)).abs() < 60_000).all()  # epoch ms, UTC


@pytest.mark.parametrize("page,key", [("leaderboard", "metric"), ("sweeps", "metric"), ("curves", "metrics")])
def test_unknown_metric_in_a_link_gets_a_notice_and_the_default(app, page, key):
    app.query_params.update({"project": "digits", key: "no/such-metric"})
    app.switch_page(f"{VIEWS}/{page}.py").run()
    assert not app.exception
    assert any("no metric" in w.value and "such" in w.value for w in app.warning)
    assert app.get("vega_lite_chart") or app.dataframe  # the page still shows the default view


@pytest.fixture(scope="module")
def big_root(tmp_path_factory) -> tuple[str, list[str]]:
    """A project of more runs than a page of the Runs table and a run picker hold."""
    from tracklib.analysis.table import PAGE_ROWS
    from tracklib.dashboard.widgets import PICKER_RUNS

    root = str(tmp_path_factory.mktemp("big") / "store")
    ids = []
    for i in range(max(2 * PAGE_ROWS, PICKER_RUNS) + 10):
        with tracklib.init("big", root=root, params={"i": i}, capture=False) as run:
            run.log({"acc": i / 1000})
        ids.append(run.id)
    return root, ids


def _big_app(big_root, monkeypatch) -> AppTest:
    monkeypatch.setenv("TRACKLIB_ROOT", big_root[0])
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=60)


def test_runs_page_sends_one_sorted_page_and_keeps_picks_from_other_pages(big_root, monkeypatch):
    from tracklib.analysis.table import PAGE_ROWS

    ids = big_root[1]
    at = _big_app(big_root, monkeypatch)
    at.query_params.update({"project": "big", "runs": [ids[3], ids[-2]]})
    at.switch_page(f"{VIEWS}/runs.py").run()
    newest_first = at.dataframe[0].value
    assert len(newest_first) == PAGE_ROWS and newest_first["params.i"].iloc[0] == len(ids) - 1

    at.selectbox(key="sort").set_value("params.i").run()
    at.toggle(key="asc").set_value(True).run()
    pages = -(-len(ids) // PAGE_ROWS)
    at.number_input(key="page").set_value(pages).run()

    last_page = at.dataframe[0].value
    assert last_page["params.i"].tolist() == list(range((pages - 1) * PAGE_ROWS, len(ids)))
    assert f"{len(ids):,} of {len(ids):,} runs · page {pages} of {pages}" in at.caption[0].value
    assert set(at.query_params["runs"]) == {ids[3], ids[-2]}  # a pick on page 1 is not dropped


def test_a_run_picker_offers_the_newest_runs_and_an_older_one_from_the_link(big_root, monkeypatch):
    from tracklib.dashboard.widgets import PICKER_RUNS

    ids = big_root[1]
    at = _big_app(big_root, monkeypatch)
    at.query_params.update({"project": "big", "runs": [ids[0]]})  # the oldest run
    at.switch_page(f"{VIEWS}/curves.py").run()
    picker = at.multiselect(key="runs")
    assert picker.value == [ids[0]]
    assert len(picker.options) == PICKER_RUNS + 1
    assert not at.exception and at.get("vega_lite_chart")


def test_runs_picked_then_hidden_by_a_filter_stay_picked(app, seeded_root):
    ids = seeded_root[1]
    app.query_params.update({"project": "digits", "runs": [ids["adam-fast"], ids["sgd-fast"]]})
    app.switch_page(f"{VIEWS}/runs.py").run()
    app.text_input(key="filter").set_value('params.optimizer = "adam"').run()
    assert "sgd-fast" not in names_of(app.dataframe[0].value["name"])
    app.text_input(key="filter").set_value("").run()
    assert set(app.query_params["runs"]) == {ids["adam-fast"], ids["sgd-fast"]}
