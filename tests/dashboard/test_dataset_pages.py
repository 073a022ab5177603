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


HOSTILE = [
    {"name": "<script>alert(1)</script>", "source": "[x](javascript:alert(1))", "kind": "**bold**",
     "fingerprint": "<img src=x onerror=alert(1)>", "files": -1, "bytes": None},
    {"name": None, "source": None, "kind": None, "fingerprint": "no name: ignored", "files": None, "bytes": None},
    {"name": "twice", "source": "a", "kind": "file", "fingerprint": "first", "files": 1, "bytes": 1},
    {"name": "twice", "source": "b", "kind": "file", "fingerprint": "second", "files": 1, "bytes": 1},
    None,
]  # fmt: skip


def test_crafted_dataset_entries_read_as_text_and_pages_show_them_plainly(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "store"
    ids = []
    for name in ("crafted", "plain"):
        with tracklib.init("digits", root=str(root), name=name, capture=False) as run:
            run.log({"loss": 1.0})
        ids.append(run.id)
    for path in (root / "records" / "project=digits" / f"run_id={ids[0]}").glob("*.parquet"):
        table = pq.read_table(path)
        column = pa.array([HOSTILE] * table.num_rows, table.schema.field("datasets").type)
        pq.write_table(table.set_column(table.schema.get_field_index("datasets"), "datasets", column), path)
    store = tracklib.open_store(str(root))
    datasets = store.run("digits", ids[0]).datasets.set_index("name")
    assert sorted(datasets.index) == sorted(["<script>alert(1)</script>", "twice"])
    assert datasets.loc["twice", "fingerprint"] == "second"  # of two entries with one name, the later
    runs = store.runs("digits").set_index("name")
    assert runs.loc["crafted", "datasets.twice"] == "second"

    monkeypatch.setenv("TRACKLIB_ROOT", str(root))
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"project": "digits", "runs": ids})
    app.switch_page(f"{VIEWS}/compare.py").run()
    assert not app.exception
    table = app.dataframe[0].value.set_index("field")
    assert table.loc["<script>alert(1)</script>", "section"] == "dataset"  # a cell of text, not markup
    assert not any("alert" in m.value for m in app.markdown)
