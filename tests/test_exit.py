"""Runs left open when the interpreter exits are flushed and closed with the right status."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import tracklib

SCRIPT = """
import sys, tracklib
run = tracklib.init("digits", root=sys.argv[1], capture=False, flush_interval=3600)
for step in range(500):
    run.log({"loss": 1.0 / (step + 1)})
print(run.id, flush=True)
if sys.argv[2] == "crash":
    raise RuntimeError("out of memory, pretend")
"""


def _run_script(root: str, mode: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), root, mode],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.split()[0], done


def test_open_run_is_finished_at_exit_with_every_point(tmp_path):
    root = str(tmp_path / "store")
    run_id, done = _run_script(root, "clean")
    assert done.returncode == 0
    store = tracklib.open_store(root)
    assert store.run("digits", run_id).status == "finished"
    assert len(store.history("digits", run_ids=[run_id])) == 500


def test_uncaught_exception_marks_the_open_run_failed(tmp_path):
    root = str(tmp_path / "store")
    run_id, done = _run_script(root, "crash")
    assert done.returncode == 1 and "out of memory" in done.stderr  # the traceback is still printed
    details = tracklib.open_store(root).run("digits", run_id)
    assert details.status == "failed" and details.error.endswith("\nRuntimeError: out of memory, pretend")
    assert details.error.startswith("Traceback (most recent call last):")
    assert len(tracklib.open_store(root).history("digits", run_ids=[run_id])) == 500


FORKING = """
import os, sys, time, tracklib
run = tracklib.init("digits", root=sys.argv[1], capture=False, flush_interval=0.01)
for step in range(200):
    run.log({"loss": 1.0 / (step + 1)})
    time.sleep(0.001)  # flushes are under way on the flushing thread while we fork
    if step % 20 == 0 and os.fork() == 0:
        sys.exit(0)  # a child that exits normally: its exit hooks run
    os.waitpid(-1, os.WNOHANG)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
store = tracklib.open_store(sys.argv[1])
print(store.run("digits", run.id).status, flush=True)  # still ours: no child finished it
run.finish()
print(len(store.history("digits", run_ids=[run.id])), flush=True)
"""


def test_a_forked_child_neither_hangs_nor_finishes_the_parents_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FORKING), str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["running", "200"]
