"""Saved models and checkpoints as run artifacts, shared by the integrations' ``log_model``
options. Every file goes through :meth:`tracklib.Run.log_artifact`: copied into the spool at the
call (so training may overwrite or delete its own file at once) and uploaded in the background,
retried, and left in the spool for ``tracklib sync`` when the store is down."""

from __future__ import annotations

import os
import re

from tracklib.format.record import Artifact
from tracklib.write.run import Run

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


def name_part(text: str) -> str:
    """``text`` as one artifact name part: a metric such as ``val/loss`` must not open a folder."""
    return _UNSAFE.sub("_", text).strip("._") or "_"


def log_folder(run: Run, folder: str | os.PathLike[str], prefix: str) -> list[Artifact]:
    """Every file below ``folder`` as ``<prefix>/<relative path>``, in path order (a saved
    model is a folder: weights, config, tokenizer...). Symbolic links to files are followed."""
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"log_folder: {root!r} is not a folder")
    files = []
    for parent, _, names in os.walk(root):
        files += [os.path.join(parent, name) for name in names]
    logged = []
    for path in sorted(files):
        if os.path.isfile(path):
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            logged.append(run.log_artifact(path, name=f"{prefix}/{rel}"))
    return logged
