"""Outside review of logged images: a file in the store (a link anyone who can write to a
local store can make) must not make the dashboard serve a PNG from elsewhere on the host."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

import tracklib
from tracklib.format import layout
from tracklib.format.errors import UnsafePathError
from tracklib.format.ids import new_id
from tracklib.format.schema import IMAGES_SCHEMA
from tracklib.storage.parquet import table_to_bytes


def _link_row(root: str, run_id: str, target: Path) -> str:
    """A media name of the run that is a symbolic link to ``target``, listed in an index part."""
    media = layout.media_path("digits", run_id, new_id())
    Path(root, media).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, Path(root, media))
    row = {"run_id": run_id, "key": "linked", "step": 0, "path": media}
    part = Path(root, layout.part_path(layout.IMAGES, "digits", run_id, new_id()))
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(table_to_bytes(pa.Table.from_pylist([row], schema=IMAGES_SCHEMA)))
    return media


@pytest.mark.parametrize("where", ["host", "other run"])
def test_a_media_link_out_of_the_runs_media_folder_is_refused(tmp_path, where):
    root = str(tmp_path / "store")
    with tracklib.init("digits", root=root, name="victim", capture=False) as run:
        run.log_image("real", np.zeros((4, 4, 3), np.uint8))
    if where == "host":
        target = tmp_path / "private-photo.png"
        Image.new("RGB", (4, 4), "red").save(target)
    else:
        with tracklib.init("digits", root=root, name="other", capture=False) as other:
            other.log_image("theirs", np.full((4, 4, 3), 200, np.uint8))
        theirs = tracklib.open_store(root).images("digits", other.id)["path"].iloc[0]
        target = Path(root, theirs)
    media = _link_row(root, run.id, target)
    store = tracklib.open_store(root)
    with pytest.raises(UnsafePathError):
        store.read_image(media, "digits", run.id)
    real = store.images("digits", run.id, key="real")["path"].iloc[0]
    assert store.read_image(real, "digits", run.id).startswith(b"\x89PNG")  # the run's own still read


def test_an_image_file_past_the_size_limit_is_refused_on_every_store(root):
    """A crafted file under a run's media/ name, far bigger than any PNG tracklib writes: the
    store reads only up to the limit and refuses it (the dashboard shows the other images)."""
    from tracklib.format.errors import InvalidImageError
    from tracklib.format.png import MAX_PNG_BYTES

    with root.init(name="victim", capture=False) as run:
        run.log_image("real", np.zeros((4, 4, 3), np.uint8))
    media = layout.media_path("digits", run.id, new_id())
    fs, base = root.filesystem()
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_PNG_BYTES + 1024)
    fs.pipe_file(f"{base.rstrip('/')}/{media}", big)
    store = root.store()
    with pytest.raises(InvalidImageError, match="larger than the limit"):
        store.read_image(media, "digits", run.id)
    real = store.images("digits", run.id, key="real")["path"].iloc[0]
    assert store.read_image(real, "digits", run.id).startswith(b"\x89PNG")
