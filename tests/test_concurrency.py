"""Several writers at once: resumes of one run are fenced, and many runs lose nothing; and
several readers sharing one Store (the dashboard's sessions) while files change."""

from __future__ import annotations

import threading
import time

import pytest

import tracklib


@pytest.fixture(params=["local", "s3"])
def shared_root(request):
    return request.getfixturevalue(f"{request.param}_root")


def test_two_writers_resuming_one_run_at_once_one_is_refused(shared_root):
    with shared_root.init() as first:
        for _ in range(5):
            first.log({"loss": 1.0})
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def resume(slot: int) -> None:
        barrier.wait()
        try:
            outcomes[slot] = shared_root.init(run_id=first.id, resume=True)
        except Exception as exc:  # noqa: BLE001 - the outcome is what we check
            outcomes[slot] = exc

    threads = [threading.Thread(target=resume, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if isinstance(o, tracklib.Run)]
    refused = [o for o in outcomes if isinstance(o, tracklib.ResumeConflictError)]
    assert len(winners) == 1 and len(refused) == 1, outcomes
    assert "another writer" in str(refused[0])
    winners[0].log({"loss": 0.5})
    winners[0].finish()
    history = shared_root.store().history("digits", run_ids=[first.id])
    assert history["step"].tolist() == [0, 1, 2, 3, 4, 5]


def test_two_writers_starting_the_same_chosen_id_one_is_refused(local_root):
    first = local_root.init(run_id="my-experiment-1")
    with pytest.raises((tracklib.ResumeConflictError, ValueError)):
        local_root.init(run_id="my-experiment-1")
    first.finish()


def test_a_later_resume_after_the_first_finished_is_allowed(local_root):
    with local_root.init() as run:
        run.log({"x": 1})
    for expected_steps in ([0, 1], [0, 1, 2]):
        with local_root.init(run_id=run.id, resume=True) as again:
            again.log({"x": 2})
        assert local_root.store().history("digits", run_ids=[run.id])["step"].tolist() == expected_steps


def test_a_reader_fetching_while_another_forgets_a_replaced_snapshot_does_not_fail(local_root):
    running = local_root.init("p", flush_interval=60)
    running.log({"acc": 1.0})
    running._flush()  # noqa: SLF001 - its first snapshot, now
    store = local_root.store()
    deadline = time.monotonic() + 20
    while store.runs("p").empty and time.monotonic() < deadline:
        time.sleep(0.02)
    with local_root.init("p", capture=False) as late:  # something new for the first reader
        late.log({"acc": 5.0})
    fetching, go_on = threading.Event(), threading.Event()
    read_many = store.storage.read_many

    def slow_for_the_first_reader(paths):
        if threading.current_thread().name == "first":
            fetching.set()
            go_on.wait(20)
        return read_many(paths)

    store.storage.read_many = slow_for_the_first_reader
    seen: dict[str, object] = {}

    def first_reader():
        try:
            seen["first"] = sorted(store.runs("p")["metrics.acc"])
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            seen["first"] = exc

    reader = threading.Thread(target=first_reader, name="first")
    reader.start()
    assert fetching.wait(20)
    fs, path = local_root.filesystem()
    snapshots = f"{path}/records/project=p/run_id={running.id}/*.parquet"
    cached = fs.glob(snapshots)
    running.log({"acc": 2.0})  # a new snapshot replaces the one both readers cached
    running._flush()  # noqa: SLF001
    while (now := fs.glob(snapshots)) == cached or len(now) != 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert sorted(store.runs("p")["metrics.acc"]) == [2.0, 5.0]  # the second reader forgets it
    go_on.set()
    reader.join(20)
    assert not isinstance(seen["first"], Exception), seen["first"]
    running.finish()
