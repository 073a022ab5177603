"""Artifacts of an imported run: copied once, under names derived from their content."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tracklib.format import layout
from tracklib.format.record import Artifact, RunState
from tracklib.ops.importers.names import file_id, millis
from tracklib.storage import Storage, file_sha256


@dataclass(frozen=True)
class SourceArtifact:
    """A file of the source run: its name, size, and how to get a local copy of it."""

    name: str
    size: int
    fetch: Callable[[str], str]  # fetch(into_folder) -> local path of the file


def have_all(existing: RunState, listed: Sequence[SourceArtifact]) -> bool:
    return all(_copied(existing.artifacts, item) for item in listed)


def _copied(have: dict[str, Artifact], item: SourceArtifact) -> bool:
    return item.name in have and have[item.name].size == item.size


def copy_artifacts(
    storage: Storage,
    project: str,
    run_id: str,
    start_time: float,
    existing: RunState | None,
    listed: Sequence[SourceArtifact] | None,
    scratch: str,
) -> dict[str, Artifact]:
    """Copy the source's artifacts that the record does not list yet; their manifest entries."""
    have = existing.artifacts if existing is not None else {}
    copied = {}
    for item in listed or ():
        if _copied(have, item):
            continue
        local = item.fetch(scratch)
        digest = file_sha256(local)
        name_id = file_id(millis(start_time), project, run_id, "artifacts", item.name, digest)
        rel = layout.artifact_path(project, run_id, name_id, item.name)
        try:
            storage.put_file(rel, local)
        except FileExistsError:
            pass  # the same bytes under the same name, from an earlier or concurrent import
        copied[item.name] = Artifact(item.name, rel, os.path.getsize(local), digest)
    return copied
