"""Writing runs from another tracker into a store, idempotently (shared by every importer).

``tracklib.init`` cannot back-date a run, so an importer writes the format's files itself:
one metric part with the source's steps and times, one environment file and one final record
with the source's status and times. Importing again writes nothing new, or, when the source
run has grown since, one more part with only the rows that are not in the store yet and a
record with the next ``seq``.

Whether a run grew is decided from its data, never from its status or end time alone (points
may be logged to a run that has ended): the source's rows per metric against the counts in the
stored record. For an ended run whose source also knows each metric's newest point without
reading histories (MLflow's latest metrics), the histories are read only when a newest point
differs from the stored last one (step, value) or is newer than the stored record; a point
logged later at a step below its metric's highest step leaves MLflow's latest metric as it
was, and is noticed once anything else about the run changes.

File names are derived from the run and what is already stored, not drawn at random: two
imports of the same run at once compute the same names, and the exclusive create lets
exactly one of them write each file (the other reads the store again and goes on from
there). An import that crashed halfway is completed by the next one without duplicates.
So a name's ULID time is not the import's clock: it is the run's start (plus ``seq`` for
records), and for a metric part one millisecond past the newest part present, so parts still
sort in write order (readers never order by it, FORMAT.md §3). The record's ``record_time``
and ``heartbeat_time`` are the source's last sign of life, so a run that is "running" at the
source but went quiet long ago reads as stale.

What a live run and an import share is one piece of code each: the record row
(``record.record_table``/``state_from_record``), the summaries (``summary.summarize``), file
paths (``layout``), Parquet encoding (``table_to_bytes``), the environment row
(``environment.table``) and the masking of params, tags, notes and environment
(``masking.Redactor.params``). What stays separate, on purpose: the file ids
(derived here, random ULIDs there), the metric rows (the source's columns here, buffered log
calls there), and the writing itself: an import writes each file at once with an exclusive
create and reads the store again on a conflict, where a run hands files to its uploader
thread, with flush timers, retries and the spool, none of which an import needs.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracklib.format import layout
from tracklib.format.errors import StoreError
from tracklib.format.record import Artifact, RunState, record_table, state_from_record
from tracklib.format.schema import (
    ENVIRONMENT_SCHEMA,
    FORMAT_VERSION,
    METRICS_SCHEMA,
    TIMESTAMP,
    Status,
)
from tracklib.format.summary import summarize
from tracklib.format.values import ParamValue
from tracklib.ops.importers.artifacts import SourceArtifact, copy_artifacts, have_all
from tracklib.ops.importers.names import file_id, millis, next_part
from tracklib.read.store import Store
from tracklib.storage import Storage
from tracklib.storage.parquet import table_to_bytes
from tracklib.write import environment

_ATTEMPTS = 8  # rounds of "another import wrote first: read again" before giving up on a run
_ENDED = (Status.FINISHED, Status.FAILED, Status.KILLED)
# Fields of a record that say when it was written, not what it says about the run.
_VOLATILE = ("format_version", "seq", "record_time", "heartbeat_time")


@dataclass
class SourceRun:
    """A run as another tracker has it, in tracklib's terms (times in seconds since the epoch)."""

    run_id: str
    name: str
    status: Status
    start_time: float
    end_time: float | None
    history: Callable[[], pa.Table]  # every metric row, METRICS_SCHEMA, in logging order
    params: dict[str, ParamValue] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    group: str | None = None
    git_commit: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)  # more ENVIRONMENT_SCHEMA fields
    # Each metric's newest point as (step, value, time in µs), when the source knows them without
    # reading histories (MLflow's latest metrics): an ended run whose record ends every metric
    # the same way, no earlier, is skipped without reading anything more.
    latest: Mapping[str, tuple[int, float, int]] | None = None
    artifacts: Callable[[], list[SourceArtifact]] | None = None  # None: leave artifacts alone


@dataclass(frozen=True)
class Outcome:
    """What importing one run did: ``imported`` (new), ``updated`` or ``unchanged``."""

    run_id: str
    name: str
    action: str
    points: int  # metric rows written


@dataclass
class ImportReport:
    """The outcome of every run an import looked at."""

    source: str
    root: str
    project: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(o.action == action for o in self.outcomes)

    @property
    def points(self) -> int:
        return sum(o.points for o in self.outcomes)

    def __str__(self) -> str:
        return (
            f"{len(self.outcomes)} run(s) from {self.source}: {self.count('imported')} imported, "
            f"{self.count('updated')} updated, {self.count('unchanged')} unchanged; "
            f"{self.points} metric point(s) written to {self.root} (project {self.project!r})"
        )


def metrics_table(run_id: str, keys: Sequence[str], steps: Any, values: Any, micros: Any) -> pa.Table:
    """Long metric rows; rows with a negative step (the format has none) are left out, with a warning."""
    steps = np.asarray(steps, dtype=np.int64)
    keep = steps >= 0
    if not keep.all():
        warnings.warn(
            f"tracklib import: run {run_id}: {int((~keep).sum())} metric row(s) with a negative step "
            "left out (steps are >= 0 in tracklib)",
            RuntimeWarning,
            stacklevel=3,
        )
    return pa.table(
        [
            pa.array([run_id] * int(keep.sum()), pa.string()),
            pa.array(keys, pa.string()).filter(pa.array(keep)),
            steps[keep],
            np.asarray(values, dtype=np.float64)[keep],
            pa.array(np.asarray(micros, dtype=np.int64)[keep], pa.int64()).cast(TIMESTAMP),
        ],
        schema=METRICS_SCHEMA,
    )


def write_run(storage: Storage, store: Store, project: str, source: SourceRun) -> Outcome:
    """Bring the store's copy of ``source`` up to date; see the module docstring."""
    redact = environment.Redactor(os.environ)
    source = replace(
        source,
        params=redact.params(source.params),
        tags=[redact(tag) for tag in source.tags],
        notes=redact(source.notes) if source.notes is not None else None,
        environment={k: redact(v) if isinstance(v, str) else v for k, v in source.environment.items()},
    )
    listed = source.artifacts() if source.artifacts is not None else None
    record = store.newest_record(project, source.run_id)
    existing = state_from_record(record.to_pylist()[0]) if record.num_rows else None
    if existing is not None and _quick_unchanged(existing, _micros_of(record), project, source, listed):
        return Outcome(source.run_id, source.name, "unchanged", 0)
    rows = source.history()
    if (
        existing is not None
        and _counts(existing.summary) == _row_counts(rows)
        and (listed is None or have_all(existing, listed))
        and _same(_target(source, project, existing, existing.summary, {}), existing)
    ):
        # As many rows per metric as the record counts, and the rest agrees: the common
        # re-import, decided without reading the stored history.
        return Outcome(source.run_id, source.name, "unchanged", 0)
    return _write(storage, store, project, source, rows, listed)


def _write(
    storage: Storage,
    store: Store,
    project: str,
    source: SourceRun,
    rows: pa.Table,
    listed: list[SourceArtifact] | None,
) -> Outcome:
    """Write what the store lacks; when another import wrote first, read again and go on."""
    points, recorded, existed = 0, False, None
    with tempfile.TemporaryDirectory(prefix="tracklib-import-") as scratch:
        for _ in range(_ATTEMPTS):
            existing = _newest(store, project, source.run_id)
            existed = existing is not None if existed is None else existed
            # Name the next part before reading the stored rows: rows that arrive in between
            # come from a part that already has that name, so the write below is refused.
            part = next_part(storage, project, source.run_id, source.start_time)
            stored = _stored_rows(store, project, source.run_id)
            new = _missing(rows, stored)
            try:
                if new.num_rows:
                    storage.write_bytes(part, table_to_bytes(new))
                    points += new.num_rows
                    stored = pa.concat_tables([stored, new])
                if existing is None:
                    _write_environment(storage, project, source)
                artifacts = copy_artifacts(
                    storage, project, source.run_id, source.start_time, existing, listed, scratch
                )
                keys = stored["key"].combine_chunks()
                summary = summarize(keys, stored["step"].to_numpy(), stored["value"].to_numpy())
                target = _target(source, project, existing, summary, artifacts)
                if existing is not None and _same(target, existing):
                    break
                target.seq = (existing.seq if existing is not None else 0) + 1
                name = file_id(
                    millis(source.start_time) + target.seq, project, source.run_id, "records", target.seq
                )
                record = record_table(target, _record_time(target, stored))
                storage.write_bytes(
                    layout.part_path(layout.RECORDS, project, source.run_id, name), table_to_bytes(record)
                )
                recorded = True
                break
            except FileExistsError:
                continue  # another import wrote this file first: read the store again
        else:
            raise StoreError(f"run {source.run_id} kept changing under the import; import it again")
    if not (recorded or points):
        action = "unchanged"
    else:
        action = "updated" if existed else "imported"
    return Outcome(source.run_id, source.name, action, points)


def _newest(store: Store, project: str, run_id: str) -> RunState | None:
    table = store.newest_record(project, run_id)
    return state_from_record(table.to_pylist()[0]) if table.num_rows else None


def _quick_unchanged(
    existing: RunState,
    recorded: int,
    project: str,
    source: SourceRun,
    listed: list[SourceArtifact] | None,
) -> bool:
    """An ended run whose record already says all the source says, and ends each of its metrics
    at the source's newest point; ``recorded`` (µs) is the record's time, which for an import is
    its newest stored point or the run's end (see ``_record_time``)."""
    if source.latest is None or source.status not in _ENDED or existing.status != source.status:
        return False
    if set(source.latest) != set(existing.summary):
        return False
    for key, (step, value, micros) in source.latest.items():
        stored = existing.summary[key]
        if stored.last_step != step or not _same_value(stored.last, value) or micros > recorded:
            return False  # more points, or a different last one: read the histories
    if listed is not None and not have_all(existing, listed):
        return False
    return _same(_target(source, project, existing, existing.summary, {}), existing)


def _same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _micros_of(record: pa.Table) -> int:
    return int(record["record_time"].cast(pa.int64())[0].as_py())


def _target(
    source: SourceRun,
    project: str,
    existing: RunState | None,
    summary: Mapping[str, Any],
    artifacts: Mapping[str, Artifact],
) -> RunState:
    """The run as the next record should state it: the source wins for everything it knows."""
    base = existing or RunState(run_id=source.run_id, project=project, name=source.name)
    return replace(
        base,
        name=source.name,
        group=source.group,
        tags=list(source.tags),
        notes=source.notes,
        status=source.status,
        error=None,
        start_time=source.start_time,
        end_time=source.end_time,
        git_commit=source.git_commit or base.git_commit,
        params={**base.params, **source.params},
        summary=dict(summary),
        artifacts={**base.artifacts, **artifacts},
    )


def _record_time(state: RunState, stored: pa.Table) -> float:
    """The source's last sign of life: a running run whose source went quiet reads as stale."""
    last = max(state.start_time, state.end_time or 0.0)
    micros = _max_micros(stored)
    return max(last, micros / 1e6) if micros is not None else last


def _same(target: RunState, existing: RunState) -> bool:
    return _comparable(target) == _comparable(existing)


def _comparable(state: RunState) -> str:
    row = record_table(state, 0.0).to_pylist()[0]
    row = {k: v for k, v in row.items() if k not in _VOLATILE}
    for column, key in (("params", "key"), ("summary", "key"), ("artifacts", "name")):
        row[column] = sorted(row[column], key=lambda item, key=key: item[key])
    return repr(row)  # repr: NaN equals NaN here, as it must for an unchanged summary


def _counts(summary: Mapping[str, Any]) -> dict[str, int]:
    return {key: s.count for key, s in summary.items()}


def _row_counts(rows: pa.Table) -> dict[str, int]:
    return {item["values"]: item["counts"] for item in pc.value_counts(rows["key"]).to_pylist()}


def _max_micros(rows: pa.Table) -> int | None:
    if rows.num_rows == 0:
        return None
    return int(rows["time"].cast(pa.int64()).to_numpy().max())


def _stored_rows(store: Store, project: str, run_id: str) -> pa.Table:
    """The run's metric rows already in the store, by key and step (ties in write order)."""
    frame = store.history(project, [run_id])
    return pa.Table.from_pandas(frame[METRICS_SCHEMA.names], schema=METRICS_SCHEMA, preserve_index=False)


def _missing(rows: pa.Table, stored: pa.Table) -> pa.Table:
    """The source rows that the store lacks (a multiset difference on key, step, value, time)."""
    if stored.num_rows == 0:
        return rows
    have = Counter(_row_keys(stored))
    keep = []
    for position, row in enumerate(_row_keys(rows)):
        if have[row] > 0:
            have[row] -= 1
        else:
            keep.append(position)
    return rows.take(pa.array(keep, pa.int64()))


def _row_keys(rows: pa.Table) -> zip[tuple[Any, ...]]:
    # Values compare by their bits: NaN matches NaN, and Parquet keeps float64 bits intact.
    bits = rows["value"].to_numpy().view(np.int64).tolist()
    micros = rows["time"].cast(pa.int64()).to_numpy().tolist()
    return zip(rows["key"].to_pylist(), rows["step"].to_pylist(), bits, micros)


def _write_environment(storage: Storage, project: str, source: SourceRun) -> None:
    """The run's environment row, built as a live run builds its own (``environment.table``)."""
    head = {
        "format_version": FORMAT_VERSION,
        "run_id": source.run_id,
        "record_time": datetime.fromtimestamp(source.start_time, tz=UTC),
    }
    table = environment.table(source.environment, head, ENVIRONMENT_SCHEMA)
    name = file_id(millis(source.start_time), project, source.run_id, "environment")
    try:
        storage.write_bytes(
            layout.part_path(layout.ENVIRONMENT, project, source.run_id, name), table_to_bytes(table)
        )
    except FileExistsError:
        pass  # written by an earlier (interrupted) or concurrent import of this run
