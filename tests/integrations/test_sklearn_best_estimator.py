"""scikit-learn ``log_search(..., log_best_estimator=True)``: the refit best estimator is stored
on the best candidate's run and ``joblib.load`` of it predicts as the search does."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

from tracklib.integrations.sklearn import log_search


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x[:300] / 16.0, y[:300]


def test_the_best_run_holds_the_refit_estimator_and_it_predicts_the_same(root, digits):
    search = GridSearchCV(SVC(), {"C": [0.1, 10.0]}, cv=2).fit(*digits)

    run_ids = log_search(
        search, "hpo", root=root.url, storage_options=root.storage_options, log_best_estimator=True
    )

    store = root.store()
    artifacts = {run_id: store.run("hpo", run_id).artifacts for run_id in run_ids}
    best_id = run_ids[search.best_index_]
    assert [list(a["name"]) for a in artifacts.values()] == [
        ["best_estimator.joblib"] if run_id == best_id else [] for run_id in run_ids
    ]
    estimator = joblib.load(io.BytesIO(store.read_artifact(artifacts[best_id]["path"].iloc[0])))
    assert estimator.get_params() == search.best_estimator_.get_params()
    np.testing.assert_array_equal(estimator.predict(digits[0]), search.predict(digits[0]))


def test_without_the_option_nothing_is_stored(local_root, digits):
    search = GridSearchCV(SVC(), {"C": [1.0]}, cv=2).fit(*digits)
    (run_id,) = log_search(search, "hpo", root=local_root.url)
    assert local_root.store().run("hpo", run_id).artifacts.empty


def test_a_search_without_refit_is_refused_before_any_run(local_root, digits):
    search = GridSearchCV(SVC(), {"C": [1.0, 2.0]}, cv=2, refit=False).fit(*digits)
    with pytest.raises(ValueError, match="refit=False"):
        log_search(search, "hpo", root=local_root.url, log_best_estimator=True)
    assert local_root.store().runs("hpo").empty


def test_log_best_estimator_must_be_a_bool(local_root, digits):
    search = GridSearchCV(SVC(), {"C": [1.0]}, cv=2).fit(*digits)
    with pytest.raises(ValueError, match="log_best_estimator"):
        log_search(search, "hpo", root=local_root.url, log_best_estimator="yes")
