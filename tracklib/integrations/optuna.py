"""Optuna: ``study.optimize(objective, callbacks=[TracklibCallback(project="hpo")])``.

Each trial becomes a run named ``trial-<number>`` in the group named after the study (what the
Sweeps page compares): the trial's params as params; a complete trial's objective value(s) as
metrics (``value``, or ``value_0``, ``value_1``... for several objectives, or the names you pass),
at its last reported step; and what it reported with ``trial.report`` as the history of
``intermediate/<name>``. A pruned trial gets no ``value`` (Optuna's is its last report, which
would rank a half-trained model beside finished ones); its curve shows how far it got. Status follows the
trial's state: complete → finished; pruned → killed (stopped from outside before its end, as a
preempted job is) with the error ``pruned at step N`` and the tag ``pruned``; failed → failed.
Optuna calls callbacks only for failures it was told to ``catch``; other exceptions stop the study
before any callback runs. The callback runs after the trial, so the run's start and end times are
the trial's (``datetime_start``, ``datetime_complete``), not the callback's. Runs capture only
``system`` and ``argv`` unless ``capture=`` says otherwise.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from tracklib.format.schema import Status
from tracklib.integrations import SWEEP_CAPTURE, plain_params
from tracklib.write.start import init


class TracklibCallback:
    """An Optuna study callback writing one tracklib run per finished trial.

    Args:
        project: the tracklib project.
        root, storage_options, tags: as in :func:`tracklib.init`; so is any other keyword.
        group: the runs' group; default the study's name.
        metric_name: the objective's metric name, or one name per objective.
    """

    def __init__(
        self,
        project: str,
        *,
        root: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        group: str | None = None,
        metric_name: str | Sequence[str] = "value",
        **init_kwargs: Any,
    ) -> None:
        self._project = project
        self._group = group
        self._tags = list(tags or [])
        self._metric_name = metric_name
        self._name = init_kwargs.pop("name", "trial")
        self._params = plain_params(init_kwargs.pop("params", None) or {})
        self._kwargs = {
            "capture": SWEEP_CAPTURE,
            **init_kwargs,
            "root": root,
            "storage_options": storage_options,
        }

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        names = self._metric_names(len(study.directions))
        steps = sorted(trial.intermediate_values)
        status, error, tags = Status.FINISHED, None, list(self._tags)
        if trial.state == TrialState.PRUNED:
            status, tags = Status.KILLED, [*tags, "pruned"]
            error = f"pruned at step {steps[-1]}" if steps else "pruned"
        elif trial.state == TrialState.FAIL:
            status, error = Status.FAILED, "the objective failed (Optuna keeps no reason: see its log)"
        with init(
            self._project,
            name=f"{self._name}-{trial.number}",
            params={**plain_params(trial.params), **self._params},
            tags=tags,
            group=self._group if self._group is not None else study.study_name,
            **self._kwargs,
        ) as run:
            run._set_times(_seconds(trial.datetime_start), _seconds(trial.datetime_complete))
            for step in steps:
                run.log({f"intermediate/{names[0]}": trial.intermediate_values[step]}, step=step)
            if trial.state == TrialState.COMPLETE:  # a pruned trial's value is only its last report
                run.log(dict(zip(names, trial.values)), step=steps[-1] if steps else 0)
            run.finish(status, error)

    def _metric_names(self, n: int) -> list[str]:
        if isinstance(self._metric_name, str):
            return [self._metric_name] if n == 1 else [f"{self._metric_name}_{i}" for i in range(n)]
        names = list(self._metric_name)
        if len(names) != n:
            raise ValueError(f"metric_name has {len(names)} names for a study with {n} objectives")
        return names


def _seconds(moment: datetime | None) -> float:
    """Optuna's trial times are naive local times (``datetime.now()``); ``timestamp()`` reads
    them as such. A time Optuna did not set (none for a finished trial) is now."""
    return moment.timestamp() if moment is not None else time.time()
