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

WRITER = textwrap.dedent("""
    import sys, time, tracklib
    run = tracklib.init("digits", root=sys.argv[1], capture=False, flush_interval=0.2)
    print(run.id, flush=True)
    step = 0
    while True:
        run.log({"loss": 1.0 / (step + 1), "step_copy": step})
        step += 1
        if step % 100 == 0:
            time.sleep(0.01)
""")


def _start_writer(root: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", WRITER, root], stdout=subprocess.PIPE, text=True)
    run_id = process.stdout.readline().strip()
    return process, run_id


def _flushed_steps(root: str, run_id: str, at_least: int, timeout: float = 30.0) -> int:
    """Wait until the store holds ``at_least`` points of the run; return how many."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = len(tracklib.open_store(root).history("digits", run_ids=[run_id], keys=["loss"]))
        if count >= at_least:
            return count
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} points arrived in {timeout} s")


def test_sigterm_flushes_and_records_killed(tmp_path):
    root = str(tmp_path / "store")
    process, run_id = _start_writer(root)
    _flushed_steps(root, run_id, 1000)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == -signal.SIGTERM  # it still dies of SIGTERM
    process.stdout.close()
    details = tracklib.open_store(root).run("digits", run_id)
    assert details.status == "killed" and details.error == "SIGTERM"
    history = tracklib.open_store(root).history("digits", run_ids=[run_id], keys=["step_copy"])
    assert history["value"].tolist() == list(range(len(history)))  # every step, in order, no gap


def test_sigkill_keeps_everything_flushed_before_and_no_partial_file_is_visible(tmp_path):
    root = str(tmp_path / "store")
    process, run_id = _start_writer(root)
    _flushed_steps(root, run_id, 2000)
    before = len(tracklib.open_store(root).history("digits", run_ids=[run_id], keys=["loss"]))
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    process.stdout.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unreadable (partial) file would warn
        store = tracklib.open_store(root)
        history = store.history("digits", run_ids=[run_id], keys=["step_copy"])
        runs = store.runs("digits")
    assert len(history) >= before
    assert history["value"].tolist() == list(range(len(history)))
    published = [name for _, _, files in os.walk(root) for name in files if not name.startswith(".")]
    assert all(name.endswith(".parquet") for name in published)
    assert runs["status"].tolist() == ["running"]  # it never said goodbye...
    assert tracklib.open_store(root, stale_after=0).runs("digits")["status"].tolist() == [
        "stale"
    ]  # ...so: stale
