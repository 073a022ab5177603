"""The writer's threads and fork handler belong to a runtime made on first use, never at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

import tracklib
from tracklib.write.runtime import Runtime, current

IMPORT_ONLY = """
import os, sys, threading
tracklib_handlers = []
register = os.register_at_fork

def counting(**handlers):
    if sys._getframe(1).f_globals.get("__name__", "").startswith("tracklib"):
        tracklib_handlers.append(handlers)
    return register(**handlers)

os.register_at_fork = counting
import tracklib
print(threading.active_count(), len(tracklib_handlers), flush=True)
run = tracklib.init("digits", root=sys.argv[1], capture=False)
from tracklib.write.runtime import Runtime
Runtime()  # a second runtime: the one handler serves it too
run.finish()
print(len(tracklib_handlers), flush=True)
"""


def _script(source: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_starts_no_thread_and_registers_no_fork_handler(tmp_path):
    done = _script(IMPORT_ONLY, str(tmp_path / "store"))
    assert done.returncode == 0, done.stderr
    after_import, after_runs = done.stdout.splitlines()
    assert after_import == "1 0"  # one thread (the main one), no fork handler of tracklib's
    assert after_runs == "1"  # registered by the first runtime, once per process


def test_a_run_uses_the_threads_of_the_runtime_it_is_handed(tmp_path):
    root = str(tmp_path / "store")
    earlier = set(threading.enumerate())
    runtime = Runtime()
    assert runtime is not current()
    run = tracklib.init("digits", root=root, capture=False, flush_interval=0.05, runtime=runtime)
    flushing = [t for t in threading.enumerate() if t.name == "tracklib-flush" and t not in earlier]
    assert flushing == [runtime.scheduler._thread]
    for step in range(20):
        run.log({"loss": 1.0 / (step + 1)})
    run.finish()
    runs = tracklib.open_store(root).runs("digits")
    assert runs["run_id"].tolist() == [run.id]
    assert runs["status"].tolist() == ["finished"]
    assert runs["metrics.loss"].tolist() == [pytest.approx(1 / 20)]


FORKING = """
import json, os, sys, time, tracklib
root = sys.argv[1]

def statuses():
    runs = tracklib.open_store(root).runs("digits")
    return dict(zip(runs["name"], runs["status"])), dict(zip(runs["name"], runs["run_id"]))

parent = tracklib.init("digits", name="parent", root=root, capture=False, flush_interval=0.05)
parent.log({"loss": 1.0})
while "parent" not in statuses()[0]:
    time.sleep(0.02)  # its first record is in the store: the child could now wrongly finish it
pid = os.fork()
if pid == 0:
    child = tracklib.init("digits", name="child", root=root, capture=False, flush_interval=0.05)
    for step in range(10):
        child.log({"loss": 2.0})
    sys.exit(0)  # left open: the child's exit hooks finish it, and must leave the parent's alone
_, code = os.waitpid(pid, 0)
status, ids = statuses()
spooled = [name for _, _, names in os.walk(os.environ["TRACKLIB_SPOOL"]) for name in names]
parent.finish()
print(json.dumps({
    "child_exit": os.waitstatus_to_exitcode(code),
    "parent_after_child": status["parent"],
    "child": status.get("child"),
    "parent_id": parent.id,
    "child_id": ids.get("child"),
    "spooled_by_child": spooled,
}), flush=True)
"""


def test_a_forked_child_writes_its_own_run_and_leaves_the_parents_open(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("os.fork is POSIX only")
    root = str(tmp_path / "store")
    done = _script(FORKING, root)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["child_exit"] == 0
    assert result["parent_after_child"] == "running"  # the child did not finish it at its exit
    assert result["spooled_by_child"] == []  # nor tried to, leaving a final record for `sync`
    assert "tracklib:" not in done.stderr
    assert result["child"] == "finished"
    store = tracklib.open_store(root)
    assert store.run("digits", result["parent_id"]).status == "finished"  # the parent did, later
    history = store.history("digits", run_ids=[result["child_id"]], keys=["loss"])
    assert history["step"].tolist() == list(range(10))
