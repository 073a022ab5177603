"""Write through the public API, read back through the public API, on every kind of root."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import tracklib


def _sweep(root, lrs=(0.1, 0.01, 0.001)):
    ids = {}
    for lr in lrs:
        with root.init(
            params={"lr": lr, "model": {"layers": 2}, "optimizer": "adam"}, tags=["baseline"], group="sweep-1"
        ) as run:
            for epoch in range(5):
                run.log({"train/loss": 1.0 / (1 + epoch * lr * 100), "val/acc": 0.5 + epoch * lr})
            run.log_params({"batch_size": 64})
            run.summary["best_acc"] = 0.5 + 4 * lr
        ids[lr] = run.id
    return ids


def test_runs_table_has_identity_params_and_metric_summaries(root):
    ids = _sweep(root)
    runs = root.store().runs("digits")

    assert list(runs.columns[:12]) == [
        "run_id",
        "name",
        "project",
        "group",
        "tags",
        "notes",
        "status",
        "start_time",
        "end_time",
        "duration_s",
        "host",
        "git_commit",
    ]
    assert set(runs["run_id"]) == set(ids.values())
    assert list(runs["run_id"]) == [ids[0.001], ids[0.01], ids[0.1]]  # newest first
    row = runs.set_index("run_id").loc[ids[0.1]]
    assert row["status"] == "finished" and row["group"] == "sweep-1" and list(row["tags"]) == ["baseline"]
    assert row["duration_s"] >= 0
    assert row["params.lr"] == 0.1 and row["params.model.layers"] == 2 and row["params.batch_size"] == 64
    assert row["params.optimizer"] == "adam"
    assert str(runs["params.model.layers"].dtype) == "Int64"
    assert runs["params.lr"].dtype == np.float64
    assert row["metrics.val/acc"] == pytest.approx(0.9)
    assert row["metrics_min.val/acc"] == pytest.approx(0.5)
    assert row["metrics_max.train/loss"] == pytest.approx(1.0)
    assert row["metrics.best_acc"] == pytest.approx(0.9)


def test_projects_lists_every_project_with_runs(root):
    with root.init("alpha") as run:
        run.log({"x": 1})
    with root.init("beta"):
        pass
    assert root.store().projects() == ["alpha", "beta"]


def test_leaderboard_ranks_by_aggregate_and_puts_runs_without_metric_last(root):
    ids = _sweep(root)
    with root.init(params={"lr": 5.0}) as other:
        other.log({"train/loss": 0.001})
    board = root.store().leaderboard("digits", "val/acc", agg="max", ascending=False)

    assert list(board["run_id"]) == [ids[0.1], ids[0.01], ids[0.001], other.id]
    assert list(board["rank"][:3]) == [1, 2, 3] and board["rank"].isna().iloc[3]
    assert list(board["step"][:3]) == [4, 4, 4]
    assert board["metrics_max.val/acc"].iloc[0] == pytest.approx(0.9)

    lowest_loss = root.store().leaderboard("digits", "train/loss", agg="min", ascending=True, top=2)
    assert len(lowest_loss) == 2 and lowest_loss["run_id"].iloc[0] == other.id


def test_history_is_long_sorted_and_limited_to_requested_runs_and_keys(root):
    ids = _sweep(root)
    store = root.store()
    history = store.history("digits", run_ids=[ids[0.1], ids[0.01]], keys=["val/acc"])

    assert list(history.columns) == ["run_id", "key", "step", "value", "time"]
    assert set(history["run_id"]) == {ids[0.1], ids[0.01]} and set(history["key"]) == {"val/acc"}
    assert len(history) == 10
    expected = history.sort_values(["run_id", "key", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(history, expected)
    assert history.loc[history["run_id"] == ids[0.1], "value"].tolist() == pytest.approx(
        [0.5, 0.6, 0.7, 0.8, 0.9]
    )
    assert len(store.history("digits")) == 3 * 10


def test_history_max_points_keeps_spikes(root):
    with root.init() as run:
        for step in range(1000):
            run.log({"loss": 1.0 if step != 617 else 50.0})
    history = root.store().history("digits", run_ids=[run.id], max_points=100)
    assert len(history) <= 100
    assert history["value"].max() == 50.0 and 617 in set(history["step"])


def test_run_details_include_params_summary_environment_and_artifacts(root, tmp_path):
    model = tmp_path / "model.pkl"
    model.write_bytes(b"weights" * 100)
    with root.init(params={"lr": 0.01}, notes="first try", capture=True) as run:
        run.log({"val/acc": 0.8})
        artifact = run.log_artifact(model)
    details = root.store().run("digits", run.id)

    assert details.name == run.name and details.status == "finished" and details.notes == "first try"
    assert details.params == {"lr": 0.01}
    assert details.summary.set_index("key").loc["val/acc", "last"] == pytest.approx(0.8)
    assert details.environment["pid"] > 0 and details.environment["python"]
    assert any(p.startswith("pyarrow==") for p in details.environment["packages"])
    assert details.artifacts["name"].tolist() == ["model.pkl"]
    assert details.artifacts["size"].tolist() == [700]
    assert root.store().read_artifact(artifact.path) == b"weights" * 100


def test_nan_and_infinity_are_stored_as_such(root):
    with root.init() as run:
        run.log({"loss": 1.0})
        run.log({"loss": float("nan")})
        run.log({"loss": float("inf")})
        run.log({"loss": -math.inf})
    values = root.store().history("digits", run_ids=[run.id])["value"].tolist()
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2] == math.inf and values[3] == -math.inf
    row = root.store().runs("digits").iloc[0]
    assert row["metrics.loss"] == -math.inf and row["metrics_max.loss"] == math.inf


def test_resume_continues_after_last_step_and_keeps_params_tags_and_history(root):
    with root.init(params={"lr": 0.1}, tags=["a"]) as first:
        for _ in range(3):
            first.log({"loss": 1.0})
    with root.init(run_id=first.id, resume=True, params={"epochs": 6}, tags=["b"]) as again:
        again.log({"loss": 0.5})
    assert again.id == first.id and again.name == first.name
    history = root.store().history("digits", run_ids=[first.id])
    assert history["step"].tolist() == [0, 1, 2, 3]
    runs = root.store().runs("digits")
    assert len(runs) == 1
    row = runs.iloc[0]
    assert list(row["tags"]) == ["a", "b"] and row["params.lr"] == 0.1 and row["params.epochs"] == 6
    assert row["metrics.loss"] == 0.5 and row["status"] == "finished"


def test_root_from_environment_variable(local_root, monkeypatch):
    monkeypatch.setenv("TRACKLIB_ROOT", local_root.url)
    with tracklib.init("digits", capture=False) as run:
        run.log({"x": 1})
    assert tracklib.open_store().runs("digits")["run_id"].tolist() == [run.id]


def test_logging_an_artifact_name_again_keeps_both_files_and_points_at_the_newest(root, tmp_path):
    model = tmp_path / "model.pkl"
    with root.init() as run:
        model.write_bytes(b"epoch 1")
        first = run.log_artifact(model)
        model.write_bytes(b"epoch 2")  # the first upload was staged: this edit can't change it
        second = run.log_artifact(model)
    store = root.store()
    artifacts = store.run("digits", run.id).artifacts
    assert artifacts["name"].tolist() == ["model.pkl"] and artifacts["path"].tolist() == [second.path]
    assert store.read_artifact(second.path) == b"epoch 2"
    assert store.read_artifact(first.path) == b"epoch 1"
