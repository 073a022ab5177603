"""init, open_store and compact take a storage object instead of a root, and really use it:
a wrapper sees the writes, reads and deletes. tracklib.storage.open_storage picks the
implementation by URL."""

from __future__ import annotations

import pytest

import tracklib
from tracklib.ops.compact import compact
from tracklib.storage import FsspecStorage, LocalStorage, open_storage

from faults import FaultyStorage


def _methods(storage: FaultyStorage) -> set[str]:
    return {name for name, _ in storage.calls}


def test_a_run_writes_through_the_storage_it_is_given(root):
    storage = FaultyStorage(open_storage(root.url, root.storage_options))
    with tracklib.init("p", storage=storage, capture=False) as run:
        run.log({"loss": 1.0})
    written = [rel for name, rel in storage.calls if name == "write_bytes"]
    assert any(rel.startswith(f"metrics/project=p/run_id={run.id}/") for rel in written)
    assert any(rel.startswith(f"records/project=p/run_id={run.id}/") for rel in written)
    assert root.store().run("p", run.id).status == "finished"  # the real store holds it


def test_a_store_and_a_compaction_read_and_delete_through_the_storage_they_are_given(local_root):
    with local_root.init("p", capture=False) as run:
        run.log({"loss": 1.0})
    reads = FaultyStorage(open_storage(local_root.url))
    assert tracklib.open_store(storage=reads).runs("p")["run_id"].tolist() == [run.id]
    assert {"list_files", "read_many"} <= _methods(reads)
    folds = FaultyStorage(open_storage(local_root.url))
    (report,) = compact(project="p", storage=folds)
    assert report.runs_indexed == 1
    assert {"write_bytes", "delete"} <= _methods(folds)
    assert any(rel.startswith("index/project=p/") for name, rel in folds.calls if name == "write_bytes")


def test_a_storage_and_a_root_together_are_refused(local_root):
    storage = open_storage(local_root.url)
    with pytest.raises(ValueError, match="either storage"):
        tracklib.init("p", root=local_root.url, storage=storage)
    with pytest.raises(ValueError, match="either storage"):
        tracklib.open_store(local_root.url, storage=storage)
    with pytest.raises(ValueError, match="either storage"):
        compact(local_root.url, storage=storage)


def test_open_storage_picks_the_implementation_by_url(tmp_path):
    assert isinstance(open_storage(tmp_path), LocalStorage)
    assert isinstance(open_storage(f"file://{tmp_path}"), LocalStorage)
    assert isinstance(open_storage("memory://somewhere"), FsspecStorage)
    assert not open_storage("memory://somewhere").on_local_disk
