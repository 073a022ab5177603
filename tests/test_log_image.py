"""run.log_image through the public API on a local folder, memory:// and moto's S3 server:
every kind of input comes back as a PNG with the same pixels (lossless inputs), in
store.images(...) with its key, step, caption and size; bad input fails at the call and loses
nothing logged before; a store that is down meanwhile loses nothing."""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import tracklib

from faults import FaultyProxy
from servers import require

RNG = np.random.default_rng(7)
RGB = RNG.integers(0, 256, (12, 17, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, (9, 5, 4), dtype=np.uint8)
GRAY = RNG.integers(0, 256, (6, 11), dtype=np.uint8)
FLOAT_GRAY = RNG.random((8, 8))


def _pixels(data: bytes) -> np.ndarray:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(data)))


def _figure():
    matplotlib = require("matplotlib", "dev")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(3, 2), dpi=50)
    axes.plot([0, 1, 2], [2, 0, 1])
    return figure, plt


def test_every_kind_of_input_reads_back_as_the_same_pixels(root, tmp_path):
    png_file, jpeg_file = tmp_path / "in.png", tmp_path / "in.jpg"
    Image.fromarray(RGBA, "RGBA").save(png_file)
    Image.fromarray(RGB, "RGB").save(jpeg_file, quality=90)
    figure, plt = _figure()
    expected = {  # key -> pixels the PNG read back must hold
        "pil/rgb": (Image.fromarray(RGB, "RGB"), RGB),
        "pil/gray": (Image.fromarray(GRAY, "L"), GRAY),
        "array/gray": (GRAY, GRAY),
        "array/rgb": (RGB, RGB),
        "array/rgba": (RGBA, RGBA),
        "array/float": (FLOAT_GRAY, np.rint(FLOAT_GRAY * 255).astype(np.uint8)),
        "file/png": (png_file, RGBA),
        "file/jpeg": (str(jpeg_file), np.asarray(Image.open(jpeg_file))),  # JPEG decoded once, then lossless
    }
    with root.init("p", capture=False) as run:
        run.log({"loss": 1.0}, step=4)
        for key, (image, _) in expected.items():
            run.log_image(key, image, caption=f"caption of {key}")
        run.log_image("figure", figure, step=9)
    plt.close(figure)
    store = root.store()
    images = store.images("p", run.id).set_index("key")
    assert sorted(images.index) == sorted([*expected, "figure"])
    for key, (_, pixels) in expected.items():
        row = images.loc[key]
        assert (row["step"], row["caption"]) == (4, f"caption of {key}")  # the latest log's step
        assert (row["height"], row["width"]) == pixels.shape[:2]
        data = store.read_image(row["path"], "p", run.id)
        assert row["bytes"] == len(data)
        np.testing.assert_array_equal(_pixels(data), pixels, err_msg=key)
    figure_png = _pixels(store.read_image(images.loc["figure", "path"], "p", run.id))
    assert images.loc["figure", "step"] == 9
    assert figure_png.shape[:2] == (images.loc["figure", "height"], images.loc["figure", "width"])
    assert figure_png.std() > 0  # a drawn line, not a blank page
    assert store.images("p", run.id, key="array/rgb")["key"].tolist() == ["array/rgb"]


def test_a_key_logged_at_several_steps_lists_each_step_in_order(local_root):
    with local_root.init("p", capture=False) as run:
        for step in (3, 1, 2):
            run.log_image("samples", np.full((2, 2), step * 10, np.uint8), step=step)
    images = local_root.store().images("p", run.id)
    assert images["step"].tolist() == [1, 2, 3]
    store = local_root.store()
    assert [_pixels(store.read_image(p, "p", run.id))[0, 0] for p in images["path"]] == [10, 20, 30]


BAD = [
    (np.zeros((4, 4), np.int64), "dtype int64"),
    (np.zeros((4, 4), np.uint16), "dtype uint16"),
    (np.zeros((4, 4, 2), np.uint8), r"shape \(4, 4, 2\)"),
    (np.zeros(16, np.uint8), r"shape \(16,\)"),
    (np.zeros((0, 4), np.uint8), "empty"),
    (np.full((2, 2), 1.5), r"\[0.0, 1.0\]"),
    (np.full((2, 2), np.nan), "NaN"),
    (np.zeros((4097, 4096), np.uint8), "more than the limit of 16,777,216"),
    (Image.new("RGB", (5000, 4000)), "more than the limit"),
    (Image.new("F", (4, 4)), "mode 'F'"),
]


@pytest.mark.parametrize(("image", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_images_fail_at_the_call_and_lose_nothing_logged(local_root, image, message):
    with local_root.init("p", capture=False) as run:
        run.log({"loss": 0.5})
        run.log_image("good", GRAY)
        with pytest.raises(tracklib.InvalidImageError, match=message):
            run.log_image("bad", image)
        run.log({"loss": 0.25})
    store = local_root.store()
    assert store.images("p", run.id)["key"].tolist() == ["good"]
    assert store.history("p", [run.id])["value"].tolist() == [0.5, 0.25]
    assert store.run("p", run.id).status == "finished"


def test_bad_files_keys_steps_and_captions_fail_at_the_call(local_root, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    with local_root.init("p", capture=False) as run:
        run.log_image("good", RGB)
        with pytest.raises(tracklib.InvalidImageError, match="not an image"):
            run.log_image("x", text)
        with pytest.raises(FileNotFoundError, match="is not a file"):
            run.log_image("x", tmp_path / "missing.png")
        with pytest.raises(tracklib.InvalidValueError, match="got list"):
            run.log_image("x", [[0, 1], [1, 0]])
        for key in ("", None, 3, "bad\udcff"):
            with pytest.raises(tracklib.InvalidKeyError):
                run.log_image(key, RGB)
        with pytest.raises(tracklib.InvalidStepError):
            run.log_image("x", RGB, step=-1)
        with pytest.raises(tracklib.InvalidValueError, match="caption"):
            run.log_image("x", RGB, caption=42)
        with pytest.raises(ValueError, match="more than 1,000"):
            run.log_image("x", RGB, caption="c" * 1001)
    with pytest.raises(tracklib.RunFinishedError):
        run.log_image("late", RGB)
    assert local_root.store().images("p", run.id)["key"].tolist() == ["good"]


def test_images_logged_while_the_store_is_down_all_arrive(s3_server, s3_bucket):
    proxy = FaultyProxy(s3_server.port).up()
    url, options = (
        f"s3://{s3_bucket}/{uuid.uuid4().hex}",
        s3_server.storage_options() | {"endpoint_url": proxy.endpoint},
    )
    try:
        run = tracklib.init("p", root=url, storage_options=options, capture=False, flush_interval=0.1)
        run.log_image("before", RGB, step=0)
        proxy.down()
        for step in range(1, 6):
            run.log_image("during", np.full((3, 3), step, np.uint8), step=step)  # never raises
        proxy.up()
        run.finish()
    finally:
        proxy.close()
    store = tracklib.open_store(url, s3_server.storage_options())
    images = store.images("p", run.id)
    assert images["key"].tolist() == ["before"] + ["during"] * 5
    assert [_pixels(store.read_image(p, "p", run.id))[0, 0] for p in images["path"][1:]] == [1, 2, 3, 4, 5]


def test_images_the_store_never_took_wait_in_the_spool_and_sync_uploads_them(
    s3_server, s3_bucket, monkeypatch, capsys
):
    import s3fs

    from tracklib.cli import main

    proxy = FaultyProxy(s3_server.port).up()
    url = f"s3://{s3_bucket}/{uuid.uuid4().hex}"
    options = s3_server.storage_options() | {"endpoint_url": proxy.endpoint}
    try:
        run = tracklib.init("p", root=url, storage_options=options, capture=False, finish_timeout=1)
        proxy.down()
        for step in range(3):
            run.log_image("samples", np.full((3, 3), step + 1, np.uint8), step=step)
        with pytest.warns(RuntimeWarning, match="tracklib sync"):
            run.finish()
        proxy.up()
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)  # as a user would run sync
        s3fs.S3FileSystem.clear_instance_cache()
        assert main(["sync"]) == 0
        assert "still waiting 0" in capsys.readouterr().out
    finally:
        proxy.close()
    store = tracklib.open_store(url, s3_server.storage_options())
    images = store.images("p", run.id)
    assert images["step"].tolist() == [0, 1, 2]
    assert [_pixels(store.read_image(p, "p", run.id))[0, 0] for p in images["path"]] == [1, 2, 3]


ARRAY_SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([None, 1, 2, 3, 4, 5]))
DTYPES = st.sampled_from(["uint8", "float32", "float64", "int8", "int32", "uint16", "bool", "complex64"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=ARRAY_SHAPES, dtype=DTYPES, seed=st.integers(0, 2**32 - 1))
def test_any_array_either_round_trips_or_is_refused_at_the_call(local_root, shape, dtype, seed):
    height, width, channels = shape
    dims = (height, width) if channels is None else (height, width, channels)
    rng = np.random.default_rng(seed)
    array = (rng.random(dims) if dtype.startswith("float") else rng.integers(0, 256, dims)).astype(dtype)
    storable = dtype in ("uint8", "float32", "float64") and channels in (None, 3, 4)
    with local_root.init("p", capture=False) as run:
        if storable:
            run.log_image("a", array)
        else:
            with pytest.raises(tracklib.InvalidImageError, match="shape|dtype"):
                run.log_image("a", array)
    store = local_root.store()
    images = store.images("p", run.id)
    if not storable:
        assert images.empty
        return
    expected = array if dtype == "uint8" else np.rint(array.astype(np.float64) * 255).astype(np.uint8)
    np.testing.assert_array_equal(_pixels(store.read_image(images["path"][0], "p", run.id)), expected)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.text(min_size=1, max_size=40) | st.text(max_size=5).map(lambda t: t + "\udcff"),
    caption=st.none() | st.text(max_size=200) | st.text(max_size=5).map(lambda t: "\ud800" + t),
    step=st.integers(0, 2**63 - 1),
)
def test_any_key_caption_and_step_come_back_as_given(local_root, key, caption, step):
    try:
        key.encode("utf-8")
        (caption or "").encode("utf-8")
    except UnicodeEncodeError:
        with local_root.init("p", capture=False) as run, pytest.raises(tracklib.TracklibError):
            run.log_image(key, GRAY, step=step, caption=caption)
        return
    with local_root.init("p", capture=False) as run:
        run.log_image(key, GRAY, step=step, caption=caption)
    row = local_root.store().images("p", run.id).iloc[0]
    assert (row["key"], row["step"]) == (key, step)
    assert row["caption"] == caption
