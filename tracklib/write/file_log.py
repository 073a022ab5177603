"""The ``log_artifact`` and ``log_dataset`` methods of :class:`tracklib.Run`: files the run
wrote and data it read (kept here: run.py is the hot path of ``log``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.record import Artifact, Dataset
from tracklib.storage import file_sha256
from tracklib.write import datasets


class LogsFiles:
    """Mixed into :class:`tracklib.Run`, whose spool, uploader, lock and state these use."""

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> Artifact:
        """Copy a local file into the run's artifacts (uploaded in the background).

        Raises:
            FileNotFoundError: ``path`` is not a file.
            InvalidKeyError: ``name`` would leave the run's folder.
        """
        self._check_open()  # type: ignore[attr-defined]
        source = os.fspath(path)
        if not os.path.isfile(source):
            raise FileNotFoundError(f"log_artifact: {source!r} is not a file")
        name = layout.check_artifact_name(name if name is not None else os.path.basename(source))
        rel = layout.artifact_path(self.project, self.id, new_id(), name)
        staged = self._spool.stage_file(rel, source)
        artifact = Artifact(name=name, path=rel, size=os.path.getsize(staged), sha256=file_sha256(staged))
        self._uploader.submit_spooled(rel)
        with self._lock:
            self._state.artifacts[name] = artifact
            self._dirty = True
        return artifact

    def log_dataset(
        self, name: str, source: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
    ) -> Dataset:
        """Record which version of a dataset the run read: a fingerprint that changes when the
        data does (content SHA-256 of a local file or folder, hashed here, now; an object
        store's ETag or version id, never a download), with file count and bytes. Logging a
        name again replaces it. ``storage_options`` reach fsspec only, never the store; a
        source URL is stored with its credentials masked.

        Raises:
            FileNotFoundError: nothing at ``source``.
            InvalidKeyError, InvalidValueError: a bad ``name``, ``source`` or ``storage_options``.
        (A remote store that cannot be asked only warns: the dataset is kept without fingerprint.)
        """
        self._check_open()  # type: ignore[attr-defined]
        dataset = datasets.describe(name, source, storage_options, self._redact)
        with self._lock:
            self._state.datasets[name] = dataset
            self._dirty = True
        return dataset
