"""Compaction: the many small files of ended runs become a few, so listing and reading stay cheap.

For every run that has ended, its metric parts merge into one file in the run's folder, and
its newest record snapshot moves into an index file ``index/project=<p>/<file-id>.parquet``
(small index files are merged in turn, so a project keeps only a handful). New files are
always written before old ones are deleted; a merged metric file names the parts it
replaces, so a reader that lists both in between never counts a row twice, and a crash in
between leaves a store that reads correctly and that the next compaction tidies up.
Running runs are never touched. See docs/FORMAT.md §8 and docs/SCALE.md.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from tracklib.compaction import data_files, merge_run_metrics, read_whole, write_index
from tracklib.format import layout, rules
from tracklib.format.schema import RECORD_SCHEMA, Status
from tracklib.storage import FileInfo, Storage, given_or_opened

ENDED = {Status.FINISHED, Status.FAILED, Status.KILLED}
# A run still "running" with no heartbeat for this long is compacted as it is (it reads as stale).
ABANDONED_AFTER_S = 7 * 24 * 3600
# More small index files than this are merged into one; bigger files are left alone, so a
# compaction rewrites at most ~INDEX_SMALL_BYTES x INDEX_MERGE_AT however large the project.
INDEX_MERGE_AT = 4
INDEX_SMALL_BYTES = 64 * 1024 * 1024
PARALLEL_RUNS = 8  # runs whose metrics are merged at once (object stores: mostly waiting)


@dataclass
class CompactionReport:
    """What one compaction of one project did."""

    project: str
    runs_indexed: int = 0  # ended runs whose snapshots moved into the index
    record_files_removed: int = 0
    metric_files_merged: int = 0  # metric parts replaced by merged files
    index_files_merged: int = 0

    def __str__(self) -> str:
        return (
            f"{self.project}: {self.runs_indexed} run(s) indexed, {self.record_files_removed} record "
            f"file(s) and {self.metric_files_merged} metric part(s) folded, "
            f"{self.index_files_merged} index file(s) merged"
        )


def compact(
    root: str | None = None,
    project: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    *,
    storage: Storage | None = None,
) -> list[CompactionReport]:
    """Compact one project, or every project of the store. Idempotent; safe while runs write.

    The store is ``root`` (resolved as in :func:`tracklib.init`) with ``storage_options``, or
    instead ``storage``: ``tracklib.storage.open_storage(url)`` or a wrapper of one.
    """
    storage = given_or_opened(storage, root, storage_options)
    if project is not None:
        projects = [layout.check_project(project)]
    else:
        from tracklib.read.store import Store

        projects = Store(storage).projects()
    return [compact_project(storage, name) for name in projects]


def compact_project(storage: Storage, project: str, now: float | None = None) -> CompactionReport:
    """Fold the ended runs of ``project`` into the index and merge their metric parts."""
    now = time.time() if now is None else now
    report = CompactionReport(project)
    listed = data_files(storage, layout.project_dir(layout.RECORDS, project))
    snapshots = _read(storage, listed, RECORD_SCHEMA)
    ended, covered = _ended_runs(snapshots, now)
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        report.metric_files_merged = sum(
            pool.map(lambda run_id: merge_run_metrics(storage, project, run_id), sorted(ended))
        )
    index_files = data_files(storage, layout.project_dir(layout.INDEX, project))
    small = [f for f in index_files if f.size < INDEX_SMALL_BYTES]
    to_merge = _read(storage, small, RECORD_SCHEMA) if len(small) >= INDEX_MERGE_AT else {}
    if ended or to_merge:
        rows = rules.newest_records(pa.concat_tables([*to_merge.values(), *ended.values()]))
        write_index(storage, project, rows, replaces=sorted(to_merge))
    storage.delete(covered)  # only after the index that carries them is published
    storage.delete(list(to_merge))
    report.runs_indexed = len(ended)
    report.record_files_removed = len(covered)
    report.index_files_merged = len(to_merge)
    return report


def _ended_runs(snapshots: Mapping[str, pa.Table], now: float) -> tuple[dict[str, pa.Table], list[str]]:
    """Newest snapshot of every ended run (run_id -> one-row table) and the files they cover."""
    by_run: dict[str, list[tuple[tuple[int, float], str, pa.Table]]] = {}
    for path, table in snapshots.items():
        for row, (run_id, seq, record_time) in enumerate(
            zip(*(table[c].to_pylist() for c in ("run_id", "seq", "record_time")))
        ):
            by_run.setdefault(run_id, []).append(((seq, record_time.timestamp()), path, table.slice(row, 1)))
    ended, covered = {}, []
    for run_id, versions in by_run.items():
        _, _, newest = max(versions, key=lambda version: version[0])
        status = newest["status"][0].as_py()
        heartbeat = newest["heartbeat_time"][0].as_py().timestamp()
        if status in ENDED or now - heartbeat > ABANDONED_AFTER_S:
            ended[run_id] = newest
            covered += sorted({path for _, path, _ in versions})
    return ended, covered


def _read(storage: Storage, files: Sequence[FileInfo], schema: pa.Schema) -> dict[str, pa.Table]:
    """path -> table of the files that could be read whole; the others are left in place,
    and an unusable one is named in a warning (a broken file is not ours to delete)."""
    parsed, unusable = read_whole(storage, files, schema)
    for path, why in unusable.items():
        warnings.warn(f"tracklib compact: leaving {path} alone: {why}", stacklevel=3)
    return {path: table for path, (table, _) in parsed.items()}
