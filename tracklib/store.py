"""The read side: projects, runs, leaderboards, histories and single runs from a store root.

Every file read is cached by (path, size, version), so a refresh reads only new files.
A file that cannot be read (truncated, foreign, newer format) is skipped with one warning.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracklib import config, layout, query
from tracklib.downsample import minmax_indices
from tracklib.errors import FormatVersionError, RunNotFoundError
from tracklib.schema import ENVIRONMENT_SCHEMA, METRICS_SCHEMA, RECORD_SCHEMA, REPLACES_KEY
from tracklib.storage import FileInfo, Storage, bytes_to_table

_RELISTS = 3
_ASSEMBLE_FROM = 64  # files below one prefix from which their joined table is kept and grown


class Listed(NamedTuple):
    """The rows of the files below one prefix, and the files (the cache key of derived data)."""

    table: pa.Table
    files: tuple[FileInfo, ...]


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


def open_store(
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    *,
    stale_after: float = config.STALE_AFTER_S,
) -> Store:
    """Open a store for reading; ``root`` resolves as in :func:`tracklib.init`.

    Args:
        root: any fsspec URL; default ``$TRACKLIB_ROOT`` or ``./tracking``.
        storage_options: passed to fsspec unchanged.
        stale_after: seconds without a heartbeat after which a running run reads as stale.
    """
    return Store(Storage(config.resolve_root(root), storage_options), stale_after=stale_after)


class Store:
    """Reads what runs wrote. Cheap to keep around: repeated calls read only new files."""

    def __init__(self, storage: Storage, stale_after: float = config.STALE_AFTER_S) -> None:
        self.storage = storage
        self.stale_after = stale_after
        self._tables: dict[tuple[str, int, str], tuple[pa.Table, frozenset[str]] | None] = {}
        self._compacted: dict[str, tuple[tuple[FileInfo, ...], query.Compacted]] = {}
        self._merged: dict[str, tuple[Any, pd.DataFrame, pd.DataFrame]] = {}
        self._assembled: dict[str, tuple[tuple[FileInfo, ...], pa.Table]] = {}
        self._listed: dict[str, set[tuple[str, int, str]]] = {}  # prefix -> cache keys last listed
        self._skipped: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> str:
        return self.storage.url

    def __repr__(self) -> str:
        return f"Store({self.root!r})"

    # -- listing and cached reading -------------------------------------------------------
    def projects(self) -> list[str]:
        """Names of the projects that have at least one run (live or compacted)."""
        prefix = "project="
        found = {
            d[len(prefix) :]
            for kind in (layout.RECORDS, layout.INDEX)
            for d in self.storage.list_dirs(kind)
            if d.startswith(prefix)
        }
        return sorted(found)

    def _read_listed(self, prefixes: Sequence[str], schema: pa.Schema) -> list[Listed]:
        """One table per prefix (and the files it came from), every file read once and cached.

        Prefixes are listed in the order given. Compaction writes its new file before it
        deletes the old ones, so when a listed file is gone by the time it is read, a new
        listing has its replacement: list again (twice at most) rather than miss rows.
        """
        for _ in range(_RELISTS):
            listings = [self.storage.list_files(prefix) for prefix in prefixes]
            tables, gone = self._read_tables([f for listing in listings for f in listing], schema)
            if not gone:
                break
        self._forget_unlisted(prefixes, listings)
        return [
            Listed(
                self._assemble(prefix, [f for f in listing if f.path in tables], tables, schema),
                tuple(listing),
            )
            for prefix, listing in zip(prefixes, listings)
        ]

    def _forget_unlisted(self, prefixes: Sequence[str], listings: Sequence[Sequence[FileInfo]]) -> None:
        """Drop cached tables of files no longer listed (compacted away): memory follows the store."""
        with self._lock:
            for prefix, listing in zip(prefixes, listings):
                now = {(f.path, f.size, f.version) for f in listing}
                for key in self._listed.get(prefix, set()) - now:
                    self._tables.pop(key, None)
                self._listed[prefix] = now

    def _assemble(
        self, prefix: str, files: Sequence[FileInfo], tables: Mapping[str, pa.Table], schema: pa.Schema
    ) -> pa.Table:
        """The files' tables as one; for many files (live records), grown from the last result.

        Joining a thousand one-row snapshots costs ~70 ms; a refresh appends only new ones.
        """
        if len(files) < _ASSEMBLE_FROM:
            return _concat([tables[f.path] for f in files], schema)
        with self._lock:
            before = self._assembled.get(prefix)
        if before is not None and before[0] == tuple(files):
            return before[1]
        if before is not None and set(before[0]) <= set(files):
            known = set(before[0])
            table = pa.concat_tables([before[1], *(tables[f.path] for f in files if f not in known)])
            if table.column(0).num_chunks > 16:
                table = table.combine_chunks()
        else:
            table = _concat([tables[f.path] for f in files], schema)
        with self._lock:
            self._assembled[prefix] = (tuple(files), table)
        return table

    def _read_tables(self, files: Sequence[FileInfo], schema: pa.Schema) -> tuple[dict[str, pa.Table], bool]:
        """path -> table of the usable ``files``, and whether any of them had vanished.

        Files that a listed compacted file replaces are left out (see ``REPLACES_KEY``).
        """
        files = [f for f in files if layout.is_data_file(f.path)]
        keys = {f: (f.path, f.size, f.version) for f in files}
        with self._lock:
            missing = [f for f in files if keys[f] not in self._tables]
        fetched = self.storage.read_many(f.path for f in missing)
        parsed = {info: self._parse(info.path, fetched.get(info.path), schema) for info in missing}
        with self._lock:
            for info, table in parsed.items():
                if not isinstance(fetched.get(info.path), Exception):  # transport errors: retry later
                    self._tables[keys[info]] = table
            found = {f.path: parsed[f] if f in parsed else self._tables[keys[f]] for f in files}
        gone = any(isinstance(fetched.get(f.path), FileNotFoundError) for f in missing)
        usable = {path: item for path, item in found.items() if item is not None}
        skipped = layout.superseded({path: item[1] for path, item in usable.items()})
        return {path: item[0] for path, item in usable.items() if path not in skipped}, gone

    def _parse(
        self, path: str, data: bytes | Exception | None, schema: pa.Schema
    ) -> tuple[pa.Table, frozenset[str]] | None:
        """The file's table and the files it replaces, or None (one warning) when unusable."""
        if isinstance(data, FileNotFoundError) or data is None:
            return None  # removed between listing and reading (compaction): not an error
        try:
            if isinstance(data, Exception):
                raise data
            table = bytes_to_table(data, path)
            metadata = table.schema.metadata or {}
            replaces = (
                frozenset(json.loads(metadata[REPLACES_KEY])) if REPLACES_KEY in metadata else frozenset()
            )
            if not table.schema.equals(schema):  # an older or newer minor version: conform it
                table = table.select(schema.names).cast(schema)
            if path in self._skipped:  # a transient read error has cleared
                with self._lock:
                    self._skipped.pop(path, None)
            return table, replaces
        except Exception as exc:  # noqa: BLE001 - any unreadable file is skipped, named once
            reason = str(exc) if isinstance(exc, FormatVersionError) else f"unreadable: {exc}"
            with self._lock:
                first_time = path not in self._skipped
                self._skipped[path] = reason
            if first_time:
                warnings.warn(f"tracklib: skipping {path}: {reason}", stacklevel=5)
        return None

    @property
    def skipped_files(self) -> dict[str, str]:
        """Files this store could not use so far (path -> why), for a notice in the dashboard."""
        with self._lock:
            return dict(self._skipped)

    def _live_and_index(self, project: str) -> tuple[Listed, Listed]:
        """Uncompacted record snapshots and compacted index rows of a project.

        Live records are listed first: compaction writes the index before it deletes the
        snapshots it covers, so this order never misses a run.
        """
        layout.check_project(project)
        live, index = self._read_listed(
            [layout.project_dir(layout.RECORDS, project), layout.project_dir(layout.INDEX, project)],
            RECORD_SCHEMA,
        )
        return live, index

    def records(self, project: str) -> pa.Table:
        """Every record snapshot of the project (all versions, compacted ones included)."""
        live, index = self._live_and_index(project)
        return pa.concat_tables([live.table, index.table])

    def runs_and_summary(self, project: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The runs table and the long summary (``query.runs_and_summary``), incrementally.

        The compacted part is turned into frames once per set of index files; each call
        then only processes the live (uncompacted) snapshots and merges them in.
        """
        live, index = self._live_and_index(project)
        with self._lock:
            compacted, merged = self._compacted.get(project), self._merged.get(project)
        if merged is not None and merged[0] == (index.files, live.files) and not _has_running(merged[1]):
            return merged[1].copy(), merged[2].copy()  # nothing changed, nothing can turn stale
        if compacted is None or compacted[0] != index.files:
            newest = query.newest_records(index.table)
            runs, summary = query.runs_and_summary(newest, _now(), self.stale_after)
            compacted = (index.files, query.Compacted(newest, runs, summary))
        runs, summary = query.with_live_records(compacted[1], live.table, _now(), self.stale_after)
        with self._lock:
            self._compacted[project] = compacted
            self._merged[project] = ((index.files, live.files), runs, summary)
        return runs.copy(), summary.copy()

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
    ) -> pd.DataFrame:
        """Long rows ``run_id, key, step, value, time`` sorted by run, key, step.

        Only the named runs' files are listed and read. ``max_points`` caps each series,
        keeping every bucket's min and max so spikes survive.
        """
        layout.check_project(project)
        if run_ids is None:
            prefixes = [layout.project_dir(layout.METRICS, project)]
        else:
            prefixes = [layout.run_dir(layout.METRICS, project, layout.check_run_id(r)) for r in run_ids]
        table = _concat(
            [listed.table for listed in self._read_listed(prefixes, METRICS_SCHEMA)], METRICS_SCHEMA
        )
        if keys is not None:
            table = table.filter(pc.is_in(table["key"], pa.array(list(keys), pa.string())))
        table, series = _sorted_series(table)
        total = table.num_rows
        if max_points is not None:
            table = table.take(minmax_indices(series, table["value"].to_numpy(), max_points))
        frame = table.to_pandas()
        frame.attrs["total_points"] = total  # before downsampling: for "showing N of M points"
        return frame

    def run(self, project: str, run_id: str) -> RunDetails:
        """One run in full: params, summary, environment, artifacts, status."""
        records = self.newest_record(project, run_id)
        if records.num_rows == 0:
            raise RunNotFoundError(f"no run {run_id!r} in project {project!r}")
        runs, summary = query.runs_and_summary(records, _now(), self.stale_after)
        row = runs.iloc[0]
        raw = records.to_pylist()[0]
        (environments,) = self._read_listed(
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
            params={
                k[len("params.") :]: _plain(v)
                for k, v in row.items()
                if k.startswith("params.") and not _missing(v)
            },
            summary=summary.drop(columns="run_id"),
            environment={
                k: v for k, v in environment.items() if k not in ("format_version", "run_id", "record_time")
            },
            artifacts=pd.DataFrame(raw["artifacts"] or [], columns=["name", "path", "size", "sha256"]),
        )

    def newest_record(self, project: str, run_id: str) -> pa.Table:
        """The run's newest record snapshot (zero rows if there is no such run)."""
        layout.check_project(project)
        live, index = self._read_listed(
            [
                layout.run_dir(layout.RECORDS, project, layout.check_run_id(run_id)),
                layout.project_dir(layout.INDEX, project),
            ],
            RECORD_SCHEMA,
        )
        mine = index.table.filter(pc.equal(index.table["run_id"], run_id))
        return query.newest_records(pa.concat_tables([live.table, mine]))

    def read_artifact(self, path: str) -> bytes:
        """The bytes of an artifact, by the ``path`` listed in ``run(...).artifacts``."""
        if not path.startswith(f"{layout.ARTIFACTS}/"):
            raise ValueError(f"{path!r} is not an artifact path")
        return self.storage.read_bytes(path)


def _concat(tables: Sequence[pa.Table], schema: pa.Schema) -> pa.Table:
    """One table in one chunk (sorting and taking across thousands of chunks is slow)."""
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables).combine_chunks() if tables else schema.empty_table()


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
