"""Console parts: a run's stdout and stderr lines (FORMAT.md §19), their schema and limits (pure).

console/project=<p>/run_id=<id>/<file-id>.parquet   rows ``run_id, time, stream, line``

The limits bound what one run can put in the store, whatever it prints: a line is cut at
``MAX_LINE_CHARS``, a part holds at most ``MAX_PART_CHARS`` of line text, and once a run has
stored ``MAX_RUN_CHARS`` the rest is counted, not stored, and one ``tracklib`` row says so.
"""

from __future__ import annotations

import pyarrow as pa

from tracklib.format import layout
from tracklib.format.schema import FILE_METADATA, TIMESTAMP

CONSOLE = "console"  # the top-level folder
STDOUT, STDERR, NOTE = "stdout", "stderr", "tracklib"  # stream values; NOTE: the writer's own rows

MAX_LINE_CHARS = 10_000  # a longer line is stored as its first 10,000 characters and a cut note
MAX_PART_CHARS = 1_000_000  # line text per part (~1 MB); a flush with more writes several parts
MAX_RUN_CHARS = 20_000_000  # line text per run; beyond it lines are counted, not stored

CONSOLE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("time", TIMESTAMP),
        ("stream", pa.string()),
        ("line", pa.string()),
    ],
    metadata=FILE_METADATA,
)


def console_dir(project: str, run_id: str) -> str:
    return layout.run_dir(CONSOLE, layout.check_project(project), layout.check_run_id(run_id))


def console_part_path(project: str, run_id: str, file_id: str) -> str:
    return layout.part_path(CONSOLE, layout.check_project(project), layout.check_run_id(run_id), file_id)


def cut_line(line: str, length: int) -> str:
    """``line`` (``length`` characters before any cut) within ``MAX_LINE_CHARS``, saying how long it was."""
    if length <= MAX_LINE_CHARS and len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]} … [line cut: {max(length, len(line)):,} characters]"


def truncated_note(lines: int, chars: int) -> str:
    """The ``tracklib`` row written once a run's console passed ``MAX_RUN_CHARS``."""
    return (
        f"console output cut: the run printed more than {MAX_RUN_CHARS:,} characters; "
        f"{lines:,} later lines ({chars:,} characters) were not stored"
    )
