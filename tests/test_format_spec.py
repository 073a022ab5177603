"""The engine recipes of the spec are executable: the DuckDB and Polars snippets of
docs/ENGINES.md (the recipes docs/FORMAT.md §14 points to) read a store tracklib wrote.

The ```python blocks of docs/ENGINES.md that import duckdb and polars are extracted from the
markdown and run with ``exec`` against a small store, as written, compacted, and caught
between a compaction's writes and its deletes; each must build the same leaderboard as
``tracklib.open_store(root).leaderboard("digits", "val/acc", agg="max")`` and the same
``val/acc`` history as ``store.history("digits", keys=["val/acc"])``. The Spark recipe is
a ```python block too, but imports neither and is not run here (no JVM).
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ulid import ULID

import tracklib
from tracklib.format.schema import RECORD_SCHEMA
from tracklib.ops.compact import compact_project
from tracklib.storage import open_storage

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "ENGINES.md"  # FORMAT.md §14 links here
PROJECT = "digits"
METRIC = "val/acc"
NAN = float("nan")
INF = float("inf")


# -- the recipes' code blocks -----------------------------------------------------------------
def python_blocks(markdown: str) -> list[str]:
    """The bodies of the fenced blocks tagged exactly ```python, in document order."""
    blocks: list[str] = []
    body: list[str] | None = None
    for line in markdown.splitlines():
        fence = line.strip()
        if body is None:
            if fence == "```python":
                body = []
        elif fence.startswith("```"):
            blocks.append("\n".join(body) + "\n")
            body = None
        else:
            body.append(line)
    assert body is None, "docs/ENGINES.md has an unclosed ```python block"
    return blocks


def snippet(module: str) -> str:
    """The one ```python block of docs/ENGINES.md that imports ``module``."""
    found = [
        block
        for block in python_blocks(RECIPES.read_text(encoding="utf-8"))
        if re.search(rf"^\s*(import {module}\b|from {module}\b)", block, re.M)
    ]
    assert len(found) == 1, f"expected one ```python block importing {module}, found {len(found)}"
    return found[0]


def run_snippet(module: str, root: str) -> dict[str, Any]:
    """The block's namespace after running it: ``leaderboard`` and ``history`` among others."""
    namespace: dict[str, Any] = {"ROOT": root, "__name__": f"format_spec_{module}"}
    exec(compile(snippet(module), f"docs/ENGINES.md ({module} block)", "exec"), namespace)
    for name in ("leaderboard", "history"):
        assert name in namespace, f"the {module} block must assign `{name}`"
    return namespace


# -- comparing leaderboards ----------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """None for every flavour of missing (None, NaN, pd.NA); floats as Python floats."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):  # numpy floats included
        return None if math.isnan(value) else float(value)
    return value


def rows(frame: Any, columns: list[str]) -> list[tuple[Any, ...]]:
    """(name, status, metric, lr) tuples of a pandas or polars frame, in order."""
    if hasattr(frame, "to_pandas"):  # polars
        frame = frame.to_pandas()
    return [
        (name, status, _plain(metric), _plain(lr))
        for name, status, metric, lr in zip(*(frame[c].tolist() for c in columns), strict=True)
    ]


def expected_rows(root: str) -> list[tuple[Any, ...]]:
    board = tracklib.open_store(root).leaderboard(PROJECT, METRIC, agg="max")
    return rows(board, ["name", "status", f"metrics_max.{METRIC}", "params.lr"])


def snippet_rows(module: str, root: str) -> list[tuple[Any, ...]]:
    board = run_snippet(module, root)["leaderboard"]
    assert list(board.columns) == ["name", "status", "val_acc", "lr"]
    return rows(board, ["name", "status", "val_acc", "lr"])


def history_rows(frame: Any) -> list[tuple[Any, ...]]:
    """(run_id, key, step, value) tuples of a pandas or polars frame or an Arrow table."""
    if hasattr(frame, "to_pylist"):  # pyarrow
        records = frame.to_pylist()
    elif hasattr(frame, "to_dicts"):  # polars
        records = frame.to_dicts()
    else:
        records = frame.to_dict("records")
    return [(r["run_id"], r["key"], int(r["step"]), _plain(r["value"])) for r in records]


def expected_history(root: str) -> list[tuple[Any, ...]]:
    return history_rows(tracklib.open_store(root).history(PROJECT, keys=[METRIC]))


# -- the store -------------------------------------------------------------------------------------
def _record_row(run_id: str, name: str, status: str, when: datetime, lr: float, best: float) -> dict:
    """One record row built from the spec alone (what a second writer could write)."""
    return {
        "format_version": "1.0",
        "run_id": run_id,
        "project": PROJECT,
        "name": name,
        "group": None,
        "tags": [],
        "notes": None,
        "status": status,
        "error": None,
        "start_time": when,
        "end_time": None,
        "heartbeat_time": when,
        "record_time": when,
        "seq": 1,
        "host": None,
        "git_commit": None,
        "params": [{"key": "lr", "type": "float", "value": repr(lr)}],
        "summary": [
            {
                "key": METRIC,
                "last": best,
                "last_step": 3,
                "min": best,
                "min_step": 3,
                "max": best,
                "max_step": 3,
                "count": 4,
            }
        ],
        "artifacts": [],
    }


def write_record(root: Path, row: dict, version: str = "1.0", file_id: str | None = None) -> Path:
    """Write ``row`` as a record file carrying ``tracklib.format_version = version``."""
    file_id = file_id or str(ULID()).lower()
    folder = root / "records" / f"project={PROJECT}" / f"run_id={row['run_id']}"
    folder.mkdir(parents=True, exist_ok=True)
    schema = RECORD_SCHEMA.with_metadata({b"tracklib.format_version": version.encode()})
    path = folder / f"{file_id}.parquet"
    pq.write_table(pa.Table.from_pylist([row], schema=schema), path)
    return path


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A project with finished, failed, running and stale runs, odd values and junk files."""
    monkeypatch.setenv("TRACKLIB_SPOOL", str(tmp_path / "spool"))
    monkeypatch.delenv("TRACKLIB_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "store"
    common = {"project": PROJECT, "root": str(root), "capture": False}

    curves: list[tuple[str, Any, list[float]]] = [
        ("steady", 0.1, [0.5, 0.7, 0.6]),
        ("late-tie", 0.08, [0.1, 0.2, 0.3, 0.7]),  # same max as "steady", reached later: ranks after
        ("best", 0.01, [0.6, 0.8, 0.85]),
        ("int-lr", 1, [0.2, 0.3]),  # an int param decodes as a number too
        ("with-nan", 0.05, [NAN, 0.75, -INF]),  # max ignores NaN
        ("never-logged", 0.3, []),  # no val/acc at all: ranks last
        ("all-nan", 0.4, [NAN, NAN]),  # max is NaN: ranks last too
    ]
    for name, lr, accs in curves:
        with tracklib.init(name=name, params={"lr": lr, "opt": {"name": "adam"}}, **common) as run:
            for step, acc in enumerate(accs):
                run.log({METRIC: acc, "train/loss": 1.0 - step / 10}, step=step)
            if not accs:
                run.log({"train/loss": 0.5})

    # Steps logged out of order, with a repeated step.
    with tracklib.init(name="out-of-order", params={"lr": 0.02}, **common) as run:
        for step, acc in [(5, 0.55), (2, 0.77), (5, 0.5), (3, 0.6)]:
            run.log({METRIC: acc}, step=step)

    # A hand-set summary value of a metric never logged: last = min = max, count 0, null steps.
    with tracklib.init(name="user-summary", params={"lr": 0.2}, **common) as run:
        run.log({"train/loss": 0.4})
        run.summary[METRIC] = 0.9

    # A hand-set value of a logged metric replaces "last" only; max stays the logged one.
    with tracklib.init(name="user-override", params={"lr": 0.25}, **common) as run:
        run.log({METRIC: 0.1})
        run.summary[METRIC] = 0.95

    # A failed run.
    with pytest.raises(ValueError, match="diverged"):
        with tracklib.init(name="failed", params={"lr": 0.9}, **common) as run:
            run.log({METRIC: 0.05})
            raise ValueError("diverged")

    # A stale run: "running" on disk, last heartbeat an hour ago (its writer died).
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    write_record(root, _record_row("crashed0run", "crashed", "running", an_hour_ago, 0.7, 0.65))

    # Files every reader must ignore, next to real ones.
    junk = root / "records" / f"project={PROJECT}" / "run_id=crashed0run"
    (junk / "_SUCCESS").write_bytes(b"")
    (junk / "_garbage.parquet").write_bytes(b"not parquet")
    (junk / ".hidden.parquet").write_bytes(b"not parquet")
    (junk / ".01jzzzzzzzzzzzzzzzzzzzzzzz.parquet.tmp-0123abcd").write_bytes(b"half written")
    (junk / "README.txt").write_text("not data")

    # A run still running, with a fresh heartbeat: wait until its first flush is visible.
    live = tracklib.init(name="live", params={"lr": 0.03}, flush_interval=0.05, **common)
    try:
        live.log({METRIC: 0.66}, step=0)
        deadline = time.monotonic() + 20
        while True:
            runs = tracklib.open_store(str(root)).runs(PROJECT)
            row = runs[runs["name"] == "live"]
            if len(row) and row[f"metrics_max.{METRIC}"].notna().all():
                break
            assert time.monotonic() < deadline, "the live run's first flush never arrived"
            time.sleep(0.05)
        yield root
    finally:
        live.finish()


def _parquet_below(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.parquet") if not p.name.startswith((".", "_"))]


def _run_id(root: Path, name: str) -> str:
    runs = tracklib.open_store(str(root)).runs(PROJECT)
    return runs.loc[runs["name"] == name, "run_id"].item()


@pytest.fixture(params=["compacted", "interrupted"])
def compacted_store(store: Path, request: pytest.FixtureRequest) -> Path:
    """The fixture store compacted five times: several index files merged into one, a run
    resumed between compactions and one after the last, metric parts merged. "interrupted":
    the files the last compaction deleted are put back, as if it had crashed before its
    deletes (every row is then in two files; the metadata says which to ignore)."""
    common = {"project": PROJECT, "root": str(store), "capture": False}

    def extra(name: str, accs: list[float]) -> None:
        with tracklib.init(name=name, params={"lr": 0.5}, flush_interval=0.01, **common) as run:
            for step, acc in enumerate(accs):
                run.log({METRIC: acc}, step=step)
                time.sleep(0.03)  # a part per step: something to merge

    compact_project(open_storage(str(store)), PROJECT)
    for k in range(3):  # one more small index file each: four in all
        extra(f"extra-{k}", [0.1 * k, 0.2 * k])
        compact_project(open_storage(str(store)), PROJECT)
    with tracklib.init(run_id=_run_id(store, "steady"), resume=True, **common) as run:
        run.log({METRIC: 0.97})  # compacted, resumed: its live records must win
    extra("extra-3", [0.3, 0.35])

    before = {p: p.read_bytes() for p in _parquet_below(store)}
    history_before = expected_history(str(store))
    report = compact_project(open_storage(str(store)), PROJECT)
    assert report.index_files_merged == 4 and report.metric_files_merged >= 2
    if request.param == "interrupted":
        for path, data in before.items():
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    assert expected_history(str(store)) == history_before  # tracklib itself counts nothing twice

    with tracklib.init(run_id=_run_id(store, "late-tie"), resume=True, **common) as run:
        run.log({METRIC: 0.71})  # resumed after the last compaction: above its compacted max, 0.7
    return store


# -- tests -------------------------------------------------------------------------------------------
def test_spec_has_one_duckdb_and_one_polars_block():
    blocks = python_blocks(RECIPES.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    assert "duckdb" in snippet("duckdb") and "polars" not in snippet("duckdb")
    assert "polars" in snippet("polars") and "duckdb" not in snippet("polars")
    # The Spark example is a ```python block too, verified by hand: never picked up here.
    assert snippet("pyspark") not in (snippet("duckdb"), snippet("polars"))
    assert "pyspark" not in snippet("duckdb") + snippet("polars")


def test_fixture_covers_the_interesting_cases(store: Path):
    expected = expected_rows(str(store))
    by_name = {name: (status, value, lr) for name, status, value, lr in expected}
    assert by_name["best"] == ("finished", 0.85, 0.01)
    assert by_name["with-nan"] == ("finished", 0.75, 0.05)
    assert by_name["user-summary"] == ("finished", 0.9, 0.2)
    assert by_name["user-override"] == ("finished", 0.1, 0.25)
    assert by_name["out-of-order"] == ("finished", 0.77, 0.02)
    assert by_name["int-lr"] == ("finished", 0.3, 1.0)
    assert by_name["failed"][0] == "failed"
    assert by_name["crashed"][0] == "stale"
    assert by_name["live"] == ("running", 0.66, 0.03)
    assert by_name["never-logged"][1] is None and by_name["all-nan"][1] is None
    names = [name for name, *_ in expected]
    assert names[:2] == ["user-summary", "best"]
    assert names.index("steady") + 1 == names.index("late-tie")  # equal max: lower step first
    assert {name for name, *_ in expected[-2:]} == {"never-logged", "all-nan"}


def test_summary_and_params_are_encoded_as_the_spec_says(store: Path):
    """The newest record's list columns, read with plain pyarrow."""
    newest: dict[str, dict] = {}
    for path in (store / "records" / f"project={PROJECT}").glob("run_id=*/*.parquet"):
        if path.name.startswith((".", "_")):  # pathlib's glob, unlike glob.glob, matches dot-files
            continue
        row = pq.read_table(path).to_pylist()[0]
        if row["name"] not in newest or (row["seq"], row["record_time"]) > (
            newest[row["name"]]["seq"],
            newest[row["name"]]["record_time"],
        ):
            newest[row["name"]] = row

    def entry(name: str, key: str = METRIC) -> dict:
        return next(s for s in newest[name]["summary"] if s["key"] == key)

    assert entry("user-summary") == {
        "key": METRIC,
        "last": 0.9,
        "last_step": None,
        "min": 0.9,
        "min_step": None,
        "max": 0.9,
        "max_step": None,
        "count": 0,
    }
    assert entry("user-override") == {
        "key": METRIC,
        "last": 0.95,
        "last_step": 0,
        "min": 0.1,
        "min_step": 0,
        "max": 0.1,
        "max_step": 0,
        "count": 1,
    }
    nan_entry = entry("with-nan")  # [nan, 0.75, -inf]: min/max skip NaN, keep -inf; count all
    assert (nan_entry["min"], nan_entry["min_step"]) == (-INF, 2)
    assert (nan_entry["max"], nan_entry["max_step"]) == (0.75, 1)
    assert (nan_entry["last"], nan_entry["last_step"], nan_entry["count"]) == (-INF, 2, 3)
    all_nan = entry("all-nan")
    assert math.isnan(all_nan["max"]) and all_nan["max_step"] is None and all_nan["count"] == 2
    # steps 5, 2, 5, 3: last is the later-logged value at the highest step
    assert (entry("out-of-order")["last"], entry("out-of-order")["last_step"]) == (0.5, 5)

    params = {p["key"]: (p["type"], p["value"]) for p in newest["int-lr"]["params"]}
    assert params == {"lr": ("int", "1"), "opt.name": ("str", "adam")}
    assert {p["key"]: p["type"] for p in newest["best"]["params"]}["lr"] == "float"
    assert all(r["status"] in {"running", "finished", "failed", "killed"} for r in newest.values())
    assert newest["failed"]["error"].splitlines()[-1] == "ValueError: diverged"


@pytest.mark.parametrize("module", ["duckdb", "polars"])
def test_spec_snippet_matches_tracklib_leaderboard(store: Path, module: str):
    expected = expected_rows(str(store))
    assert len(expected) == 13
    namespace = run_snippet(module, str(store))
    assert rows(namespace["leaderboard"], ["name", "status", "val_acc", "lr"]) == expected
    assert history_rows(namespace["history"]) == expected_history(str(store))


@pytest.mark.parametrize("module", ["duckdb", "polars"])
def test_spec_snippet_reads_a_compacted_store(compacted_store: Path, module: str):
    root = str(compacted_store)
    index = _parquet_below(compacted_store / "index")
    live_ids = {p.parent.name for p in _parquet_below(compacted_store / "records")}
    assert index and len(live_ids) < 13  # most runs are only in index/ now
    expected = expected_rows(root)
    by_name = {name: (status, value) for name, status, value, _ in expected}
    assert len(expected) == 13 + 4
    assert by_name["steady"] == ("finished", 0.97) and by_name["late-tie"] == ("finished", 0.71)
    assert by_name["live"][0] == "running" and by_name["crashed"][0] == "stale"

    namespace = run_snippet(module, root)
    assert rows(namespace["leaderboard"], ["name", "status", "val_acc", "lr"]) == expected
    assert history_rows(namespace["history"]) == expected_history(root)


def test_interrupted_compaction_leaves_replaced_files(compacted_store: Path, request: pytest.FixtureRequest):
    """The "interrupted" store really has files that others replace (what rule 5 is for)."""
    named = set()
    for path in _parquet_below(compacted_store):
        named |= set(json.loads(pq.read_metadata(path).metadata.get(b"tracklib.replaces", b"[]")))
    present = {p.relative_to(compacted_store).as_posix() for p in _parquet_below(compacted_store)}
    replaced = named & present
    interrupted = request.node.callspec.params["compacted_store"] == "interrupted"
    assert bool(replaced) == interrupted
    if interrupted:
        assert {p.split("/")[0] for p in replaced} == {"metrics", "index"}


@pytest.mark.parametrize("module", ["duckdb", "polars"])
def test_spec_snippet_skips_newer_major_version(store: Path, module: str):
    future = write_record(
        store,
        _record_row("fromthefuture", "from-the-future", "finished", datetime.now(UTC), 0.5, 0.99),
        version="2.0",
    )
    with pytest.warns(UserWarning, match=re.escape(future.name)):
        expected = expected_rows(str(store))
    with pytest.warns(UserWarning, match=re.escape(future.name)):
        got = snippet_rows(module, str(store))
    assert got == expected
    assert "from-the-future" not in [name for name, *_ in got]


def test_newer_major_version_is_skipped_with_a_warning_naming_the_file(store: Path):
    future = write_record(
        store,
        _record_row("fromthefuture", "from-the-future", "finished", datetime.now(UTC), 0.5, 0.99),
        version="2.0",
    )
    # A newer *minor* version of the same major is read (extra columns would be ignored).
    minor = write_record(
        store,
        _record_row("minorbump", "minor-bump", "finished", datetime.now(UTC), 0.5, 0.1),
        version="1.7",
    )
    assert pq.read_metadata(future).metadata[b"tracklib.format_version"] == b"2.0"
    assert pq.read_metadata(minor).metadata[b"tracklib.format_version"] == b"1.7"

    with pytest.warns(UserWarning, match=re.escape(future.name)) as caught:
        runs = tracklib.open_store(str(store)).runs(PROJECT)

    assert "from-the-future" not in set(runs["name"])
    assert "fromthefuture" not in set(runs["run_id"])
    assert "minor-bump" in set(runs["name"])
    assert len(runs) == 14  # the thirteen runs of the fixture, plus the minor bump
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages  # the junk files are ignored, not warned about
    assert "2.0" in messages[0] and "records/project=digits/run_id=fromthefuture/" in messages[0]
