"""The hot path's buffer and the thread that drains it.

``Run.log`` does one ``deque.append`` of ``(step, time, {key: value})`` per call (deque
appends are atomic, so no lock); the flusher thread turns what accumulated into Arrow
columns every ``interval`` seconds, or sooner when woken because the buffer grew large.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from itertools import chain

import numpy as np
import pyarrow as pa

from tracklib.schema import METRICS_SCHEMA, TIMESTAMP

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
        [pa.array(np.full(len(keys), run_id, dtype=object), pa.string()), keys, steps, values, micros],
        schema=METRICS_SCHEMA,
    )


class Flusher:
    """Calls ``flush`` on its own thread every ``interval`` seconds and whenever woken."""

    def __init__(self, flush: Callable[[], None], interval: float, name: str) -> None:
        self._flush = flush
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            self._flush()

    def stop(self) -> None:
        """Stop the thread; the caller does the final flush itself, on its own thread."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
