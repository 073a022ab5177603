"""Compaction: ended runs fold into few files, and no reader, writer or resume can tell the
difference except by how fast it is. The concurrent case is in test_stress.py."""

from __future__ import annotations

import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

import tracklib
import tracklib.cli
from tracklib import compaction
from tracklib.compaction import merge_run_metrics
from tracklib.format.ids import new_id
from tracklib.ops.compact import compact_project
from tracklib.read import filecache, query
from tracklib.storage import Storage, open_storage, parquet
from tracklib.storage import local as local_storage
from tracklib.write import compact_run

from faults import FaultyStorage

STEPS = 30


def _write(root, name: str, status: str = "finished", steps: int = STEPS, **kwargs) -> str:
    run = root.init("p", name=name, flush_interval=0.02, **kwargs)
    for step in range(steps):
        run.log({"loss": 1 / (step + 1), "acc": step / steps})
        if step % 10 == 9:
            time.sleep(0.05)  # several flushes: several metric parts and record snapshots
    if status != "running":
        run.finish(status)
    else:
        run._flush()  # noqa: SLF001 - a snapshot now, still running
        deadline = time.monotonic() + 10
        while not _parquet(root, f"records/project=p/run_id={run.id}") and time.monotonic() < deadline:
            time.sleep(0.01)  # uploaded in the background
    return run.id


def _storage(root) -> Storage:
    return open_storage(root.url, root.storage_options)


def _parquet(root, prefix: str) -> list[str]:
    return [f.path for f in _storage(root).list_files(prefix) if f.path.endswith(".parquet")]


def _comparable(runs: pd.DataFrame, leave_out: str) -> pd.DataFrame:
    """The ended runs (a running run's snapshot changes by itself), in a fixed order."""
    runs = runs[runs["run_id"] != leave_out]
    return runs.sort_values("run_id").reset_index(drop=True)


def test_compaction_changes_no_answer_and_leaves_few_files(root):
    ids = {name: _write(root, name, params={"lr": 0.1 * i}) for i, name in enumerate(["a", "b", "c"])}
    ids["failed"] = _write(root, "failed", status="failed")
    live = root.init("p", name="live", params={"lr": 9})  # an int where the others have floats
    live.log({"loss": 5.0})
    live._flush()  # noqa: SLF001
    reader = root.store()
    before = reader.runs("p")
    history_before = reader.history("p", run_ids=list(ids.values()))
    board_before = reader.leaderboard("p", "acc", agg="max")
    assert len(_parquet(root, f"metrics/project=p/run_id={ids['a']}")) > 1

    report = compact_project(_storage(root), "p")

    assert (report.runs_indexed, report.index_files_merged) == (4, 0)
    for fresh in (reader, root.store()):  # a long-lived reader and a new one agree
        pd.testing.assert_frame_equal(_comparable(fresh.runs("p"), live.id), _comparable(before, live.id))
        pd.testing.assert_frame_equal(fresh.history("p", run_ids=list(ids.values())), history_before)
        board = fresh.leaderboard("p", "acc", agg="max")
        pd.testing.assert_frame_equal(
            board[board["run_id"] != live.id], board_before[board_before["run_id"] != live.id]
        )
        assert fresh.run("p", ids["a"]).params == {"lr": 0.0}
    # only the running run keeps record snapshots; each ended run has one metric file
    assert {path.split("/")[2] for path in _parquet(root, "records/project=p")} == {f"run_id={live.id}"}
    for run_id in ids.values():
        assert len(_parquet(root, f"metrics/project=p/run_id={run_id}")) == 1
    assert len(_parquet(root, "index/project=p")) == 1
    again = compact_project(_storage(root), "p")  # idempotent
    assert (again.runs_indexed, again.record_files_removed, again.metric_files_merged) == (0, 0, 0)
    live.finish()
    assert root.store().runs("p").set_index("run_id").loc[live.id, "status"] == "finished"


def test_resume_after_compaction_continues_the_run(local_root):
    run_id = _write(local_root, "a", params={"lr": 0.5})
    compact_project(_storage(local_root), "p")
    with local_root.init("p", run_id=run_id, resume=True) as run:
        assert run.params == {"lr": 0.5}
        run.log({"loss": 0.001})
    store = local_root.store()
    runs = store.runs("p")
    assert len(runs) == 1 and runs.loc[0, "metrics.loss"] == 0.001
    assert store.history("p", keys=["loss"])["step"].tolist() == list(range(STEPS + 1))
    compact_project(_storage(local_root), "p")  # folds the resumed part in too
    assert store.history("p", keys=["loss"])["step"].tolist() == list(range(STEPS + 1))
    assert len(_parquet(local_root, f"metrics/project=p/run_id={run_id}")) == 1
    with pytest.raises(ValueError, match="already exists"):  # a compacted id stays taken
        local_root.init("p", run_id=run_id)


def test_a_reader_relists_when_compaction_deletes_what_it_listed(local_root):
    ids = [_write(local_root, name) for name in "abc"]
    calls = []

    def compact_first(read_many, rels):
        rels = list(rels)
        if not calls:  # between this reader's listing and its reading
            compact_project(_storage(local_root), "p")
        calls.append(rels)
        return read_many(rels)

    storage = FaultyStorage(_storage(local_root)).around("read_many", compact_first)
    store = tracklib.open_store(storage=storage)
    assert sorted(store.runs("p")["run_id"]) == sorted(ids)
    assert len(calls) >= 2  # it read, found files gone, listed again


def test_a_reader_misses_no_run_compacted_between_its_two_listings(local_root):
    ids = [_write(local_root, name) for name in "ab"]
    listed = []

    def compact_after_first_listing(list_files, prefix):
        found = list_files(prefix)
        if not listed:
            compact_project(_storage(local_root), "p")
        listed.append(prefix)
        return found

    storage = FaultyStorage(_storage(local_root)).around("list_files", compact_after_first_listing)
    store = tracklib.open_store(storage=storage)
    assert sorted(store.runs("p")["run_id"]) == sorted(ids)


def test_a_crash_between_write_and_delete_double_counts_nothing(root):
    run_id = _write(root, "a")
    storage = FaultyStorage(_storage(root)).skip("delete")  # dies before deleting anything
    compact_project(storage, "p")
    assert len(_parquet(root, f"metrics/project=p/run_id={run_id}")) > 2  # old parts + merged
    store = root.store()
    assert len(store.history("p")) == 2 * STEPS
    assert len(store.runs("p")) == 1
    report = compact_project(_storage(root), "p")  # the next compaction tidies up
    assert report.metric_files_merged > 0
    assert len(_parquet(root, f"metrics/project=p/run_id={run_id}")) == 1
    assert len(root.store().history("p")) == 2 * STEPS


def test_index_files_are_merged_so_a_project_keeps_a_few(local_root):
    storage = _storage(local_root)
    ids = []
    for batch in range(7):
        ids.append(_write(local_root, f"run-{batch}", steps=3))
        compact_project(storage, "p")
        assert 1 <= len(_parquet(local_root, "index/project=p")) <= 4
    assert sorted(local_root.store().runs("p")["run_id"]) == sorted(ids)


def test_only_long_silent_running_runs_are_compacted(local_root):
    run_id = _write(local_root, "hung", status="running", steps=3)
    storage = _storage(local_root)
    assert compact_project(storage, "p").runs_indexed == 0
    report = compact_project(storage, "p", now=time.time() + 8 * 24 * 3600)
    assert report.runs_indexed == 1
    runs = local_root.store(stale_after=0.001).runs("p")  # as a reader a week later sees it
    assert runs.loc[0, "run_id"] == run_id and runs.loc[0, "status"] == "stale"


def test_compact_command(local_root, capsys):
    _write(local_root, "a")
    assert tracklib.cli.main(["compact", "--root", local_root.url]) == 0
    assert "p: 1 run(s) indexed" in capsys.readouterr().out
    assert len(local_root.store().runs("p")) == 1


def test_two_compactions_merging_one_run_at_once_count_it_once(root):
    run_id = _write(root, "a")
    raced = []

    def second_compaction_first(write_bytes, rel, data):
        if not raced:
            raced.append(rel)
            merge_run_metrics(_storage(root), "p", run_id)  # lists the same parts, writes first
        write_bytes(rel, data)

    storage = FaultyStorage(_storage(root)).around("write_bytes", second_compaction_first)
    merge_run_metrics(storage, "p", run_id)
    assert len(_parquet(root, f"metrics/project=p/run_id={run_id}")) == 2  # both merged files
    assert len(root.store().history("p")) == 2 * STEPS
    assert merge_run_metrics(_storage(root), "p", run_id) == 1  # the next one drops the spare
    assert len(_parquet(root, f"metrics/project=p/run_id={run_id}")) == 1
    assert len(root.store().history("p")) == 2 * STEPS


def test_a_long_lived_reader_forgets_what_compaction_removed(local_root):
    for name in "abc":
        _write(local_root, name)
    store = local_root.store()
    store.runs("p")
    store.history("p")
    cached = len(store._files)  # noqa: SLF001 - the memory a dashboard keeps
    compact_project(_storage(local_root), "p")
    store.runs("p")
    store.history("p")
    assert len(store._files) < cached  # noqa: SLF001
    assert len(store._files) == 1 + 3  # noqa: SLF001 - one index file, one metric file per run


def test_a_long_running_run_keeps_one_or_two_record_files(root):
    run = root.init("p", flush_interval=0.02)
    for step in range(40):
        run.log({"loss": 1 / (step + 1)})
        time.sleep(0.01)  # a dozen flushes or more, each with a new snapshot
    run._flush()  # noqa: SLF001
    store, deadline = root.store(), time.monotonic() + 20
    while time.monotonic() < deadline and not (
        len(_parquet(root, f"records/project=p/run_id={run.id}")) <= 2
        and store.runs("p").get("metrics.loss", pd.Series([None]))[0] == 1 / 40
    ):
        time.sleep(0.05)  # the uploader deletes the previous snapshot once the next has landed
    assert len(_parquet(root, f"records/project=p/run_id={run.id}")) <= 2
    assert store.runs("p").loc[0, "metrics.loss"] == 1 / 40
    run.finish()
    assert len(_parquet(root, f"records/project=p/run_id={run.id}")) == 1
    assert root.store().runs("p").loc[0, "status"] == "finished"


def test_a_long_running_run_merges_its_metric_parts_as_it_goes(root, monkeypatch):
    monkeypatch.setattr(compact_run, "MERGE_PARTS_EVERY", 4)
    run = root.init("p", flush_interval=0.02)
    for step in range(60):
        run.log({"loss": float(step)})
        time.sleep(0.01)  # ~30 flushes, one part each
    run._flush()  # noqa: SLF001
    store, deadline = root.store(), time.monotonic() + 20
    while time.monotonic() < deadline and len(store.history("p")) < 60:
        time.sleep(0.05)
    history = store.history("p")
    assert history["value"].tolist() == [float(step) for step in range(60)]  # each point once
    assert len(_parquet(root, f"metrics/project=p/run_id={run.id}")) < 15  # not ~30
    run.finish()
    assert root.store().history("p")["value"].tolist() == [float(step) for step in range(60)]


def test_index_files_read_in_small_batches_give_the_runs_read_at_once(local_root, monkeypatch):
    monkeypatch.setattr(filecache, "BATCH_ROWS", 2)  # the batches of a 100,000-run index, in small
    logged = [{"lr": 1}, {"lr": 0.5}, {"lr": None, "opt": "sgd"}, {"opt": "adam"}, {"lr": 2, "opt": "adam"}]
    ids = [_write(local_root, f"r{i}", steps=3, params=p) for i, p in enumerate(logged)]
    compact_project(_storage(local_root), "p")
    with local_root.init("p", run_id=ids[0], resume=True) as resumed:  # now in two index files
        resumed.log({"acc": 7.0})
    compact_project(_storage(local_root), "p")
    store = local_root.store()

    runs = store.runs("p")

    at_once = query.runs_frame(store.records("p"))
    pd.testing.assert_frame_equal(runs.drop(columns="duration_s"), at_once.drop(columns="duration_s"))
    assert sorted(runs["run_id"]) == sorted(ids)
    assert runs.set_index("run_id").loc[ids[0], "metrics.acc"] == 7.0
    assert runs["params.lr"].dtype == "float64" and runs["params.opt"].dtype == "string"


def test_a_reader_of_many_live_runs_follows_snapshots_replaced_under_it(local_root):
    ids = [_write(local_root, f"r{i}", steps=1) for i in range(filecache._ASSEMBLE_FROM)]  # noqa: SLF001
    running = local_root.init("p", name="long", flush_interval=0.02)
    running.log({"acc": 1.0})
    running._flush()  # noqa: SLF001
    store = local_root.store()
    deadline = time.monotonic() + 20
    while len(store.runs("p")) < len(ids) + 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    for value in (2.0, 3.0):  # each snapshot replaces the last; the reader's joined table follows
        running.log({"acc": value})
        running._flush()  # noqa: SLF001
        while time.monotonic() < deadline and not (
            len(_parquet(local_root, f"records/project=p/run_id={running.id}")) == 1
            and store.runs("p").set_index("run_id").loc[running.id, "metrics.acc"] == value
        ):
            time.sleep(0.02)
        runs = store.runs("p").set_index("run_id")
        assert runs.loc[running.id, "metrics.acc"] == value and len(runs) == len(ids) + 1
        assert store.records("p").num_rows == len(ids) + 1  # no replaced snapshot left over
        assert store.run("p", running.id).summary.set_index("key").loc["acc", "last"] == value
        assert store.run("p", ids[7]).name == "r7"  # one run's rows, out of the joined table
    compact_project(_storage(local_root), "p")  # the ended runs leave; the running one stays
    pd.testing.assert_frame_equal(store.runs("p"), local_root.store().runs("p"))
    assert store.run("p", running.id).summary.set_index("key").loc["acc", "last"] == 3.0
    running.finish()
    pd.testing.assert_frame_equal(store.runs("p"), local_root.store().runs("p"))


def test_a_live_run_stays_listed_while_its_snapshot_is_replaced_during_the_listing(local_root, monkeypatch):
    """The reader reads the run's folder; the writer's next snapshot lands and the old one is
    deleted before the reader gets to it. The reader must see the new one, not neither."""
    running = local_root.init("p", name="long", flush_interval=0.02, capture=False)
    running.log({"acc": 1.0})
    running._flush()  # noqa: SLF001
    folder = f"records/project=p/run_id={running.id}"
    deadline = time.monotonic() + 20
    while len(_parquet(local_root, folder)) != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    (first,) = _parquet(local_root, folder)
    real_scandir, replaced = local_storage.os.scandir, []

    def scandir_then_replace(path):
        entries = list(real_scandir(path))
        if path.endswith(f"run_id={running.id}") and not replaced:  # once: the writer moves on
            replaced.append(True)
            running.log({"acc": 2.0})
            running._flush()  # noqa: SLF001
            while first in _parquet(local_root, folder) and time.monotonic() < deadline:
                time.sleep(0.01)
        return iter(entries)

    monkeypatch.setattr(local_storage.os, "scandir", scandir_then_replace)
    runs = local_root.store().runs("p").set_index("run_id")
    monkeypatch.undo()
    running.finish()
    assert replaced and first not in _parquet(local_root, folder)
    assert runs.loc[running.id, "metrics.acc"] == 2.0


def test_a_run_is_found_in_an_index_file_of_many_row_groups(local_root, monkeypatch):
    monkeypatch.setattr(compaction, "INDEX_ROW_GROUP_ROWS", 2)  # a 100,000-run index file, in small
    monkeypatch.setattr(parquet, "SMALL_FILE_ROWS", 1)  # with row-group statistics
    ids = [_write(local_root, f"r{i}", steps=2, params={"i": i}) for i in range(7)]
    compact_project(_storage(local_root), "p")
    (index,) = _parquet(local_root, "index/project=p")
    fs, path = local_root.filesystem()
    with fs.open(f"{path}/{index}", "rb") as handle:
        assert pq.ParquetFile(handle).metadata.num_row_groups == 4
    store = local_root.store()
    for i, run_id in enumerate(ids):
        assert store.run("p", run_id).params == {"i": i}
    with pytest.raises(tracklib.RunNotFoundError):
        store.run("p", new_id())
