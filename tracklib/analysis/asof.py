"""Views pinned to a moment ("as of"): the runs and numbers a link showed at its pin (pure).

Files are immutable and every metric point carries the wall time of its log call, so cutting
the metric history at the pin recomputes exactly what the record's summary said then: the
runs that had started, each metric's last/min/max/count over the points logged by then, and
each run's status from its start, end and heartbeat times. What the files cannot place in
time (a value set by hand, a point with no time) is named in ``Pinned.unpinnable``, never
shown as if it were pinned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracklib.read import query
from tracklib.read.store import RunDetails

ASOF_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # one UTC second, ISO 8601: 2026-12-02T01:23:45Z
ASOF_EXAMPLE = "2026-12-02T01:23:45Z"
_ASOF = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)  # not "２０２６"
SUMMARY_COLUMNS = ["run_id", "key", "last", "last_step", "min", "min_step", "max", "max_step", "count"]
_ENDED = ("finished", "failed", "killed")
_ALIVE = ("running", "stale")
UNPINNABLE_COLUMNS = ["run_id", "name", "key", "why"]
HAND_SET_AFTER = "set by hand in a record written after the pin (not in the metric history)"
LAST_SET_AFTER = "last value set by hand in a record written after the pin; the logged value is shown"
NO_TIME = "metric points without a time"
NO_POINTS = "none of its points are in the store and its record was written after the pin"
SOME_POINTS = "the store holds fewer of its points than its record counts; shown from those it holds"
_SERIES = ["run_id", "key"]


def format_asof(moment: datetime) -> str:
    """The link's ``asof`` value for ``moment`` (cut to the second, in UTC)."""
    return moment.astimezone(UTC).strftime(ASOF_FORMAT)


def parse_asof(text: str, now: datetime) -> datetime | None:
    """The pin time a link asks for, or None when it is not exactly ``YYYY-MM-DDTHH:MM:SSZ``
    (a real UTC time) or lies after ``now``: a link cannot pin what has not happened."""
    if not isinstance(text, str) or not _ASOF.fullmatch(text):
        return None
    try:
        moment = datetime.strptime(text, ASOF_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # month 13, February 30, second 60
        return None
    return moment if moment <= now else None


@dataclass(frozen=True)
class Pinned:
    """A project's runs table and long summary as of ``asof``, and the values it could not pin."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    asof: datetime
    unpinnable: pd.DataFrame  # UNPINNABLE_COLUMNS: one row per run and metric (key "" for a run)


def summary_until(history: pd.DataFrame, asof: datetime | None = None) -> pd.DataFrame:
    """The record summary (FORMAT.md §6) of the points logged at or before ``asof`` (all
    points when None): ``last`` at the highest step (the later-logged of a repeated step),
    ``min``/``max`` ignoring NaN at the first step reached, ``count`` with NaN rows.

    ``history`` holds long rows ``run_id, key, step, value, time`` in logging order within a
    series (what ``Store.history`` returns); points without a time are never before a pin.
    """
    points = history[["run_id", "key", "step", "value", "time"]]
    if asof is not None and len(points):
        points = points[points["time"].notna() & (points["time"] <= pd.Timestamp(asof))]
    if points.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in SUMMARY_COLUMNS})
    run_codes, run_ids = pd.factorize(points["run_id"], sort=True)
    key_codes, keys = pd.factorize(points["key"], sort=True)
    codes = run_codes.astype(np.int64) * len(keys) + key_codes  # one number per series, sorted
    steps = points["step"].to_numpy(dtype=np.int64)
    values = points["value"].to_numpy(dtype=np.float64)
    same = codes[1:] == codes[:-1]
    if not np.all((codes[1:] > codes[:-1]) | (same & (steps[1:] >= steps[:-1]))):  # Store.history's order
        ordered = np.lexsort((np.arange(len(codes)), steps, codes))  # stable: ties keep logging order
        codes, steps, values = codes[ordered], steps[ordered], values[ordered]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    group = np.repeat(np.arange(len(starts)), sizes)
    last = starts + sizes - 1  # the highest step, the later-logged of a repeated one
    low = np.fmin.reduceat(values, starts)  # NaN only where a series is all NaN
    high = np.fmax.reduceat(values, starts)
    series = codes[starts]
    frame = pd.DataFrame(
        {
            "run_id": np.asarray(run_ids, dtype=object)[series // len(keys)],
            "key": np.asarray(keys, dtype=object)[series % len(keys)],
            "last": values[last],
            "last_step": pd.array(steps[last], dtype="Int64"),
            "min": low,
            "min_step": _first_step(values == low[group], group, steps, len(starts)),
            "max": high,
            "max_step": _first_step(values == high[group], group, steps, len(starts)),
            "count": pd.array(sizes, dtype="Int64"),
        }
    )
    return frame[SUMMARY_COLUMNS]


def _first_step(hit: np.ndarray, group: np.ndarray, steps: np.ndarray, groups: int) -> pd.arrays.IntegerArray:
    """Per group the lowest step of a row that ``hit`` (rows in step order); none where no row
    did (a series of NaN only: FORMAT.md §6 gives its min and max no step)."""
    rows = np.flatnonzero(hit)
    first = rows[np.r_[True, group[rows][1:] != group[rows][:-1]]] if len(rows) else rows
    found = np.zeros(groups, dtype=np.int64)
    found[group[first]] = steps[first]
    missing = np.ones(groups, dtype=bool)
    missing[group[first]] = False
    return pd.arrays.IntegerArray(found, missing)


def _dtype(column: str) -> str:
    return (
        "Int64"
        if column.endswith("_step") or column == "count"
        else "float64"
        if column
        not in (
            "run_id",
            "key",
        )
        else "object"
    )


def pin(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    history: pd.DataFrame,
    record_times: pd.Series,
    asof: datetime,
    stale_after_s: float,
) -> Pinned:
    """``runs`` and ``summary`` (the live runs table and long summary) as they were at ``asof``.

    ``history`` is every metric point of the project's runs (all times); ``record_times``
    maps each run id to the ``record_time`` of its newest record. Runs that started after
    ``asof`` are gone; every ``metrics*`` column and summary row comes from the points at or
    before it; a run that ended later reads as running (stale if its last heartbeat was
    already old at the pin). A value set by hand (``count`` 0) stays only when its record was
    written by the pin; otherwise it is left out and named in ``unpinnable``.
    """
    moment = pd.Timestamp(asof)
    kept = runs[runs["start_time"].notna() & (runs["start_time"] <= moment)]
    ids = kept["run_id"]
    run_index = _text(record_times.index.to_series())
    mine = history[_among(history["run_id"], ids)]
    full = summary_until(mine)
    recorded = summary[_among(summary["run_id"], ids)]
    in_full = _positions(_series_keys(recorded), _series_keys(full))
    said = recorded["count"].fillna(0).to_numpy(dtype=np.int64)
    held = np.where(in_full >= 0, full["count"].to_numpy(dtype=np.int64)[in_full], 0)
    # what the points cannot give: a value set by hand, points the store does not hold
    from_record = ((said == 0) & (held == 0)) | (said > held)
    written = _times_of(record_times, _positions(_text(recorded["run_id"]), run_index))
    by_pin = np.asarray(written <= moment)  # no time: not by the pin
    # a logged key whose record last differs though it counts every point: set by hand (§6)
    logged_last = np.where(in_full >= 0, full["last"].to_numpy()[in_full], np.nan)
    last = recorded["last"].to_numpy(dtype=np.float64)
    hand_last = (
        (said == held) & (held > 0) & ~((last == logged_last) | (np.isnan(last) & np.isnan(logged_last)))
    )
    take = recorded[from_record & by_pin]  # its record is what every view showed at the pin
    logged = summary_until(mine, moment)
    logged = logged[~np.asarray(pc.is_in(_series_keys(logged), value_set=_series_keys(take)))]
    kept_last = recorded[hand_last & by_pin]
    if len(kept_last):  # set by hand before the pin: what the views showed then
        at = _positions(_series_keys(kept_last), _series_keys(logged))
        lasts = logged["last"].to_numpy(copy=True)
        lasts[at[at >= 0]] = kept_last["last"].to_numpy()[at >= 0]
        logged = logged.assign(last=lasts)
    gone = from_record & ~by_pin & (held == 0)
    notes = [
        _notes(recorded[gone & (said == 0)], HAND_SET_AFTER),
        _notes(recorded[gone & (said > 0)], NO_POINTS),
        _notes(recorded[from_record & ~by_pin & (held > 0)], SOME_POINTS),
        _notes(recorded[hand_last & ~by_pin], LAST_SET_AFTER),
    ]
    untimed = mine.loc[mine["time"].isna(), ["run_id"]].drop_duplicates()
    notes.append(untimed.assign(key="", why=NO_TIME))
    unpinnable = pd.concat(notes, ignore_index=True)
    named = kept[_among(kept["run_id"], unpinnable["run_id"])] if len(unpinnable) else kept.iloc[:0]
    unpinnable.insert(
        1, "name", unpinnable["run_id"].map(dict(zip(named["run_id"], named["name"], strict=True)))
    )
    pinned_summary = pd.concat([logged, take[SUMMARY_COLUMNS]], ignore_index=True)
    heartbeats = _times_of(record_times, _positions(_text(ids), run_index))
    table = _status_at(kept, pd.Series(heartbeats, index=kept.index), moment, stale_after_s)
    table = with_metrics(table, pinned_summary)
    return Pinned(table.reset_index(drop=True), pinned_summary, asof, unpinnable[UNPINNABLE_COLUMNS])


def _text(column: pd.Series) -> pa.Array:
    return pa.array(column, from_pandas=True).cast(pa.large_string())


def _series_keys(frame: pd.DataFrame) -> pa.Array:
    """One text per (run, key) to look series up by: run ids never hold the separator."""
    return pc.binary_join_element_wise(
        _text(frame["run_id"]), _text(frame["key"]), pa.scalar("\x1f", pa.large_string())
    )


def _positions(values: pa.Array, among: pa.Array) -> np.ndarray:
    """Where each of ``values`` is in ``among`` (-1: not there), by an Arrow hash lookup."""
    return pc.fill_null(pc.index_in(values, value_set=among), -1).to_numpy(zero_copy_only=False)


def _times_of(record_times: pd.Series, positions: np.ndarray) -> pd.arrays.DatetimeArray:
    """The record times at ``positions`` (NaT at -1)."""
    return record_times.array.take(positions, allow_fill=True)


def _among(column: pd.Series, ids: pd.Series) -> np.ndarray:
    """``column.isin(ids)`` through Arrow: pandas walks a long ``ids`` in Python for Arrow
    strings (3 s for 101,000 run ids)."""
    if len(column) == 0:
        return np.zeros(0, dtype=bool)
    return pc.fill_null(pc.is_in(_text(column), value_set=_text(ids)), False).to_numpy(zero_copy_only=False)


def _notes(rows: pd.DataFrame, why: str) -> pd.DataFrame:
    return rows[["run_id", "key"]].assign(why=why)


def _status_at(
    runs: pd.DataFrame, heartbeat: pd.Series, moment: pd.Timestamp, stale_after_s: float
) -> pd.DataFrame:
    """Status, end time and duration as they read at ``moment`` (``heartbeat``: each run's
    newest record time, aligned with ``runs``)."""
    ended = runs["end_time"]
    later = ended.notna() & (ended > moment)
    alive = runs["status"].isin(_ALIVE) | (runs["status"].isin(_ENDED) & later)
    last_seen = heartbeat.where(heartbeat <= moment, moment)
    silent = (moment - last_seen).dt.total_seconds() > stale_after_s
    status = runs["status"].mask(alive, np.where(silent, "stale", "running"))
    end = ended.mask(later)
    until = end.fillna(last_seen)
    return runs.assign(
        status=status, end_time=end, duration_s=(until - runs["start_time"]).dt.total_seconds()
    )


def with_metrics(runs: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with its metric columns rebuilt from ``summary`` (only metrics that existed)."""
    plain = [
        c
        for c in runs.columns
        if query.metric_key(c) is None and not c.startswith(("metrics_min.", "metrics_max."))
    ]
    base = runs[plain]
    if summary.empty:
        return base
    wide = summary.pivot(index="run_id", columns="key", values=["last", "min", "max"])
    wide.columns = [query.metric_column(key, stat) for stat, key in wide.columns]
    ordered = [
        query.metric_column(k, agg) for k in sorted(summary["key"].unique()) for agg in query.AGGREGATES
    ]
    metrics = wide[ordered].reindex(base["run_id"].to_numpy()).astype("float64")
    metrics.index = base.index
    return pd.concat([base, metrics], axis=1)


def details_at(details: RunDetails, runs: pd.DataFrame, summary: pd.DataFrame, asof: datetime) -> RunDetails:
    """One run's page as of ``asof``: status, end, heartbeat, error and summary from the pinned
    ``runs`` and ``summary`` (``pin``'s; the run must have started by then). Params, tags, notes
    and artifacts stay as the newest record has them: the files do not say when those were set."""
    row = runs.loc[runs["run_id"] == details.run_id].iloc[0]
    ended = pd.notna(row["end_time"])
    mine = summary[summary["run_id"] == details.run_id]
    return replace(
        details,
        status=row["status"],
        end_time=row["end_time"] if ended else None,
        error=details.error if ended else None,
        heartbeat_time=min(details.heartbeat_time, pd.Timestamp(asof)),
        summary=mine[details.summary.columns].reset_index(drop=True),
    )
