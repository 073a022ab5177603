"""Odd and hostile input through the public API: each gets a clear error or is stored as given."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import tracklib

from seed import APP


def test_ten_thousand_distinct_metric_keys_in_one_run(memory_root):
    with memory_root.init() as run:
        run.log({f"layer_{i}/grad_norm": float(i) for i in range(10_000)})
    store = memory_root.store()
    assert len(store.history("digits", run_ids=[run.id])) == 10_000
    assert store.runs("digits").iloc[0]["metrics.layer_9999/grad_norm"] == 9999.0


def test_a_one_megabyte_string_param_round_trips(memory_root):
    big = "x" * 1_000_000
    with memory_root.init(params={"prompt": big}):
        pass
    assert memory_root.store().runs("digits").iloc[0]["params.prompt"] == big


def test_unicode_spaces_and_slashes_in_keys_names_and_tags(memory_root):
    with memory_root.init(name="résumé run 🚀", tags=["a b", "x/y", "日本"], params={"größe lr": 0.1}) as run:
        run.log({"ü/λ loss": 1.5, "eval/top 1": 0.5})
    row = memory_root.store().runs("digits").iloc[0]
    assert row["name"] == "résumé run 🚀" and list(row["tags"]) == ["a b", "x/y", "日本"]
    assert (
        row["params.größe lr"] == 0.1 and row["metrics.ü/λ loss"] == 1.5 and row["metrics.eval/top 1"] == 0.5
    )


def test_duplicate_out_of_order_and_huge_steps_are_kept_as_given(memory_root):
    with memory_root.init() as run:
        for step, value in [(5, 1.0), (5, 2.0), (2, 3.0), (2**62, 4.0)]:
            run.log({"x": value}, step=step)
    history = memory_root.store().history("digits", run_ids=[run.id])
    assert list(zip(history["step"], history["value"])) == [(2, 3.0), (5, 1.0), (5, 2.0), (2**62, 4.0)]
    row = memory_root.store().runs("digits").iloc[0]
    assert row["metrics.x"] == 4.0  # "last" is the value at the highest step


def test_empty_and_non_mapping_log_calls():
    run = tracklib.init("digits", root="memory://bad-input-empty", capture=False)
    try:
        run.log({})  # nothing to record: fine
        with pytest.raises((TypeError, ValueError)):
            run.log([("x", 1.0), ("y")])  # not a mapping of key -> value
    finally:
        run.finish()


def _break_the_store(root: str, run_id: str) -> None:
    folder = f"{root}/records/project=digits/run_id={run_id}"
    with open(f"{folder}/01zzzzzzzzzzzzzzzzzzzzzzzz.parquet", "wb") as handle:
        handle.write(b"PAR1 this file was cut short")
    pq.write_table(pa.table({"something": ["else"]}), f"{folder}/01yyyyyyyyyyyyyyyyyyyyyyyy.parquet")
    with open(f"{root}/records/README.txt", "w") as handle:
        handle.write("a file someone dropped here")


def test_broken_and_foreign_files_are_skipped_with_one_warning_each(local_root):
    with local_root.init(name="survivor") as run:
        run.log({"loss": 1.0})
    _break_the_store(local_root.url, run.id)
    store = local_root.store()
    with pytest.warns(UserWarning) as caught:
        runs = store.runs("digits")
        store.runs("digits")  # the second read warns no more
    assert runs["name"].tolist() == ["survivor"]
    assert len(caught) == 2 and {"01zzzz", "01yyyy"} == {w.message.args[0].split("/")[-1][:6] for w in caught}
    assert len(store.skipped_files) == 2


def test_dashboard_shows_a_notice_instead_of_crashing_on_broken_files(local_root, monkeypatch):
    with local_root.init(name="survivor") as run:
        run.log({"loss": 1.0})
    _break_the_store(local_root.url, run.id)
    monkeypatch.setenv("TRACKLIB_ROOT", local_root.url)
    st.cache_data.clear()
    st.cache_resource.clear()
    with pytest.warns(UserWarning):
        at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.expander[0].label.startswith("2 file(s), row(s) or folder(s) in this store could not be used")
    assert {"Runs": "1"}.items() <= {m.label: m.value for m in at.metric}.items()


@pytest.mark.parametrize(
    "name", ["../escape.txt", "a/../../b", "/etc/passwd", "dir\\\\file", "", "a//b", "./x"]
)
def test_artifact_names_cannot_leave_the_runs_folder(local_root, tmp_path, name):
    source = tmp_path / "file.txt"
    source.write_text("data")
    with local_root.init() as run:
        with pytest.raises(ValueError, match="artifact name"):
            run.log_artifact(source, name=name)
        kept = run.log_artifact(source, name="nested/ok.txt")
    assert kept.path.endswith("/nested/ok.txt") and f"run_id={run.id}/" in kept.path
    assert not (tmp_path / "escape.txt").exists()
