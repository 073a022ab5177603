"""Optuna: a 20-trial study tuning a scikit-learn SGD classifier on the bundled digits data,
with a median pruner and one failing trial; each trial lands as a run of one group."""

from __future__ import annotations

import time
from datetime import UTC

import numpy as np
import pytest

from servers import require

optuna = require("optuna", "optuna")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from tracklib.analysis import sweeps  # noqa: E402
from tracklib.integrations.optuna import TracklibCallback  # noqa: E402
from tracklib.read import query  # noqa: E402

EPOCHS = 5
FAILING_TRIAL = 3


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return train_test_split(x / 16.0, y, test_size=0.3, random_state=0, stratify=y)


def _objective(digits):
    x_train, x_val, y_train, y_val = digits

    def objective(trial):
        alpha = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
        loss = trial.suggest_categorical("loss", ["hinge", "log_loss"])
        if trial.number == FAILING_TRIAL:
            raise ValueError("bad data shard")
        model = SGDClassifier(alpha=alpha, loss=loss, random_state=0)
        for epoch in range(EPOCHS):
            model.partial_fit(x_train, y_train, classes=np.arange(10))
            accuracy = model.score(x_val, y_val)
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy

    return objective


def test_a_study_becomes_a_sweep_of_runs(local_root, digits):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        study_name="sgd-digits",
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )
    callback = TracklibCallback("hpo", root=local_root.url, tags=["sgd"])
    study.optimize(_objective(digits), n_trials=20, callbacks=[callback], catch=(ValueError,))

    store = local_root.store()
    runs = store.runs("hpo").set_index("name")
    assert len(runs) == 20 and set(runs["group"]) == {"sgd-digits"}
    states = {t.state for t in study.trials}
    assert {
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.FAIL,
    } <= states  # all three kinds happened
    for trial in study.trials:
        run = runs.loc[f"trial-{trial.number}"]
        assert (run["params.alpha"], run["params.loss"]) == (trial.params["alpha"], trial.params["loss"])
        last = max(trial.intermediate_values, default=None)
        if trial.state == optuna.trial.TrialState.COMPLETE:
            assert (run["status"], run["metrics.value"], list(run["tags"])) == (
                "finished",
                trial.value,
                ["sgd"],
            )
        elif trial.state == optuna.trial.TrialState.PRUNED:
            assert (run["status"], list(run["tags"])) == ("killed", ["sgd", "pruned"])
            assert np.isnan(run["metrics.value"])
            assert store.run("hpo", run["run_id"]).error == f"pruned at step {last}"
        else:
            assert trial.number == FAILING_TRIAL and run["status"] == "failed"
            assert np.isnan(run["metrics.value"])

    # what the Sweeps page works from: the params that vary, the complete trials' objective
    params = query.varying_params(runs.reset_index(), missing_is_a_value=False)
    assert params == ["params.alpha", "params.loss"]
    frame = sweeps.sweep_frame(runs.reset_index(), params, "metrics.value")
    complete = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert sorted(frame["target"]) == sorted(t.value for t in complete)

    pruned = next(t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED)
    curve = store.history("hpo", [runs.loc[f"trial-{pruned.number}", "run_id"]], keys=["intermediate/value"])
    assert dict(zip(curve["step"], curve["value"])) == pruned.intermediate_values


def test_several_objectives_get_one_metric_each(local_root):
    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0)
    )
    named = TracklibCallback("hpo", root=local_root.url, metric_name=["accuracy", "latency"], group="named")
    default = TracklibCallback("hpo", root=local_root.url, group="default", name="t")

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        return x, 1 - x

    study.optimize(objective, n_trials=2, callbacks=[named, default])

    runs = local_root.store().runs("hpo")
    named_runs = runs[runs["group"] == "named"].set_index("name")
    default_runs = runs[runs["group"] == "default"].set_index("name")
    for trial in study.trials:
        assert tuple(
            named_runs.loc[f"trial-{trial.number}", ["metrics.accuracy", "metrics.latency"]]
        ) == tuple(trial.values)
        assert tuple(default_runs.loc[f"t-{trial.number}", ["metrics.value_0", "metrics.value_1"]]) == tuple(
            trial.values
        )


def test_metric_names_must_match_the_objectives(local_root):
    study = optuna.create_study(directions=["maximize", "minimize"])
    callback = TracklibCallback("hpo", root=local_root.url, metric_name=["only-one"])
    with pytest.raises(ValueError, match="1 names for a study with 2 objectives"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 0.0), n_trials=1, callbacks=[callback])


def test_runs_carry_the_trials_start_and_end_times(local_root):
    """The callback runs after the trial (here also after a slow callback before it): the run's
    times are the trial's, not the moments the run was written."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial):
        time.sleep(0.05)
        return trial.suggest_float("x", 0, 1)

    def slow(study, trial):
        time.sleep(0.05)

    callback = TracklibCallback("hpo", root=local_root.url, group="timed")
    study.optimize(objective, n_trials=2, callbacks=[slow, callback])

    runs = local_root.store().runs("hpo").set_index("name")
    for trial in study.trials:
        run = runs.loc[f"trial-{trial.number}"]
        start, end = trial.datetime_start.astimezone(UTC), trial.datetime_complete.astimezone(UTC)
        assert (run["start_time"].to_pydatetime(), run["end_time"].to_pydatetime()) == (start, end)
        assert (end - start).total_seconds() >= 0.05
