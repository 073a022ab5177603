"""What a writer does to keep its own run down to a few files while it runs and as it ends.

Readers pay per file. A run flushing every 5 s would otherwise leave a record snapshot and a
metric part per flush: 7,200 of each in ten hours. So, on the uploader's thread, once a file
has landed: a new snapshot deletes the one before it, and every ``MERGE_PARTS_EVERY`` landed
parts are merged into one file that names them (``tracklib.replaces``) before they are
deleted, exactly as compaction does. All of it is best effort: a failure leaves more files,
never less data, and `tracklib compact` finishes the job.
"""

from __future__ import annotations

import threading

import pyarrow as pa

from tracklib import config
from tracklib.compaction import merge_run_metrics, write_merged_part
from tracklib.format import layout
from tracklib.storage import Storage

MERGE_PARTS_EVERY = 32  # landed metric parts merged into one while the run goes on
_KEEP_AT_MOST = 2 * MERGE_PARTS_EVERY  # parts held for merging; beyond (store away), give up


class RunCompactor:
    """Deletes superseded snapshots and merges metric parts of one run, as they land."""

    def __init__(self, storage: Storage, project: str, run_id: str) -> None:
        self._storage = storage
        self._project = project
        self._run_id = run_id
        self._lock = threading.Lock()
        self._last_record: str | None = None
        self._parts: list[tuple[str, pa.Table]] = []  # written, in order, not yet merged
        self._landed_parts: set[str] = set()
        self.parts_written = 0

    def part_written(self, rel: str, table: pa.Table) -> None:
        """A metric part was handed to the uploader (kept, in memory, until merged)."""
        with self._lock:
            self.parts_written += 1
            if len(self._parts) >= _KEEP_AT_MOST:  # nothing lands (store away): hold no more
                self._parts.clear()
                self._landed_parts.clear()
            self._parts.append((rel, table))

    def landed(self, rel: str) -> None:
        """Called by the uploader, on its thread, for every file that reached the store."""
        try:
            if rel.startswith(f"{layout.RECORDS}/"):
                previous, self._last_record = self._last_record, rel
                if previous is not None:
                    self._storage.delete([previous])
            elif rel.startswith(f"{layout.METRICS}/"):
                self._merge_if_due(rel)
        except Exception:  # noqa: BLE001, S110 - an optimisation; the data is already safe
            pass

    def finish(self) -> None:
        """After the final upload: merge what is left of a long run into one file."""
        if self.parts_written >= config.MERGE_PARTS_AT_FINISH:
            try:
                merge_run_metrics(self._storage, self._project, self._run_id)
            except Exception:  # noqa: BLE001, S110 - an optimisation; the run is already safe
                pass

    def _merge_if_due(self, rel: str) -> None:
        with self._lock:
            if any(r == rel for r, _ in self._parts):
                self._landed_parts.add(rel)
            batch = self._parts[:MERGE_PARTS_EVERY]
            if len(batch) < MERGE_PARTS_EVERY or any(r not in self._landed_parts for r, _ in batch):
                return
            del self._parts[:MERGE_PARTS_EVERY]
            self._landed_parts.difference_update(r for r, _ in batch)
        rels = [r for r, _ in batch]
        write_merged_part(self._storage, self._project, self._run_id, [table for _, table in batch], rels)
        self._storage.delete(rels)
