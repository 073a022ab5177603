"""Parquet encode and decode of tracklib files: bytes in, tables out, no I/O."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from tracklib.format.rules import check_format_version, replaced_paths

SMALL_FILE_ROWS = 1_000
# A one-row snapshot is mostly footer: compression, dictionaries and statistics buy nothing
# there and cost two thirds of the write time, which a writer pays per flush.
_SMALL = {"compression": "none", "use_dictionary": False, "write_statistics": False}
_LARGE = {"compression": "zstd"}  # metric parts of a busy flush, index files, merged parts


def table_to_bytes(
    table: pa.Table, extra_metadata: Mapping[bytes, bytes] | None = None, row_group_rows: int | None = None
) -> bytes:
    """Parquet bytes of ``table``, readable by DuckDB, Polars, Spark and pandas."""
    if extra_metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra_metadata})
    sink = pa.BufferOutputStream()  # Arrow's own buffer: ~10% faster than a Python BytesIO
    options = _SMALL if table.num_rows < SMALL_FILE_ROWS else _LARGE
    pq.write_table(table, sink, row_group_size=row_group_rows, **options)
    return sink.getvalue().to_pybytes()


def parse_part(data: bytes, where: str, schema: pa.Schema) -> tuple[pa.Table, frozenset[str]]:
    """A tracklib file's rows in ``schema`` (another minor version conformed to it) and the
    files it replaces (its ``tracklib.replaces`` entry; empty for most files)."""
    table = bytes_to_table(data, where)
    return conform(table, schema), replaced_paths(table.schema.metadata or {})


def parse_batches(
    data: bytes, where: str, schema: pa.Schema, rows: int
) -> tuple[Iterator[pa.Table], frozenset[str]]:
    """``parse_part`` a batch of ``rows`` rows at a time, for files too big to decode whole
    at once (an index file of 100,000 runs: 55 MB of Arrow): memory holds one batch."""
    file = pq.ParquetFile(pa.BufferReader(data))
    metadata = file.schema_arrow.metadata or {}
    check_format_version(metadata, where)
    batches = (
        conform(pa.Table.from_batches([batch]), schema) for batch in file.iter_batches(batch_size=rows)
    )
    return batches, replaced_paths(metadata)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` (from another minor format version, or with extra metadata) in ``schema``;
    a column an earlier minor version did not have (1.3's ``datasets``) reads as nulls."""
    if table.schema.equals(schema):
        return table
    for field in schema:
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table.select(schema.names).cast(schema)


def bytes_to_table(data: bytes, where: str) -> pa.Table:
    """Parse a Parquet file written by tracklib, refusing a newer format version."""
    file = pq.ParquetFile(pa.BufferReader(data))  # half the cost of read_table on small files
    # Arrow's thread pool costs more than it saves on a small file (~0.25 ms of a one-row
    # record's ~1 ms), more still on a busy machine: 1,000 live runs are 1,000 such files
    table = file.read(use_threads=file.metadata.num_rows >= SMALL_FILE_ROWS)
    check_format_version(table.schema.metadata, where)
    return table
