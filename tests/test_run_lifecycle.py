"""Statuses, ids, names and live records: what a reader sees over a run's life."""

from __future__ import annotations

import random
import time

import pytest

import tracklib
from tracklib import config


def test_exception_marks_failed_with_message_and_propagates(memory_root):
    with pytest.raises(ZeroDivisionError):
        with memory_root.init() as run:
            run.log({"loss": 1.0})
            raise ZeroDivisionError("division by zero")
    details = memory_root.store().run("digits", run.id)
    assert details.status == "failed" and details.error.endswith("ZeroDivisionError: division by zero")
    assert details.error.startswith("Traceback (most recent call last):")  # whole, as Python prints it
    assert 'raise ZeroDivisionError("division by zero")' in details.error


@pytest.mark.parametrize("message_length", [30_000, 1_200_000])
def test_a_huge_traceback_is_kept_whole_and_masked(memory_root, monkeypatch, message_length):
    """Whole (its top names where it started); only past 1,000,000 characters (a pathological
    message) its first and last halves around a note."""
    monkeypatch.setenv("WANDB_API_KEY", "k3y-very-secret-value")

    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("bad batch " + "x" * message_length + " k3y-very-secret-value")
        deep(n - 1)

    with pytest.raises(ValueError):
        with memory_root.init() as run:
            deep(50)
    error = memory_root.store().run("digits", run.id).error
    assert error.startswith("Traceback (most recent call last):") and error.endswith("***")
    assert "in deep" in error and "Previous line repeated" in error  # as Python prints it
    assert "k3y-very-secret-value" not in error
    if message_length < 1_000_000:
        assert "x" * message_length in error and "cut" not in error
    else:
        assert 1_000_000 <= len(error) < 1_000_200 and "characters of traceback cut" in error


def test_keyboard_interrupt_marks_killed(memory_root):
    with pytest.raises(KeyboardInterrupt):
        with memory_root.init() as run:
            raise KeyboardInterrupt
    assert memory_root.store().run("digits", run.id).status == "killed"


def test_without_with_finish_closes_the_run(memory_root):
    run = memory_root.init()
    run.log({"x": 1})
    run.finish()
    assert memory_root.store().runs("digits")["status"].tolist() == ["finished"]


def test_run_ids_sort_by_start_time_and_names_are_generated(memory_root):
    runs = [memory_root.init() for _ in range(3)]
    for run in runs:
        time.sleep(0.002)  # ids have millisecond resolution
        run.finish()
    ids = [run.id for run in runs]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert all(run.name and "-" in run.name for run in runs)
    named = memory_root.init(name="my run")
    named.finish()
    assert named.name == "my run"


def test_running_run_is_visible_with_live_summary_before_finish(memory_root):
    run = memory_root.init(flush_interval=0.05)
    try:
        run.log({"loss": 0.7})

        def live_row():
            runs = memory_root.store().runs("digits")
            return runs.iloc[0].to_dict() if "metrics.loss" in runs.columns else None

        row = _eventually(live_row)
        assert row is not None and row["status"] == "running" and row["metrics.loss"] == 0.7
    finally:
        run.finish()


def _eventually(check, timeout=10.0):
    """Poll ``check`` until it returns something truthy (uploads are asynchronous)."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return result


def test_silent_running_run_reads_as_stale(memory_root):
    run = memory_root.init(heartbeat_interval=3600)
    try:
        assert _eventually(lambda: memory_root.store().runs("digits")["status"].tolist()) == ["running"]
        assert memory_root.store(stale_after=0).runs("digits")["status"].tolist() == ["stale"]
    finally:
        run.finish()


def test_a_full_buffer_is_flushed_before_the_interval(memory_root):
    run = memory_root.init(flush_interval=3600)
    try:
        for step in range(config.FLUSH_MAX_CALLS + 10):
            run.log({"x": step})
        assert _eventually(lambda: len(memory_root.store().history("digits")) >= config.FLUSH_MAX_CALLS)
    finally:
        run.finish()


def test_resume_of_unknown_run_is_refused(memory_root):
    with pytest.raises(tracklib.RunNotFoundError, match="01nosuchrun"):
        memory_root.init(run_id="01nosuchrun", resume=True)
    with pytest.raises(ValueError, match="run_id"):
        memory_root.init(resume=True)


def test_invalid_project_names_are_refused(memory_root):
    for bad in ["", "a/b", "../x", "x=y", " padded"]:
        with pytest.raises(ValueError, match="project name"):
            memory_root.init(bad)


def test_default_root_is_local_tracking_folder(monkeypatch):
    monkeypatch.delenv("TRACKLIB_ROOT", raising=False)
    assert config.resolve_root(None) == "./tracking"
    monkeypatch.setenv("TRACKLIB_ROOT", "s3://bucket/x")
    assert config.resolve_root(None) == "s3://bucket/x"
    assert config.resolve_root("memory://explicit") == "memory://explicit"


def test_clean_sys_exit_finishes_and_failing_exit_fails(memory_root):
    with pytest.raises(SystemExit):
        with memory_root.init() as clean:
            raise SystemExit(0)
    with pytest.raises(SystemExit):
        with memory_root.init() as failing:
            raise SystemExit(3)
    store = memory_root.store()
    assert store.run("digits", clean.id).status == "finished"
    assert store.run("digits", failing.id).status == "failed"


def test_explicit_summary_replaces_last_but_keeps_logged_min_and_max(memory_root):
    with memory_root.init() as run:
        for value in (0.5, 0.9, 0.7):
            run.log({"val/acc": value})
        run.summary["val/acc"] = 0.9
    row = memory_root.store().runs("digits").iloc[0]
    assert (row["metrics.val/acc"], row["metrics_min.val/acc"], row["metrics_max.val/acc"]) == (0.9, 0.5, 0.9)


def test_a_run_cannot_be_finished_as_running_or_stale(memory_root):
    run = memory_root.init()
    for status in ("stale", "running", "bogus"):
        with pytest.raises(ValueError):
            run.finish(status)
    run.finish("killed")
    assert memory_root.store().run("digits", run.id).status == "killed"


def test_seeded_scripts_still_get_different_run_names(local_root):
    names = []
    for _ in range(3):
        random.seed(0)  # as seed_everything / set_seed do before every run
        with local_root.init(capture=False) as run:
            names.append(run.name)
    assert len(set(names)) == 3
