"""16 processes x 20 runs logging at full speed into one project, on a local folder and on
the S3 test server, while a reader polls and compaction runs over and over: every run and
every point arrives exactly once, and no reader ever sees a run vanish or a point twice."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import warnings

import pytest

from tracklib.ops.compact import compact_project
from tracklib.storage import open_storage

PROCESSES, RUNS_PER_PROCESS, STEPS, METRICS = 16, 20, 200, ("loss", "acc", "lr")

WORKER = textwrap.dedent("""
    import json, os, sys, time, tracklib
    root, proc, options, go = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
    for i in range({runs}):
        with tracklib.init("stress", root=root, storage_options=options, params={{"proc": proc, "i": i}},
                           capture=False, flush_interval=0.05) as run:
            for step in range({steps}):
                base = proc * 1_000_000 + i * 1_000 + step
                run.log({{"loss": base + 0.25, "acc": base + 0.5, "lr": base + 0.75}})
    # stay alive until a compaction has folded finished runs while writers were alive (60 s at
    # most): on a busy machine the writers can otherwise all be done before a pass sees one
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)
""").format(runs=RUNS_PER_PROCESS, steps=STEPS)


def _expected_sum(proc: int, i: int, metric: str) -> float:
    offset = {"loss": 0.25, "acc": 0.5, "lr": 0.75}[metric]
    return sum(proc * 1_000_000 + i * 1_000 + step + offset for step in range(STEPS))


def _poll(root, stop: threading.Event, problems: list[str], polls: list[int]) -> None:
    seen = 0
    store = root.store()  # one long-lived reader, as the dashboard keeps
    while not stop.is_set():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                runs = store.runs("stress") if "stress" in store.projects() else None
                if runs is not None and len(runs):
                    if len(runs) < seen:
                        problems.append(f"runs went from {seen} to {len(runs)}")
                    seen = len(runs)
                    ended = runs.loc[runs["status"] == "finished", "run_id"].head(5).tolist()
                    history = store.history("stress", run_ids=ended)
                    counts = history.groupby(["run_id", "key"]).size()
                    if len(counts) and set(counts) != {STEPS}:
                        problems.append(f"a finished run read with {sorted(set(counts))} points, not {STEPS}")
            polls.append(1)
        except Exception as exc:  # noqa: BLE001 - any failure of the reader is the finding
            problems.append(repr(exc))


def _compact(root, stop: threading.Event, problems: list[str], reports: list, go) -> None:
    storage = open_storage(root.url, root.storage_options)
    while not stop.is_set():
        try:
            reports.append(compact_project(storage, "stress"))
            if reports[-1].runs_indexed:
                go.touch()  # the writers may end now
        except Exception as exc:  # noqa: BLE001
            problems.append(f"compaction: {exc!r}")


@pytest.fixture(params=["local", "s3"])
def stress_root(request):
    return request.getfixturevalue(f"{request.param}_root")


def test_many_writers_lose_nothing_and_readers_never_see_half_files(stress_root, tmp_path):
    stop, problems, polls, compactions = threading.Event(), [], [], []
    reader = threading.Thread(target=_poll, args=(stress_root, stop, problems, polls))
    go = tmp_path / "compacted"
    compactor = threading.Thread(target=_compact, args=(stress_root, stop, problems, compactions, go))
    reader.start()
    compactor.start()
    options = json.dumps(stress_root.storage_options)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, stress_root.url, str(proc), options, str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for proc in range(PROCESSES)
    ]
    try:
        errors = [worker.communicate(timeout=600)[1] for worker in workers]
        failures = [err for worker, err in zip(workers, errors) if worker.returncode != 0]
    finally:
        stop.set()
        reader.join()
        compactor.join()
    assert not failures, failures[0][-2000:]
    assert not any(errors), next(e for e in errors if e)[-2000:]  # e.g. "...wait in the spool"
    assert not problems, problems[:3]
    assert polls, "the reader never completed a poll"
    assert sum(r.runs_indexed for r in compactions) > 0, (
        f"compaction never folded a run while writers were alive ({len(compactions)} passes)"
    )
    compact_project(open_storage(stress_root.url, stress_root.storage_options), "stress")  # what is left

    store = stress_root.store()
    runs = store.runs("stress")
    assert len(runs) == PROCESSES * RUNS_PER_PROCESS
    assert set(runs["status"]) == {"finished"}
    assert len(set(zip(runs["params.proc"], runs["params.i"]))) == len(runs)
    history = store.history("stress")
    assert len(history) == PROCESSES * RUNS_PER_PROCESS * STEPS * len(METRICS)
    counts = history.groupby(["run_id", "key"]).size()
    assert set(counts) == {STEPS}  # every point exactly once
    sums = history.groupby(["run_id", "key"])["value"].sum()
    ident = runs.set_index("run_id")[["params.proc", "params.i"]]
    for (run_id, key), total in sums.items():
        proc, i = ident.loc[run_id]
        assert total == pytest.approx(_expected_sum(int(proc), int(i), key), rel=1e-12)
    # compacted: one index file and one metric file per run are all a reader lists
    listed = open_storage(stress_root.url, stress_root.storage_options).list_files
    assert [f for f in listed("records/project=stress") if f.path.endswith(".parquet")] == []
    assert len(listed("metrics/project=stress")) == len(runs)
    assert 1 <= len(listed("index/project=stress")) <= 4
