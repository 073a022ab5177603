"""``system_metrics=``: CPU, memory, disk, network and GPU use, sampled while a run is open.

Samples are taken on the runtime's periodic thread (its ``scheduler``, the one that flushes
every run), so a run with system metrics starts no thread of its own; the sampler stops with
the run. A sample is one dict of ``system/*`` values handed to ``emit`` with its sample index,
which the run writes as a metric series of its own (step = sample index, time = wall time),
apart from the user's steps. Nothing here raises into training: a failing reading is left out
of its sample, and a GPU library that is absent or fails is given up on once, said at INFO.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable
from typing import Any

from tracklib.format.errors import InvalidValueError
from tracklib.format.record import SYSTEM_PREFIX
from tracklib.write.buffer import Entry, Flusher, Scheduler

log = logging.getLogger(__name__)

PREFIX = SYSTEM_PREFIX
DEFAULT_INTERVAL_S = 10.0
MIN_INTERVAL_S = 1.0  # below this the samples cost more than they tell (and rates get noisy)
MB = 1e6


def interval(value: object) -> float | None:
    """Seconds between samples for ``init(system_metrics=value)``; None: off.

    Raises:
        InvalidValueError: not a bool or a number of seconds >= MIN_INTERVAL_S.
    """
    if value is None or value is False:
        return None
    if value is True:
        return DEFAULT_INTERVAL_S
    if not isinstance(value, numbers.Real):
        raise InvalidValueError(
            f"system_metrics takes True, False or a number of seconds, got {type(value).__name__} {value!r}"
        )
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < MIN_INTERVAL_S:
        raise InvalidValueError(
            f"system_metrics={value!r}: the interval must be a finite number of seconds >= {MIN_INTERVAL_S:g}"
        )
    return seconds


class SystemSampler:
    """Calls ``emit((index, time, values))`` every ``every`` seconds until ``stop``.

    ``first_index``: the index of the first sample (a resumed run continues its series).
    """

    def __init__(
        self,
        emit: Callable[[Entry], None],
        every: float,
        scheduler: Scheduler,
        first_index: int = 0,
    ) -> None:
        import psutil  # noqa: PLC0415 - only when system metrics are on: `import tracklib` stays light

        self._emit = emit
        self._index = first_index
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # primes the process's CPU counter: the first sample has a delta
        # the host's from our own counters: psutil.cpu_percent(None) keeps its last reading per
        # thread, and the samples are taken on another thread than this one (the first read 0)
        self._host_cpu = _busy_and_total(psutil.cpu_times())
        self._last = (time.monotonic(), _disk(), _net())
        self._gpus = Gpus()
        self._tick = Flusher(self.sample, every, scheduler)

    def stop(self) -> None:
        """No sample after this returns (one under way is waited for)."""
        self._tick.stop()
        self._gpus.close()

    def sample(self) -> None:
        """Take one sample and emit it; never raises (a reading that fails is left out)."""
        try:
            values = self.read()
            if values:
                self._emit((self._index, time.time(), values))
                self._index += 1
        except Exception as exc:  # noqa: BLE001 - never into training, never kill the shared thread
            log.debug("tracklib: a system metrics sample failed: %r", exc)

    def read(self) -> dict[str, float]:
        """One sample's ``system/*`` values."""
        values: dict[str, float] = {}
        _read(values, self._process_use)
        _read(values, self._host_cpu_use)
        _read(values, _host_memory)
        now, disk, net = time.monotonic(), _disk(), _net()
        then, disk_before, net_before = self._last
        self._last = (now, disk, net)
        elapsed = now - then
        if elapsed > 0:
            for name, (counters, field) in _RATES.items():
                after, before = (disk, disk_before) if counters == "disk" else (net, net_before)
                if after is not None and before is not None:
                    # counters can wrap or reset (a NIC going away): no negative rate
                    delta = max(getattr(after, field) - getattr(before, field), 0)
                    values[PREFIX + name] = delta / MB / elapsed
        values.update(self._gpus.read())
        return {key: float(value) for key, value in values.items()}

    def _process_use(self, values: dict[str, float]) -> None:
        with self._process.oneshot():
            values[PREFIX + "process_cpu_percent"] = self._process.cpu_percent(None)
            values[PREFIX + "process_rss_mb"] = self._process.memory_info().rss / MB

    def _host_cpu_use(self, values: dict[str, float]) -> None:
        import psutil  # noqa: PLC0415

        busy, total = _busy_and_total(psutil.cpu_times())
        busy_before, total_before = self._host_cpu
        if total > total_before:  # else no clock tick since the last sample: left out, not 0 %
            self._host_cpu = (busy, total)
            values[PREFIX + "cpu_percent"] = min(
                max(100 * (busy - busy_before) / (total - total_before), 0), 100
            )


def _host_memory(values: dict[str, float]) -> None:
    import psutil  # noqa: PLC0415

    memory = psutil.virtual_memory()
    values[PREFIX + "memory_used_mb"] = memory.used / MB
    values[PREFIX + "memory_percent"] = memory.percent


# rate key -> (which counters, which field): bytes per second as MB/s, from the last sample's counters
_RATES = {
    "disk_read_mb_s": ("disk", "read_bytes"),
    "disk_write_mb_s": ("disk", "write_bytes"),
    "net_sent_mb_s": ("net", "bytes_sent"),
    "net_recv_mb_s": ("net", "bytes_recv"),
}


def _busy_and_total(times: Any) -> tuple[float, float]:
    """CPU seconds busy and in all (idle and I/O wait are not busy; guest time is already
    counted in user time on Linux), as psutil.cpu_percent reckons them."""
    total = sum(times) - getattr(times, "guest", 0) - getattr(times, "guest_nice", 0)
    return total - times.idle - getattr(times, "iowait", 0), total


def _read(values: dict[str, float], reader: Callable[[dict[str, float]], None]) -> None:
    try:
        reader(values)
    except Exception as exc:  # noqa: BLE001 - the other readings still count
        log.debug("tracklib: a system metrics reading failed: %r", exc)


def _disk() -> Any:
    import psutil  # noqa: PLC0415

    try:
        return psutil.disk_io_counters()  # None on a machine without disks (some containers)
    except Exception:  # noqa: BLE001 - no disk rates then
        return None


def _net() -> Any:
    import psutil  # noqa: PLC0415

    try:
        return psutil.net_io_counters()
    except Exception:  # noqa: BLE001 - no network rates then
        return None


class Gpus:
    """NVIDIA GPUs through NVML (``nvidia-ml-py``), imported only when system metrics are on.

    Absent, without a driver, or failing at start: no GPU values at all, said once at INFO.
    A reading that fails later leaves out that value only.
    """

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []
        try:
            import pynvml  # noqa: PLC0415 - optional, and never imported by `import tracklib`

            pynvml.nvmlInit()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
            self._nvml = pynvml
        except Exception as exc:  # noqa: BLE001 - ImportError, no driver, any NVML error: no GPU
            log.info("tracklib: no GPU found for system metrics (%s)", _reason(exc))
            return
        if not self._handles:
            log.info("tracklib: no GPU found for system metrics (NVML sees no device)")

    def read(self) -> dict[str, float]:
        nvml, values = self._nvml, {}
        for i, handle in enumerate(self._handles):
            gpu = f"{PREFIX}gpu/{i}/"
            readings: dict[str, Callable[[], float]] = {
                "utilization_percent": lambda h=handle: nvml.nvmlDeviceGetUtilizationRates(h).gpu,
                "memory_used_mb": lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h).used / MB,
                "memory_total_mb": lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h).total / MB,
                "temperature_c": lambda h=handle: nvml.nvmlDeviceGetTemperature(h, nvml.NVML_TEMPERATURE_GPU),
                "power_w": lambda h=handle: nvml.nvmlDeviceGetPowerUsage(h) / 1000.0,
            }
            for name, reading in readings.items():
                try:
                    values[gpu + name] = float(reading())
                except Exception:  # noqa: BLE001, S112 - a GPU without a power sensor, say
                    continue
        return values

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001, S110 - nothing left to do about it
                pass
            self._nvml, self._handles = None, []


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ImportError):
        return "nvidia-ml-py is not installed"
    return f"{type(exc).__name__}: {exc}"
