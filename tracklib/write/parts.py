"""The files one flush writes, built so that a flush never fails as a whole.

Values are checked at the call (``log``, ``summary[k] = v``); should a batch or a record still
fail to build or encode, only what cannot be stored is lost, and said once: a flush that raised
would lose every value of its batch, or the run's record.
"""

from __future__ import annotations

import warnings

import pyarrow as pa

from tracklib.format.record import RunState, record_table
from tracklib.storage.parquet import table_to_bytes
from tracklib.write.buffer import Entry, entries_to_table


def metric_part(run_id: str, batch: list[Entry]) -> tuple[pa.Table, bytes] | None:
    """The batch as a metric part and its bytes; rows that cannot be built are dropped and
    named once (run, key, step), never the whole batch. None: nothing could be kept."""
    try:
        table = entries_to_table(run_id, batch)
        return table, table_to_bytes(table)
    except Exception:  # noqa: BLE001 - isolated below, value by value
        pass
    kept: list[Entry] = []
    dropped: list[str] = []
    for step, at, values in batch:
        good = {}
        for key, value in values.items():
            try:
                table_to_bytes(entries_to_table(run_id, [(step, at, {key: value})]))
                good[key] = value
            except Exception as exc:  # noqa: BLE001 - named in the warning
                dropped.append(f"{key!r} at step {step} ({type(exc).__name__})")
        if good:
            kept.append((step, at, good))
    warnings.warn(
        f"tracklib: run {run_id}: dropped {len(dropped)} value(s) that could not be stored: "
        + ", ".join(dropped[:10])
        + (" ..." if len(dropped) > 10 else ""),
        RuntimeWarning,
        stacklevel=3,
    )
    if not kept:
        return None
    table = entries_to_table(run_id, kept)
    return table, table_to_bytes(table)


def record_part(state: RunState, now: float) -> tuple[pa.Table, bytes]:
    """The run's snapshot and its bytes. Text that Parquet refuses (which the checks at the
    call should have stopped) is stored with its bad characters escaped, said once, rather
    than lose the run's record."""
    try:
        record = record_table(state, now)
        return record, table_to_bytes(record)
    except Exception as exc:  # noqa: BLE001 - repaired below
        warnings.warn(
            f"tracklib: run {state.run_id}: the record needed repair to be stored ({exc!r}); "
            "text that is not valid UTF-8 is kept with backslash escapes",
            RuntimeWarning,
            stacklevel=3,
        )
    record = record_table(state, now, repair=True)
    return record, table_to_bytes(record)
