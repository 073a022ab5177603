"""The read side: projects, runs, leaderboards, histories and single runs from a store root.

Files are read through a FileCache (tracklib/read/filecache.py), so a refresh reads only new
files; frames derived from the compacted part are cached here, per set of index files.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracklib import config
from tracklib.compaction import concat_tables, index_records
from tracklib.format import layout, rules
from tracklib.format.errors import RunNotFoundError, UnsafePathError
from tracklib.format.schema import ENVIRONMENT_SCHEMA, METRICS_SCHEMA, RECORD_SCHEMA
from tracklib.format.settings import ProjectSettings, newest_settings_file, parse_settings
from tracklib.read import query
from tracklib.read.console import ReadsConsole
from tracklib.read.downsample import minmax_indices
from tracklib.read.filecache import FileCache, Listed
from tracklib.read.images import ReadsImages
from tracklib.read.listing import RecordListing
from tracklib.storage import FileInfo, Storage, given_or_opened
from tracklib.storage.parquet import bytes_to_table


@dataclass
class RunDetails:
    """Everything about one run, for the run page and for scripts."""

    run_id: str
    project: str
    name: str
    status: str
    group: str | None
    tags: list[str]
    notes: str | None
    error: str | None
    start_time: pd.Timestamp
    end_time: pd.Timestamp | None
    heartbeat_time: pd.Timestamp
    params: dict[str, Any]
    summary: pd.DataFrame
    environment: dict[str, Any]
    artifacts: pd.DataFrame
    datasets: pd.DataFrame  # name, source (masked), kind, fingerprint, files, bytes


@dataclass(frozen=True)
class IndexFile:
    """An index file as a reader keeps it: its Parquet bytes and either its runs-table rows
    (a big file, turned into frames once: 100,000 runs are 55 MB as decoded records) or, for
    a small one, its records, turned into frames together with the other small files (frames
    cost ~10 ms per file however small: a sweep's writer leaves one file per 100 runs)."""

    data: bytes
    runs: query.RunsPart | None
    small: pa.Table | None
    path: str  # root-relative: the rows are checked against it again when decoded again

    def holds(self, run_id: str) -> bool:
        if self.small is not None:
            return bool(pc.any(pc.equal(self.small["run_id"], run_id)).as_py())
        return bool((self.runs.versions["run_id"] == run_id).any())

    def records(self, run_id: str | None = None) -> pa.Table:
        """The file's records (only ``run_id``'s), decoded again from its bytes."""
        return index_records(self.data, self.path, run_id)


def open_store(
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    *,
    storage: Storage | None = None,
    stale_after: float = config.STALE_AFTER_S,
) -> Store:
    """Open a store for reading; ``root`` resolves as in :func:`tracklib.init`.

    Args:
        root: any fsspec URL; default ``$TRACKLIB_ROOT`` or ``./tracking``.
        storage_options: passed to fsspec unchanged.
        storage: instead of ``root`` and ``storage_options``, the storage to read through
            (``tracklib.storage.open_storage(url)`` or a wrapper of one); not with them.
        stale_after: seconds without a heartbeat after which a running run reads as stale.
    """
    return Store(given_or_opened(storage, root, storage_options), stale_after=stale_after)


class Store(ReadsImages, ReadsConsole):
    """Reads what runs wrote. Cheap to keep around: repeated calls read only new files."""

    def __init__(self, storage: Storage, stale_after: float = config.STALE_AFTER_S) -> None:
        self.storage = storage
        self.stale_after = stale_after
        self._files = FileCache(storage)
        self._compacted: dict[str, tuple[tuple[FileInfo, ...], query.RunsPart]] = {}
        self._merged: dict[str, tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}
        self._listings: dict[str, RecordListing] = {}  # project -> what its records/ refresh lists
        self._odd_folders: dict[str, str] = {}  # folder -> why it is no project
        self._lock = threading.Lock()

    @property
    def root(self) -> str:
        return self.storage.url

    def __repr__(self) -> str:
        return f"Store({self.root!r})"

    # -- listing -------------------------------------------------------------------------
    def projects(self) -> list[str]:
        """Names of the projects that have at least one run (live or compacted)."""
        found: set[str] = set()
        for kind in (layout.RECORDS, layout.INDEX):
            projects, odd = rules.project_folders(self.storage.list_dirs(kind))
            found.update(projects)
            with self._lock:
                self._odd_folders.update({f"{kind}/{name}": why for name, why in odd.items()})
        return sorted(found)

    def list_everything_next(self) -> None:
        """Make the next refresh of every project list its records whole, not only the
        recent run folders (tracklib/read/listing.py): what a user's Refresh click asks for."""
        with self._lock:
            self._listings.clear()

    @property
    def skipped_files(self) -> dict[str, str]:
        """Files, rows and folders this store could not use so far (path -> why), for a notice
        in the dashboard: unreadable or foreign files of every kind, rows that break the
        format (``rules.clean``), folders no writer makes and links (never followed)."""
        with self._lock:
            odd = dict(self._odd_folders)
        return odd | dict(self.storage.ignored) | self._files.skipped_files

    def _live_and_index(self, project: str) -> tuple[Listed, tuple[list[IndexFile], tuple[FileInfo, ...]]]:
        """Uncompacted record snapshots, and the project's index files (each as its runs).

        Live records are listed first: compaction writes the index before it deletes the
        snapshots it covers, so this order never misses a run.
        """
        layout.check_project(project)
        records = layout.project_dir(layout.RECORDS, project)
        with self._lock:
            plan = self._listings.setdefault(project, RecordListing(records))
        started, after = plan.start()
        (live,) = self._files.read_listed([records], RECORD_SCHEMA, {records: after} if after else None)
        index = self._index_files(project)
        if after is not None and plan.needs_full(index[1]):  # compacted meanwhile: list it all
            (live,) = self._files.read_listed([records], RECORD_SCHEMA)
            index = self._index_files(project)
            after = None
        plan.done(started, after is None, index[1], live, self.stale_after)
        return live, index

    def _index_files(self, project: str) -> tuple[list[IndexFile], tuple[FileInfo, ...]]:
        """The project's index files as this reader keeps them, and the files listed."""
        return self._files.read_parts(
            layout.project_dir(layout.INDEX, project), RECORD_SCHEMA, self._index_file
        )

    def _index_file(self, batches: Iterator[pa.Table], data: bytes, path: str) -> IndexFile:
        first, second = next(batches, RECORD_SCHEMA.empty_table()), next(batches, None)
        if second is None:  # one batch: a small file
            return IndexFile(data, None, first, path)
        now = _now()
        parts = [query.runs_part(b, now, self.stale_after) for b in itertools.chain([first, second], batches)]
        return IndexFile(data, query.merge_parts(parts), None, path)

    def _compacted_runs(self, index: list[IndexFile]) -> query.RunsPart:
        """The runs of all index files: the big ones' frames, and the small ones' together."""
        parts = [part.runs for part in index if part.runs is not None]
        small = [part.small for part in index if part.small is not None]
        if small:
            parts.append(query.runs_part(concat_tables(small, RECORD_SCHEMA), _now(), self.stale_after))
        return query.merge_parts(parts)

    def records(self, project: str) -> pa.Table:
        """Every record snapshot of the project (all versions, compacted ones included)."""
        live, (index, _) = self._live_and_index(project)
        return pa.concat_tables([live.table, *(part.records() for part in index)])

    def runs_and_summary(self, project: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The runs table and the long summary (``query.runs_and_summary``), incrementally.

        Each index file is turned into frames once (and kept only as those and its bytes);
        each call then only processes the live (uncompacted) snapshots and merges them in.
        """
        live, (index, index_files) = self._live_and_index(project)
        with self._lock:
            compacted, merged = self._compacted.get(project), self._merged.get(project)
        if merged is not None and merged[0] == (index_files, live.files) and not _has_running(merged[1]):
            return _share(merged[1]), _share(merged[2])  # nothing changed, nothing can turn stale
        if compacted is None or compacted[0] != index_files:
            compacted = (index_files, self._compacted_runs(index))
        both = query.merge_parts([query.runs_part(live.table, _now(), self.stale_after), compacted[1]])
        with self._lock:
            self._compacted[project] = compacted
            self._merged[project] = ((index_files, live.files), both.runs, both.summary, both.versions)
        return _share(both.runs), _share(both.summary)

    def record_times(self, project: str) -> pd.Series:
        """Run id -> ``record_time`` of the run's newest record, as the runs table was last
        read: a view pinned to a time asks whether a run's record was written by then."""
        self.runs_and_summary(project)
        with self._lock:
            versions = self._merged[project][3]
        return versions.set_index("run_id")["record_time"]

    # -- the public read API ---------------------------------------------------------------
    def runs(self, project: str) -> pd.DataFrame:
        """One row per run, newest first: identity, status, params.<k>, metrics.<k>[.min|.max]."""
        return self.runs_and_summary(project)[0]

    def leaderboard(
        self,
        project: str,
        metric: str,
        agg: str = "last",
        ascending: bool = False,
        top: int | None = None,
    ) -> pd.DataFrame:
        """Runs ranked by ``agg`` (last, min or max) of ``metric``, with ``rank`` and ``step``."""
        runs, summary = self.runs_and_summary(project)
        return query.leaderboard(runs, summary, metric, agg, ascending, top)

    def history(
        self,
        project: str,
        run_ids: Iterable[str] | None = None,
        keys: Iterable[str] | None = None,
        max_points: int | None = None,
        until: datetime | None = None,
    ) -> pd.DataFrame:
        """Long rows ``run_id, key, step, value, time`` sorted by run, key, step.

        Only the named runs' files are listed and read. ``until`` keeps the points logged at
        or before that time (a pinned view; before downsampling, so the cut is exact).
        ``max_points`` caps each series, keeping every bucket's min and max so spikes survive.
        """
        layout.check_project(project)
        if run_ids is None:
            prefixes = [layout.project_dir(layout.METRICS, project)]
        else:
            prefixes = [layout.run_dir(layout.METRICS, project, layout.check_run_id(r)) for r in run_ids]
        table = concat_tables(
            [listed.table for listed in self._files.read_listed(prefixes, METRICS_SCHEMA)], METRICS_SCHEMA
        )
        if keys is not None:
            table = table.filter(pc.is_in(table["key"], pa.array(list(keys), pa.string())))
        if until is not None:  # a point without a time is never before a pin
            table = table.filter(
                pc.less_equal(table["time"], pa.scalar(until, table.schema.field("time").type))
            )
        table, series = _sorted_series(table)
        total = table.num_rows
        if max_points is not None:
            table = table.take(minmax_indices(series, table["value"].to_numpy(), max_points))
        frame = table.to_pandas()
        frame.attrs["total_points"] = total  # before downsampling: for "showing N of M points"
        return frame

    def run(self, project: str, run_id: str) -> RunDetails:
        """One run in full: params, summary, environment, artifacts, datasets, status."""
        records = self.newest_record(project, run_id)
        if records.num_rows == 0:
            raise RunNotFoundError(f"no run {run_id!r} in project {project!r}")
        runs, summary = query.runs_and_summary(records, _now(), self.stale_after)
        row = runs.iloc[0]
        raw = records.to_pylist()[0]
        (environments,) = self._files.read_listed(
            [layout.run_dir(layout.ENVIRONMENT, project, run_id)], ENVIRONMENT_SCHEMA
        )
        env_rows = environments.table.to_pylist()
        environment = max(env_rows, key=lambda r: r["record_time"]) if env_rows else {}
        return RunDetails(
            run_id=run_id,
            project=project,
            name=raw["name"],
            status=row["status"],
            group=raw["group"],
            tags=list(raw["tags"] or []),
            notes=raw["notes"],
            error=raw["error"],
            start_time=pd.Timestamp(raw["start_time"]),
            end_time=pd.Timestamp(raw["end_time"]) if raw["end_time"] else None,
            heartbeat_time=pd.Timestamp(raw["heartbeat_time"]),
            # straight from the record: a None or NaN param is a value here, not a gap
            params=query.decode_params(raw["params"]),
            summary=summary.drop(columns="run_id"),
            environment={
                k: v for k, v in environment.items() if k not in ("format_version", "run_id", "record_time")
            },
            artifacts=pd.DataFrame(raw["artifacts"] or [], columns=["name", "path", "size", "sha256"]),
            datasets=query.datasets_frame(raw["datasets"]),
        )

    def settings(self, project: str) -> ProjectSettings | None:
        """The project's newest saved settings (FORMAT.md §16), or None when it saved none or
        the newest save cannot be used (unreadable, another project's): callers then guess.
        Fields that break their rule read as not saved; a bad file never raises here."""
        layout.check_project(project)
        listed = self.storage.list_files(layout.project_dir(layout.SETTINGS, project))
        newest = newest_settings_file(project, ((f.path, f.size) for f in listed))
        if newest is None:
            return None
        try:
            return parse_settings(bytes_to_table(self.storage.read_bytes(newest), newest), project)
        except Exception:  # noqa: BLE001 - untrusted file: no settings, the guess is used
            return None

    def newest_record(self, project: str, run_id: str) -> pa.Table:
        """The run's newest record snapshot (zero rows if there is no such run)."""
        layout.check_project(project)
        (live,) = self._files.read_listed(
            [layout.run_dir(layout.RECORDS, project, layout.check_run_id(run_id))], RECORD_SCHEMA
        )
        index, _ = self._index_files(project)
        mine = [part.records(run_id) for part in index if part.holds(run_id)]
        return rules.newest_records(pa.concat_tables([live.table, *mine]))

    def read_artifact(self, path: str, project: str | None = None, run_id: str | None = None) -> bytes:
        """The bytes of an artifact, by the ``path`` listed in ``run(...).artifacts``.

        The path comes from a record file, which anyone who can write to the store can craft:
        it is read only when it names a file inside one run's artifacts folder (that run's,
        when ``project`` and ``run_id`` are given), with no ``..`` and, on a local disk, no
        symlink leading out of that folder.

        Raises:
            UnsafePathError: the path leaves the run's artifacts folder.
        """
        self.check_artifact(path, project, run_id)
        return self.storage.read_bytes(path)

    def check_artifact(self, path: str, project: str | None = None, run_id: str | None = None) -> None:
        """Raise UnsafePathError unless ``read_artifact`` would read ``path`` (see there): lets
        the dashboard refuse a crafted path before it offers a download."""
        run_folder = layout.check_artifact_location(path, project, run_id)
        if self.storage.is_local:
            inside = os.path.realpath(self.storage.full_path(run_folder))
            if os.path.commonpath([inside, os.path.realpath(self.storage.full_path(path))]) != inside:
                raise UnsafePathError(f"artifact path {path!r} leads out of {run_folder!r}")


def _sorted_series(table: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """``table`` sorted by run, key, step (then write order) and each row's series number.

    Sorts integer codes with numpy rather than strings with Arrow, and not at all in the
    common case of one metric whose parts were written in step order.
    """
    if table.num_rows == 0:
        return table, np.arange(0)
    runs = pc.dictionary_encode(table["run_id"]).combine_chunks()
    keys = pc.dictionary_encode(table["key"]).combine_chunks()
    run_rank = np.argsort(np.argsort(runs.dictionary.to_numpy(zero_copy_only=False)))
    key_rank = np.argsort(np.argsort(keys.dictionary.to_numpy(zero_copy_only=False)))
    run_codes = run_rank[runs.indices.to_numpy()]
    key_codes = key_rank[keys.indices.to_numpy()]
    series = run_codes.astype(np.int64) * len(key_rank) + key_codes
    steps = table["step"].to_numpy()
    in_order = np.all((series[1:] > series[:-1]) | ((series[1:] == series[:-1]) & (steps[1:] >= steps[:-1])))
    if in_order:
        return table, series
    order = np.lexsort((np.arange(len(steps)), steps, series))  # stable: ties keep write order
    return table.take(order), series[order]


def _has_running(runs: pd.DataFrame) -> bool:
    return bool((runs["status"] == "running").any())


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _share(frame: pd.DataFrame) -> pd.DataFrame:
    """A cached frame for a caller: a new object over the same data. pandas copies on write,
    so what the caller changes never reaches the cache, and 60 MB are not copied per call."""
    return frame.copy(deep=False)
