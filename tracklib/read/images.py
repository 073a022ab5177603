"""Reading what ``run.log_image`` wrote (FORMAT.md §18): the images/ index parts of a run as a
table, and one image's PNG bytes, checked, by a path the table gave."""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracklib.format import layout
from tracklib.format.errors import InvalidImageError, UnsafePathError
from tracklib.format.png import MAX_PNG_BYTES, png_size
from tracklib.format.schema import IMAGES_SCHEMA

IMAGE_COLUMNS = ["key", "step", "caption", "width", "height", "bytes", "path", "time"]


class ReadsImages:
    """The image methods of :class:`tracklib.Store` (which provides ``_files`` and ``storage``)."""

    def images(self, project: str, run_id: str, key: str | None = None) -> pd.DataFrame:
        """The run's logged images, one row each: key, step, caption, width, height, bytes
        (of the PNG), path (for ``read_image``), time; sorted by key, step, then time.
        Rows whose path is not a PNG of this run under media/ are left out (a crafted row)."""
        layout.check_project(project)
        layout.check_run_id(run_id)
        (listed,) = self._files.read_listed(  # type: ignore[attr-defined]
            [layout.run_dir(layout.IMAGES, project, run_id)], IMAGES_SCHEMA
        )
        table: pa.Table = listed.table
        if key is not None:
            table = table.filter(pc.equal(table["key"], pa.scalar(key, pa.string())))
        frame = table.select(IMAGE_COLUMNS).to_pandas()
        keep = frame["path"].map(lambda p: _is_image_of(p, project, run_id)).astype(bool)
        frame = frame[keep].sort_values(["key", "step", "time"], kind="stable")
        frame["caption"] = frame["caption"].astype(object).where(frame["caption"].notna(), None)
        return frame.reset_index(drop=True)

    def read_image(self, path: str, project: str, run_id: str) -> bytes:
        """The PNG bytes of an image of the run, by the ``path`` ``images()`` listed.

        Raises:
            UnsafePathError: ``path`` is not a PNG of that run under media/.
            InvalidImageError: the file is not a PNG within the limits of FORMAT.md §18.
        """
        layout.check_media_location(path, project, run_id)
        storage = self.storage  # type: ignore[attr-defined]
        if storage.is_local:  # a link in the folder must not lead to another file of the host
            folder = os.path.realpath(storage.full_path(layout.run_dir(layout.MEDIA, project, run_id)))
            if os.path.dirname(os.path.realpath(storage.full_path(path))) != folder:
                raise UnsafePathError(f"{path!r} leads out of run {project}/{run_id}'s media folder")
        data = storage.read_bytes(path, limit=MAX_PNG_BYTES)  # a crafted huge file is not read whole
        if len(data) > MAX_PNG_BYTES:
            raise InvalidImageError(
                f"{path!r} is larger than the limit of {MAX_PNG_BYTES:,} bytes for an image"
            )
        png_size(data, repr(path))
        return data


def _is_image_of(path: object, project: str, run_id: str) -> bool:
    try:
        layout.check_media_location(path, project, run_id)
    except UnsafePathError:
        return False
    return True
