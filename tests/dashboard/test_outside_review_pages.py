"""Outside review: crafted files of this session's new kinds (images/ index parts, console/
parts, datasets entries) in one run must not break the Run or Compare page: the page shows
the rest (AppTest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import streamlit as st
from dashboard.hostile import assert_renders_as_text
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.schema import IMAGES_SCHEMA
from tracklib.storage.parquet import table_to_bytes

from seed import APP

VIEWS = "tracklib/dashboard/views"


def _open(root: str, page: str, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"project": "digits", **params})
    at.switch_page(f"{VIEWS}/{page}.py")
    return at.run()


def _write_part(root: str, path: str, rows: list[dict], schema: pa.Schema) -> None:
    target = Path(root, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(table_to_bytes(pa.Table.from_pylist(rows, schema=schema)))


@pytest.fixture
def root(tmp_path) -> str:
    return str(tmp_path / "store")


def _run_with_images(root: str, name: str) -> str:
    with tracklib.init("digits", root=root, name=name, capture=False) as run:
        for step in range(2):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
            run.log_image("samples", np.full((8, 12, 3), step * 100, np.uint8))
    return run.id


@pytest.mark.parametrize(
    "crafted",
    [
        {"key": None, "step": 0},
        {"key": "samples", "step": None},
        {"key": "other", "step": None},
        {"key": "samples", "step": 2**63 - 1},
    ],
    ids=["null-key", "null-step-same-key", "null-step-own-key", "huge-step"],
)
@pytest.mark.parametrize("page", ["run", "compare"])
def test_an_images_row_with_nulls_does_not_break_the_page(root, monkeypatch, crafted, page):
    run_id = _run_with_images(root, "odd")
    other = _run_with_images(root, "plain")
    genuine = tracklib.open_store(root).images("digits", run_id)
    row = {**genuine.iloc[0].to_dict(), **crafted, "run_id": run_id}
    row["time"] = row["time"].to_pydatetime()
    _write_part(root, layout.part_path(layout.IMAGES, "digits", run_id, new_id()), [row], IMAGES_SCHEMA)
    params = {"run": run_id} if page == "run" else {"runs": [run_id, other]}
    at = _open(root, page, monkeypatch, **params)
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("image"), "the genuine images are still shown"


def _run_with_everything(root: str, name: str) -> str:
    with tracklib.init("digits", root=root, name=name, params={"lr": 0.1}) as run:
        for step in range(3):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.log_image("samples", np.zeros((4, 4, 3), np.uint8))
        print("a console line")
    return run.id


@pytest.mark.parametrize("asof", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1677-09-21T00:12:43Z"])
@pytest.mark.parametrize("page", ["leaderboard", "runs", "curves", "compare", "run", "sweeps"])
def test_a_pin_before_every_run_shows_an_empty_page_not_an_error(root, monkeypatch, asof, page):
    first = _run_with_everything(root, "a")
    second = _run_with_everything(root, "b")
    params = {"asof": asof}
    if page == "run":
        params["run"] = first
    if page == "compare":
        params["runs"] = [first, second]
    at = _open(root, page, monkeypatch, **params)
    assert not at.exception, [e.value for e in at.exception]
    if page == "run":
        assert [i.value for i in at.info] == ["No run of this project had started by this link's pin."]


HOSTILE_DATASET_NAMES = [
    "",
    " ",
    "a\nb",
    "[x](https://evil.example)",
    "x" * 5_000,
    "lr",
    "params.lr",
    "名前",
    "a.b/c",
]


@pytest.mark.parametrize("page", ["leaderboard", "runs", "compare", "run", "sweeps", "curves"])
def test_crafted_dataset_entries_in_one_record_leave_every_page_working(root, monkeypatch, page):
    import pyarrow.parquet as pq

    first = _run_with_everything(root, "a")
    second = _run_with_everything(root, "b")
    newest = tracklib.open_store(root).newest_record("digits", first)
    row = newest.to_pylist()[0]
    entries = [
        {"name": name, "source": name, "kind": name, "fingerprint": name or None, "files": -1, "bytes": 2**62}
        for name in HOSTILE_DATASET_NAMES
    ]
    row.update(seq=row["seq"] + 1, datasets=entries)
    path = Path(root, f"records/project=digits/run_id={first}/{new_id()}.parquet")
    pq.write_table(pa.Table.from_pylist([row], schema=newest.schema), path)
    params = {"run": first} if page == "run" else {"runs": [first, second]} if page == "compare" else {}
    at = _open(root, page, monkeypatch, **params)
    assert_renders_as_text(at)


def test_an_image_artifact_larger_than_a_preview_is_not_read_for_one(root, monkeypatch, tmp_path):
    """A 20 MB scan.png was read whole on every visit (and kept in the cache) only to be found
    too large to preview; its recorded size now says so before any byte is read."""
    from tracklib.dashboard import data

    big = tmp_path / "scan.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20 * 1024 * 1024))
    with tracklib.init("digits", root=root, name="big", capture=False) as run:
        run.log({"loss": 1.0})
        run.log_artifact(big)
    read = []
    original = data.read_artifact
    monkeypatch.setattr(data, "read_artifact", lambda *a: read.append(a[1]) or original(*a))
    at = _open(root, "run", monkeypatch, run=run.id)
    assert not at.exception, [e.value for e in at.exception]
    assert "scan.png" in [t.value for t in at.text]
    assert read == []


def test_a_run_that_logs_its_own_system_keys_with_odd_values_keeps_its_page(root, monkeypatch):
    """system/* is the samplers' prefix, but run.log accepts it from the user too."""
    with tracklib.init("digits", root=root, name="sys", capture=False) as run:
        for step, value in enumerate([1.0, float("inf"), float("nan"), -float("inf"), 1e308, -1e308]):
            run.log({"loss": 1.0, "system/custom": value, "system/": value}, step=step)
    at = _open(root, "run", monkeypatch, run=run.id)
    assert not at.exception, [e.value for e in at.exception]
    assert "System" in [s.value for s in at.subheader]
    for page in ("curves", "leaderboard", "compare"):
        at = _open(root, page, monkeypatch)
        assert not at.exception, (page, [e.value for e in at.exception])
