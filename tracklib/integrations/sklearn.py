"""scikit-learn: ``log_search(GridSearchCV(...).fit(X, y), project="hpo")``.

A fitted ``GridSearchCV``/``RandomizedSearchCV`` (or a halving search) becomes one run per
candidate, named ``candidate-<i>``, all in one group (what the Sweeps page compares): the
candidate's params as params, and every numeric ``cv_results_`` column under scikit-learn's own
name as a metric at step 0 (``mean_test_<scorer>``, ``std_test_<scorer>``, ``rank_test_<scorer>``,
``mean_train_<scorer>`` with ``return_train_score``, ``mean_fit_time``...). Per-split columns are
left out. A candidate whose fit or scoring failed on a split (a NaN score) is a failed run; the
best one (``best_index_``) is tagged ``best``. Runs capture only ``system`` and ``argv`` unless
``capture=`` says otherwise.

With ``log_best_estimator=True`` the refit ``best_estimator_`` is stored on the best candidate's
run as the artifact ``best_estimator.joblib`` (``joblib.dump``, as scikit-learn's persistence
guide recommends; ``joblib.load`` reads it back). A joblib file is a pickle: loading one runs
whatever code it names, so load only files from a store that only you and people you trust write.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

import joblib
import numpy as np
from sklearn.utils.validation import check_is_fitted

from tracklib.format.ids import new_id
from tracklib.format.schema import Status
from tracklib.integrations import SWEEP_CAPTURE, plain_params
from tracklib.write.start import init


def log_search(
    search: Any,
    project: str,
    *,
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    group: str | None = None,
    log_best_estimator: bool = False,
    **init_kwargs: Any,
) -> list[str]:
    """Record a fitted search's candidates as runs; return their ids in ``cv_results_`` order.

    Args:
        search: a fitted ``GridSearchCV``, ``RandomizedSearchCV`` or halving search.
        project: the tracklib project.
        root, storage_options, tags: as in :func:`tracklib.init`; so is any other keyword.
        group: the runs' group; default ``<search class>-<8 random characters>``, new on each call.
        log_best_estimator: store ``best_estimator_`` on the best run as ``best_estimator.joblib``
            (a pickle: load only your own store's).

    Raises:
        sklearn.exceptions.NotFittedError: the search has not been fitted.
        ValueError: ``log_best_estimator`` for a search without ``best_estimator_`` (``refit=False``);
            nothing is written then.
    """
    check_is_fitted(search, "cv_results_")
    if type(log_best_estimator) is not bool:
        raise ValueError(f"log_best_estimator must be True or False, got {log_best_estimator!r}")
    if log_best_estimator and not hasattr(search, "best_estimator_"):
        raise ValueError(
            "log_best_estimator=True needs the refit best estimator, and this search has no "
            "best_estimator_ (fitted with refit=False)"
        )
    results = search.cv_results_
    # the random part of a ULID: unlike readable names, unaffected by the caller seeding `random`
    group = group if group is not None else f"{type(search).__name__}-{new_id()[-8:]}"
    prefix = init_kwargs.pop("name", "candidate")
    extra_params = plain_params(init_kwargs.pop("params", None) or {})
    kwargs = {"capture": SWEEP_CAPTURE, **init_kwargs}
    tags = list(tags or [])
    columns = {k: np.asarray(v) for k, v in results.items() if _is_metric(k, v)}
    splits = [k for k in results if k.startswith("split") and "_test_" in k]
    best = getattr(search, "best_index_", None)
    run_ids = []
    for i, candidate in enumerate(results["params"]):
        failed = sum(math.isnan(results[k][i]) for k in splits)
        with init(
            project,
            name=f"{prefix}-{i}",
            params={**plain_params(candidate), **extra_params},
            tags=[*tags, "best"] if i == best else tags,
            group=group,
            root=root,
            storage_options=storage_options,
            **kwargs,
        ) as run:
            run.log({key: column[i].item() for key, column in columns.items()}, step=0)
            if log_best_estimator and i == best:
                _log_estimator(run, search.best_estimator_)
            if failed:
                run.finish(Status.FAILED, f"fit or scoring failed on {failed} of {len(splits)} split scores")
            run_ids.append(run.id)
    return run_ids


def _log_estimator(run: Any, estimator: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="tracklib-estimator-") as folder:
        path = os.path.join(folder, "best_estimator.joblib")
        joblib.dump(estimator, path)
        run.log_artifact(path, name="best_estimator.joblib")


def _is_metric(key: str, values: Any) -> bool:
    """Summary columns of numbers; not ``params``, the ``param_*`` columns or per-split scores."""
    if key == "params" or key.startswith(("param_", "split")):
        return False
    return np.asarray(values).dtype.kind in "iuf"
