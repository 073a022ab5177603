"""Hooks into training frameworks, one module each, imported by path so ``import tracklib`` imports none:

    Trainer(logger=lightning.TracklibLogger("mnist"))            # tracklib.integrations.lightning
    Trainer(..., callbacks=[huggingface.TracklibCallback("glue")])  # tracklib.integrations.huggingface
    model.fit(x, y, callbacks=[keras.TracklibCallback("mnist")])   # tracklib.integrations.keras
    study.optimize(f, callbacks=[optuna.TracklibCallback("hpo")])  # tracklib.integrations.optuna
    sklearn.log_search(search.fit(x, y), project="hpo")            # tracklib.integrations.sklearn

Each takes ``project`` plus the ``root``, ``storage_options``, ``tags`` and ``group`` of
:func:`tracklib.init`; any other keyword (``name``, ``notes``, ``params``, ``capture``...) goes to
``init`` unchanged. ``log_model`` (``log_best_estimator`` for scikit-learn) stores the trained
model or checkpoints as run artifacts (:mod:`~tracklib.integrations.model_files`). This module
holds what they share and imports no framework.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

from tracklib.format.errors import RunNotFoundError
from tracklib.format.ids import new_id
from tracklib.format.schema import Status
from tracklib.format.values import ParamValue, flatten_params, scalar_item
from tracklib.write.run import Run
from tracklib.write.start import init

# The error of a run whose training began and never reached the framework's normal end (none of
# the frameworks without an exception hook tells us which exception, nor whether it was caught).
CUT_SHORT = (
    "training did not complete: it stopped before the framework's end-of-training hook "
    "(an exception, caught or not, or an interrupt)"
)
# One run per trial or candidate: git and the package list say nothing new per run and cost ~0.1 s each.
SWEEP_CAPTURE = ("system", "argv")


def plain_params(params: Mapping[Any, Any]) -> dict[str, ParamValue]:
    """Framework configs as params stored without a warning: nested mappings, dataclasses and
    namespaces become dotted keys (lists of mappings by index), lists of values JSON text,
    numpy/tensor scalars their ``item()``, classes their name, anything else its ``str()``.

    Only the turning of framework objects into plain values is done here; the dotted keys and
    the checks are :func:`~tracklib.format.values.flatten_params`, as for ``tracklib.init``."""
    return flatten_params(_plain_tree(params))


def _plain_tree(value: Any) -> Any:
    """``value`` as nested dicts of str keys (empty keys, which cannot be param names, dropped)
    with plain leaves."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    elif isinstance(value, argparse.Namespace):
        value = vars(value)
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
        items = enumerate(value)
    else:
        return _plain(value)
    return {str(key): _plain_tree(item) for key, item in items if str(key)}


def _plain(value: Any) -> ParamValue:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, type):
        return value.__name__
    item = scalar_item(value)
    if item is not value:
        return _plain(item)
    if isinstance(value, (list, tuple, set, frozenset)):
        return json.dumps([_plain(v) for v in value])
    return str(value)


def numeric_metrics(values: Mapping[Any, Any], prefix: str = "") -> dict[str, float]:
    """The real numbers among a framework's logs, as floats; text, flags, None and arrays are
    not metrics and are skipped (the framework, not the user, chose to put them there)."""
    out = {}
    for key, value in values.items():
        value = scalar_item(value)
        if str(key) and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
    return out


class LazyRun:
    """The one run an integration writes to: started on first use and, when used again after it
    finished (Lightning's ``test`` after ``fit``, ``evaluate`` after ``train``, a second
    ``fit``), resumed under the same id rather than split into a second run.

    Pickled (Lightning's ``ddp_spawn`` pickles the logger into each worker), it carries the run's
    id, reserved at that moment if the run has not started, and never the :class:`Run` itself:
    the worker starts the run under that id, and this process, asked for the id afterwards,
    names the worker's run instead of starting a second, empty one."""

    def __init__(self, project: str, init_kwargs: Mapping[str, Any]) -> None:
        self.project = project
        self.run: Run | None = None
        self.run_id: str | None = None  # the run's id once started, or reserved before a spawn
        self._kwargs = dict(init_kwargs)

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.status is Status.RUNNING

    def get(self, params: Mapping[str, Any] | None = None) -> Run:
        """The running run, started or resumed as needed, with ``params`` (already plain) merged in."""
        if self.running:
            assert self.run is not None
            if params:
                self.run.log_params(params)
            return self.run
        kwargs = dict(self._kwargs)
        if params:  # the user's own params win over what the framework reports
            kwargs["params"] = {**params, **plain_params(kwargs.get("params") or {})}
        if self.run is not None:
            self.run = init(self.project, **{**kwargs, "run_id": self.run.id, "resume": True})
        elif self.run_id is not None:
            self.run = self._start_reserved(kwargs, self.run_id)
        else:
            self.run = init(self.project, **kwargs)
        self.run_id = self.run.id
        return self.run

    def _start_reserved(self, kwargs: dict[str, Any], run_id: str) -> Run:
        """The run under an id reserved before a spawn: resumed if a worker (or an earlier
        session) already wrote it, else started here with that id."""
        try:
            return init(self.project, **{**kwargs, "run_id": run_id, "resume": True})
        except RunNotFoundError:
            if kwargs.get("resume"):  # the caller asked to continue a run that does not exist
                raise
        return init(self.project, **{**kwargs, "run_id": run_id, "resume": False})

    def reserve(self) -> str:
        """The run's id, fixed now if the run has not started (the caller's ``run_id`` if given)."""
        if self.run_id is None:
            self.run_id = self._kwargs.get("run_id") or new_id()
        return self.run_id

    def __getstate__(self) -> dict[str, Any]:
        """For a spawned worker (see the class docstring). A run still open in this process is
        handed over: it is finished here, so the worker can resume it without two writers."""
        self.reserve()
        if self.running:
            assert self.run is not None
            self.run.finish()
        return {**self.__dict__, "run": None}

    def training_began(self) -> None:
        """The framework's training is under way: until :meth:`training_ended`, the run is cut short,
        so finishing it as finished (the caller caught the exception that ended training, or the
        interpreter exits) fails it with :data:`CUT_SHORT` instead."""
        if self.running:
            assert self.run is not None
            self.run._cut_short = CUT_SHORT

    def training_ended(self) -> None:
        """The framework signalled the normal end of training."""
        if self.run is not None:
            self.run._cut_short = None

    def restart(self) -> None:
        """Let the next ``get`` start a new run. One still open was cut short (its ``train``/``fit``
        raised before the framework's end hook, which no hook reports): it is marked failed."""
        self.finish(Status.FAILED, CUT_SHORT)
        self.run = self.run_id = None

    def finish(self, status: Status | str = Status.FINISHED, error: str | None = None) -> None:
        if self.running:
            assert self.run is not None
            self.run.finish(status, error)

    def exit(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        """End a ``with`` block as :class:`tracklib.Run` does: exception → failed, Ctrl-C → killed."""
        if self.running:
            assert self.run is not None
            self.run.__exit__(exc_type, exc, tb)


def error_text(exc: BaseException | None) -> str | None:
    return f"{type(exc).__name__}: {exc}" if exc is not None else None
