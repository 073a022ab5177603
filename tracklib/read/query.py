"""Pure transforms from record tables to the frames users see: runs, summaries, leaderboards."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracklib.format.record import SYSTEM_PREFIX
from tracklib.format.rules import newest_records
from tracklib.format.schema import RECORD_SCHEMA, Status
from tracklib.format.values import decode_param

RUN_COLUMNS = [
    "run_id",
    "name",
    "project",
    "group",
    "tags",
    "notes",
    "status",
    "start_time",
    "end_time",
    "duration_s",
    "host",
    "git_commit",
]
AGGREGATES = ("last", "min", "max")


def _list_column(records: pa.Table, column: str) -> pd.DataFrame:
    """A list<struct> column exploded to long rows, with ``row`` pointing at the record."""
    lists = records[column].combine_chunks()
    flat = pc.list_flatten(lists)
    # an empty list still has its struct's fields as columns (a run with no metric yet)
    long = pa.Table.from_struct_array(flat) if len(flat) else pa.schema(list(flat.type)).empty_table()
    rows = pc.list_parent_indices(lists).to_numpy()
    # ints straight to Int64: through float64 (pandas' way with nulls) a step near 2**63 overflows
    frame = long.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    frame.insert(0, "row", rows)
    return frame


def summary_long(records: pa.Table) -> pd.DataFrame:
    """``run_id, key, last, last_step, min, min_step, max, max_step, count`` per run and metric."""
    frame = _list_column(records, "summary")
    run_ids = records["run_id"].take(pa.array(frame["row"].to_numpy(), pa.int64())).to_pandas()
    frame.insert(0, "run_id", run_ids)  # Arrow-backed: a tenth of the memory of Python strings
    for column in ("last_step", "min_step", "max_step", "count"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame.drop(columns="row")


def params_wide(records: pa.Table) -> pd.DataFrame:
    """``params.<key>`` columns in the type they were logged with (one row per record).

    Decoded per key with Arrow casts: a 100,000-run index decodes in tens of milliseconds.
    """
    lists = records["params"].combine_chunks()
    flat = pc.list_flatten(lists)
    size = records.num_rows
    if not len(flat):
        return pd.DataFrame(index=range(size))
    rows = pc.list_parent_indices(lists).to_numpy()
    keys = pc.dictionary_encode(flat.field("key"))
    codes = keys.indices.to_numpy()
    names = keys.dictionary.to_pylist()
    columns = {}
    for code in sorted(range(len(names)), key=names.__getitem__):
        picked = np.flatnonzero(codes == code)
        position = np.full(size, -1)
        position[rows[picked]] = np.arange(len(picked))
        spread = pa.array(position, mask=position < 0)  # null where a record lacks the key
        types = flat.field("type").take(picked).take(spread)
        values = flat.field("value").take(picked).take(spread)
        columns[f"params.{names[code]}"] = _decoded(types, values)
    return pd.DataFrame(columns, index=range(size))


DATASET_COLUMNS = ["name", "source", "kind", "fingerprint", "files", "bytes"]


def datasets_wide(records: pa.Table) -> pd.DataFrame:
    """``datasets.<name>`` columns: the fingerprint of each dataset a run logged (one row per
    record; null where it logged none by that name, or its remote store was unreachable)."""
    lists = records["datasets"].combine_chunks()
    flat = pc.list_flatten(lists)
    if not len(flat):
        return pd.DataFrame(index=range(records.num_rows))
    entries = pd.DataFrame(
        {
            "row": pc.list_parent_indices(lists).to_numpy(),
            "name": flat.field("name").to_pylist(),
            "fingerprint": flat.field("fingerprint").to_pylist(),
        }
    )
    entries = entries.dropna(subset=["name"]).drop_duplicates(["row", "name"], keep="last")
    wide = entries.pivot(index="row", columns="name", values="fingerprint").reindex(range(records.num_rows))
    wide.columns = [f"datasets.{name}" for name in wide.columns]
    return wide.astype("string").reset_index(drop=True)


def datasets_frame(items: Iterable[Mapping[str, Any]] | None) -> pd.DataFrame:
    """One record's ``datasets`` list as rows (entries without a name left out; of two with
    one name, the later)."""
    named = {item["name"]: item for item in items or () if item and item.get("name")}
    frame = pd.DataFrame(list(named.values()), columns=DATASET_COLUMNS)
    return frame.astype({"files": "Int64", "bytes": "Int64"})


def _decoded(types: pa.Array, values: pa.Array) -> pd.Series:
    """One param's values in their logged type: Int64, float64, boolean, string or object.

    Arrow casts decode a whole column at once; a column they refuse (an int beyond int64,
    which FORMAT.md §6 allows, or a value a foreign writer left unparseable) is decoded value
    by value instead, so one such run changes its column's dtype, never hides the others.
    """
    kinds = set(pc.unique(types).drop_null().to_pylist()) - {"null"}
    values = pc.if_else(pc.equal(types, "null"), pa.scalar(None, pa.string()), values)
    try:
        if kinds == {"int"}:
            return pd.Series(
                pc.cast(values, pa.int64()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
            )
        if kinds and kinds <= {"int", "float"}:
            return pd.Series(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if kinds == {"bool"}:
        flags = pc.equal(values, "true")
        return pd.Series(flags.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get))
    if kinds == {"str"}:
        return pd.Series(values.to_pylist(), dtype=object).astype("string")
    decoded = [
        None if t is None else decode_param(t, v) for t, v in zip(types.to_pylist(), values.to_pylist())
    ]
    return pd.Series(decoded, dtype=object)


def decode_params(items: Iterable[Mapping[str, Any]] | None) -> dict[str, Any]:
    """One record's ``params`` list as a dict of decoded values (None and NaN included)."""
    return {item["key"]: decode_param(item["type"], item["value"]) for item in items or ()}


def metrics_wide(records: pa.Table, summary: pd.DataFrame) -> pd.DataFrame:
    """``metrics.<k>`` (last), ``metrics_min.<k>``, ``metrics_max.<k>`` per run, in record order."""
    index = pd.Index(records["run_id"].to_pylist(), name="run_id")
    if summary.empty:
        return pd.DataFrame(index=index)
    wide = summary.pivot(index="run_id", columns="key", values=["last", "min", "max"])
    wide.columns = [metric_column(key, stat) for stat, key in wide.columns]
    ordered = [metric_column(key, agg) for key in sorted(summary["key"].unique()) for agg in AGGREGATES]
    return wide[ordered].reindex(index).astype("float64")


def runs_frame(records: pa.Table, now: datetime | None = None, stale_after_s: float = 600.0) -> pd.DataFrame:
    """The runs table: one row per run (newest record), newest run first."""
    return runs_and_summary(records, now, stale_after_s)[0]


def runs_and_summary(
    records: pa.Table, now: datetime | None = None, stale_after_s: float = 600.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs table and the long summary (see ``summary_long``) from all record snapshots."""
    records = newest_records(records)
    summary = summary_long(records)
    if records.num_rows == 0:
        return pd.DataFrame(columns=RUN_COLUMNS), summary
    read = [c for c in RUN_COLUMNS if c != "duration_s"] + ["heartbeat_time"]  # duration is derived
    base = records.select(read).to_pandas()
    now = now or datetime.now(tz=UTC)
    silent = (pd.Timestamp(now) - base["heartbeat_time"]).dt.total_seconds() > stale_after_s
    base.loc[(base["status"] == Status.RUNNING) & silent, "status"] = str(Status.STALE)
    end = base["end_time"].fillna(base["heartbeat_time"])
    base["duration_s"] = (end - base["start_time"]).dt.total_seconds()
    base["tags"] = [tags or [] for tags in records["tags"].to_pylist()]
    frame = pd.concat(
        [
            base[RUN_COLUMNS].reset_index(drop=True),
            params_wide(records),
            datasets_wide(records),
            metrics_wide(records, summary).reset_index(drop=True),
        ],
        axis=1,
    )
    return frame.sort_values("start_time", ascending=False, kind="stable").reset_index(drop=True), summary


@dataclass(frozen=True)
class RunsPart:
    """Runs-table rows and summary of some snapshots (an index file, the live records), and
    which snapshot each run's row is: enough to merge parts without the Arrow records."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    versions: pd.DataFrame  # run_id, seq, record_time of the snapshot behind each run's row


def runs_part(records: pa.Table, now: datetime | None = None, stale_after_s: float = 600.0) -> RunsPart:
    """``runs_and_summary`` of ``records``, kept with the version of each run's row."""
    newest = newest_records(records)
    runs, summary = runs_and_summary(newest, now, stale_after_s)
    return RunsPart(runs, summary, newest.select(["run_id", "seq", "record_time"]).to_pandas())


def merge_parts(parts: Sequence[RunsPart]) -> RunsPart:
    """One part from several: a run in more than one keeps the row of its newest snapshot
    (by seq, then record_time; on a tie the earlier part wins - pass the live records first)."""
    parts = [part for part in parts if len(part.runs)] or list(parts[:1])
    if len(parts) <= 1:
        return parts[0] if parts else runs_part(RECORD_SCHEMA.empty_table())
    versions = pd.concat([p.versions.assign(part=i) for i, p in enumerate(parts)], ignore_index=True)
    if not versions["run_id"].is_unique:
        newest = versions.sort_values(["seq", "record_time"], ascending=False, kind="stable")
        newest = newest.drop_duplicates("run_id")
        parts = [_only(part, newest.loc[newest["part"] == i, "run_id"]) for i, part in enumerate(parts)]
        versions = newest
    runs = pd.concat(_same_param_types([part.runs for part in parts]), ignore_index=True)
    runs = runs[_column_order(runs.columns)]
    runs = runs.sort_values("start_time", ascending=False, kind="stable").reset_index(drop=True)
    summary = pd.concat([part.summary for part in parts], ignore_index=True)
    return RunsPart(runs, summary, versions.drop(columns="part"))


def _only(part: RunsPart, run_ids: pd.Series) -> RunsPart:
    """The rows of ``part`` whose run is in ``run_ids``."""
    return RunsPart(
        part.runs[part.runs["run_id"].isin(run_ids)],
        part.summary[part.summary["run_id"].isin(run_ids)],
        part.versions[part.versions["run_id"].isin(run_ids)],
    )


def _same_param_types(frames: Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """Give each param the type ``params_wide`` would give it over all frames at once: one
    logged type keeps it (a frame where the param is all missing takes it), int and float
    make float, other mixes make object."""
    numeric = {pd.Int64Dtype(), np.dtype("float64")}
    types: dict[str, set] = {}
    for frame in frames:
        for column in frame.columns:
            if column.startswith("params.") and frame[column].notna().any():
                types.setdefault(column, set()).add(frame[column].dtype)
    wanted = {
        column: next(iter(kinds)) if len(kinds) == 1 else "float64" if kinds <= numeric else object
        for column, kinds in types.items()
    }
    changes = [
        {c: t for c, t in wanted.items() if c in frame.columns and frame[c].dtype != t} for frame in frames
    ]
    return [frame.astype(change) if change else frame for frame, change in zip(frames, changes)]


def _column_order(columns: pd.Index) -> list[str]:
    """The runs table's column order: identity, params and datasets by name, metrics by name
    (last, min, max)."""
    params = sorted(c for c in columns if c.startswith(("params.", "datasets.")))
    keys = sorted({key for c in columns if (key := metric_key(c)) is not None})
    metrics = [m for key in keys for agg in AGGREGATES if (m := metric_column(key, agg)) in columns]
    return RUN_COLUMNS + params + metrics


def metric_column(metric: str, agg: str = "last") -> str:
    """The runs-table column holding ``agg`` of ``metric``: ``metrics.<k>`` (last),
    ``metrics_min.<k>``, ``metrics_max.<k>``. The aggregate is in the prefix, never a suffix,
    so no user key (``acc.min`` beside ``acc``) can ever name a derived column (FORMAT.md §6)."""
    if agg not in AGGREGATES:
        raise ValueError(f"agg must be one of {AGGREGATES}, got {agg!r}")
    return f"metrics.{metric}" if agg == "last" else f"metrics_{agg}.{metric}"


def metric_key(column: str) -> str | None:
    """The metric key of a ``metrics.<k>`` (last) column; None for any other column."""
    return column[len("metrics.") :] if column.startswith("metrics.") else None


def leaderboard(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    metric: str,
    agg: str = "last",
    ascending: bool = False,
    top: int | None = None,
) -> pd.DataFrame:
    """Runs ranked by ``agg`` of ``metric``, with the step it was reached; runs without it last."""
    column = metric_column(metric, agg)
    if column not in runs.columns:
        raise KeyError(f"no run logged metric {metric!r}")
    steps = summary.loc[summary["key"] == metric, ["run_id", f"{agg}_step"]]
    board = runs.merge(steps.rename(columns={f"{agg}_step": "step"}), on="run_id", how="left")
    # ties: the run that got there at an earlier step ranks first
    board = board.sort_values(
        [column, "step"], ascending=[ascending, True], na_position="last", kind="stable"
    )
    has_value = board[column].notna().to_numpy()
    board.insert(0, "rank", pd.array(np.where(has_value, np.cumsum(has_value), 0), dtype="Int64"))
    board.loc[~has_value, "rank"] = pd.NA
    board["step"] = board["step"].astype("Int64")
    front = ["rank", "run_id", "name", "status", "group", "tags", column, "step"]
    rest = [c for c in board.columns if c not in front and c.startswith("params.")]
    board = board[front + rest].reset_index(drop=True)
    return board.head(top) if top is not None else board


def best_per_group(board: pd.DataFrame, by: str) -> pd.DataFrame:
    """The best-ranked row of each value of ``by`` (runs without a value form their own group)."""
    ranked = board[board["rank"].notna()]
    best = ranked.drop_duplicates(subset=[by], keep="first")
    return best.assign(rank=pd.array(range(1, len(best) + 1), dtype="Int64")).reset_index(drop=True)


def metric_names(runs: pd.DataFrame) -> list[str]:
    """Metric keys that have a column in the runs table; system metrics (``system/*``) last,
    so every metric picker offers the user's own first and a headline is never a system one."""
    names = [key for c in runs.columns if (key := metric_key(c)) is not None]
    return sorted(names, key=lambda name: name.startswith(SYSTEM_PREFIX))  # stable otherwise


def headline_metric(runs: pd.DataFrame, summary: pd.DataFrame | None = None) -> str | None:
    """The metric a project is judged by: a logged validation accuracy-like one if there is one.

    Logged metrics (with a history in ``summary``) come before values only set in the summary.
    """
    names = metric_names(runs)
    if summary is not None and not summary.empty:
        logged = set(summary.loc[summary["count"] > 0, "key"].unique())
        names = sorted(names, key=lambda name: name not in logged)  # stable: logged first
    for prefer in (("val", "acc"), ("val", "score"), ("test", "acc"), ("acc",), ("val", "loss"), ("loss",)):
        for name in names:
            if all(word in name.lower() for word in prefer):
                return name
    return names[0] if names else None


def varying_params(runs: pd.DataFrame, missing_is_a_value: bool = True) -> list[str]:
    """``params.*`` columns (sorted) whose value differs between runs: the ones worth showing.

    With ``missing_is_a_value`` a param only some runs have counts as varying (worth a
    column in a table); without, only values count (what a sweep analysis can use).
    """
    return sorted(
        c
        for c in runs.columns
        if c.startswith("params.") and runs[c].astype(object).nunique(dropna=not missing_is_a_value) > 1
    )
