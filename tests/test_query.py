"""Pure helpers the dashboard relies on."""

from __future__ import annotations

import pandas as pd

from tracklib.read import query


def _runs(*metrics):
    return pd.DataFrame({f"metrics.{m}": [0.5] for m in metrics} | {"run_id": ["a"]})


def test_headline_metric_prefers_a_logged_validation_accuracy():
    runs = _runs("best_val_acc", "train/loss", "val/acc", "val/loss")
    summary = pd.DataFrame(
        {"key": ["best_val_acc", "train/loss", "val/acc", "val/loss"], "count": [0, 20, 20, 20]}
    )
    assert query.headline_metric(runs, summary) == "val/acc"
    assert query.headline_metric(_runs("train/loss", "val/loss")) == "val/loss"
    assert query.headline_metric(_runs()) is None


def test_best_per_group_keeps_each_groups_top_row_and_reranks():
    board = pd.DataFrame(
        {
            "rank": pd.array([1, 2, 3, None], dtype="Int64"),
            "name": list("abcd"),
            "params.opt": ["adam", "adam", "sgd", "sgd"],
        }
    )
    best = query.best_per_group(board, "params.opt")
    assert best["name"].tolist() == ["a", "c"] and best["rank"].tolist() == [1, 2]


def test_changing_a_returned_runs_table_does_not_change_the_next_one(local_root):
    with local_root.init(params={"lr": 1}) as run:
        run.log({"acc": 1.0})
    store = local_root.store()
    for _ in range(2):  # a fresh result, then the cached one
        runs, summary = store.runs_and_summary("digits")
        runs["added"] = 1
        runs.loc[0, "params.lr"] = 99
        runs["metrics.acc"] *= 5
        summary["last"] = -1.0
    runs, summary = store.runs_and_summary("digits")
    assert "added" not in runs.columns
    assert runs.loc[0, "params.lr"] == 1 and runs.loc[0, "metrics.acc"] == 1.0
    assert summary["last"].tolist() == [1.0]
