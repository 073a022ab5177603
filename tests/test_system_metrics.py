"""init(system_metrics=...): real psutil readings land as system/* series of sample indexes,
apart from the user's steps; they stop at finish; a missing GPU library is no error."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import textwrap
import time

import pandas as pd
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracklib
from tracklib.write.buffer import Scheduler
from tracklib.write.system_metrics import SystemSampler

HOST_KEYS = {
    "system/cpu_percent",
    "system/process_cpu_percent",
    "system/process_rss_mb",
    "system/memory_used_mb",
    "system/memory_percent",
    "system/net_sent_mb_s",
    "system/net_recv_mb_s",
}


def _work(run: tracklib.Run, seconds: float) -> int:
    """Busy training-like work for ``seconds``, logging a loss per iteration; returns how many."""
    end, logged = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        sum(i * i for i in range(2000))
        run.log({"loss": 1.0 / (logged + 1)})
        logged += 1
    return logged


def _series(store: tracklib.Store, run_id: str) -> dict[str, pd.DataFrame]:
    history = store.history("digits", run_ids=[run_id])
    return {key: rows for key, rows in history.groupby("key")}


def test_samples_have_plausible_values_and_leave_the_users_steps_alone(tmp_path):
    root = str(tmp_path / "store")
    with tracklib.init("digits", root=root, capture=False, system_metrics=1) as run:
        logged = _work(run, 3.4)
    store = tracklib.open_store(root)
    series = _series(store, run.id)
    assert HOST_KEYS <= set(series)
    samples = len(series["system/cpu_percent"])
    assert samples >= 2
    for key in HOST_KEYS:  # one series per key, stepped by sample index 0, 1, 2, ...
        assert list(series[key]["step"]) == list(range(samples)), key
    assert list(series["loss"]["step"]) == list(range(logged))  # the user's steps, undisturbed
    host_cpu = series["system/cpu_percent"]["value"].to_numpy()
    assert ((0 <= host_cpu) & (host_cpu <= 100)).all()
    process_cpu = series["system/process_cpu_percent"]["value"]
    assert process_cpu.between(0, 100 * psutil.cpu_count()).all() and process_cpu.max() > 10  # it was busy
    # the host was at least as busy as this process, from the first sample on
    assert (host_cpu >= process_cpu.to_numpy() / psutil.cpu_count() - 5).all(), (host_cpu, process_cpu)
    assert (series["system/process_rss_mb"]["value"] > 1).all()
    assert (series["system/memory_used_mb"]["value"] > 0).all()
    assert series["system/memory_percent"]["value"].between(0, 100).all()
    assert (series["system/net_sent_mb_s"]["value"] >= 0).all()
    details = store.run("digits", run.id)
    assert details.status == "finished"
    # sampled while the run was open, every sample's time after the start and before the end
    times = series["system/cpu_percent"]["time"]
    assert times.min() >= details.start_time and times.max() <= details.end_time
    assert "system/cpu_percent" in set(details.summary["key"])


def test_no_sample_after_finish(tmp_path):
    root = str(tmp_path / "store")
    with tracklib.init("digits", root=root, capture=False, system_metrics=1) as run:
        _work(run, 1.5)
    store = tracklib.open_store(root)
    before = store.history("digits", run_ids=[run.id])
    time.sleep(2.5)  # two more intervals: a sampler still going would have written by now
    after = tracklib.open_store(root).history("digits", run_ids=[run.id])
    assert len(after) == len(before) and len(before[before["key"] == "system/cpu_percent"]) >= 1


def test_resume_continues_both_the_users_steps_and_the_samples(tmp_path):
    root = str(tmp_path / "store")
    with tracklib.init("digits", root=root, capture=False, system_metrics=1) as run:
        for _ in range(3):
            run.log({"loss": 1.0})
        _wait_for_a_sample(run)
    first = len(_series(tracklib.open_store(root), run.id)["system/cpu_percent"])
    with tracklib.init(
        "digits", root=root, run_id=run.id, resume=True, capture=False, system_metrics=1
    ) as again:
        again.log({"loss": 0.5})  # the default step follows the user's 0, 1, 2, not the samples
        _wait_for_a_sample(again)
    series = _series(tracklib.open_store(root), run.id)
    assert list(series["loss"]["step"]) == [0, 1, 2, 3]
    steps = list(series["system/cpu_percent"]["step"])
    assert steps == list(range(len(steps))) and len(steps) > first  # one series, no step twice


def _wait_for_a_sample(run: tracklib.Run) -> None:
    """Busy for a little over one 1 s interval, so the run holds at least one sample."""
    _busy(1.4)


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(i * i for i in range(2000))


EXIT_SCRIPT = """
import sys, time, tracklib
run = tracklib.init("digits", root=sys.argv[1], capture=False, system_metrics=1)
end = time.monotonic() + 2.5
while time.monotonic() < end:
    run.log({"loss": 1.0})
print(run.id, flush=True)
"""


def test_a_run_left_open_at_exit_keeps_its_samples(tmp_path):
    root = str(tmp_path / "store")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXIT_SCRIPT), root],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    run_id = done.stdout.split()[0]
    store = tracklib.open_store(root)
    assert store.run("digits", run_id).status == "finished"
    assert len(_series(store, run_id)["system/cpu_percent"]) >= 1


@pytest.fixture
def no_nvml(monkeypatch):
    """As on a machine without nvidia-ml-py: ``import pynvml`` raises ImportError."""
    monkeypatch.setitem(sys.modules, "pynvml", None)


def test_without_the_nvidia_library_no_gpu_is_said_once_and_the_rest_is_sampled(no_nvml, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="tracklib")
    samples: list = []
    sampler = SystemSampler(samples.append, 3600, Scheduler())
    _busy(0.1)  # CPU counters tick every 10 ms: a few ticks, so the sample has a CPU %
    sampler.sample()
    _busy(0.1)
    sampler.sample()
    sampler.stop()
    gpu_lines = [r.getMessage() for r in caplog.records if "no GPU found" in r.getMessage()]
    assert gpu_lines == ["tracklib: no GPU found for system metrics (nvidia-ml-py is not installed)"]
    assert [index for index, _, _ in samples] == [0, 1]
    assert HOST_KEYS <= set(samples[1][2]) and not any("gpu" in key for key in samples[1][2])


def test_the_nvidia_library_without_a_driver_is_no_error(caplog):
    pytest.importorskip("pynvml")  # in the dev extra; NVML's shared library is absent here
    caplog.set_level(logging.INFO, logger="tracklib")
    samples: list = []
    sampler = SystemSampler(samples.append, 3600, Scheduler())
    sampler.sample()
    sampler.stop()
    gpu_keys = [key for key in samples[0][2] if key.startswith("system/gpu/")]
    said = any("no GPU found" in r.getMessage() for r in caplog.records)
    assert said != bool(gpu_keys)  # either a GPU's values, or "no GPU found": never an error
    for key in gpu_keys:
        assert math.isfinite(samples[0][2][key])


def test_a_failing_reading_leaves_out_only_its_values(monkeypatch):
    def broken() -> None:
        raise PermissionError("no /proc/meminfo in this sandbox")

    samples: list = []
    sampler = SystemSampler(samples.append, 3600, Scheduler())
    monkeypatch.setattr(psutil, "virtual_memory", broken)
    sampler.sample()
    sampler.stop()
    (_, _, values) = samples[0]
    assert "system/memory_percent" not in values and "system/memory_used_mb" not in values
    assert {"system/process_rss_mb", "system/disk_read_mb_s", "system/net_sent_mb_s"} <= set(values)


@pytest.mark.parametrize("bad", [0, 0.5, -10, math.nan, math.inf, "10", [10]])
def test_a_bad_interval_is_refused_at_init_and_writes_nothing(tmp_path, bad):
    root = tmp_path / "store"
    with pytest.raises(tracklib.InvalidValueError, match="system_metrics"):
        tracklib.init("digits", root=str(root), capture=False, system_metrics=bad)
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


@settings(max_examples=50, deadline=None)
@given(seconds=st.one_of(st.floats(allow_nan=True), st.integers(-5, 5)))
def test_an_interval_is_taken_exactly_when_finite_and_at_least_one_second(seconds):
    from tracklib.write.system_metrics import interval

    if math.isfinite(seconds) and seconds >= 1:
        assert interval(seconds) == float(seconds)
    else:
        with pytest.raises(tracklib.InvalidValueError, match="at least|>= 1"):
            interval(seconds)


@pytest.mark.s3
def test_samples_round_trip_through_the_s3_test_server(s3_root):
    with s3_root.init(capture=False, system_metrics=1) as run:
        for _ in range(3):
            run.log({"loss": 1.0})
        _busy(1.4)
    series = _series(s3_root.store(), run.id)
    assert list(series["loss"]["step"]) == [0, 1, 2]
    assert HOST_KEYS <= set(series) and (series["system/process_rss_mb"]["value"] > 1).all()
