"""run.log_dataset on local files and folders, through the public API: what a user reads back
from store.run(...).datasets and store.runs(...) (the datasets.<name> column, the filter)."""

from __future__ import annotations

import hashlib
import os
import shutil
import string
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracklib
from tracklib.analysis.filters import apply_filter


def _logged(store_root: Path, source: str | os.PathLike[str], name: str = "train") -> tuple[str, str]:
    """Log ``source`` in a new run; its run id and the fingerprint the store gives back."""
    with tracklib.init("p", root=str(store_root), capture=False) as run:
        run.log_dataset(name, source)
    store = tracklib.open_store(str(store_root))
    return run.id, store.run("p", run.id).datasets.set_index("name").loc[name, "fingerprint"]


def _folder(path: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path


FILES = {"a.csv": b"x,y\n1,2\n", "sub/b.bin": bytes(range(256)) * 40, "sub/deep/c.txt": b"hello"}


def test_a_folder_round_trips_with_its_counts_and_a_readable_source(tmp_path):
    data = _folder(tmp_path / "data", FILES)
    with tracklib.init("p", root=str(tmp_path / "store"), capture=False) as run:
        run.log_params({"lr": 0.1})
        returned = run.log_dataset("train", data)
    row = tracklib.open_store(str(tmp_path / "store")).run("p", run.id).datasets.iloc[0]
    assert (row["name"], row["source"], row["kind"]) == ("train", str(data), "folder")
    assert (row["files"], row["bytes"]) == (3, sum(len(v) for v in FILES.values()))
    assert row["fingerprint"] == returned.fingerprint and row["fingerprint"].startswith("sha256:")


def test_a_single_file_fingerprint_is_its_sha256(tmp_path):
    data = _folder(tmp_path / "data", FILES) / "sub" / "b.bin"
    _, fingerprint = _logged(tmp_path / "store", data)
    assert fingerprint == "sha256:" + hashlib.sha256(data.read_bytes()).hexdigest()


def test_folder_fingerprint_is_stable_and_changes_with_one_byte_an_added_or_a_renamed_file(tmp_path):
    data = _folder(tmp_path / "data", FILES)
    store = tmp_path / "store"
    first = _logged(store, data)[1]
    assert _logged(store, data)[1] == first
    assert _logged(store, _folder(tmp_path / "copy", FILES))[1] == first  # where it lies: no matter
    changed = bytearray(FILES["sub/b.bin"])
    changed[5000] ^= 1
    (data / "sub" / "b.bin").write_bytes(bytes(changed))
    one_byte = _logged(store, data)[1]
    (data / "sub" / "b.bin").write_bytes(FILES["sub/b.bin"])
    assert _logged(store, data)[1] == first  # back to the same bytes, back to the same version
    (data / "new.txt").write_bytes(b"")
    added = _logged(store, data)[1]
    (data / "new.txt").unlink()
    (data / "a.csv").rename(data / "a2.csv")
    renamed = _logged(store, data)[1]
    assert len({first, one_byte, added, renamed}) == 4


def test_runs_table_has_a_datasets_column_the_filter_selects_by(tmp_path):
    v1 = _folder(tmp_path / "v1", FILES)
    v2 = _folder(tmp_path / "v2", FILES | {"a.csv": b"x,y\n1,3\n"})
    store_root = tmp_path / "store"
    ids = {}
    for name, source in (("old", v1), ("new", v2), ("new-again", v2)):
        with tracklib.init("p", root=str(store_root), name=name, capture=False) as run:
            run.log_dataset("train", source)
        ids[name] = run.id
    with tracklib.init("p", root=str(store_root), name="no-data", capture=False):
        pass
    runs = tracklib.open_store(str(store_root)).runs("p")
    fingerprints = dict(zip(runs["name"], runs["datasets.train"]))
    assert fingerprints["new"] == fingerprints["new-again"] != fingerprints["old"]
    assert fingerprints["no-data"] is None or str(fingerprints["no-data"]) == "<NA>"
    picked = apply_filter(runs, f'datasets.train = "{fingerprints["new"]}"')
    assert sorted(picked["name"]) == ["new", "new-again"]
    assert list(apply_filter(runs, "datasets.train = null")["name"]) == ["no-data"]


def test_links_inside_the_folder_are_followed_and_links_out_of_it_never_read(tmp_path):
    data = _folder(tmp_path / "data", FILES)
    outside = tmp_path / "secret.txt"
    outside.write_text("outside data")
    (data / "inner-link").symlink_to("a.csv")
    (data / "out-link").symlink_to(outside)
    (data / "folder-link").symlink_to(tmp_path)  # a loop, were it followed
    store = tmp_path / "store"
    with pytest.warns(RuntimeWarning, match="2 symbolic link"):
        run_id, first = _logged(store, data)
    row = tracklib.open_store(str(store)).run("p", run_id).datasets.iloc[0]
    assert row["files"] == 4  # a.csv twice (through inner-link), b.bin, c.txt; out-link not read
    outside.write_text("changed outside data")
    with pytest.warns(RuntimeWarning):
        assert _logged(store, data)[1] == first  # the link's target is not the dataset's
    (data / "out-link").unlink()
    (data / "out-link").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.warns(RuntimeWarning):
        assert _logged(store, data)[1] != first  # re-pointing the link is a change


def test_the_named_source_may_itself_be_a_link(tmp_path):
    data = _folder(tmp_path / "data", FILES)
    (tmp_path / "current").symlink_to(data)
    assert _logged(tmp_path / "store", tmp_path / "current")[1] == _logged(tmp_path / "store", data)[1]


def test_bad_input_raises_at_the_call_and_keeps_what_was_logged(tmp_path):
    data = _folder(tmp_path / "data", FILES)
    with tracklib.init("p", root=str(tmp_path / "store"), capture=False) as run:
        run.log_params({"lr": 0.1})
        run.log_dataset("train", data)
        with pytest.raises(FileNotFoundError, match="missing-folder"):
            run.log_dataset("train", tmp_path / "missing-folder")
        with pytest.raises(tracklib.InvalidKeyError, match="dataset key"):
            run.log_dataset("", data)
        with pytest.raises(tracklib.InvalidValueError, match="source must be"):
            run.log_dataset("x", 42)  # type: ignore[arg-type]
        with pytest.raises(tracklib.InvalidValueError, match="storage_options are for remote"):
            run.log_dataset("x", data, storage_options={"key": "k"})
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(ValueError, match="neither a regular file nor a folder"):
            run.log_dataset("x", tmp_path / "pipe")
    details = tracklib.open_store(str(tmp_path / "store")).run("p", run.id)
    assert details.params == {"lr": 0.1}
    assert list(details.datasets["name"]) == ["train"]
    assert details.datasets.iloc[0]["files"] == 3


def test_a_finished_run_refuses(tmp_path):
    run = tracklib.init("p", root=str(tmp_path / "store"), capture=False)
    run.finish()
    with pytest.raises(tracklib.RunFinishedError):
        run.log_dataset("train", tmp_path)


def test_logging_a_name_again_replaces_it_and_a_resumed_run_keeps_its_datasets(tmp_path):
    store_root = str(tmp_path / "store")
    a = _folder(tmp_path / "a", {"f": b"1"})
    b = _folder(tmp_path / "b", {"f": b"2"})
    with tracklib.init("p", root=store_root, capture=False, run_id="r1") as run:
        run.log_dataset("train", a)
        run.log_dataset("eval", a)
        replaced = run.log_dataset("train", b)
    with tracklib.init("p", root=store_root, capture=False, run_id="r1", resume=True):
        pass
    datasets = tracklib.open_store(store_root).run("p", "r1").datasets.set_index("name")
    assert sorted(datasets.index) == ["eval", "train"]
    assert datasets.loc["train", "fingerprint"] == replaced.fingerprint != datasets.loc["eval", "fingerprint"]


# dataset names: any non-empty text a key may be, including ones the filter cannot spell
NAMES = st.text(alphabet=string.ascii_letters + string.digits + "_./- éß", min_size=1, max_size=20)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES, min_size=1, max_size=4, unique=True))
def test_any_valid_names_come_back_as_rows_and_columns(tmp_path, names):
    store_root = tmp_path / "store"
    shutil.rmtree(store_root, ignore_errors=True)
    source = _folder(tmp_path / "data", {"f": b"data"})
    with tracklib.init("p", root=str(store_root), capture=False) as run:
        for name in names:
            run.log_dataset(name, source)
    store = tracklib.open_store(str(store_root))
    assert sorted(store.run("p", run.id).datasets["name"]) == sorted(names)
    runs = store.runs("p")
    assert {c for c in runs.columns if c.startswith("datasets.")} == {f"datasets.{n}" for n in names}


FOLDERS = st.dictionaries(
    st.lists(st.text(alphabet="abcXYZ019_-. ", min_size=1, max_size=6), min_size=1, max_size=3)
    .map("/".join)
    .filter(lambda rel: all(part not in (".", "..") for part in rel.split("/"))),
    st.binary(max_size=300),
    min_size=1,
    max_size=6,
)


def _plain_tree(files: dict[str, bytes]) -> dict[str, bytes]:
    """Drop paths that would be both a file and a folder (``a`` and ``a/b``)."""
    names = sorted(files)
    return {n: files[n] for n in names if not any(other.startswith(n + "/") for other in names)}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=FOLDERS.map(_plain_tree), data=st.data())
def test_same_contents_same_fingerprint_any_change_another(tmp_path, files, data):
    for folder in ("one", "two", "store"):
        shutil.rmtree(tmp_path / folder, ignore_errors=True)
    store = tmp_path / "store"
    one = _logged(store, _folder(tmp_path / "one", files))[1]
    two_dir = _folder(tmp_path / "two", files)
    assert _logged(store, two_dir)[1] == one
    rel = data.draw(st.sampled_from(sorted(files)))
    change = data.draw(st.sampled_from(["byte", "append", "rename"]))
    target = two_dir / rel
    if change == "byte" and files[rel]:
        body = bytearray(files[rel])
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] ^= data.draw(st.integers(1, 255))
        target.write_bytes(bytes(body))
    elif change == "rename":
        target.rename(target.with_name(target.name + "~"))
    else:
        target.write_bytes(files[rel] + b"\0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no links here: nothing to warn about
        assert _logged(store, two_dir)[1] != one


def _as_written_by_1_2(record_folder: Path) -> None:
    """Rewrite a run's record files as tracklib 1.2 wrote them: no datasets column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in record_folder.glob("*.parquet"):
        table = pq.read_table(path).drop_columns(["datasets"])
        table = table.set_column(0, "format_version", pa.array(["1.2"] * table.num_rows))
        metadata = {**table.schema.metadata, b"tracklib.format_version": b"1.2"}
        pq.write_table(table.replace_schema_metadata(metadata), path)


@pytest.mark.parametrize("module", ["duckdb", "polars"])
def test_a_store_with_1_2_and_1_3_records_reads_with_tracklib_and_the_engine_recipes(tmp_path, module):
    from test_format_spec import run_snippet

    root = tmp_path / "store"
    data = _folder(tmp_path / "data", FILES)
    names = []
    for i in range(4):  # a 1.3 record first (engines take the first file's columns), then both
        with tracklib.init("digits", root=str(root), name=f"run-{i}", capture=False) as run:
            run.log_params({"lr": 0.1 * (i + 1)})
            run.log({"val/acc": 0.5 + i / 10})
            if i % 2 == 0:
                run.log_dataset("train", data)
            else:
                names.append(run.name)
        if i % 2:
            _as_written_by_1_2(root / "records" / "project=digits" / f"run_id={run.id}")
    runs = tracklib.open_store(str(root)).runs("digits").set_index("name")
    assert runs["datasets.train"].isna().tolist() == [name in names for name in runs.index]
    leaderboard = run_snippet(module, str(root))["leaderboard"]
    frame = leaderboard.to_pandas() if hasattr(leaderboard, "to_pandas") else leaderboard
    assert sorted(frame["name"]) == [f"run-{i}" for i in range(4)]


def test_datasets_survive_compaction_into_the_index(tmp_path):
    from tracklib.ops.compact import compact_project
    from tracklib.storage import open_storage

    root = str(tmp_path / "store")
    data = _folder(tmp_path / "data", FILES)
    with tracklib.init("p", root=root, capture=False) as run:
        logged = run.log_dataset("train", data)
    with tracklib.init("p", root=root, capture=False):  # one without: a null in the index
        pass
    report = compact_project(open_storage(root), "p")
    assert not list((tmp_path / "store" / "records" / "project=p").glob("*/*.parquet")), report
    store = tracklib.open_store(root)
    assert store.runs("p").set_index("run_id").loc[run.id, "datasets.train"] == logged.fingerprint
    assert store.run("p", run.id).datasets.iloc[0]["fingerprint"] == logged.fingerprint
