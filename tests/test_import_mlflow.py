"""`tracklib import mlflow`: runs that real MLflow wrote, copied whole, and only once."""

from __future__ import annotations

import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import tracklib
from tracklib.ops.importers import import_mlflow
from tracklib.ops.importers.mlflow import parse_param, tracking_uri_of

from servers import require
from together import errors_running_at_once

mlflow_tracking = require("mlflow.tracking", "mlflow")
require("sqlalchemy", "mlflow")
from mlflow.entities import Metric  # noqa: E402

pytestmark = [
    # mlflow 3.17's SQL store asks SQLAlchemy 2.1 for the deprecated ``noload`` loader at import
    pytest.mark.filterwarnings(
        "ignore:The ``noload`` loader strategy is deprecated:sqlalchemy.exc.SADeprecationWarning"
    ),
]

T0 = 1_700_000_000_000  # ms, as MLflow keeps times
LOSS = [(i, 1.0 / (i + 1), T0 + 1_000 + 37 * i) for i in range(50)]  # step, value, timestamp


def _write_store(uri: str, artifacts: Path, scratch: Path) -> dict[str, str]:
    """A store as MLflow's client writes it: two experiments, a failed, a nested and a live run."""
    client = mlflow_tracking.MlflowClient(uri)
    exp_a = client.create_experiment("exp-a", artifact_location=(artifacts / "a").as_uri())
    exp_b = client.create_experiment("exp-b", artifact_location=(artifacts / "b").as_uri())
    alpha = client.create_run(
        exp_a,
        start_time=T0,
        run_name="alpha",
        tags={
            "team": "vision",
            "baseline": "",
            "mlflow.note.content": "first try",
            "mlflow.user": "ada",
            "mlflow.source.git.commit": "0123abcd",
        },
    ).info.run_id
    for key, value in {
        "lr": 0.001,
        "batch": 32,
        "opt": "adam",
        "code": "007",
        "aug": True,
        "wd": 1e-05,
        "init": None,  # MLflow keeps the text "None"
    }.items():
        client.log_param(alpha, key, value)
    client.log_batch(alpha, metrics=[Metric("loss", v, t, s) for s, v, t in LOSS])
    acc = [Metric("val/acc", math.nan if s == 0 else s / 50, T0 + 1_000 + 37 * s, s) for s in range(0, 50, 5)]
    client.log_batch(alpha, metrics=acc)
    weights = scratch / "weights.txt"
    weights.write_text("0.1 0.2 0.3\n")
    client.log_artifact(alpha, str(weights), artifact_path="model")
    client.set_terminated(alpha, "FINISHED", end_time=T0 + 60_000)

    child = client.create_run(
        exp_a, start_time=T0 + 2_000, run_name="alpha-fold-1", tags={"mlflow.parentRunId": alpha}
    ).info.run_id
    client.log_metric(child, "loss", 0.5, timestamp=T0 + 3_000, step=0)
    client.set_terminated(child, "FINISHED", end_time=T0 + 4_000)

    beta = client.create_run(exp_a, start_time=T0 + 100_000, run_name="beta").info.run_id
    client.log_param(beta, "lr", 0.1)
    client.log_metric(beta, "loss", math.inf, timestamp=T0 + 101_000, step=0)
    client.set_terminated(beta, "FAILED", end_time=T0 + 130_000)

    gamma = client.create_run(exp_b, start_time=T0 + 200_000, run_name="gamma").info.run_id
    client.log_batch(gamma, metrics=[Metric("loss", 1.0 / (s + 1), T0 + 201_000 + s, s) for s in range(20)])
    return {"alpha": alpha, "child": child, "beta": beta, "gamma": gamma}


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, tuple[Path, dict[str, str]]]:
    """Both kinds of MLflow store, written once (creating the SQLite schema takes seconds)."""
    base = tmp_path_factory.mktemp("mlflow")
    made = {}
    db = base / "sqlite" / "mlflow.db"
    db.parent.mkdir()
    made["sqlite"] = (db, _write_store(f"sqlite:///{db}", base / "sqlite-artifacts", base))
    folder = base / "file" / "mlruns"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        made["file"] = (folder, _write_store(folder.as_uri(), base / "file-artifacts", base))
    return made


@pytest.fixture(params=["sqlite", "file"])
def source(request, templates, tmp_path) -> tuple[str, dict[str, str]]:
    """A private copy of an MLflow store: an ``mlflow.db`` file or an ``mlruns/`` folder."""
    location, ids = templates[request.param]
    copy = tmp_path / "source" / location.name
    copy.parent.mkdir()
    if location.is_dir():
        shutil.copytree(location, copy)
    else:
        shutil.copyfile(location, copy)
    return str(copy), ids


@pytest.fixture
def sqlite_source(templates, tmp_path) -> tuple[str, dict[str, str]]:
    location, ids = templates["sqlite"]
    copy = tmp_path / "source" / "mlflow.db"
    copy.parent.mkdir()
    shutil.copyfile(location, copy)
    return str(copy), ids


def _client(location: str, monkeypatch) -> Any:
    """MLflow's own view of the source, to compare against."""
    if os.path.isdir(location):
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        return mlflow_tracking.MlflowClient(Path(location).as_uri())
    return mlflow_tracking.MlflowClient(f"sqlite:///{location}")


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _logged(value: float) -> float:
    """What was logged: MLflow's SQL store keeps ±inf as ±max float, the import restores it."""
    return value * math.inf if abs(value) == sys.float_info.max else value


def _micros(column) -> list[int]:
    return pa.Array.from_pandas(column).cast(pa.int64()).to_pylist()


def test_runs_arrive_with_params_tags_statuses_times_and_full_histories(source, tmp_path, monkeypatch):
    location, ids = source
    root = tmp_path / "tracking"
    report = import_mlflow(location, project="from-mlflow", root=root)
    assert (report.count("imported"), report.points) == (4, 50 + 10 + 1 + 1 + 20)

    store = tracklib.open_store(root)
    runs = store.runs("from-mlflow").set_index("run_id")
    assert sorted(runs.index) == sorted(ids.values())
    client = _client(location, monkeypatch)
    for run_id in ids.values():
        original = client.get_run(run_id)
        details = store.run("from-mlflow", run_id)
        assert details.name == original.info.run_name
        status = {"FINISHED": "finished", "FAILED": "failed", "RUNNING": "running"}[original.info.status]
        assert details.status == (status if status != "running" else "stale")  # quiet since 2023
        assert details.start_time.value == original.info.start_time * 10**6  # ns, exactly the ms
        if original.info.end_time is None:
            assert details.end_time is None
        else:
            assert details.end_time.value == original.info.end_time * 10**6
        history = store.history("from-mlflow", [run_id])
        for key in original.data.metrics:
            want = client.get_metric_history(run_id, key)
            got = history[history["key"] == key]
            assert got["step"].tolist() == [m.step for m in want]
            assert got["value"].tolist() == pytest.approx([_logged(m.value) for m in want], nan_ok=True)
            assert _micros(got["time"]) == [m.timestamp * 1000 for m in want]
        assert set(history["key"]) == set(original.data.metrics)

    alpha = store.run("from-mlflow", ids["alpha"])
    # MLflow keeps params as text; what Python's str() made of a number or bool comes back typed,
    # and "None" stays the text MLflow has.
    assert alpha.params == {
        "lr": 0.001,
        "batch": 32,
        "opt": "adam",
        "code": "007",
        "aug": True,
        "wd": 1e-05,
        "init": "None",
    }
    assert alpha.tags == ["baseline", "team=vision", "mlflow.experiment=exp-a"]
    assert alpha.notes == "first try"
    assert alpha.environment["user"] == "ada" and alpha.environment["git_commit"] == "0123abcd"
    assert runs.loc[ids["alpha"], "git_commit"] == "0123abcd"
    assert runs.loc[ids["child"], "group"] == "alpha"  # a nested run is grouped under its parent
    loss = alpha.summary.set_index("key").loc["loss"]
    assert (loss["last"], loss["last_step"], loss["min"], loss["max"], loss["count"]) == (
        0.02,
        49,
        0.02,
        1.0,
        50,
    )
    acc = alpha.summary.set_index("key").loc["val/acc"]
    assert (acc["max"], acc["max_step"], acc["count"]) == (
        0.9,
        45,
        10,
    )  # the NaN at step 0 is kept, not a max
    assert store.run("from-mlflow", ids["beta"]).summary.set_index("key").loc["loss", "last"] == math.inf
    assert list(runs.loc[ids["gamma"], "tags"]) == ["mlflow.experiment=exp-b"]


def test_importing_again_writes_nothing(source, tmp_path):
    location, ids = source
    root = tmp_path / "tracking"
    import_mlflow(location, project="p", root=root)
    before = _files(root)
    again = import_mlflow(location, project="p", root=root)
    assert (again.count("unchanged"), again.count("imported"), again.points) == (4, 0, 0)
    assert _files(root) == before
    store = tracklib.open_store(root)
    assert len(store.runs("p")) == 4
    assert len(store.history("p")) == 50 + 10 + 1 + 1 + 20


def test_experiment_filter_by_name_or_id(sqlite_source, tmp_path, monkeypatch):
    location, ids = sqlite_source
    root = tmp_path / "tracking"
    report = import_mlflow(location, project="b-only", root=root, experiments=["exp-b"])
    assert [o.run_id for o in report.outcomes] == [ids["gamma"]]
    experiment_id = _client(location, monkeypatch).get_experiment_by_name("exp-a").experiment_id
    report = import_mlflow(location, project="a-only", root=root, experiments=[experiment_id])
    assert sorted(o.name for o in report.outcomes) == ["alpha", "alpha-fold-1", "beta"]
    with pytest.raises(ValueError, match="no MLflow experiment named 'nope'"):
        import_mlflow(location, project="p", root=root, experiments=["nope"])


def test_a_run_that_grew_gets_only_its_new_points_and_a_newer_record(sqlite_source, tmp_path, monkeypatch):
    location, ids = sqlite_source
    root = tmp_path / "tracking"
    import_mlflow(location, project="p", root=root, experiments=["exp-b"])
    client = _client(location, monkeypatch)
    gamma = ids["gamma"]
    client.log_batch(gamma, metrics=[Metric("loss", 0.01, T0 + 300_000 + s, s) for s in range(20, 30)])
    client.log_metric(gamma, "lr", 0.1, timestamp=T0 + 300_100, step=29)
    client.set_terminated(gamma, "FINISHED", end_time=T0 + 400_000)

    report = import_mlflow(location, project="p", root=root, experiments=["exp-b"])
    assert [(o.action, o.points) for o in report.outcomes] == [("updated", 11)]
    store = tracklib.open_store(root)
    details = store.run("p", gamma)
    assert details.status == "finished" and details.end_time.value == (T0 + 400_000) * 10**6
    history = store.history("p", [gamma])
    assert len(history) == 31 and not history.duplicated(["key", "step", "time"]).any()
    assert store.newest_record("p", gamma)["seq"].to_pylist() == [2]
    assert import_mlflow(location, project="p", root=root, experiments=["exp-b"]).count("unchanged") == 1


def test_points_logged_after_the_run_ended_are_imported_once(source, tmp_path, monkeypatch):
    """MLflow keeps a run's status and end time when points arrive after it ended: whether it
    grew is read from its metrics (a newest point at a later step, or newer than the store's)."""
    location, ids = source
    root = tmp_path / "tracking"
    import_mlflow(location, project="p", root=root, experiments=["exp-a"])
    client = _client(location, monkeypatch)
    alpha = ids["alpha"]  # finished at T0 + 60 s

    def once() -> list[tuple[str, str, int]]:
        report = import_mlflow(location, project="p", root=root, experiments=["exp-a"])
        return [(o.run_id, o.action, o.points) for o in report.outcomes if o.action != "unchanged"]

    client.log_batch(alpha, metrics=[Metric("loss", 0.01, T0 + 90_000 + s, s) for s in range(50, 55)])
    assert once() == [(alpha, "updated", 5)]
    # the last val/acc point once more, at its step and value: only its time tells it apart
    client.log_metric(alpha, "val/acc", 0.9, timestamp=T0 + 95_000, step=45)
    assert once() == [(alpha, "updated", 1)]

    reads = []
    history = mlflow_tracking.MlflowClient.get_metric_history
    monkeypatch.setattr(
        mlflow_tracking.MlflowClient,
        "get_metric_history",
        lambda self, *args, **kwargs: reads.append(args) or history(self, *args, **kwargs),
    )
    assert once() == [] and reads == []  # unchanged, and no history read to say so
    store = tracklib.open_store(root)
    details = store.run("p", alpha)
    assert (details.status, details.end_time.value) == ("finished", (T0 + 60_000) * 10**6)
    counts = details.summary.set_index("key")["count"].to_dict()
    assert counts == {"loss": 55, "val/acc": 11}
    rows = store.history("p", [alpha])
    assert len(rows) == 66 and not rows.duplicated(["key", "step", "time"]).any()


def test_an_import_cut_short_is_completed_without_duplicates(sqlite_source, tmp_path):
    location, ids = sqlite_source
    root = tmp_path / "tracking"
    import_mlflow(location, project="p", root=root)
    # As if the import had died after the metric part and before the record.
    shutil.rmtree(root / "records" / "project=p" / f"run_id={ids['alpha']}")
    report = import_mlflow(location, project="p", root=root)
    outcome = {o.run_id: o for o in report.outcomes}[ids["alpha"]]
    assert (outcome.action, outcome.points) == ("imported", 0)
    store = tracklib.open_store(root)
    assert len(store.history("p", [ids["alpha"]])) == 60
    assert store.run("p", ids["alpha"]).summary.set_index("key").loc["loss", "count"] == 50


def test_two_imports_at_once_write_each_run_once(sqlite_source, tmp_path):
    location, ids = sqlite_source
    root = tmp_path / "tracking"
    assert errors_running_at_once(lambda: import_mlflow(location, project="p", root=root), 2) == []
    store = tracklib.open_store(root)
    assert len(store.runs("p")) == 4
    history = store.history("p")
    assert len(history) == 82 and not history.duplicated(["run_id", "key", "step", "time"]).any()
    assert all(
        len(list((root / "records" / "project=p").glob(f"run_id={i}/*.parquet"))) == 1 for i in ids.values()
    )


def test_artifacts_are_copied_and_listed_once(sqlite_source, tmp_path):
    location, ids = sqlite_source
    root = tmp_path / "tracking"
    import_mlflow(location, project="p", root=root)  # first without artifacts
    report = import_mlflow(location, project="p", root=root, artifacts=True)
    assert {o.run_id: o.action for o in report.outcomes}[ids["alpha"]] == "updated"
    store = tracklib.open_store(root)
    listed = store.run("p", ids["alpha"]).artifacts
    assert listed["name"].tolist() == ["model/weights.txt"]
    assert store.read_artifact(listed["path"][0]) == b"0.1 0.2 0.3\n"
    assert listed["size"][0] == 12 and len(listed["sha256"][0]) == 64
    before = _files(root)
    assert import_mlflow(location, project="p", root=root, artifacts=True).count("unchanged") == 4
    assert _files(root) == before


def test_a_missing_store_is_refused_without_creating_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="no MLflow store"):
        import_mlflow(tmp_path / "nothing.db", project="p", root=tmp_path / "tracking")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        import_mlflow(f"sqlite:///{tmp_path / 'nothing.db'}", project="p", root=tmp_path / "tracking")
    assert not (tmp_path / "nothing.db").exists()


def test_without_the_extra_the_error_says_what_to_install(sqlite_source, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # as if mlflow were not installed
    with pytest.raises(ImportError, match=r"pip install 'tracklib\[mlflow\]'"):
        import_mlflow(sqlite_source[0], project="p", root=tmp_path / "tracking")
    assert not (tmp_path / "tracking").exists()


def test_store_locations_become_tracking_uris(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "mlflow.db").touch()
    (tmp_path / "mlruns").mkdir()
    db = f"sqlite:///{tmp_path / 'project' / 'mlflow.db'}"
    assert tracking_uri_of(tmp_path / "project" / "mlflow.db") == db
    assert tracking_uri_of(tmp_path / "project") == db  # MLflow 3's default layout: ./mlflow.db
    assert tracking_uri_of(tmp_path / "mlruns") == (tmp_path / "mlruns").as_uri()
    assert tracking_uri_of("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("32", 32),
        ("-1", -1),
        ("0.001", 0.001),
        ("1e-05", 1e-05),
        ("True", True),
        ("False", False),
        ("None", "None"),
        ("adam", "adam"),
        ("007", "007"),
        ("0.10", "0.10"),
        ("1_000", "1_000"),
        (" 3", " 3"),
        ("true", "true"),
    ],
)
def test_params_get_back_the_type_python_wrote_them_from(text, value):
    assert parse_param(text) == value and type(parse_param(text)) is type(value)


def test_nan_and_inf_params_come_back_as_floats():
    assert math.isnan(parse_param("nan")) and parse_param("-inf") == -math.inf


def test_cli_imports_mlflow(sqlite_source, tmp_path, capsys):
    """Needs the `tracklib import` sub-command (tracklib/cli.py)."""
    from tracklib.cli import main

    location, ids = sqlite_source
    root = str(tmp_path / "tracking")
    args = ["import", "mlflow", location, "--root", root, "--project", "p", "--experiment", "exp-a"]
    assert main(args) == 0
    assert "3 imported" in capsys.readouterr().out
    assert main(args) == 0
    assert "3 unchanged" in capsys.readouterr().out
    assert main(["import", "mlflow", str(tmp_path / "nothing.db"), "--root", root, "--project", "p"]) == 2
    assert "no MLflow store" in capsys.readouterr().err
