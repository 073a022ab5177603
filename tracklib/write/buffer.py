"""The hot path's buffer and the thread that drains it.

``Run.log`` does one ``deque.append`` of ``(step, time, {key: value})`` per call (deque
appends are atomic, so no lock); the flusher thread turns what accumulated into Arrow
columns every ``interval`` seconds, or sooner when woken because the buffer grew large.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from itertools import chain

import numpy as np
import pyarrow as pa

from tracklib.format.schema import METRICS_SCHEMA, TIMESTAMP

Entry = tuple[int, float, dict[str, float]]


def drain(entries: deque[Entry]) -> list[Entry]:
    """Take everything appended so far; appends racing with this stay for the next drain."""
    return [entries.popleft() for _ in range(len(entries))]


def entries_to_table(run_id: str, batch: list[Entry]) -> pa.Table:
    """Long rows ``run_id, key, step, value, time`` from a batch of log calls."""
    counts = np.fromiter((len(values) for _, _, values in batch), dtype=np.int64, count=len(batch))
    steps = np.repeat(np.fromiter((s for s, _, _ in batch), np.int64, len(batch)), counts)
    times = np.repeat(np.fromiter((t for _, t, _ in batch), np.float64, len(batch)), counts)
    keys = pa.array(list(chain.from_iterable(values.keys() for _, _, values in batch)), pa.string())
    values = np.fromiter(
        chain.from_iterable(values.values() for _, _, values in batch), np.float64, len(keys)
    )
    micros = pa.array((times * 1e6).astype(np.int64), pa.int64()).cast(TIMESTAMP)
    return pa.table(
        [pa.repeat(pa.scalar(run_id, pa.string()), len(keys)), keys, steps, values, micros],
        schema=METRICS_SCHEMA,
    )


class Flusher:
    """Calls ``flush`` every ``interval`` seconds (the first time after ``first``, if sooner)
    and whenever woken, on the process's one flushing thread.

    One thread serves every run of the process (its runtime's ``scheduler``): a sweep starting a
    run every few milliseconds would otherwise spend a third of its time starting and joining threads.
    """

    def __init__(
        self, flush: Callable[[], None], interval: float, scheduler: Scheduler, first: float | None = None
    ) -> None:
        self._flush = flush
        self._scheduler = scheduler
        self.interval = interval
        self.due = time.monotonic() + (interval if first is None else min(first, interval))
        self._busy = threading.Lock()  # held while flushing: stop() waits for a flush under way
        self._stopped = False
        scheduler.add(self)

    def wake(self) -> None:
        self._scheduler.wake(self)

    def stop(self) -> None:
        """No flush after this returns; the caller does the final flush itself, on its own thread."""
        self._scheduler.remove(self)
        with self._busy:
            self._stopped = True

    def forked(self) -> None:
        """In a forked child: never flush again, and stop() must not wait on the parent."""
        self._busy = threading.Lock()
        self._stopped = True

    def run_once(self) -> None:
        with self._busy:
            if not self._stopped:
                self._flush()


class Scheduler:
    """The flushing thread, started with the first run, and the flushers it serves."""

    def __init__(self) -> None:
        self._flushers: set[Flusher] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def forked(self) -> None:
        """In a forked child, which has no flushing thread: the parent's flushers stop (a lock a
        parent's flush held at the fork would never be freed) and the child's runs start afresh.
        Reset in place: a parent's run the child still holds must not wait on the parent's lock."""
        for flusher in self._flushers:
            flusher.forked()
        self._flushers = set()
        self._changed = threading.Condition()
        self._thread = None

    def add(self, flusher: Flusher) -> None:
        with self._changed:
            self._flushers.add(flusher)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="tracklib-flush", daemon=True)
                self._thread.start()
            self._changed.notify()

    def wake(self, flusher: Flusher) -> None:
        with self._changed:
            flusher.due = 0.0
            self._changed.notify()

    def remove(self, flusher: Flusher) -> None:
        with self._changed:
            self._flushers.discard(flusher)

    def _loop(self) -> None:
        while True:
            with self._changed:
                now = time.monotonic()
                due = [f for f in self._flushers if f.due <= now]
                if not due:
                    nearest = min((f.due for f in self._flushers), default=now + 3600)
                    self._changed.wait(nearest - now)
                    continue
                for flusher in due:
                    flusher.due = now + flusher.interval
            for flusher in due:
                try:
                    flusher.run_once()
                except Exception:  # noqa: BLE001, S112 - a run's flush reports its own errors
                    continue
