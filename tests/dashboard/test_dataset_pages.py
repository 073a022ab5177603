"""Logged datasets on the dashboard (AppTest): Compare has a row per dataset that says which
runs read another version, and the Runs page filters and shows the datasets.<name> column."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.dashboard.tables import names_of

from seed import APP

VIEWS = "tracklib/dashboard/views"


@pytest.fixture(scope="module")
def dataset_store(tmp_path_factory) -> tuple[str, dict[str, str], dict[str, str]]:
    """Runs on version 1 or 2 of a training folder (and one without data): root, run ids by
    name, fingerprints by version."""
    base = tmp_path_factory.mktemp("datasets")
    root = str(base / "store")
    versions = {}
    for version, body in (("v1", b"a,b\n1,2\n"), ("v2", b"a,b\n1,3\n")):
        (base / version).mkdir()
        (base / version / "train.csv").write_bytes(body)
    ids = {}
    for name, version in (("first", "v1"), ("second", "v1"), ("third", "v2"), ("no-data", None)):
        with tracklib.init("digits", root=root, name=name, capture=False) as run:
            run.log_params({"lr": 0.1})
            if version is not None:
                versions[version] = run.log_dataset("train", base / version).fingerprint
            run.log({"loss": 1.0})
        ids[name] = run.id
    return root, ids, versions


@pytest.fixture
def app(dataset_store, monkeypatch):
    monkeypatch.setenv("TRACKLIB_ROOT", dataset_store[0])
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=60)


def test_compare_shows_that_two_runs_read_other_versions_of_a_dataset(app, dataset_store):
    _, ids, versions = dataset_store
    app.query_params.update({"project": "digits", "runs": [ids["first"], ids["third"]]})
    app.switch_page(f"{VIEWS}/compare.py").run()
    assert not app.exception
    table = app.dataframe[0].value  # only the differences: lr is the same, the data is not
    assert "lr" not in set(table["field"])
    row = table.set_index("field").loc["train"]
    assert row["section"] == "dataset"
    shown = sorted(row.drop("section").tolist())
    assert shown == sorted(versions[v][: len("sha256:") + 16] + "…" for v in ("v1", "v2"))


def test_compare_hides_a_dataset_both_runs_read_alike(app, dataset_store):
    _, ids, _ = dataset_store
    app.query_params.update({"project": "digits", "runs": [ids["first"], ids["second"]]})
    app.switch_page(f"{VIEWS}/compare.py").run()
    assert "train" not in set(app.dataframe[0].value["field"])


def test_runs_page_filters_by_and_shows_a_dataset_version(app, dataset_store):
    _, _, versions = dataset_store
    app.query_params.update(
        {"project": "digits", "filter": f'datasets.train = "{versions["v1"]}"', "columns": ["datasets.train"]}
    )
    app.switch_page(f"{VIEWS}/runs.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert sorted(names_of(table["name"])) == ["first", "second"]
    assert set(table["datasets.train"]) == {versions["v1"]}
    assert "datasets.train" in app.multiselect(key="columns").options
