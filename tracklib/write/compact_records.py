"""A process that finishes many runs folds their final records into index files as it goes.

A sweep, an Optuna study or a grid search runs hundreds of short runs in one process, and
each leaves one record file that every reader must list and parse: 1,000 runs cost a fresh
reader a second before `tracklib compact` runs. So every ``INDEX_EVERY`` runs a process
finished in a project, their final records (already in memory) become one index file, and
then their record files are deleted, exactly as compaction does it (docs/FORMAT.md §8): the
index is written first, so a reader always finds each run in one place or the other, and a
resumed run's newer snapshots win by ``seq``. Best effort, on the finishing thread for a
local disk (one index file and 100 deletes, ~11 ms; a thread cost the sweep more in GIL
handovers) and on a thread of its own for a remote store or a network mount: a failure
leaves the record files in place, where `tracklib compact` picks them up.
"""

from __future__ import annotations

import threading
from collections import defaultdict

import pyarrow as pa

from tracklib.compaction import write_index
from tracklib.storage import Storage

INDEX_EVERY = 100  # finished runs per index file; fewer would add files, not remove them
MAX_BATCHES = 16  # stores x projects with a batch under way; memory stays bounded however many


class IndexBatches:
    """The final records waiting to be folded, per store and project, and the threads folding them."""

    def __init__(self, every: int = INDEX_EVERY) -> None:
        self.every = every
        self.forked()

    def forked(self) -> None:
        """Also in a forked child: it must not fold (and delete) its parent's runs a second time."""
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], list[tuple[str, pa.Table]]] = defaultdict(list)
        self._writers: list[threading.Thread] = []

    def run_finished(self, storage: Storage, project: str, record_path: str, record: pa.Table) -> None:
        """The final record of a run (``record_path``, one row) reached the store. Never raises."""
        try:
            key = (_store_key(storage), project)
            with self._lock:
                pending = self._pending
                if key not in pending and len(pending) >= MAX_BATCHES:
                    del pending[next(iter(pending))]  # the oldest: its records stay for compaction
                batch = pending[key]
                batch.append((record_path, record))
                if len(batch) < self.every:
                    return
                del pending[key]
                if storage.on_local_disk:  # ~11 ms per 100 runs: cheaper here than a thread's GIL traffic
                    writer = None
                else:
                    writer = threading.Thread(
                        target=_fold, args=(storage, project, batch), name="tracklib-index", daemon=True
                    )
                    self._writers[:] = [w for w in self._writers if w.is_alive()] + [writer]
            if writer is None:
                _fold(storage, project, batch)
            else:
                writer.start()
        except Exception:  # noqa: BLE001, S110 - no thread at exit, say: the records stay where they are
            pass

    def wait(self) -> None:
        """Until the index files being written are written (for tests and benchmarks)."""
        with self._lock:
            writers = list(self._writers)
        for writer in writers:
            writer.join()


def _store_key(storage: Storage) -> tuple[str, str, str]:
    """One store, whatever URL named it: a relative root after a chdir, or one bucket name
    behind two endpoints, are different stores and must never share an index file."""
    fs = storage.fs
    return (
        f"{type(fs).__module__}.{type(fs).__qualname__}",
        repr(sorted(fs.storage_options.items())),
        storage.root,
    )


def _fold(storage: Storage, project: str, batch: list[tuple[str, pa.Table]]) -> None:
    try:
        write_index(storage, project, pa.concat_tables([record for _, record in batch]))
        storage.delete([path for path, _ in batch])  # only after the index that carries them
    except Exception:  # noqa: BLE001, S110 - an optimisation; the records are still in place
        pass
