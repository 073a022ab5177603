"""Run tables on the pages: headline metric first, numbers by magnitude, run names that open
the Run page, and a failed run's traceback (AppTest)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

import tracklib
from tracklib.dashboard import tables
from tracklib.dashboard.tables import names_of

VIEWS = "tracklib/dashboard/views"


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


def _run_link_targets(table, column: str = "name") -> list[dict[str, list[str]]]:
    links = table.value[column].tolist()
    assert all(urlsplit(link).path == "run" for link in links)  # relative: this dashboard's Run page
    return [parse_qs(urlsplit(link).query) for link in links]


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
def test_run_names_link_to_the_run_page_with_store_project_and_run(app, seeded_root, page):
    if page != "overview":
        app.query_params["project"] = "digits"
    app.switch_page(f"{VIEWS}/{page}.py").run()
    assert not app.exception
    table = app.dataframe[-1] if page == "overview" else app.dataframe[0]
    assert _config(table)["name"]["type_config"]["type"] == "link"
    ids = seeded_root[1] | {"lonely": None}
    for query, name in zip(_run_link_targets(table), names_of(table.value["name"]), strict=True):
        assert query["root"] == ["default"] and query["project"][0] in ("digits", "other-project")
        if ids[name] is not None:
            assert query["run"] == [ids[name]]


def test_sweeps_brushed_table_links_runs(app, seeded_root):
    app.query_params.update(
        {"project": "digits", "metric": "val/acc", "group": "(all runs)"}
        | {"brush_axes": "-0.1,0.1", "brush_range": "0.0,1.0"}  # the link's brush: every run
    )
    app.switch_page(f"{VIEWS}/sweeps.py").run()
    assert not app.exception
    brushed = app.dataframe[0]
    assert _config(brushed)["name"]["type_config"]["type"] == "link"
    ids = seeded_root[1]
    names = names_of(brushed.value["name"])
    assert names and set(names) <= set(ids)
    for query, name in zip(_run_link_targets(brushed), names, strict=True):
        assert query == {"root": ["default"], "project": ["digits"], "run": [ids[name]]}


def test_embedded_views_keep_the_embed_flag_in_run_links():
    frame = pd.DataFrame({"name": ["a b#c"], "run_id": ["r1"]})
    linked, _ = tables.with_run_links(frame, "default", "digits", embedded=True)
    query = parse_qs(urlsplit(linked["name"][0]).query)
    assert query == {"root": ["default"], "project": ["digits"], "run": ["r1"], "embed": ["true"]}
    assert names_of(linked["name"]) == ["a b#c"] and "run_id" not in linked


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
