"""DuckDB and Polars compute the W2 leaderboard straight from the files (no tracklib code) and
match ``store.leaderboard``.

A W2-like sweep (40 runs x 8 typed params x 3 metrics x 10 steps) is written with real
``tracklib.init`` runs; half of it is compacted partway, so the store has index files and
live record snapshots, one compacted run is resumed afterwards with a better ``val_acc``,
and two compacted runs keep the metric parts their merged part replaces (a compaction that
crashed between its write and its deletes). The engine code below reads the Parquet files
by the rules of docs/FORMAT.md §11 only; tracklib is used to build the store and as the
reference answer.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pytest

import tracklib
from tracklib.ops.compact import compact_project
from tracklib.storage import open_storage

PROJECT = "sweep"
RUNS = 40
STEPS = 10
PARAMS = ["batch_size", "dropout", "layers", "lr", "optimizer", "schedule", "seed", "warmup"]
PARAM_TYPES = {
    "lr": float,
    "batch_size": int,
    "optimizer": str,
    "dropout": float,
    "layers": int,
    "warmup": bool,
    "seed": int,
    "schedule": str,
}
RESUMED = 3  # compacted, then resumed with a better val_acc
INTERRUPTED = (5, 6)  # compacted, but the replaced metric parts are still there
FAILED = 27  # not compacted, failed


# -- the store -----------------------------------------------------------------------------------
def _params(i: int) -> dict[str, Any]:
    """benchmarks/sweep.py's W2 params."""
    return {
        "lr": 10 ** -(1 + i % 4),
        "batch_size": 2 ** (4 + i % 5),
        "optimizer": ["adam", "sgd"][i % 2],
        "dropout": (i % 10) / 20,
        "layers": 1 + i % 4,
        "warmup": i % 3 == 0,
        "seed": i,
        "schedule": ["cosine", "linear", "constant"][i % 3],
    }


def _val_acc(i: int, step: int) -> float:
    """W2's curve (many exact ties at the last step between runs with equal i % 11); every
    fourth run plateaus from step 4, so it ties runs that reach the same value later."""
    value = 1 - 1 / (step + 2 + i % 11)
    return min(value, 1 - 1 / (4 + 2 + i % 11)) if i % 4 == 1 else value


def _write_run(root: str, i: int) -> str:
    def log_all(run: tracklib.Run) -> None:
        for step in range(STEPS):
            run.log(
                {
                    "train_loss": 1 / (step + 1 + i % 7),
                    "val_loss": 1.1 / (step + 1 + i % 5),
                    "val_acc": _val_acc(i, step),
                }
            )
            if step == STEPS // 2:
                time.sleep(0.03)  # a flush in between: two metric parts, several snapshots

    if i == FAILED:
        with pytest.raises(RuntimeError):
            with tracklib.init(
                PROJECT, root=root, params=_params(i), capture=False, flush_interval=0.01
            ) as run:
                log_all(run)
                raise RuntimeError("diverged")
        return run.id
    with tracklib.init(PROJECT, root=root, params=_params(i), capture=False, flush_interval=0.01) as run:
        log_all(run)
    return run.id


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    """The store root and the run ids in creation order."""
    base = tmp_path_factory.mktemp("engines")
    root = str(base / "store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKLIB_SPOOL", str(base / "spool"))
        patch.delenv("TRACKLIB_ROOT", raising=False)
        ids = [_write_run(root, i) for i in range(RUNS // 2)]

        # Keep two runs' metric parts, to put them back after the compaction deleted them.
        kept = base / "kept"
        for i in INTERRUPTED:
            folder = Path(root, "metrics", f"project={PROJECT}", f"run_id={ids[i]}")
            assert len(_parquet_files(folder)) >= 2
            shutil.copytree(folder, kept / ids[i])
        report = compact_project(open_storage(root), PROJECT)
        assert report.runs_indexed == RUNS // 2 and report.metric_files_merged >= RUNS
        for i in INTERRUPTED:
            folder = Path(root, "metrics", f"project={PROJECT}", f"run_id={ids[i]}")
            for part in _parquet_files(kept / ids[i]):
                shutil.copy2(part, folder / part.name)

        ids += [_write_run(root, i) for i in range(RUNS // 2, RUNS)]

        # A compacted run resumed: newer snapshots in records/, more parts next to its merged one.
        with tracklib.init(PROJECT, root=root, run_id=ids[RESUMED], resume=True, flush_interval=0.01) as run:
            run.log({"val_loss": 0.01, "val_acc": 0.999, "train_loss": 0.01})
            time.sleep(0.03)
            run.log({"val_loss": 0.02, "val_acc": 0.998, "train_loss": 0.02})
    return root, ids


# -- engine code: files and rules of FORMAT.md §11, no tracklib ----------------------------------
def listed(root: str, *pattern: str) -> list[str]:
    """Rule 1: published Parquet files only."""
    paths = glob.glob(os.path.join(root, *pattern))
    return sorted(p for p in paths if not os.path.basename(p).startswith(("_", ".")))


def record_files(root: str) -> list[str]:
    """Live snapshots first, then compacted runs (rule 1)."""
    return listed(root, "records", f"project={PROJECT}", "run_id=*", "*.parquet") + listed(
        root, "index", f"project={PROJECT}", "*.parquet"
    )


def metric_files(root: str, run_ids: list[str]) -> list[str]:
    return [
        f
        for run_id in run_ids
        for f in listed(root, "metrics", f"project={PROJECT}", f"run_id={run_id}", "*.parquet")
    ]


def usable(root: str, metadata: dict[str, dict[str, str]]) -> list[str]:
    """Rules 3 and 5: version 1.x, and not named in another kept file's tracklib.replaces."""
    kept = [
        path
        for path, meta in metadata.items()
        if meta.get("tracklib.format_version", "").split(".")[0] == "1"
    ]
    replaced = {old for path in kept for old in json.loads(metadata[path].get("tracklib.replaces", "[]"))}
    return [p for p in kept if os.path.relpath(p, root).replace(os.sep, "/") not in replaced]


def duckdb_metadata(files: list[str]) -> dict[str, dict[str, str]]:
    metadata: dict[str, dict[str, str]] = {path: {} for path in files}
    rows = duckdb.sql(
        "SELECT file_name, decode(key), decode(value) FROM parquet_kv_metadata($files) "
        "WHERE decode(key) LIKE 'tracklib.%'",
        params={"files": files},
    ).fetchall()
    for path, key, value in rows:
        metadata[path][key] = value
    return metadata


def polars_metadata(files: list[str]) -> dict[str, dict[str, str]]:
    return {path: pl.read_parquet_metadata(path) for path in files}


def duckdb_leaderboard(root: str, metric: str) -> list[dict[str, Any]]:
    files = record_files(root)
    files = usable(root, duckdb_metadata(files))
    con = duckdb.connect()
    con.execute(
        """
        CREATE TEMP TABLE newest AS
        SELECT * FROM read_parquet($files, hive_partitioning = false)
        QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY seq DESC, record_time DESC) = 1
        """,
        {"files": files},
    )
    # Each param in the type it was logged with (rule 9): all int -> BIGINT, int and float ->
    # DOUBLE, all bool -> BOOLEAN, all str -> VARCHAR.
    types = dict(
        con.execute(
            "SELECT p.key, list(DISTINCT p.type) FROM newest, unnest(params) AS t(p) GROUP BY p.key"
        ).fetchall()
    )
    columns, args = [], {"metric": metric}
    for n, (key, kinds) in enumerate(sorted(types.items())):
        kinds = set(kinds) - {"null"}
        value = f"list_filter(params, lambda p: p.key = $k{n})[1].value"
        if kinds == {"int"}:
            expr = f"CAST({value} AS BIGINT)"
        elif kinds <= {"int", "float"}:
            expr = f"CAST({value} AS DOUBLE)"
        elif kinds == {"bool"}:
            expr = f"({value} = 'true')"
        else:
            expr = value
        args[f"k{n}"] = key
        columns.append(f'{expr} AS "params.{key}"')
    rows = con.execute(
        f"""
        WITH picked AS (
            SELECT *, list_filter(summary, lambda s: s.key = $metric)[1] AS m FROM newest
        )
        SELECT
            run_id,
            status,
            CASE WHEN isnan(m."max") THEN NULL ELSE m."max" END AS value,
            m.max_step AS step,
            {", ".join(columns)}
        FROM picked
        ORDER BY value DESC NULLS LAST, step ASC NULLS LAST, start_time DESC
        """,
        args,
    )
    names = [d[0] for d in rows.description]
    return [dict(zip(names, row)) for row in rows.fetchall()]


def polars_leaderboard(root: str, metric: str) -> list[dict[str, Any]]:
    files = record_files(root)
    files = usable(root, polars_metadata(files))
    records = pl.read_parquet(files, hive_partitioning=False)
    newest = records.sort(["seq", "record_time"], descending=True).unique(
        "run_id", keep="first", maintain_order=True
    )
    best = (
        newest.select("run_id", "summary")
        .explode("summary")
        .unnest("summary")
        .filter(pl.col("key") == metric)
        .select("run_id", value=pl.col("max").fill_nan(None), step="max_step")
    )
    board = newest.select("run_id", "status", "start_time").join(best, on="run_id", how="left")
    params = newest.select("run_id", "params").explode("params").unnest("params")
    for key in sorted(params["key"].drop_nulls().unique().to_list()):
        one = params.filter(pl.col("key") == key)
        kinds = set(one["type"].to_list()) - {"null"}
        if kinds == {"int"}:
            value = pl.col("value").cast(pl.Int64)
        elif kinds <= {"int", "float"}:
            value = pl.col("value").cast(pl.Float64)
        elif kinds == {"bool"}:
            value = pl.col("value") == "true"
        else:
            value = pl.col("value")
        board = board.join(one.select("run_id", value.alias(f"params.{key}")), on="run_id", how="left")
    board = board.sort(["value", "step", "start_time"], descending=[True, False, True], nulls_last=True)
    return board.drop("start_time").to_dicts()


def duckdb_history(root: str, run_ids: list[str], key: str) -> list[tuple[str, int, float]]:
    files = usable(root, duckdb_metadata(metric_files(root, run_ids)))
    return duckdb.sql(
        "SELECT run_id, step, value FROM read_parquet($files, hive_partitioning = false) "
        "WHERE key = $key ORDER BY run_id, step, time",
        params={"files": files, "key": key},
    ).fetchall()


def polars_history(root: str, run_ids: list[str], key: str) -> list[tuple[str, int, float]]:
    files = usable(root, polars_metadata(metric_files(root, run_ids)))
    frame = (
        pl.read_parquet(files, hive_partitioning=False)
        .filter(pl.col("key") == key)
        .sort(["run_id", "step", "time"], maintain_order=True)
    )
    return frame.select("run_id", "step", "value").rows()


LEADERBOARDS = {"duckdb": duckdb_leaderboard, "polars": polars_leaderboard}
HISTORIES = {"duckdb": duckdb_history, "polars": polars_history}


# -- comparing ------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A Python scalar: numpy/pandas scalars unwrapped, every kind of missing as None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _same(got: Any, want: Any) -> bool:
    """Equal values of compatible types: ints and ints, bools and bools, strings and strings."""
    got, want = _plain(got), _plain(want)
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(got, bool) and isinstance(want, bool) and got == want
    if isinstance(want, int):
        return isinstance(got, int) and got == want
    if isinstance(want, float):
        return isinstance(got, float) and got == want
    return type(got) is type(want) and got == want


# -- tests ----------------------------------------------------------------------------------------
def test_the_store_is_half_compacted(sweep):
    root, ids = sweep
    live = {
        Path(p).parent.name.removeprefix("run_id=")
        for p in listed(root, "records", f"project={PROJECT}", "run_id=*", "*.parquet")
    }
    assert listed(root, "index", f"project={PROJECT}", "*.parquet")
    assert live == set(ids[RUNS // 2 :]) | {
        ids[RESUMED]
    }  # the first half only in index/ (but the resumed run)
    for i in INTERRUPTED:  # a merged part and the parts it replaces, side by side
        files = metric_files(root, [ids[i]])
        replaces = [json.loads(duckdb_metadata(files)[f].get("tracklib.replaces", "[]")) for f in files]
        named = {old for names in replaces for old in names}
        assert len(files) >= 3 and {os.path.relpath(f, root) for f in files} & named
    board = tracklib.open_store(root).leaderboard(PROJECT, "val_acc", agg="max")
    assert len(board) == RUNS and board["run_id"].iloc[0] == ids[RESUMED]
    assert board.set_index("run_id").loc[ids[FAILED], "status"] == "failed"
    ties = board.groupby("metrics_max.val_acc")["step"].nunique()
    assert (ties > 1).any(), "some equal values are reached at different steps"
    assert board["metrics_max.val_acc"].duplicated().sum() > 10


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_engine_leaderboard_matches_tracklib(sweep, engine):
    root, ids = sweep
    expected = tracklib.open_store(root).leaderboard(PROJECT, "val_acc", agg="max")
    got = LEADERBOARDS[engine](root, "val_acc")

    assert [row["run_id"] for row in got] == expected["run_id"].tolist()
    for row, (_, want) in zip(got, expected.iterrows(), strict=True):
        assert row["status"] == want["status"]
        assert _same(row["value"], want["metrics_max.val_acc"]), (row["run_id"], row["value"])
        assert _same(row["step"], want["step"]), (row["run_id"], row["step"])
        for key in PARAMS:
            assert _same(row[f"params.{key}"], want[f"params.{key}"]), (row["run_id"], key)
            assert isinstance(row[f"params.{key}"], PARAM_TYPES[key]), (key, row[f"params.{key}"])
    assert got[0]["run_id"] == ids[RESUMED] and got[0]["value"] == 0.999
    assert sorted(row["params.seed"] for row in got) == list(range(RUNS))


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_engine_history_matches_tracklib(sweep, engine):
    root, ids = sweep
    # compacted with leftovers, compacted and resumed, compacted, live, failed
    picked = [ids[i] for i in (*INTERRUPTED, RESUMED, 0, RUNS - 1, FAILED)]
    expected = tracklib.open_store(root).history(PROJECT, run_ids=picked, keys=["val_loss"])
    got = HISTORIES[engine](root, picked, "val_loss")

    assert got == list(
        zip(expected["run_id"], expected["step"].tolist(), expected["value"].tolist(), strict=True)
    )
    per_run = pd.Series([run_id for run_id, *_ in got]).value_counts()
    assert per_run[ids[RESUMED]] == STEPS + 2
    assert (per_run.drop(ids[RESUMED]) == STEPS).all()  # no part counted twice


def test_data_folders_scan_whole_with_resumed_runs_and_custom_ids(local_root):
    """Claim markers live in claims/, so every data folder holds only Parquet files and an
    engine scans it whole (a 1.1 store's markers beside the records made Polars fail)."""
    with local_root.init(run_id="chosen-1") as run:
        run.log({"acc": 0.5})
    with local_root.init(run_id=run.id, resume=True) as again:
        again.log({"acc": 0.7})
    with local_root.init() as other:
        other.log({"acc": 0.1})
    for kind in ("records", "metrics", "environment"):
        frame = pl.scan_parquet(f"{local_root.url}/{kind}/").collect()
        assert {"chosen-1", other.id} <= set(frame["run_id"].to_list()), kind
    assert sorted(os.listdir(f"{local_root.url}/claims/project=digits/run_id=chosen-1")) == [
        "resume-2",
        "resume-3",
        "start",
    ]


def test_a_claim_left_by_a_1_1_writer_still_fences_a_second_start(local_root):
    legacy = Path(local_root.url, "records", "project=digits", "run_id=taken", "_claim-start")
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"taken")
    with pytest.raises(tracklib.ResumeConflictError, match="_claim-start"):
        local_root.init(run_id="taken")
