"""Every dashboard page over a store whose files were mutated the way a hostile or broken
writer could: each page renders, shows the intact runs, and lists what was skipped."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import streamlit as st
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st_
from streamlit.testing.v1 import AppTest

from mutations import (
    HOSTILE_TEXT,
    NESTED,
    NUMBERS,
    copy_split,
    files_of,
    mutate_column,
    mutate_entry,
    rewrite,
    write_base_store,
)
from seed import APP

VIEWS = "tracklib/dashboard/views"
PAGES = ["overview", "runs", "leaderboard", "run", "curves", "compare", "sweeps"]
# each example opens every page (~10 s) and mutates three runs at once: a few examples cover much
SETTINGS = settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking reruns every page hundreds of times
    suppress_health_check=list(HealthCheck),
)
# what the store skips it also warns about: expected here, not a failure of the page
pytestmark = pytest.mark.filterwarnings("ignore:tracklib:UserWarning")
RECORD_COLUMNS = ["run_id", "project", "name", "status", "start_time", "record_time", "seq", "tags", "params"]


@pytest.fixture(scope="module")
def base_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages") / "base"
    return root, write_base_store(root)


def open_every_page(root, monkeypatch, ids):
    monkeypatch.setenv("TRACKLIB_ROOT", str(root))
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in PAGES:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update({"project": "p", "run": ids[-1], "runs": ids[-2:]})
        at.run()
        if page != "overview":
            at.switch_page(f"{VIEWS}/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert at.title, page


MUTATION = st_.tuples(
    st_.sampled_from(RECORD_COLUMNS), st_.sampled_from(["null", "text", "number"]), HOSTILE_TEXT, NUMBERS
)
ENTRY = st_.sampled_from(sorted(NESTED)).flatmap(
    lambda column: st_.tuples(
        st_.just(column), st_.sampled_from(NESTED[column]), st_.one_of(st_.none(), HOSTILE_TEXT, NUMBERS)
    )
)


def _victim(root, run_id):
    (path,) = files_of(root / "records" / "project=p", f"run_id={run_id}")
    return path, pq.read_table(path)


@SETTINGS
@given(mutations=st_.lists(MUTATION, min_size=3, max_size=3))
def test_every_page_renders_over_mutated_record_fields(base_store, tmp_path_factory, monkeypatch, mutations):
    base, ids = base_store
    root = copy_split(base, ids, tmp_path_factory.mktemp("case") / "store")
    for run_id, (column, how, text, number) in zip(ids, mutations):
        path, table = _victim(root, run_id)
        rewrite(path, mutate_column(table, column, how, text, number), table.schema.metadata)
    open_every_page(root, monkeypatch, ids)


@SETTINGS
@given(mutations=st_.lists(ENTRY, min_size=3, max_size=3))
def test_every_page_renders_over_mutated_entries(base_store, tmp_path_factory, monkeypatch, mutations):
    base, ids = base_store
    root = copy_split(base, ids, tmp_path_factory.mktemp("case") / "store")
    for run_id, (column, field, value) in zip(ids, mutations):
        path, table = _victim(root, run_id)
        rewrite(path, mutate_entry(table, column, field, value, extra=True), table.schema.metadata)
    open_every_page(root, monkeypatch, ids)


def test_an_int_param_beyond_int64_and_a_metric_named_like_a_derived_column(local_root, monkeypatch):
    """The two classes that took every page of a project down: both now just show."""
    for i in range(3):
        with local_root.init("p", params={"seed": 2**70 + i, "lr": 0.1 * (i + 1)}) as run:
            run.log({"acc": 0.5 + i / 10, "acc.min": 0.1})
    ids = list(local_root.store().runs("p")["run_id"])
    open_every_page(local_root.url, monkeypatch, ids)


def test_skipped_metric_and_environment_files_are_listed(base_store, tmp_path_factory, monkeypatch):
    base, ids = base_store
    root = copy_split(base, ids, tmp_path_factory.mktemp("case") / "store")
    metric = files_of(root / "metrics" / "project=p", f"run_id={ids[1]}")[0]
    environment = files_of(root / "environment" / "project=p", f"run_id={ids[1]}")[0]
    for path in (metric, environment):
        with open(path, "wb") as handle:
            handle.write(b"not parquet")
    monkeypatch.setenv("TRACKLIB_ROOT", str(root))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"project": "p", "run": ids[1], "runs": ids[:2]})
    at.switch_page(f"{VIEWS}/curves.py").run()
    at.switch_page(f"{VIEWS}/run.py").run()
    assert not at.exception
    (listed,) = [frame.value for frame in at.dataframe if "path" in frame.value.columns]
    for path in (metric, environment):
        assert any(path.endswith(p) for p in listed["path"]), (path, listed)
