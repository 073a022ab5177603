"""``tracklib reproduce``: a run's steps back to its starting point, printed or written to a folder
(reproduce.sh, changes.patch, requirements.txt). The steps themselves: analysis/reproduce.py."""

from __future__ import annotations

import os
from pathlib import Path

from tracklib.analysis.reproduce import PATCH_FILE, REQUIREMENTS_FILE, STEPS_FILE, Reproduction, reproduction
from tracklib.read.store import open_store


def load(run_id: str, project: str, root: str | None = None) -> Reproduction:
    """The Reproduction of one run of a store.

    Raises:
        RunNotFoundError: no such run in the project (or no such project).
    """
    return reproduction(open_store(root).run(project, run_id))


def write(found: Reproduction, out: str) -> list[Path]:
    """Write the steps and the files they use into the folder ``out`` (made if missing); a file
    the record gives no content for is not written (an older one there is removed, so the
    folder never mixes two runs). Returns the files written."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        (STEPS_FILE, found.steps()),
        (PATCH_FILE, found.patch),
        (REQUIREMENTS_FILE, found.requirements),
    ):
        path = folder / name
        if text is None:
            path.unlink(missing_ok=True)
            continue
        # newline="" : the patch's bytes as recorded (a CRLF file's lines keep their \r)
        path.write_text(text, encoding="utf-8", errors="surrogateescape", newline="")
        written.append(path)
    os.chmod(folder / STEPS_FILE, 0o755)
    return written
