"""What a process that runs many short runs (a sweep, a study) leaves in the store, and how
soon a reader sees it: one snapshot per short run, one flushing thread for all runs, and
the final records of every INDEX_EVERY finished runs folded into one index file."""

from __future__ import annotations

import threading
import time

import pyarrow.parquet as pq
import pytest

import tracklib
from tracklib.storage import open_storage
from tracklib.write.runtime import Runtime


def _eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return result


def _files(root, prefix: str) -> list[str]:
    storage = open_storage(root.url, root.storage_options)
    return [f.path for f in storage.list_files(prefix) if f.path.endswith(".parquet")]


def test_a_new_run_shows_up_within_a_second_or_two_not_at_its_first_flush(memory_root):
    started = time.monotonic()
    run = memory_root.init(flush_interval=3600)
    try:
        statuses = _eventually(lambda: memory_root.store().runs("digits")["status"].tolist())
        assert statuses == ["running"]
        assert time.monotonic() - started < 5
    finally:
        run.finish()


def test_a_short_run_writes_one_snapshot_and_keeps_every_point(local_root):
    with local_root.init(params={"lr": 0.1}) as run:
        for step in range(50):
            run.log({"loss": 1 / (step + 1)})
    (record,) = _files(local_root, f"records/project=digits/run_id={run.id}")
    snapshot = pq.read_table(f"{local_root.url}/{record}")
    assert snapshot["seq"].to_pylist() == [1]  # the final one is the first one written
    assert snapshot["status"].to_pylist() == ["finished"]
    history = local_root.store().history("digits", run_ids=[run.id], keys=["loss"])
    assert history["step"].tolist() == list(range(50))
    assert local_root.store().runs("digits")["status"].tolist() == ["finished"]


def test_runs_of_one_process_share_one_flushing_thread_and_each_flushes(memory_root):
    earlier = set(threading.enumerate())  # other tests' runtimes keep theirs
    runtime = Runtime()
    runs = [memory_root.init(name=f"r{i}", flush_interval=0.05, runtime=runtime) for i in range(4)]
    try:
        for i, run in enumerate(runs):
            run.log({"loss": float(i)})
        flushers = [
            t for t in threading.enumerate() if t.name.startswith("tracklib-flush") and t not in earlier
        ]
        assert len(flushers) == 1

        def all_live():
            table = memory_root.store().runs("digits")
            return "metrics.loss" in table.columns and table["metrics.loss"].notna().sum() == 4

        assert _eventually(all_live)
        table = memory_root.store().runs("digits").set_index("name")
        assert table.loc[[f"r{i}" for i in range(4)], "metrics.loss"].tolist() == [0.0, 1.0, 2.0, 3.0]
        assert set(table["status"]) == {"running"}
    finally:
        for run in runs:
            run.finish()


def _sweep(root, runtime: Runtime, runs: int, first: int = 0) -> list[str]:
    ids = []
    for i in range(first, first + runs):
        with root.init("sweep", params={"seed": i, "lr": 0.1 * i}, runtime=runtime) as run:
            for step in range(10):
                run.log({"acc": i + step / 10})
        ids.append(run.id)
    return ids


@pytest.fixture
def index_every_5():
    """A runtime of its own that folds every 5 finished runs into an index file."""
    runtime = Runtime(index_every=5)
    yield runtime
    runtime.wait()


def test_every_batch_of_finished_runs_becomes_one_index_file(root, index_every_5):
    ids = _sweep(root, index_every_5, 3)
    reader = root.store()
    assert len(reader.runs("sweep")) == 3  # read from their record files
    ids += _sweep(root, index_every_5, 4, first=3)
    index_every_5.wait()
    assert len(_files(root, "index/project=sweep")) == 1
    left = {path.split("run_id=")[1].split("/")[0] for path in _files(root, "records/project=sweep")}
    assert left == set(ids[5:])  # the first five moved into the index, the last two wait
    for store in (reader, root.store()):  # a reader that read before, and a fresh one
        board = store.leaderboard("sweep", "acc", agg="max")
        assert board["run_id"].tolist() == ids[::-1]
        assert board["metrics_max.acc"].tolist() == pytest.approx([i + 0.9 for i in reversed(range(7))])
        assert board["params.seed"].tolist() == list(reversed(range(7)))
        assert set(board["status"]) == {"finished"}


def test_an_indexed_run_resumes_where_it_stopped(root, index_every_5):
    ids = _sweep(root, index_every_5, 5)
    index_every_5.wait()
    assert not _files(root, "records/project=sweep")
    with root.init("sweep", run_id=ids[2], resume=True, runtime=index_every_5) as run:
        run.log({"acc": 100.0})
    details = root.store().run("sweep", ids[2])
    assert details.status == "finished"
    history = root.store().history("sweep", run_ids=[ids[2]], keys=["acc"])
    assert history["step"].tolist() == list(range(11)) and history["value"].iloc[-1] == 100.0
    assert len(root.store().runs("sweep")) == 5


def test_runs_of_two_stores_behind_one_relative_root_are_never_indexed_together(
    tmp_path, monkeypatch, index_every_5
):
    ids = {}
    for job, runs in (("job-a", 3), ("job-b", 2)):  # Hydra-style: each job in its own folder
        (tmp_path / job).mkdir()
        monkeypatch.chdir(tmp_path / job)
        ids[job] = []
        for _ in range(runs):
            with tracklib.init("sweep", root="./store", capture=False, runtime=index_every_5) as run:
                run.log({"acc": 1.0})
            ids[job].append(run.id)
    index_every_5.wait()
    for job in ids:
        store = tracklib.open_store(str(tmp_path / job / "store"))
        assert sorted(store.runs("sweep")["run_id"]) == sorted(ids[job])
        assert not list((tmp_path / job / "store").glob("index/**/*.parquet"))
