"""Any field of any file in the store is untrusted: one broken run never hides the others.

Hypothesis mutates real record, index, metric and environment files written by tracklib
(a field made null, retyped, huge, hostile text; rows that claim another run or project;
folders and links no writer makes), then every reader entry point must still answer,
list every intact run, and report what it skipped instead of raising.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracklib
from tracklib import cli

from mutations import (
    HOSTILE_TEXT,
    NESTED,
    NUMBERS,
    copy_split,
    files_of,
    mutate_column,
    mutate_entry,
    rewrite,
    write_base_store,
)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def base_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "base"
    return root, write_base_store(root)


def check_readers(root, ids, spared):
    """Every entry point answers; every spared run is listed and ranked. (What is skipped
    is warned about; which warnings come is not the point here.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _check_readers(root, ids, spared)


def _check_readers(root, ids, spared):
    store = tracklib.open_store(str(root))
    assert "p" in store.projects()
    runs = store.runs("p")
    assert set(spared) <= set(runs["run_id"])
    for agg in ("last", "min", "max"):
        board = store.leaderboard("p", "acc", agg=agg)
        assert set(spared) <= set(board["run_id"])
    history = store.history("p")
    assert set(spared) <= set(history["run_id"])
    for run_id in ids:
        try:
            store.run("p", run_id)
        except tracklib.RunNotFoundError:
            assert run_id not in spared
    for run_id in spared:
        details = store.run("p", run_id)
        assert details.params["opt"] == "adam" and details.params["none"] is None
    assert cli.main(["ls", "--root", str(root)]) == 0
    return store


@pytest.fixture
def copy_of(base_store, tmp_path_factory):
    base, ids = base_store

    def make():
        return copy_split(base, ids, tmp_path_factory.mktemp("case") / "store"), ids

    return make


@SETTINGS
@given(
    column=st.sampled_from(
        [
            "format_version",
            "run_id",
            "project",
            "name",
            "group",
            "tags",
            "notes",
            "status",
            "error",
            "start_time",
            "end_time",
            "heartbeat_time",
            "record_time",
            "seq",
            "host",
            "git_commit",
            "params",
            "summary",
            "artifacts",
        ]
    ),
    how=st.sampled_from(["null", "text", "number", "drop"]),
    text=HOSTILE_TEXT,
    number=NUMBERS,
    victims=st.integers(1, 2),
)
def test_a_mutated_record_field_never_hides_the_other_runs(copy_of, column, how, text, number, victims):
    root, ids = copy_of()
    for run_id in ids[:victims]:
        (path,) = files_of(root / "records" / "project=p", f"run_id={run_id}")
        table = pq.read_table(path)
        rewrite(path, mutate_column(table, column, how, text, number), table.schema.metadata)
    check_readers(root, ids, ids[victims:])


@SETTINGS
@given(
    column=st.sampled_from(sorted(NESTED)),
    data=st.data(),
    extra=st.booleans(),
)
def test_a_mutated_param_summary_or_artifact_entry_never_hides_the_other_runs(copy_of, column, data, extra):
    field = data.draw(st.sampled_from(NESTED[column]))
    value = data.draw(st.one_of(st.none(), HOSTILE_TEXT, NUMBERS))
    if column == "params" and field == "type":
        value = data.draw(st.sampled_from(["int", "float", "bool", "null", "str", "weird", None]))
    root, ids = copy_of()
    victim = ids[0]
    (path,) = files_of(root / "records" / "project=p", f"run_id={victim}")
    table = pq.read_table(path)
    rewrite(path, mutate_entry(table, column, field, value, extra), table.schema.metadata)
    store = check_readers(root, ids, ids[1:])
    try:  # the victim opens without its broken entries, or its file is named as skipped
        store.run("p", victim)
    except tracklib.RunNotFoundError:
        assert any(victim in path for path in store.skipped_files)


def test_an_int_param_beyond_int64_reads_as_that_int(copy_of):
    root, ids = copy_of()
    (path,) = files_of(root / "records" / "project=p", f"run_id={ids[0]}")
    table = pq.read_table(path)
    big = str(2**70)
    rows = [
        [{**e, "value": big} if e["key"] == "depth" else e for e in r] for r in table["params"].to_pylist()
    ]
    table2 = table.set_column(
        table.schema.get_field_index("params"), "params", pa.array(rows, table.schema.field("params").type)
    )
    rewrite(path, table2, table.schema.metadata)
    store = check_readers(root, ids, ids)
    assert store.run("p", ids[0]).params["depth"] == 2**70
    runs = store.runs("p").set_index("run_id")
    assert runs.loc[ids[0], "params.depth"] == 2**70 and runs.loc[ids[1], "params.depth"] == 1


def test_a_metric_key_named_like_a_derived_column_gets_its_own_column(local_root):
    with local_root.init() as run:
        run.log({"acc": 0.5, "acc.min": 0.9})
        run.log({"acc": 0.7, "acc.min": 0.1})
    store = local_root.store()
    runs = store.runs("digits")
    assert runs.columns.is_unique
    row = runs.iloc[0]
    assert (row["metrics.acc"], row["metrics_min.acc"], row["metrics.acc.min"]) == (0.7, 0.5, 0.1)
    board = store.leaderboard("digits", "acc", agg="min")
    assert board["metrics_min.acc"].tolist() == [0.5]


@SETTINGS
@given(
    row_run_id=st.sampled_from(["other", "../x", "", "a/b", None, "OTHER_RUN"]),
    row_project=st.sampled_from(["p", "q", None, "p/../q"]),
)
def test_a_record_row_claiming_another_run_or_project_is_skipped_and_reported(
    copy_of, row_run_id, row_project
):
    root, ids = copy_of()
    victim, target = ids[0], ids[1]
    (path,) = files_of(root / "records" / "project=p", f"run_id={victim}")
    table = pq.read_table(path)
    claimed = target if row_run_id == "OTHER_RUN" else row_run_id
    forged = table.set_column(1, "run_id", pa.array([claimed], pa.string()))
    forged = forged.set_column(2, "project", pa.array([row_project], pa.string()))
    forged = forged.set_column(13, "seq", pa.array([10**6], pa.int64()))  # would win every tie
    forged = forged.set_column(3, "name", pa.array(["forged"], pa.string()))
    rewrite(path, forged, table.schema.metadata)
    store = check_readers(root, ids, ids[1:])
    runs = store.runs("p")
    if not (claimed == victim and row_project == "p"):
        assert "forged" not in set(runs["name"])  # no file speaks for a run or project not its own
        assert any(victim in path for path in store.skipped_files)


def test_broken_folders_links_and_metric_files_are_skipped_and_listed(copy_of, tmp_path):
    root, ids = copy_of()
    # a copied project folder whose name no writer can make, a folder loop, a link out
    shutil.copytree(root / "records" / "project=p", root / "records" / "project=p (copy)")
    os.symlink(root / "records", root / "records" / "project=p" / "loop")
    outside = tmp_path / "outside"
    (outside / f"run_id={ids[0]}").mkdir(parents=True)
    (path,) = files_of(root / "records" / "project=p", f"run_id={ids[0]}")
    forged = pq.read_table(path)
    rewrite(
        outside / f"run_id={ids[0]}" / "01zzzzzzzzzzzzzzzzzzzzzzzz.parquet",
        forged.set_column(3, "name", pa.array(["from outside"], pa.string())).set_column(
            13, "seq", pa.array([10**6], pa.int64())
        ),
        forged.schema.metadata,
    )
    os.symlink(outside, root / "records" / "project=p" / "linked")
    # a metric part and an environment file that are not Parquet
    (bad_metric,) = files_of(root / "metrics" / "project=p", f"run_id={ids[1]}")[:1]
    Path(bad_metric).write_bytes(b"not parquet")
    env = files_of(root / "environment" / "project=p", f"run_id={ids[2]}")[0]
    Path(env).write_bytes(json.dumps({"x": 1}).encode())
    store = check_readers(root, ids, [i for i in ids if i != ids[1]])
    assert store.run("p", ids[2]).environment == {}  # its only environment file is broken
    assert "from outside" not in set(store.runs("p")["name"])
    assert store.projects() == ["p"]
    skipped = store.skipped_files
    assert any("p (copy)" in path for path in skipped)
    assert any(bad_metric.endswith(path) for path in skipped)
    assert any(env.endswith(path) for path in skipped)


@pytest.mark.parametrize(
    "crafted",
    [
        "artifacts/project=digits/run_id={run}/x/../../../../records/secret.txt",
        "artifacts/project=digits/run_id={run}/../run_id={other}/x/secret.txt",
        "artifacts/project=digits/run_id={other}/{file}/secret.txt",
        "/etc/passwd",
        "artifacts/project=digits/run_id={run}/x//secret.txt",
        "artifacts/project=digits/run_id={run}/x/a\\..\\secret.txt",
    ],
)
def test_artifact_reads_stay_in_the_runs_own_folder_on_every_store(root, tmp_path, crafted):
    """The path comes from a record anyone with write access can craft: on local disk, in
    memory and on S3 alike, only the run's own artifacts are read."""
    source = tmp_path / "secret.txt"
    source.write_bytes(b"secret")
    with root.init() as other:
        secret = other.log_artifact(source)
    with root.init() as run:
        mine = run.log_artifact(source, name="mine.txt")
    store = root.store()
    assert store.read_artifact(mine.path, "digits", run.id) == b"secret"
    path = crafted.format(run=run.id, other=other.id, file=secret.path.split("/")[3])
    with pytest.raises(tracklib.UnsafePathError):
        store.read_artifact(path, "digits", run.id)


ROW_VALUES = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**63 - 1, -(2**63), 253_402_300_800_000_000]),  # past year 9999
    HOSTILE_TEXT,
)


@SETTINGS
@given(
    changes=st.dictionaries(
        st.sampled_from(
            ["start_time", "end_time", "heartbeat_time", "record_time", "seq", "run_id", "project"]
        ),
        ROW_VALUES,
        min_size=1,
        max_size=3,
    )
)
def test_one_bad_row_of_an_index_file_hides_only_its_own_run(base_store, tmp_path_factory, changes):
    """An index file holds many runs: values their types allow but no writer makes (a time past
    year 9999, a null seq, a forged id), in one row, must cost that row, not the file."""
    base, ids = base_store
    root = tmp_path_factory.mktemp("row") / "store"
    shutil.copytree(base, root, symlinks=True)
    (index_file,) = files_of(root, "index")
    table = pq.read_table(index_file)
    victim = table["run_id"][0].as_py()
    for column, value in changes.items():
        kind = table.schema.field(column).type
        if pa.types.is_timestamp(kind) or pa.types.is_integer(kind):
            first = None if isinstance(value, str) else value
            new = pa.array([first, *table[column].cast(pa.int64()).to_pylist()[1:]], pa.int64()).cast(kind)
        else:
            first = str(value) if isinstance(value, int) else value
            new = pa.array([first, *table[column].to_pylist()[1:]], kind)
        table = table.set_column(table.schema.get_field_index(column), column, new)
    rewrite(index_file, table, table.schema.metadata)
    check_readers(root, ids, [run_id for run_id in ids if run_id != victim])
