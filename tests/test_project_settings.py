"""Saved project settings (FORMAT.md §16): a save round-trips through every store, and a
hostile or broken settings file is ignored (the guess is used), never a crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tracklib
from tracklib.format import layout
from tracklib.format.ids import new_id
from tracklib.format.schema import FILE_METADATA, FORMAT_VERSION
from tracklib.format.settings import MAX_COLUMNS, ProjectSettings, newest_settings_file, settings_table
from tracklib.storage import open_storage
from tracklib.storage.parquet import table_to_bytes
from tracklib.write.settings import save_settings

NOW = datetime(2026, 1, 2, tzinfo=UTC)


def _write(storage, project: str, table: pa.Table, file_id: str | None = None) -> None:
    storage.write_bytes(layout.settings_path(project, file_id or new_id()), table_to_bytes(table))


def test_save_then_read_round_trips_and_the_newest_save_wins(root):
    with root.init("digits") as run:
        run.log({"loss/value": 0.5})
    storage = open_storage(root.url, root.storage_options)
    store = root.store()
    assert store.settings("digits") is None  # nothing saved: callers guess
    save_settings(storage, "digits", "loss/value", "min", ["params.lr"])
    later = save_settings(storage, "digits", "loss/value", "max", ["params.lr", "params.depth"])
    got = store.settings("digits")
    assert (got.metric, got.direction, got.columns) == ("loss/value", "max", ("params.lr", "params.depth"))
    assert got.saved_time == later.saved_time
    assert store.settings("other") is None
    # both saves stay: append-only, never an overwrite
    assert len(storage.list_files("settings/project=digits")) == 2
    # and tracklib's own run reading is untouched
    assert list(store.runs("digits")["run_id"]) == [run.id]


def test_a_save_refuses_what_a_reader_would_drop(tmp_path):
    storage = open_storage(str(tmp_path))
    with pytest.raises(ValueError, match="direction"):
        save_settings(storage, "p", "loss", "down", [])
    with pytest.raises(ValueError, match="columns"):
        save_settings(storage, "p", "loss", "min", [f"c{i}" for i in range(MAX_COLUMNS + 1)])
    with pytest.raises(ValueError, match="metric"):
        save_settings(storage, "p", "", "min", [])
    with pytest.raises(tracklib.InvalidKeyError):
        save_settings(storage, "../p", "loss", "min", [])
    assert storage.list_files("settings") == []


def _raw(**columns) -> pa.Table:
    row = {"format_version": ["1.2"], "project": ["p"], "saved_time": [NOW], "metric": ["loss"]}
    row.update({"direction": ["min"], "columns": [["params.lr"]]})
    row.update(columns)
    return pa.table(row).replace_schema_metadata(FILE_METADATA)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"direction": ["sideways"]}, ProjectSettings("loss", None, ("params.lr",), NOW)),
        ({"direction": [3]}, ProjectSettings("loss", None, ("params.lr",), NOW)),
        ({"metric": [12]}, ProjectSettings(None, "min", ("params.lr",), NOW)),
        ({"metric": ["a\x00b"]}, ProjectSettings(None, "min", ("params.lr",), NOW)),
        ({"metric": ["x" * 10_000]}, ProjectSettings(None, "min", ("params.lr",), NOW)),
        ({"columns": [[f"c{i}" for i in range(10_000)]]}, ProjectSettings("loss", "min", (), NOW)),
        ({"columns": [[1, 2]]}, ProjectSettings("loss", "min", (), NOW)),
        ({"columns": ["params.lr"]}, ProjectSettings("loss", "min", (), NOW)),  # a string, not a list
        ({"saved_time": ["yesterday"]}, ProjectSettings("loss", "min", ("params.lr",), None)),
        ({"project": ["other"]}, None),  # a file in p's folder cannot speak for another project
    ],
)
def test_hostile_fields_are_dropped_one_at_a_time(tmp_path, columns, expected):
    storage = open_storage(str(tmp_path))
    _write(storage, "p", _raw(**columns))
    assert tracklib.open_store(str(tmp_path)).settings("p") == expected


def test_html_in_a_saved_metric_is_kept_as_text(tmp_path):
    """Text is text: the dashboard escapes it where it shows it; the reader keeps it as is."""
    storage = open_storage(str(tmp_path))
    _write(storage, "p", _raw(metric=['<img src=x onerror="alert(1)">']))
    assert tracklib.open_store(str(tmp_path)).settings("p").metric == '<img src=x onerror="alert(1)">'


@pytest.mark.parametrize(
    "content",
    [
        b"not parquet at all",
        table_to_bytes(pa.table({"x": [1]})),  # no tracklib.format_version
        table_to_bytes(pa.table({"x": [1]}), {b"tracklib.format_version": b"9.0"}),  # newer major
        table_to_bytes(pa.concat_tables([_raw(), _raw()])),  # two rows
        table_to_bytes(_raw().slice(0, 0)),  # no row
    ],
)
def test_an_unusable_newest_file_means_no_settings_never_a_crash(tmp_path, content):
    storage = open_storage(str(tmp_path))
    _write(storage, "p", _raw(direction=["max"]), "01aaaaaaaaaaaaaaaaaaaaaaaa")
    storage.write_bytes("settings/project=p/01bbbbbbbbbbbbbbbbbbbbbbbb.parquet", content)
    assert tracklib.open_store(str(tmp_path)).settings("p") is None


def test_only_ulid_named_saves_directly_in_the_folder_count(tmp_path):
    folder = "settings/project=p"
    listed = [
        (f"{folder}/01aaaaaaaaaaaaaaaaaaaaaaaa.parquet", 100),
        (f"{folder}/zzzzzzzzzzzzzzzzzzzzzzzzzz.parquet", 100),  # no ULID: would always sort last
        (f"{folder}/.01cccccccccccccccccccccccc.parquet.tmp-0", 100),
        (f"{folder}/sub/01dddddddddddddddddddddddd.parquet", 100),
        (f"{folder}/01eeeeeeeeeeeeeeeeeeeeeeee.parquet", 10**9),  # too big to be one row
    ]
    assert newest_settings_file("p", listed) == f"{folder}/01aaaaaaaaaaaaaaaaaaaaaaaa.parquet"
    assert newest_settings_file("p", []) is None


def test_any_engine_reads_a_settings_file(tmp_path):
    storage = open_storage(str(tmp_path))
    save_settings(storage, "p", "val/acc", "max", ["params.lr"])
    (info,) = storage.list_files("settings/project=p")
    table = pq.read_table(tmp_path / info.path)
    assert table.schema.metadata[b"tracklib.format_version"] == FORMAT_VERSION.encode()
    assert table.column("metric").to_pylist() == ["val/acc"]
    assert settings_table("p", None, None, [], NOW).column("direction").to_pylist() == [None]
