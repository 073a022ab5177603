"""A long-lived reader on S3 lists only the recent part of ``records/`` on refresh, and still
sees every change: new runs, live snapshots of old running runs, compactions, and (at the next
whole listing) a resumed old run."""

from __future__ import annotations

import time

import pytest
from ulid import ULID

from tracklib.ops.compact import compact_project
from tracklib.read import listing
from tracklib.storage import open_storage


def _old_id(hours: float) -> str:
    return str(ULID.from_timestamp(time.time() - hours * 3600)).lower()


def _finished(root, run_id: str | None = None, value: float = 1.0) -> str:
    with root.init("p", run_id=run_id, capture=False) as run:
        run.log({"acc": value})
    return run.id


class _Listings:
    """Counts the store's whole and partial (StartAfter) listings and the files they return."""

    def __init__(self, store) -> None:
        self.whole = self.partial = self.files = 0
        storage = store.storage
        whole, partial = storage.list_files, storage.list_files_after

        def counted_whole(prefix):
            found = whole(prefix)
            if prefix.startswith("records/"):
                self.whole += 1
                self.files += len(found)
            return found

        def counted_partial(prefix, after):
            found = partial(prefix, after)
            self.partial += 1
            self.files += len(found or [])
            return found

        storage.list_files, storage.list_files_after = counted_whole, counted_partial


def test_a_refresh_lists_only_recent_run_folders_and_finds_the_new_runs(s3_root):
    old = [_finished(s3_root, _old_id(2 + i / 10)) for i in range(12)]
    store = s3_root.store()
    assert sorted(store.runs("p")["run_id"]) == sorted(old)
    listed = _Listings(store)
    new = _finished(s3_root)
    assert sorted(store.runs("p")["run_id"]) == sorted([*old, new])
    assert (listed.whole, listed.partial) == (0, 1)
    assert listed.files == 1  # the new run's snapshot, and nothing of the 12 old runs' folders


def test_an_old_run_still_running_keeps_showing_its_new_values(s3_root):
    runner = s3_root.init("p", run_id=_old_id(3), capture=False, flush_interval=0.05)
    try:
        runner.log({"acc": 0.1})
        deadline = time.monotonic() + 10
        while "metrics.acc" not in s3_root.store().runs("p").columns and time.monotonic() < deadline:
            time.sleep(0.05)
        store = s3_root.store()
        store.runs("p")
        listed = _Listings(store)
        _finished(s3_root)  # a newer run: the refresh is partial from here on
        runner.log({"acc": 0.9})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            runs = store.runs("p").set_index("run_id")
            if runs.loc[runner.id, "metrics.acc"] == 0.9:
                break
            time.sleep(0.05)
        assert runs.loc[runner.id, "metrics.acc"] == 0.9
        assert listed.whole == 0 and listed.partial >= 1
    finally:
        runner.finish()
    assert store.runs("p").set_index("run_id").loc[runner.id, "status"] == "finished"


def test_a_compaction_between_refreshes_loses_and_doubles_nothing(s3_root):
    ids = [_finished(s3_root, _old_id(2 + i / 10), value=i) for i in range(6)]
    store = s3_root.store()
    store.runs("p")
    ids.append(_finished(s3_root, value=6))
    compact_project(open_storage(s3_root.url, s3_root.storage_options), "p")
    runs = store.runs("p")
    assert sorted(runs["run_id"]) == sorted(ids)
    assert sorted(runs["metrics.acc"]) == list(range(7))
    assert store.records("p").num_rows == 7  # the deleted snapshots are not still listed


def _old_run_resumed_behind_a_reader(root):
    """A reader that has listed a newer run, then an hour-old run resumed to log acc 2.0."""
    old = _finished(root, _old_id(5), value=1.0)
    store = root.store()
    store.runs("p")
    _finished(root)
    store.runs("p")
    with root.init("p", run_id=old, resume=True, capture=False) as run:
        run.log({"acc": 2.0})
    return store, old


def test_a_resumed_old_run_shows_at_the_next_whole_listing(s3_root, monkeypatch):
    store, old = _old_run_resumed_behind_a_reader(s3_root)
    listed = _Listings(store)
    store.runs("p")  # partial: the resumed run's folder is older than the window
    assert (listed.whole, listed.partial) == (0, 1)
    monkeypatch.setattr(listing, "FULL_EVERY_S", 0.0)  # as if a minute had passed
    assert store.runs("p").set_index("run_id").loc[old, "metrics.acc"] == 2.0
    assert listed.whole == 1


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_stores_that_cannot_list_from_a_key_list_everything(kind, request):
    root = request.getfixturevalue(f"{kind}_root")
    store = root.store()
    first = _finished(root, _old_id(4))
    store.runs("p")
    second = _finished(root, _old_id(6))  # older id, written later: found all the same
    assert sorted(store.runs("p")["run_id"]) == sorted([first, second])


def test_a_refresh_asked_for_lists_everything_and_finds_a_resumed_old_run(s3_root):
    store, old = _old_run_resumed_behind_a_reader(s3_root)
    listed = _Listings(store)
    store.list_everything_next()  # the dashboard's Refresh button
    assert store.runs("p").set_index("run_id").loc[old, "metrics.acc"] == 2.0
    assert (listed.whole, listed.partial) == (1, 0)
