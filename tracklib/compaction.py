"""What the writer and compaction share: merged metric parts, index files, one run's newest record.

A finishing run merges its own metric parts, a sweep's process folds the records of the runs
it finished into index files, `tracklib compact` does both for a whole project, and resuming
a run reads its newest record wherever compaction put it. One implementation each, here, below
both the writer and the reader, so that the writer never stands on the reader (docs/FORMAT.md
§8, §12 and §13 say what the files mean and who writes them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracklib.format import layout, rules
from tracklib.format.errors import FormatVersionError
from tracklib.format.ids import new_id
from tracklib.format.schema import METRICS_SCHEMA, RECORD_SCHEMA, REPLACES_KEY
from tracklib.storage import FileInfo, Storage
from tracklib.storage.parquet import conform, parse_part, table_to_bytes

INDEX_ROW_GROUP_ROWS = 10_000  # a lookup of one run (the Run page, a resume) decodes one row group
BATCH_ROWS = 10_000  # rows decoded at a time from a big file (peak memory, measured fastest)

Parsed = dict[str, tuple[pa.Table, frozenset[str]]]  # path -> (usable rows, paths it replaces)


def data_files(storage: Storage, prefix: str) -> list[FileInfo]:
    """The Parquet data files under ``prefix`` (reader rule 1: anything else is not ours)."""
    return [f for f in storage.list_files(prefix) if rules.is_data_file(f.path)]


def read_whole(
    storage: Storage, files: Sequence[FileInfo], schema: pa.Schema
) -> tuple[Parsed, dict[str, str]]:
    """The files that parse with every row usable, and path -> why for those that do not.

    A file that vanished between listing and reading (another compaction) is in neither: it is
    not an error. Nothing here deletes or rewrites a file it could not use whole.
    """
    parsed: Parsed = {}
    unusable: dict[str, str] = {}
    for path, data in storage.read_many(f.path for f in files).items():
        if isinstance(data, FileNotFoundError):
            continue
        try:
            if isinstance(data, Exception):
                raise data
            table, replaces = parse_part(data, path, schema)
            table, problems = rules.clean(table, path)
            if problems:
                raise ValueError("; ".join(problems))
        except Exception as exc:  # noqa: BLE001 - any unusable file is named, never fatal
            unusable[path] = str(exc) if isinstance(exc, FormatVersionError) else f"unreadable: {exc}"
            continue
        parsed[path] = (table, replaces)
    return parsed, unusable


def concat_tables(tables: Sequence[pa.Table], schema: pa.Schema) -> pa.Table:
    """One table in one chunk (sorting and taking across thousands of chunks is slow)."""
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables).combine_chunks() if tables else schema.empty_table()


def write_merged_part(
    storage: Storage, project: str, run_id: str, tables: Sequence[pa.Table], replaces: Sequence[str]
) -> None:
    """Publish ``tables`` as one metric part of the run that names the parts it ``replaces``:
    a reader listing both before they are deleted never counts a row twice."""
    storage.write_bytes(
        layout.part_path(layout.METRICS, project, run_id, new_id()),
        table_to_bytes(pa.concat_tables(tables), {REPLACES_KEY: json.dumps(list(replaces)).encode()}),
    )


def merge_run_metrics(storage: Storage, project: str, run_id: str) -> int:
    """Merge a run's metric parts into one file; returns how many parts it replaced.

    Parts that a present merged file already replaces (left by a crash between write
    and delete) are only deleted. Anything unusable or vanishing leaves the run as it is.
    """
    files = data_files(storage, layout.run_dir(layout.METRICS, project, run_id))
    if len(files) < 2:
        return 0
    parts, unusable = read_whole(storage, files, METRICS_SCHEMA)
    if unusable or len(parts) != len(files):
        return 0
    skipped = rules.superseded({path: replaces for path, (_, replaces) in parts.items()})
    current = [path for path in sorted(parts) if path not in skipped]
    leftovers = sorted(skipped & set(parts))
    if len(current) > 1:
        write_merged_part(storage, project, run_id, [parts[path][0] for path in current], current + leftovers)
        storage.delete(current)
    storage.delete(leftovers)
    return (len(current) if len(current) > 1 else 0) + len(leftovers)


def write_index(storage: Storage, project: str, rows: pa.Table, replaces: Sequence[str] = ()) -> None:
    """Publish ``rows`` (newest records, one per run) as a new index file of ``project``,
    naming the index files it replaces; the caller deletes what it covers only after this."""
    rows = rows.sort_by("run_id")  # row-group statistics then narrow a lookup by run id
    storage.write_bytes(
        layout.index_path(project, new_id()),
        table_to_bytes(rows, {REPLACES_KEY: json.dumps(list(replaces)).encode()}, INDEX_ROW_GROUP_ROWS),
    )


def index_records(data: bytes, path: str, run_id: str | None = None) -> pa.Table:
    """The usable records of an index file (only ``run_id``'s: only the row groups whose
    statistics can hold it are decoded, ``BATCH_ROWS`` rows at a time)."""
    file = pq.ParquetFile(pa.BufferReader(data))
    if run_id is None:
        return rules.clean(conform(file.read(), RECORD_SCHEMA), path)[0]
    groups = _row_groups_holding(file.metadata, run_id)
    batches = file.iter_batches(BATCH_ROWS, row_groups=groups) if groups else []
    found = [pa.Table.from_batches([b]).filter(pc.equal(b["run_id"], run_id)) for b in batches]
    return rules.clean(conform(concat_tables(found, file.schema_arrow), RECORD_SCHEMA), path)[0]


def newest_record(storage: Storage, project: str, run_id: str) -> tuple[pa.Table, dict[str, str]]:
    """The run's newest record (zero rows: no such run), from its own folder and the project's
    index files, and path -> why for every file that could hold it and was unusable."""
    records = data_files(storage, layout.run_dir(layout.RECORDS, project, layout.check_run_id(run_id)))
    live, unusable = read_whole(storage, records, RECORD_SCHEMA)
    found = [table for table, _ in live.values()]
    index = data_files(storage, layout.project_dir(layout.INDEX, project))
    for path, data in storage.read_many(f.path for f in index).items():
        if isinstance(data, FileNotFoundError):
            continue  # merged into a newer index meanwhile: that one is listed next time
        try:
            if isinstance(data, Exception):
                raise data
            rules.check_format_version(pq.ParquetFile(pa.BufferReader(data)).schema_arrow.metadata, path)
            found.append(index_records(data, path, run_id))
        except Exception as exc:  # noqa: BLE001 - named for the caller, never fatal here
            unusable[path] = str(exc) if isinstance(exc, FormatVersionError) else f"unreadable: {exc}"
    return rules.newest_records(concat_tables(found, RECORD_SCHEMA)), unusable


def _row_groups_holding(metadata: pq.FileMetaData, run_id: str) -> list[int]:
    """Row groups whose run_id statistics do not rule ``run_id`` out (index files are sorted
    by run id, in row groups of ``INDEX_ROW_GROUP_ROWS``)."""
    leaf = next(i for i in range(metadata.num_columns) if metadata.schema.column(i).path == "run_id")
    groups = []
    for i in range(metadata.num_row_groups):
        stats = metadata.row_group(i).column(leaf).statistics
        if stats is None or not stats.has_min_max or stats.min <= run_id <= stats.max:
            groups.append(i)
    return groups
