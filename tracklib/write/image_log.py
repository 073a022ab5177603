"""``run.log_image``: encode at the call, upload like every other file, index at the flush.

The PNG goes to the run's uploader at once (non-blocking, retried, spooled on store faults,
as metric parts and artifacts are); its row (key, step, caption, size, path) waits in memory
and the run's next flush writes the rows of all images logged since as one small Parquet
part in images/ (FORMAT.md §18), so listing a run's images reads a few files, not one per image.
"""

from __future__ import annotations

import hashlib
from collections import deque
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.schema import IMAGES_SCHEMA
from tracklib.format.values import check_key, check_step, check_text
from tracklib.storage.parquet import table_to_bytes
from tracklib.write.image_encode import to_png

MAX_CAPTION_CHARS = 1_000


class ImageLog:
    """The rows of images logged since the last flush (appended by the caller's thread,
    taken by the flusher's: a deque's append and popleft are atomic)."""

    def __init__(self) -> None:
        self.rows: deque[dict[str, Any]] = deque()

    def part(self, project: str, run_id: str) -> tuple[str, bytes] | None:
        """The pending rows as one images/ part (path, bytes), or None when there are none."""
        rows = []
        while self.rows:
            rows.append(self.rows.popleft())
        if not rows:
            return None
        table = pa.Table.from_pylist(rows, schema=IMAGES_SCHEMA)
        return layout.part_path(layout.IMAGES, project, run_id, new_id()), table_to_bytes(table)


class LogsImages:
    """The ``log_image`` method of :class:`tracklib.Run` (kept here: run.py is the hot path)."""

    def log_image(self, key: str, image: Any, step: int | None = None, caption: str | None = None) -> str:
        """Store an image of ``key`` at ``step`` as PNG; returns its path in the store.

        ``image``: a PIL image; a numpy array H x W (gray), H x W x 3 (RGB) or H x W x 4
        (RGBA) of uint8 0-255 or float 0.0-1.0; a matplotlib figure (saved with a tight
        bounding box); or the path of an image file (re-encoded as PNG). ``step``: default
        the step of the latest ``log`` call (0 before any); it does not advance the step.
        ``caption``: free text, at most 1,000 characters. Encoding happens here (a few ms for
        256 x 256); the upload runs in the background and a store fault never raises here.

        Raises:
            InvalidImageError: not an image, a shape or dtype it cannot store, more than
                4096 x 4096 pixels or 16 MiB as PNG.
            InvalidValueError: ``image`` is of no accepted kind, or ``caption`` is no text.
            InvalidKeyError, InvalidStepError: a bad ``key`` or ``step``.
            FileNotFoundError: a path that is not a file.
            RunFinishedError: the run is finished.
        """
        self._check_open()  # type: ignore[attr-defined]
        check_key(key, "image")
        step = max(self._next_step - 1, 0) if step is None else check_step(step)  # type: ignore[attr-defined]
        check_text(caption, "caption", optional=True)
        if caption is not None and len(caption) > MAX_CAPTION_CHARS:
            raise ValueError(f"caption is {len(caption):,} characters, more than {MAX_CAPTION_CHARS:,}")
        data, width, height = to_png(image)
        rel = layout.media_path(self.project, self.id, new_id())  # type: ignore[attr-defined]
        if self._hand_over(rel, data):  # type: ignore[attr-defined]
            self._images.rows.append(  # type: ignore[attr-defined]
                {
                    "run_id": self.id,  # type: ignore[attr-defined]
                    "key": key,
                    "step": step,
                    "caption": caption,
                    "width": width,
                    "height": height,
                    "bytes": len(data),
                    "path": rel,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "time": datetime.now(tz=UTC),
                }
            )
        return rel
