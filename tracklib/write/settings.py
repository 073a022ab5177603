"""Saving a project's settings (FORMAT.md §16): one new file per save, never an overwrite.

A save is a small Parquet file published with an exclusive create like every other file;
readers take the newest, so saving again is how a setting changes and the old saves stay
as history (and as what two people saving at once both wrote, the later one counting).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.settings import ProjectSettings, settings_table
from tracklib.storage import Storage
from tracklib.storage.parquet import table_to_bytes


def save_settings(
    storage: Storage,
    project: str,
    metric: str | None,
    direction: str | None,
    columns: Iterable[str] = (),
) -> ProjectSettings:
    """Publish ``project``'s headline ``metric``, its ``direction`` (``"min"``, ``"max"`` or
    None to let readers guess it from the name) and default ``columns``; returns what was
    saved. Raises ValueError for a value a reader would refuse (FORMAT.md §16)."""
    layout.check_project(project)
    saved_time = datetime.now(tz=UTC)
    table = settings_table(project, metric, direction, list(columns), saved_time)
    storage.write_bytes(layout.settings_path(project, new_id()), table_to_bytes(table))
    return ProjectSettings(metric, direction, tuple(columns), saved_time)  # type: ignore[arg-type]
