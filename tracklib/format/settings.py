"""Saved project settings (FORMAT.md §16): the headline metric, its direction and the
default columns a team chose for a project. Schema, and validation of untrusted rows (pure).

Anyone who can write to the store can write a settings file, so every field is checked as
untrusted input: a field that breaks a rule is dropped (the reader then guesses it), and a
file that breaks the schema is no settings at all. Nothing here raises on a bad file.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa

from tracklib.format import layout
from tracklib.format.schema import FILE_METADATA, FORMAT_VERSION, TIMESTAMP

Direction = Literal["min", "max"]
DIRECTIONS: tuple[Direction, ...] = ("min", "max")
MAX_KEY_CHARS = 256  # a metric or column name longer than this is no name a writer would save
MAX_COLUMNS = 64  # more default columns than this is no choice a person made
MAX_FILE_BYTES = 1 << 20  # a one-row settings file is a few kB; a bigger one is not read
_FILE_ID = re.compile(r"^[0-7][0-9a-hjkmnp-tv-z]{25}$")  # a lowercase ULID (FORMAT.md §3)

SETTINGS_SCHEMA = pa.schema(
    [
        ("format_version", pa.string()),
        ("project", pa.string()),
        ("saved_time", TIMESTAMP),
        ("metric", pa.string()),
        ("direction", pa.string()),
        ("columns", pa.list_(pa.string())),
    ],
    metadata=FILE_METADATA,
)


@dataclass(frozen=True)
class ProjectSettings:
    """What a project saved; ``None`` fields were not saved (or not usable): guess them."""

    metric: str | None = None
    direction: Direction | None = None
    columns: tuple[str, ...] = ()
    saved_time: datetime | None = None


def settings_table(
    project: str, metric: str | None, direction: str | None, columns: list[str], saved_time: datetime
) -> pa.Table:
    """The one-row table a writer saves; refuses what a reader would drop (ValueError)."""
    if metric is not None and not is_key(metric):
        raise ValueError(f"metric must be a non-empty name of at most {MAX_KEY_CHARS} characters")
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS} or None, got {direction!r}")
    if not _are_columns(columns):
        raise ValueError(f"columns must be at most {MAX_COLUMNS} names of at most {MAX_KEY_CHARS} characters")
    row = {
        "format_version": FORMAT_VERSION,
        "project": project,
        "saved_time": saved_time,
        "metric": metric,
        "direction": direction,
        "columns": list(columns),
    }
    return pa.Table.from_pylist([row], schema=SETTINGS_SCHEMA)


def newest_settings_file(project: str, files: Iterable[tuple[str, int]]) -> str | None:
    """Of the listed ``(path, size)`` pairs, the path of the newest save of ``project``: the
    greatest name among files ``settings/project=<p>/<lowercase ULID>.parquet`` directly in
    the project's folder (a ULID name sorts by the time it was drawn). Anything else listed
    there (a sub-folder, a temporary or foreign name, a file over ``MAX_FILE_BYTES``) is not
    a save and never counts."""
    folder = layout.project_dir(layout.SETTINGS, project)
    saves = [
        path
        for path, size in files
        if posixpath.dirname(path) == folder
        and size <= MAX_FILE_BYTES
        and path.endswith(layout.PARQUET_SUFFIX)
        and _FILE_ID.fullmatch(posixpath.basename(path).removesuffix(layout.PARQUET_SUFFIX))
    ]
    return max(saves, default=None)


def parse_settings(table: pa.Table, project: str) -> ProjectSettings | None:
    """The settings in a parsed settings file of ``project``, or None when it holds none a
    reader can use: not exactly one row, another project's, or columns of the wrong type.
    A field that breaks its rule (an unknown direction, a name that is no key, a huge list)
    reads as not saved."""
    if table.num_rows != 1:
        return None
    row = table.slice(0, 1).to_pylist()[0]
    if row.get("project") != project:
        return None
    metric, direction, columns = row.get("metric"), row.get("direction"), row.get("columns")
    saved = row.get("saved_time")
    return ProjectSettings(
        metric=metric if is_key(metric) else None,
        direction=direction if direction in DIRECTIONS else None,
        columns=tuple(columns) if _are_columns(columns) else (),
        saved_time=saved if isinstance(saved, datetime) else None,
    )


def is_key(name: Any) -> bool:
    """A metric or column name as writers make them: non-empty text without control
    characters, at most ``MAX_KEY_CHARS`` long."""
    return (
        isinstance(name, str)
        and 0 < len(name) <= MAX_KEY_CHARS
        and not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    )


def _are_columns(columns: Any) -> bool:
    return (
        isinstance(columns, (list, tuple))
        and len(columns) <= MAX_COLUMNS
        and all(is_key(c) for c in columns)
        and len(set(columns)) == len(columns)
    )
