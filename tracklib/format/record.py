"""A run's state and its record snapshot as a one-row Arrow table, both ways (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from tracklib.format.schema import FORMAT_VERSION, RECORD_SCHEMA, Status
from tracklib.format.summary import MetricSummary
from tracklib.format.values import ParamValue, decode_param, encode_param, storable


@dataclass(frozen=True)
class Artifact:
    name: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Dataset:
    """A dataset a run read (``run.log_dataset``); ``fingerprint``, ``files`` and ``bytes``
    are None when a remote source could not be reached."""

    name: str
    source: str
    kind: str
    fingerprint: str | None
    files: int | None
    bytes: int | None


@dataclass
class RunState:
    """Everything a run record says about a run."""

    run_id: str
    project: str
    name: str
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    status: Status = Status.RUNNING
    error: str | None = None
    start_time: float = 0.0
    end_time: float | None = None
    host: str | None = None
    git_commit: str | None = None
    params: dict[str, ParamValue] = field(default_factory=dict)
    summary: dict[str, MetricSummary] = field(default_factory=dict)
    user_summary: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    seq: int = 0

    def next_step(self) -> int:
        """The step after the highest one logged (0 for a new run). System metrics
        (``system/*``, a series of sample indexes of their own) do not count."""
        return _after(s for key, s in self.summary.items() if not key.startswith(SYSTEM_PREFIX))

    def next_sample(self) -> int:
        """The index of the next system metrics sample (a resumed run continues its series)."""
        return _after(s for key, s in self.summary.items() if key.startswith(SYSTEM_PREFIX))


# Keys of system metrics (``init(system_metrics=...)``): stepped by sample index, not by the user's step.
SYSTEM_PREFIX = "system/"


def _after(summaries: Iterable[MetricSummary]) -> int:
    steps = [s.last_step for s in summaries if s.last_step is not None]
    return max(steps) + 1 if steps else 0


def _ts(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def record_table(state: RunState, now: float, repair: bool = False) -> pa.Table:
    """The snapshot written to ``records/``: the newest (seq, record_time) per run wins.
    ``repair``: text Parquet cannot store is escaped (``values.storable``)."""
    summary = []
    for key, s in state.summary.items():
        entry = {
            "key": key,
            "last": s.last,
            "last_step": s.last_step,
            "min": s.min,
            "min_step": s.min_step,
            "max": s.max,
            "max_step": s.max_step,
            "count": s.count,
        }
        if key in state.user_summary:  # an explicit value replaces "last"; min/max stay logged
            entry["last"] = state.user_summary[key]
        summary.append(entry)
    summary += [
        {
            "key": key,
            "last": v,
            "last_step": None,
            "min": v,
            "min_step": None,
            "max": v,
            "max_step": None,
            "count": 0,
        }
        for key, v in state.user_summary.items()
        if key not in state.summary
    ]
    row: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "run_id": state.run_id,
        "project": state.project,
        "name": state.name,
        "group": state.group,
        "tags": list(state.tags),
        "notes": state.notes,
        "status": str(state.status),
        "error": state.error,
        "start_time": _ts(state.start_time),
        "end_time": _ts(state.end_time),
        "heartbeat_time": _ts(now),
        "record_time": _ts(now),
        "seq": state.seq,
        "host": state.host,
        "git_commit": state.git_commit,
        "params": [
            dict(zip(("key", "type", "value"), (key, *encode_param(value))))
            for key, value in state.params.items()
        ],
        "summary": summary,
        "artifacts": [vars(a) for a in state.artifacts.values()],
        "datasets": [vars(d) for d in state.datasets.values()],
    }
    return pa.Table.from_pylist([storable(row) if repair else row], schema=RECORD_SCHEMA)


def state_from_record(row: dict[str, Any]) -> RunState:
    """The state a resumed run continues from (``row`` as from ``Table.to_pylist``)."""
    summary, user_summary = {}, {}
    for item in row.get("summary") or []:
        if item["count"] == 0 and item["last_step"] is None:
            user_summary[item["key"]] = item["last"]
        else:
            summary[item["key"]] = MetricSummary(
                item["last"],
                item["last_step"],
                item["min"],
                item["min_step"],
                item["max"],
                item["max_step"],
                item["count"],
            )
    return RunState(
        run_id=row["run_id"],
        project=row["project"],
        name=row["name"],
        group=row.get("group"),
        tags=list(row.get("tags") or []),
        notes=row.get("notes"),
        status=Status(row["status"]),
        error=row.get("error"),
        start_time=row["start_time"].timestamp(),
        end_time=row["end_time"].timestamp() if row.get("end_time") else None,
        host=row.get("host"),
        git_commit=row.get("git_commit"),
        params={p["key"]: decode_param(p["type"], p["value"]) for p in row.get("params") or []},
        summary=summary,
        user_summary=user_summary,
        artifacts={a["name"]: Artifact(**a) for a in row.get("artifacts") or []},
        datasets={d["name"]: Dataset(**d) for d in row.get("datasets") or [] if d.get("name")},
        seq=row.get("seq") or 0,
    )
