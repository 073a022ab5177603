"""The Run page's image gallery and artifact previews, and Compare's images side by side
(AppTest): the image shown is the stored PNG of the chosen step, byte for byte; hostile keys
and captions render as text; crafted rows and files that are no image are not shown."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from dashboard.hostile import PAYLOADS, assert_renders_as_text
from page_open import open_page
from PIL import Image
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.analysis import asof
from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.schema import IMAGES_SCHEMA
from tracklib.storage.parquet import table_to_bytes

VIEWS = "tracklib/dashboard/views"


def _url(data: bytes) -> str:
    """The URL Streamlit's test runtime serves exactly these PNG bytes at."""
    storage = MemoryMediaFileStorage("/mock/media")
    return storage.get_url(storage.load_and_get_id(data, "image/png", MediaFileKind.MEDIA, None))


def _open(root: str, page: str, monkeypatch, **params) -> AppTest:
    return open_page(root, monkeypatch, page, **params)


def _stored(root: str, run_id: str) -> dict[tuple[str, int], bytes]:
    store = tracklib.open_store(root)
    return {
        (row.key, row.step): store.read_image(row.path, "digits", run_id)
        for row in store.images("digits", run_id).itertuples()
    }


def _shown(at: AppTest) -> list[str]:
    return [img.url for element in at.get("image") for img in element.proto.imgs]


@pytest.fixture
def root(tmp_path) -> str:
    return str(tmp_path / "store")


def _gallery_run(
    root: str, key: str = "samples", caption: str | None = "a caption", name: str = "imgs"
) -> str:
    with tracklib.init("digits", root=root, name=name, capture=False) as run:
        for step in range(3):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
            run.log_image(key, np.full((8, 12, 3), step * 100, np.uint8), caption=caption)
    return run.id


def test_the_gallery_shows_the_stored_png_of_the_chosen_step(root, monkeypatch):
    run_id = _gallery_run(root)
    stored = _stored(root, run_id)
    at = _open(root, "run", monkeypatch, run=run_id)
    assert not at.exception
    assert "Images" in [s.value for s in at.subheader]
    slider = at.select_slider[0]
    assert (slider.options, slider.value) == (["0", "1", "2"], 2)  # the newest step first
    assert _shown(at) == [_url(stored[("samples", 2)])]
    assert "a caption" in [t.value for t in at.text]
    slider.set_value(0).run()
    assert _shown(at) == [_url(stored[("samples", 0)])]


def test_a_hostile_key_and_caption_render_as_text(root, monkeypatch):
    run_id = _gallery_run(root, key=PAYLOADS[1], caption=PAYLOADS[2] + " " + PAYLOADS[0])
    at = _open(root, "run", monkeypatch, run=run_id)
    assert_renders_as_text(at)
    assert PAYLOADS[2] + " " + PAYLOADS[0] in [t.value for t in at.text]
    assert len(_shown(at)) == 1


def test_crafted_rows_and_files_that_are_no_png_are_not_shown(root, monkeypatch, tmp_path):
    with tracklib.init("digits", root=root, name="victim", capture=False) as run:
        run.log({"loss": 1.0})
    secret = tmp_path / "secret.png"
    Image.new("RGB", (4, 4), "red").save(secret)
    fake = layout.media_path("digits", run.id, new_id())
    Path(root, fake).parent.mkdir(parents=True, exist_ok=True)
    Path(root, fake).write_bytes(b"<svg onload=alert(1)>not a png</svg>")
    rows = [
        {"run_id": run.id, "key": "escape", "step": 0, "path": "../../../" + str(secret)},
        {"run_id": run.id, "key": "absolute", "step": 0, "path": str(secret)},
        {"run_id": run.id, "key": "not-png", "step": 0, "path": fake},
    ]
    table = pa.Table.from_pylist(rows, schema=IMAGES_SCHEMA)
    crafted = Path(root, layout.part_path(layout.IMAGES, "digits", run.id, new_id()))
    crafted.parent.mkdir(parents=True, exist_ok=True)
    crafted.write_bytes(table_to_bytes(table))
    at = _open(root, "run", monkeypatch, run=run.id)
    assert not at.exception
    assert _shown(at) == []
    assert [m.value for m in at.markdown if m.value.startswith("**")][-1] == "**not\\-png**"
    assert any("Not shown" in c.value and "not a PNG" in c.value for c in at.caption)


def test_image_artifacts_preview_only_when_name_and_content_agree(root, monkeypatch, tmp_path):
    good, lying, renamed = tmp_path / "confusion.png", tmp_path / "fake.png", tmp_path / "plot.txt"
    Image.new("RGB", (20, 10), "blue").save(good)
    lying.write_text("<script>alert(1)</script>")
    Image.new("RGB", (20, 10), "green").save(renamed, format="PNG")
    with tracklib.init("digits", root=root, name="arts", capture=False) as run:
        for path in (good, lying, renamed):
            run.log_artifact(path)
    at = _open(root, "run", monkeypatch, run=run.id)
    assert not at.exception
    assert _shown(at) == [_url(good.read_bytes())]  # the real PNG only, as stored
    assert "No images logged." in [c.value for c in at.caption]


def test_compare_shows_one_key_at_one_step_side_by_side(root, monkeypatch):
    first, second = _gallery_run(root, name="first"), _gallery_run(root, name="second")
    stored = {r: _stored(root, r) for r in (first, second)}
    at = _open(root, "compare", monkeypatch, runs=[first, second])
    assert not at.exception
    assert at.selectbox(key="compare-image-key").value == "samples"
    assert _shown(at) == [_url(stored[r][("samples", 2)]) for r in (first, second)]
    at.select_slider(key="compare-image-step").set_value(1).run()
    assert _shown(at) == [_url(stored[r][("samples", 1)]) for r in (first, second)]


def test_a_pinned_run_page_shows_only_the_images_logged_by_the_pin(root, monkeypatch):
    run = tracklib.init("digits", root=root, name="growing", capture=False, flush_interval=0.1)
    run.log_image("samples", np.full((4, 4), 10, np.uint8), step=0)
    time.sleep(1.02 - time.time() % 1)  # a pin is a whole second: the first image is before it
    pin = asof.format_asof(datetime.now(UTC))
    time.sleep(1.02 - time.time() % 1)
    run.log_image("samples", np.full((4, 4), 20, np.uint8), step=1)
    run.log_image("later-key", np.full((4, 4), 30, np.uint8), step=1)
    run.finish()
    stored = _stored(root, run.id)
    at = _open(root, "run", monkeypatch, run=run.id, asof=pin)
    assert not at.exception
    assert _shown(at) == [_url(stored[("samples", 0)])]
    assert "**later\\-key**" not in [m.value for m in at.markdown]
    live = _open(root, "run", monkeypatch, run=run.id)
    assert sorted(_shown(live)) == sorted(_url(stored[k]) for k in (("samples", 1), ("later-key", 1)))
