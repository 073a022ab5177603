"""scikit-learn: a fitted search over the bundled digits data becomes one run per candidate."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.svm import SVC

from tracklib.integrations.sklearn import log_search


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x[:600] / 16.0, y[:600]


def test_grid_search_candidates_become_runs_of_one_group(root, digits):
    search = GridSearchCV(
        SVC(),
        {"C": [0.1, 10.0], "gamma": [0.01, 0.1], "kernel": ["rbf"]},
        scoring={"acc": "accuracy", "f1": "f1_macro"},
        refit="acc",
        cv=3,
        return_train_score=True,
    ).fit(*digits)

    run_ids = log_search(search, "hpo", root=root.url, storage_options=root.storage_options, group="svc-grid")

    runs = root.store().runs("hpo").set_index("run_id").loc[run_ids]
    results = search.cv_results_
    assert list(runs["name"]) == [f"candidate-{i}" for i in range(4)]
    assert set(runs["group"]) == {"svc-grid"} and set(runs["status"]) == {"finished"}
    assert list(runs["params.C"]) == [p["C"] for p in results["params"]]
    assert list(runs["params.kernel"]) == ["rbf"] * 4
    for column in ("mean_test_acc", "std_test_f1", "rank_test_acc", "mean_train_acc", "mean_fit_time"):
        assert list(runs[f"metrics.{column}"]) == pytest.approx(list(results[column]))
    assert not any(c.startswith(("metrics.split", "metrics.param")) for c in runs.columns)
    assert [list(tags) for tags in runs["tags"]] == [
        ["best"] if i == search.best_index_ else [] for i in range(4)
    ]


@pytest.mark.filterwarnings(
    # the point of this test: scikit-learn reports the candidate whose fits fail
    "ignore::sklearn.exceptions.FitFailedWarning",
    "ignore:One or more of the test scores are non-finite:UserWarning",
)
def test_a_candidate_that_failed_to_fit_is_a_failed_run(local_root, digits):
    search = RandomizedSearchCV(
        SVC(),
        {"C": [1.0, -1.0]},  # C must be positive: every fit of that candidate fails
        n_iter=2,
        cv=2,
        random_state=0,
        error_score=np.nan,
    ).fit(*digits)

    run_ids = log_search(search, "hpo", root=local_root.url, tags=["svc"])

    runs = local_root.store().runs("hpo").set_index("run_id").loc[run_ids]
    assert runs["group"].nunique() == 1 and runs["group"].iloc[0].startswith("RandomizedSearchCV-")
    by_c = runs.reset_index().set_index("params.C")
    assert (by_c.loc[1.0, "status"], list(by_c.loc[1.0, "tags"])) == ("finished", ["svc", "best"])
    assert by_c.loc[-1.0, "status"] == "failed"
    error = local_root.store().run("hpo", by_c.loc[-1.0, "run_id"]).error
    assert error == "fit or scoring failed on 2 of 2 split scores"


def test_an_unfitted_search_is_refused(local_root):
    with pytest.raises(NotFittedError):
        log_search(GridSearchCV(SVC(), {"C": [1.0]}), "hpo", root=local_root.url)


def test_each_call_gets_its_own_group_even_after_seeding_random(local_root, digits):
    search = GridSearchCV(SVC(), {"C": [1.0]}, cv=2).fit(*digits)
    groups = set()
    for _ in range(2):
        random.seed(0)  # as seed_everything() and set_seed() do
        (run_id,) = log_search(search, "hpo", root=local_root.url)
        groups.add(local_root.store().run("hpo", run_id).group)
    assert len(groups) == 2
