"""Reading listed files once: a cache keyed by (path, size, version), for a long-lived reader.

A refresh lists the prefixes and reads only files it has not seen. Files that vanish
between listing and reading (compaction) make it list again; files a listed compacted file
replaces are left out; cached files no longer listed are forgotten; a file that cannot be
read (truncated, foreign, newer format) is skipped with one warning.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pyarrow as pa

from tracklib.compaction import BATCH_ROWS, concat_tables
from tracklib.format import rules
from tracklib.format.errors import FormatVersionError
from tracklib.storage import FileInfo, Storage
from tracklib.storage.parquet import parse_batches, parse_part

_RELISTS = 3
_ASSEMBLE_FROM = 64  # files below one prefix from which their joined table is kept and grown

T = TypeVar("T")


class _Joined(NamedTuple):
    """The tables of many files below one prefix as one table, and each file's rows in it.
    The cache keeps a joined file as this instead of a table of its own."""

    files: tuple[FileInfo, ...]
    table: pa.Table
    rows: dict[str, tuple[int, int]]  # path -> (offset, length)


class Listed(NamedTuple):
    """The rows of the files below one prefix, and the files (the cache key of derived data)."""

    table: pa.Table
    files: tuple[FileInfo, ...]


class FileCache:
    """The parsed tables of a store's files, read once each."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        # (path, size, version) -> (table, or its conversion for a prefix read with read_parts)
        self._tables: dict[tuple[str, int, str], tuple[Any, frozenset[str]] | None] = {}
        self._assembled: dict[str, _Joined] = {}
        self._listings: dict[str, list[FileInfo]] = {}  # prefix -> its last listing
        self._skipped: dict[str, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many files are cached (memory follows the store, not its history)."""
        with self._lock:
            return len(self._tables)

    def read_listed(
        self, prefixes: Sequence[str], schema: pa.Schema, after: Mapping[str, str] | None = None
    ) -> list[Listed]:
        """One table per prefix (and the files it came from), every file read once and cached.

        Prefixes are listed in the order given. Compaction writes its new file before it
        deletes the old ones, so when a listed file is gone by the time it is read, a new
        listing has its replacement: list again (twice at most) rather than miss rows.

        ``after`` maps a prefix to a path the caller knows nothing before has changed since
        the last listing: only what sorts after it is listed again (see ``_list``).
        """
        listings, tables = self._read(prefixes, schema, after, None)
        return [
            Listed(
                self._assemble(prefix, [f for f in listing if f.path in tables], tables, schema),
                tuple(listing),
            )
            for prefix, listing in zip(prefixes, listings)
        ]

    def read_parts(
        self, prefix: str, schema: pa.Schema, convert: Callable[[Iterator[pa.Table], bytes, str], T]
    ) -> tuple[list[T], tuple[FileInfo, ...]]:
        """What ``convert`` makes of each file below ``prefix`` (from its rows, decoded
        ``BATCH_ROWS`` at a time, and its bytes), made once per file, and the files listed.
        Only that is kept, never the decoded file: an index file of 100,000 runs is 55 MB as
        Arrow, 4 MB as Parquet."""
        (listing,), parts = self._read([prefix], schema, None, convert)
        return [parts[f.path] for f in listing if f.path in parts], tuple(listing)

    def _read(
        self,
        prefixes: Sequence[str],
        schema: pa.Schema,
        after: Mapping[str, str] | None,
        convert: Callable[[Iterator[pa.Table], bytes, str], object] | None,
    ) -> tuple[list[list[FileInfo]], dict[str, Any]]:
        """The listings of ``prefixes`` and path -> parsed (or converted) file, listed again
        while files vanish between listing and reading."""
        for _ in range(_RELISTS):
            listings = [self._list(prefix, (after or {}).get(prefix)) for prefix in prefixes]
            tables, gone = self._read_tables([f for listing in listings for f in listing], schema, convert)
            if not gone:
                break
            after = None  # a kept part of the last listing may be what vanished
        self._forget_unlisted(prefixes, listings)
        return listings, tables

    def _list(self, prefix: str, after: str | None) -> list[FileInfo]:
        """The files below ``prefix``: the last listing up to ``after`` plus a listing of what
        sorts after it, where the store can list from a key; else a whole new listing."""
        with self._lock:
            last = self._listings.get(prefix)
        newer = self._storage.list_files_after(prefix, after) if after is not None and last else None
        if newer is None:
            return self._storage.list_files(prefix)
        return [f for f in last if f.path <= after] + newer

    def _forget_unlisted(self, prefixes: Sequence[str], listings: Sequence[Sequence[FileInfo]]) -> None:
        """Drop cached tables of files no longer listed (compacted away): memory follows the store."""
        with self._lock:
            for prefix, listing in zip(prefixes, listings):
                for key in set(self._listings.get(prefix, ())) - set(listing):
                    self._tables.pop(key, None)  # a FileInfo equals its (path, size, version) key
                self._listings[prefix] = list(listing)

    def _assemble(
        self, prefix: str, files: Sequence[FileInfo], tables: Mapping[str, Any], schema: pa.Schema
    ) -> pa.Table:
        """The files' tables as one; for many files (live records), grown from the last result.

        Joining a thousand one-row snapshots costs ~70 ms; a refresh appends only new ones.
        Once joined, a file's rows are kept only there (``_Joined``): a one-row table of its
        own costs ~40 KB of Arrow and Python objects, 40 MB per thousand live runs.
        """
        if len(files) < _ASSEMBLE_FROM:
            self._unjoin(prefix)
            return concat_tables([self._table_of(f.path, tables[f.path]) for f in files], schema)
        with self._lock:
            before = self._assembled.get(prefix)
        if before is not None and before.files == tuple(files):
            return before.table
        known = before.rows if before is not None else {}
        kept = [f for f in files if f.path in known]
        appended = bool(kept) and len(kept) == len(known)  # only new files: append them
        if appended:
            parts, rows, offset = [before.table], dict(known), before.table.num_rows
        else:
            parts, rows, offset = [], {}, 0
            if kept:
                ranges = [known[f.path] for f in kept]
                parts.append(before.table.take(np.concatenate([np.arange(o, o + n) for o, n in ranges])))
                for f, (_, length) in zip(kept, ranges):
                    rows[f.path], offset = (offset, length), offset + length
        for f in files:
            if f.path not in known:
                parts.append(self._table_of(f.path, tables[f.path]))
                rows[f.path], offset = (offset, parts[-1].num_rows), offset + parts[-1].num_rows
        table = pa.concat_tables(parts) if appended else concat_tables(parts, schema)
        if table.column(0).num_chunks > 16:
            table = table.combine_chunks()
        joined = _Joined(tuple(files), table, rows)
        with self._lock:
            self._assembled[prefix] = joined
            if before is not None and not appended:  # files left out: read again if ever asked
                for key, item in list(self._tables.items()):
                    if item is not None and item[0] is before and key[0] not in rows:
                        del self._tables[key]
            for f in files:
                cached = self._tables.get((f.path, f.size, f.version))
                if cached is not None:
                    self._tables[(f.path, f.size, f.version)] = (joined, cached[1])
        return table

    def _unjoin(self, prefix: str) -> None:
        """Fewer files than are joined (compacted away): each file that is left gets its rows
        back as a table of its own, and the joined table of all the old rows goes."""
        with self._lock:
            joined = self._assembled.pop(prefix, None)
            if joined is None:
                return
            for key, item in list(self._tables.items()):
                if item is not None and item[0] is joined:
                    offset, length = joined.rows[key[0]]
                    self._tables[key] = (joined.table.take(np.arange(offset, offset + length)), item[1])

    @staticmethod
    def _table_of(path: str, item: pa.Table | _Joined) -> pa.Table:
        """A file's table, or its rows in the joined table that keeps them."""
        if not isinstance(item, _Joined):
            return item
        offset, length = item.rows[path]
        return item.table.slice(offset, length)

    def _read_tables(
        self,
        files: Sequence[FileInfo],
        schema: pa.Schema,
        convert: Callable[[Iterator[pa.Table], bytes, str], object] | None,
    ) -> tuple[dict[str, Any], bool]:
        """path -> table (or converted table) of the usable ``files``, and whether any of them
        had vanished.

        Files that a listed compacted file replaces are left out (``rules.superseded``).
        """
        files = [f for f in files if rules.is_data_file(f.path)]
        keys = {f: (f.path, f.size, f.version) for f in files}
        with self._lock:  # what is cached now: another reader may forget it while we fetch
            cached = {f: self._tables[keys[f]] for f in files if keys[f] in self._tables}
        missing = [f for f in files if f not in cached]
        fetched = self._storage.read_many(f.path for f in missing)
        parsed = {info: self._parse(info.path, fetched.get(info.path), schema, convert) for info in missing}
        with self._lock:
            for info, table in parsed.items():
                if not isinstance(fetched.get(info.path), Exception):  # transport errors: retry later
                    self._tables[keys[info]] = table
        found = {f.path: parsed[f] if f in parsed else cached[f] for f in files}
        gone = any(isinstance(fetched.get(f.path), FileNotFoundError) for f in missing)
        usable = {path: item for path, item in found.items() if item is not None}
        skipped = rules.superseded({path: item[1] for path, item in usable.items()})
        return {path: item[0] for path, item in usable.items() if path not in skipped}, gone

    def _parse(
        self,
        path: str,
        data: bytes | Exception | None,
        schema: pa.Schema,
        convert: Callable[[Iterator[pa.Table], bytes, str], object] | None,
    ) -> tuple[Any, frozenset[str]] | None:
        """The file's table (or what ``convert`` makes of it) and the files it replaces, or
        None (one warning) when unusable."""
        if isinstance(data, FileNotFoundError) or data is None:
            return None  # removed between listing and reading (compaction): not an error
        try:
            if isinstance(data, Exception):
                raise data
            problems: list[str] = []
            if convert is None:
                table, replaces = parse_part(data, path, schema)
                table, problems = rules.clean(table, path)
            else:
                batches, replaces = parse_batches(data, path, schema, BATCH_ROWS)
                table = convert(_cleaned(batches, path, problems), data, path)
            with self._lock:  # a transient read error has cleared, or rows were left out
                self._skipped.pop(path, None)
                if problems:
                    self._skipped[path] = "; ".join(problems)
            if problems:
                warnings.warn(f"tracklib: {problems[0]}", stacklevel=5)
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


def _cleaned(batches: Iterator[pa.Table], path: str, problems: list[str]) -> Iterator[pa.Table]:
    """The usable rows of each batch (``rules.clean``); what was left out goes to ``problems``."""
    for batch in batches:
        batch, found = rules.clean(batch, path)
        problems.extend(found)
        yield batch
