"""A writer that is preempted (SIGTERM) or killed outright (SIGKILL) loses nothing it flushed,
and readers never see a partial file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import tracklib

FLUSH_INTERVAL_S = 0.2
WRITER = textwrap.dedent("""
    import sys, time, tracklib
    run = tracklib.init("digits", root=sys.argv[1], capture=False, flush_interval=0.2)
    print(run.id, flush=True)
    step = 0
    while True:
        run.log({"loss": 1.0 / (step + 1), "step_copy": step})
        if step % 100 == 0:
            print(step, time.time(), flush=True)  # "step N was logged by then"
            time.sleep(0.01)
        step += 1
""")


def _start_writer(root: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", WRITER, root], stdout=subprocess.PIPE, text=True)
    run_id = process.stdout.readline().strip()
    return process, run_id


def test_sigterm_flushes_and_records_killed(tmp_path):
    root = str(tmp_path / "store")
    process, run_id = _start_writer(root)
    for _ in range(10):
        process.stdout.readline()  # 1,000 steps logged
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == -signal.SIGTERM  # it still dies of SIGTERM
    process.stdout.close()
    details = tracklib.open_store(root).run("digits", run_id)
    assert details.status == "killed" and details.error == "SIGTERM"
    history = tracklib.open_store(root).history("digits", run_ids=[run_id], keys=["step_copy"])
    assert history["value"].tolist() == list(range(len(history)))  # every step, in order, no gap


def test_sigkill_keeps_every_point_logged_a_flush_interval_before_and_no_partial_file(tmp_path):
    root = str(tmp_path / "store")
    process, run_id = _start_writer(root)
    logged_at = [tuple(map(float, process.stdout.readline().split()))]
    while logged_at[-1][1] - logged_at[0][1] < 1.5:  # let it log (and flush) for a while
        logged_at.append(tuple(map(float, process.stdout.readline().split())))
    killed_at = time.time()
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    process.stdout.close()
    # Every step logged more than one flush interval (0.2 s) before the kill, plus a margin
    # for the flusher's own work, must be in the store.
    due = max(int(step) for step, at in logged_at if at < killed_at - 2 * FLUSH_INTERVAL_S)
    assert due > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unreadable (partial) file would warn
        store = tracklib.open_store(root)
        history = store.history("digits", run_ids=[run_id], keys=["step_copy"])
        runs = store.runs("digits")
    assert history["value"].tolist() == list(range(len(history)))  # no gap
    assert len(history) > due, f"only {len(history)} points, step {due} was due"
    published = [name for _, _, files in os.walk(root) for name in files if not name.startswith(".")]
    assert all(name.endswith(".parquet") for name in published)
    assert runs["status"].tolist() == ["running"]  # it never said goodbye...
    assert tracklib.open_store(root, stale_after=0).runs("digits")["status"].tolist() == [
        "stale"
    ]  # ...so: stale
