"""The reader rules of FORMAT.md §11, and the validation of untrusted rows (pure).

Anyone who can write to a store can put any file there, so a reader takes every file and
every row as untrusted input: what it cannot use is left out and reported, one file or one
row at a time, never raised. One broken run never hides the others, and no file speaks for
a run or a project other than the one its path names.

Every reader of the store (the file cache behind ``Store`` and the dashboard, compaction)
goes through this module.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping, Set
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracklib.format import layout
from tracklib.format.errors import FormatVersionError, InvalidKeyError
from tracklib.format.schema import FORMAT_VERSION, FORMAT_VERSION_KEY, REPLACES_KEY

# RE2 (Arrow) and Python agree on these; ``$`` is the end of the text in RE2.
_RUN_ID_RE2 = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_RUN_ID = re.compile(_RUN_ID_RE2[1:-1])  # fullmatch, as Python's $ also allows a final \n
_FOLDER = re.compile(r"^(?P<kind>[a-z]+)/project=(?P<project>[^/]+)(?:/run_id=(?P<run_id>[^/]+))?/")


# -- rule 1: which listed names are data files -------------------------------------------
def is_data_file(path: str) -> bool:
    """Published Parquet files; temp files (``.x.parquet.tmp-…``) and foreign names are not."""
    base = posixpath.basename(path)
    return base.endswith(layout.PARQUET_SUFFIX) and not base.startswith((".", "_"))


class Location(NamedTuple):
    """What a file's path says it holds: its kind, project and (but for index files) run."""

    kind: str
    project: str
    run_id: str | None


def location(path: str) -> Location | None:
    """The kind, project and run a root-relative path names, or None for a path no writer
    makes (an unusable project or run id, a file outside the partition folders)."""
    match = _FOLDER.match(path)
    if match is None:
        return None
    try:
        layout.check_project(match["project"])
        if match["run_id"] is not None:
            layout.check_run_id(match["run_id"])
    except InvalidKeyError:
        return None
    if (match["kind"] == layout.INDEX) != (match["run_id"] is None):
        return None
    return Location(match["kind"], match["project"], match["run_id"])


def project_folders(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """The projects among folder names (``project=<p>``), and the folders that are not one
    (``project=digits (copy)``), with why."""
    projects, odd = [], {}
    for name in names:
        if not name.startswith("project="):
            odd[name] = "not a project=<name> folder"
            continue
        try:
            projects.append(layout.check_project(name.removeprefix("project=")))
        except InvalidKeyError as exc:
            odd[name] = f"not a project folder: {exc}"
    return projects, odd


# -- rule 3: format version ---------------------------------------------------------------
def check_format_version(metadata: Mapping[bytes, bytes] | None, where: str) -> None:
    """Refuse a file whose major format version is newer than ours."""
    found = (metadata or {}).get(FORMAT_VERSION_KEY)
    if found is None:
        raise FormatVersionError(f"{where}: not a tracklib file (no {FORMAT_VERSION_KEY.decode()})")
    major = found.decode(errors="replace").split(".")[0]
    if not major.isdigit() or int(major) > int(FORMAT_VERSION.split(".")[0]):
        raise FormatVersionError(
            f"{where}: written in format {found.decode(errors='replace')}, this tracklib reads "
            f"{FORMAT_VERSION}; upgrade tracklib to read it"
        )


def replaced_paths(metadata: Mapping[bytes, bytes]) -> frozenset[str]:
    """A file's ``tracklib.replaces`` entry: the root-relative paths of the files it replaces."""
    if REPLACES_KEY not in metadata:
        return frozenset()
    listed = json.loads(metadata[REPLACES_KEY])
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        raise ValueError(f"{REPLACES_KEY.decode()} is not a list of paths")
    return frozenset(listed)


# -- rules 5 and 5b: files replaced by a listed compacted file --------------------------
def superseded(replaces: Mapping[str, Set[str]]) -> set[str]:
    """The listed files a reader skips, given what each listed file replaces.

    A file another listed file replaces is skipped. So is a merged file that shares parts
    with a bigger (or equal, by path order) merged file: two compactions that merged the same
    parts at once each wrote one, and only one may count.
    """
    skipped = {path for paths in replaces.values() for path in paths}
    merged = sorted(
        (p for p, r in replaces.items() if r and p not in skipped), key=lambda p: (-len(replaces[p]), p)
    )
    counted: set[str] = set()
    for path in merged:
        if replaces[path] & counted:
            skipped.add(path)
        else:
            counted |= replaces[path]
    return skipped


# -- untrusted rows ---------------------------------------------------------------------
def clean_records(table: pa.Table, path: str) -> tuple[pa.Table, list[str]]:
    """The record rows of ``path`` a reader can use, and what was wrong with the others.

    A row is left out when it has no usable identity: a run id that is not one, a run or
    project other than its path's (a file in one run's folder cannot overrule another run),
    no ``seq`` or no ``record_time`` (rule 7 cannot order it). Everything else is repaired
    as the format's "always set" promises: a missing name reads as the run id, a missing
    status as ``unknown``, missing times as the record time, missing lists as empty; param,
    summary and artifact entries without a key are dropped, and of two entries with one key
    the later counts.
    """
    where = location(path)
    if table.num_rows == 0:
        return table, []
    if where is None:
        return table.slice(0, 0), [f"{path}: not in a project's records/ or index/ folder"]
    if table.num_rows <= _FEW_ROWS and _plainly_usable(table, where):
        return table, []  # what _checked_records returns for it, in a twentieth of the time
    return _checked_records(table, path, where)


def _checked_records(table: pa.Table, path: str, where: Location) -> tuple[pa.Table, list[str]]:
    """``clean_records`` of a table with rows, vectorised: every check, every repair."""
    run_ids = table["run_id"]
    ok = pc.fill_null(pc.match_substring_regex(run_ids, _RUN_ID_RE2), False)
    ok = pc.and_(ok, pc.fill_null(pc.equal(table["project"], where.project), False))
    if where.run_id is not None:
        ok = pc.and_(ok, pc.fill_null(pc.equal(run_ids, where.run_id), False))
    ok = pc.and_(ok, pc.and_(pc.is_valid(table["seq"]), _usable_time(table["record_time"])))
    problems = []
    if not pc.all(ok).as_py():
        bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
        problems = [_row_problem(path, table, int(row), where) for row in bad[:5]]
        if len(bad) > 5:
            problems.append(f"{path}: and {len(bad) - 5} more row(s) like these")
        table = table.filter(ok)
    return _repaired(table), problems


# A live run's snapshot is one row: there the ~40 vectorised calls of _checked_records cost
# ~1 ms, ~1 s to open a project of 1,000 live runs. Up to this many rows, plain Python first
# asks whether any check could fail or repair anything; only then do the vectorised checks run.
_FEW_ROWS = 64
_CHECKED_NOT_NULL = (
    *("run_id", "project", "seq", "record_time", "start_time", "heartbeat_time", "name", "status"),
    *("tags", "params", "summary", "artifacts"),
)


def _plainly_usable(table: pa.Table, where: Location) -> bool:
    """Whether ``_checked_records`` would keep every row of ``table`` and repair none (then
    it returns ``table`` itself and no problems). It mirrors each check there, on plain
    Python values; False when unsure (an odd type, text that is not UTF-8)."""
    try:
        return all(_plain_batch_usable(batch, where) for batch in table.to_batches())
    except Exception:  # noqa: BLE001 - unsure: the vectorised checks decide (and report)
        return False


def _plain_batch_usable(batch: pa.RecordBatch, where: Location) -> bool:
    columns = {name: batch.column(name) for name in (*_CHECKED_NOT_NULL, "end_time")}
    if any(columns[name].null_count for name in _CHECKED_NOT_NULL):
        return False  # a row left out, or a null filled in
    for value in columns["run_id"].to_pylist():
        if not _RUN_ID.fullmatch(value) or (where.run_id is not None and value != where.run_id):
            return False
    if any(value != where.project for value in columns["project"].to_pylist()):
        return False
    for column in _TIMES:  # the int64 values pc.cast reads, outside years 1-9999
        times = columns[column]
        if not pa.types.is_timestamp(times.type):
            return False
        if any(
            m is not None and not _TIME_RANGE[0] <= m <= _TIME_RANGE[1]
            for m in times.view(pa.int64()).to_pylist()
        ):
            return False
    for column, key, repeats in _ENTRIES:
        lists = columns[column]
        offsets = lists.offsets.to_pylist()  # no null lists here: each row is values[a:b]
        keys = _values(lists, offsets).field(key).to_pylist()  # as _entries_need_care reads them
        if not all(keys):
            return False  # an entry without a key (null or "")
        rows = (keys[a - offsets[0] : b - offsets[0]] for a, b in zip(offsets, offsets[1:]))
        if repeats and any(len(set(row)) != len(row) for row in rows):
            return False
    tags = columns["tags"]
    return not _values(tags, tags.offsets.to_pylist()).null_count


def _values(lists: pa.ListArray, offsets: list[int]) -> pa.Array:
    """The entries of ``lists`` (none of them null) as ``pc.list_flatten`` gives them."""
    return lists.values.slice(offsets[0], offsets[-1] - offsets[0])


def _usable_time(times: pa.ChunkedArray) -> pa.ChunkedArray:
    micros = pc.cast(times, pa.int64())
    inside = pc.and_(pc.greater_equal(micros, _TIME_RANGE[0]), pc.less_equal(micros, _TIME_RANGE[1]))
    return pc.fill_null(inside, False)


def _row_problem(path: str, table: pa.Table, row: int, where: Location) -> str:
    # record_time is never read here: one outside years 1-9999 has no Python datetime, and the
    # error would turn one bad row into a whole file skipped (every run of an index file).
    values = {c: table[c][row].as_py() for c in ("run_id", "project")}
    if values["run_id"] is None or not re.fullmatch(_RUN_ID_RE2[1:-1], values["run_id"]):
        why = f"run_id {values['run_id']!r} is not a run id"
    elif values["project"] != where.project:
        why = f"project {values['project']!r} is not the folder's {where.project!r}"
    elif where.run_id is not None and values["run_id"] != where.run_id:
        why = f"run_id {values['run_id']!r} is not the folder's {where.run_id!r}"
    else:
        why = "no seq or usable record_time to order it by"
    return f"{path}: row {row} skipped: {why}"


# Times a reader can turn into Python datetimes (years 1-9999), in microseconds since 1970.
_TIME_RANGE = (-62_135_596_800_000_000, 253_402_300_799_999_999)
_TIMES = ("start_time", "end_time", "heartbeat_time", "record_time")


def _repaired(table: pa.Table) -> pa.Table:
    """``table`` with the nulls the format says never happen filled in (no copy when none);
    a time outside years 1-9999 counts as missing."""
    for column in _TIMES:
        micros = pc.cast(table[column], pa.int64())
        inside = pc.and_(pc.greater_equal(micros, _TIME_RANGE[0]), pc.less_equal(micros, _TIME_RANGE[1]))
        if not pc.all(pc.fill_null(inside, True)).as_py():
            table = _set(
                table, column, pc.if_else(inside, table[column], pa.scalar(None, table[column].type))
            )
    fills = {
        "name": table["run_id"],
        "status": pa.scalar("unknown"),
        "start_time": table["record_time"],
        "heartbeat_time": table["record_time"],
    }
    for column, fill in fills.items():
        if table[column].null_count:
            table = _set(table, column, pc.coalesce(table[column], fill))
    for column in ("tags", "params", "summary", "artifacts"):
        if table[column].null_count:
            empty = pa.scalar([], table.schema.field(column).type)
            table = _set(table, column, pc.if_else(pc.is_null(table[column]), empty, table[column]))
    # repeated param keys already resolve to the later one everywhere params are decoded, so
    # only the summary (one column per key) and artifacts are checked for repeats: the check
    # of a 100,000-run index's 800,000 params would double its cost
    for column, key, repeats in _ENTRIES:
        if _entries_need_care(table[column], key, repeats):
            table = _set(table, column, _unique_entries(table[column], key))
    if table["tags"].null_count or pc.list_flatten(table["tags"]).null_count:
        tags = [[t for t in tags if t] for tags in table["tags"].to_pylist()]
        table = _set(table, "tags", pa.array(tags, table.schema.field("tags").type))
    return table


_ENTRIES = (("params", "key", False), ("summary", "key", True), ("artifacts", "name", True))


def _set(table: pa.Table, column: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


def _entries_need_care(lists: pa.ChunkedArray, key: str, repeats: bool) -> bool:
    """Some entry has no key or (``repeats``) two entries of one row share a key (vectorised)."""
    lists = lists.combine_chunks()
    keys = pc.list_flatten(lists).field(key)
    if not len(keys):
        return False
    if keys.null_count or pc.min(pc.utf8_length(keys)).as_py() == 0:
        return True
    if not repeats:
        return False
    codes = pc.dictionary_encode(keys).indices.to_numpy().astype(np.int64)
    pairs = pc.list_parent_indices(lists).to_numpy().astype(np.int64) * (int(codes.max()) + 1) + codes
    pairs.sort()  # a sort finds repeats ~50x faster than np.unique's hashing here
    return bool((pairs[1:] == pairs[:-1]).any())


def _unique_entries(lists: pa.ChunkedArray, key: str) -> pa.Array:
    """Entries without a key dropped; of entries sharing a key, the last one kept."""
    rows = []
    for entries in lists.to_pylist():
        kept = {e[key]: e for e in entries or () if e[key]}
        rows.append(list(kept.values()))
    return pa.array(rows, lists.type)


def clean_run_rows(table: pa.Table, path: str) -> tuple[pa.Table, list[str]]:
    """Metric or environment rows of ``path``: only rows of the run its folder names, and
    (metric parts) with a key and a step, are used."""
    where = location(path)
    if table.num_rows == 0:
        return table, []
    if where is None or where.run_id is None:
        return table.slice(0, 0), [f"{path}: not in a run's folder"]
    ok = pc.fill_null(pc.equal(table["run_id"], where.run_id), False)
    for column in ("key", "step"):
        if column in table.column_names:
            ok = pc.and_(ok, pc.is_valid(table[column]))
    if pc.all(ok).as_py():
        return table, []
    skipped = table.num_rows - pc.sum(ok).as_py()
    return table.filter(ok), [
        f"{path}: {skipped} row(s) skipped: not of run {where.run_id!r}, or without a key or step"
    ]


def clean(table: pa.Table, path: str) -> tuple[pa.Table, list[str]]:
    """The usable rows of a parsed file of any kind, and what was wrong with the rest."""
    if "seq" in table.column_names:
        return clean_records(table, path)
    return clean_run_rows(table, path)


def newest_records(records: pa.Table) -> pa.Table:
    """One row per run: its newest snapshot by (seq, record_time); seq never goes back."""
    if records.num_rows == 0 or pc.count_distinct(records["run_id"]).as_py() == records.num_rows:
        return records  # one snapshot per run already (an index file, a fresh sweep)
    order = pc.sort_indices(
        records, [("run_id", "ascending"), ("seq", "descending"), ("record_time", "descending")]
    )
    ordered = records.take(order)
    run_ids = ordered["run_id"].to_numpy(zero_copy_only=False)
    first = np.r_[True, run_ids[1:] != run_ids[:-1]]
    return ordered.filter(pa.array(first))
