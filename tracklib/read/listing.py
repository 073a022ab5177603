"""Which part of a project's ``records/`` a refresh must list again, so that listing cost
follows what is recent rather than everything the folder holds.

Run folders are named by run id, and generated ids are ULIDs: they sort by start time. Only
three kinds of run folder can have gained files since the last listing: runs started since
(their ids sort after the id-time of that listing, less a window for a first snapshot that
waits a second, slow uploads and clock skew), runs still running (their next snapshot), and
resumed runs. So a refresh lists from the older of "last listing minus the window" and
the oldest listed run folder whose snapshots do not say it is over (running and not stale,
or unreadable), with S3's StartAfter. What that misses - a resumed old run, an
upload that waited in a spool for longer than the window, a custom run id that sorts before
ULIDs - a whole listing finds: every ``FULL_EVERY_S``, and whenever the index changed (a
compaction deleted snapshots, which only a whole listing notices).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from ulid import ULID

from tracklib.format import rules
from tracklib.read.filecache import Listed
from tracklib.storage import FileInfo

FULL_EVERY_S = 60.0
WINDOW_S = 30.0


@dataclass
class _Last:
    full_at: float  # time.monotonic() of the last whole listing
    index_files: tuple[FileInfo, ...]  # the index as that whole listing found it
    listed_at: float  # wall time when the last listing started
    oldest_running: str | None  # run id of the oldest live, not stale, running run


class RecordListing:
    """The listing state of one project's ``records/`` folder, for one long-lived reader."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._last: _Last | None = None

    def start(self) -> tuple[float, str | None]:
        """When this refresh started, and where it may start listing (a path to list after),
        or None: list it all."""
        started = time.time()
        last = self._last
        if last is None or time.monotonic() - last.full_at > FULL_EVERY_S:
            return started, None
        since = str(ULID.from_timestamp(max(last.listed_at - WINDOW_S, 0.0))).lower()[:10]
        if last.oldest_running is not None:
            since = min(since, last.oldest_running)
        return started, f"{self.prefix}/run_id={since}"

    def needs_full(self, index_files: tuple[FileInfo, ...]) -> bool:
        """After a partial listing: has the index changed since the last whole one?"""
        return self._last is None or index_files != self._last.index_files

    def done(
        self, started: float, full: bool, index_files: tuple[FileInfo, ...], live: Listed, stale_after: float
    ) -> None:
        """Remember the listing that ``start`` began; ``live`` is the project's uncompacted
        snapshots and their files. (Replaced whole: concurrent refreshes of one Store - the
        dashboard's sessions - at worst list a few seconds more or less.)"""
        oldest = _oldest_open(live, started - stale_after)
        last = self._last
        if full or last is None:
            self._last = _Last(time.monotonic(), index_files, started, oldest)
        else:
            self._last = _Last(last.full_at, last.index_files, started, oldest)


def _oldest_open(live: Listed, alive_since: float) -> str | None:
    """The smallest run id among listed run folders with snapshots not known to be over:
    running and not stale, or unreadable (being replaced). Folders holding only markers (a
    compacted run's claims) are left out: they would hold the listing back for good."""
    listed = {
        f.path.split("/run_id=", 1)[1].split("/", 1)[0]
        for f in live.files
        if "/run_id=" in f.path and rules.is_data_file(f.path)
    }
    newest = rules.newest_records(live.table)
    alive = pc.and_(
        pc.equal(newest["status"], "running"),
        pc.greater(newest["heartbeat_time"], pa.scalar(int(alive_since * 1e6), pa.timestamp("us", "UTC"))),
    )
    over = set(newest["run_id"].filter(pc.invert(alive)).to_pylist())
    return min(listed - over, default=None)
