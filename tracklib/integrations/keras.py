"""Keras 3: ``model.fit(x, y, callbacks=[TracklibCallback(project="mnist")])``.

Params: the optimizer's config (``optimizer.*``), the model's name, class and size, each layer's
plain settings (``model.layers.<layer>.units``...) and ``fit.epochs``/``fit.steps``. Metrics:
Keras' epoch logs under their own names (``loss``, ``val_accuracy``) at step = epoch index and,
with ``log_every_n_batches=n``, every n-th batch's logs as ``batch/<name>`` at step = batches
seen. The run finishes when ``fit`` returns; a second ``fit`` of the same callback resumes it
(pass ``initial_epoch`` so its epochs follow on). Keras has no hook for a crash, so a run whose
``fit`` began and never reached ``on_train_end`` is failed whenever it is finished: at once by
``with TracklibCallback(...) as callback:`` (killed for Ctrl-C), by the next ``fit`` before it
starts a new run, and also when the caller caught the exception and the run is then finished by
``callback.run.finish()``, the ``with`` block or the interpreter's exit (error: training did not
complete).

With ``log_model=True`` the model is uploaded when ``fit`` ends as the artifact ``model.keras``
(``model.save``: architecture, weights and optimizer state; ``keras.models.load_model`` reads
it back); after a second ``fit`` the newest upload is the one the run lists.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

import keras
import numpy as np

from tracklib.integrations import LazyRun, numeric_metrics, plain_params
from tracklib.write.run import Run

_LAYER_NOISE = ("name", "trainable")  # the name is in the key; every layer has trainable=True


class TracklibCallback(keras.callbacks.Callback):
    """A Keras callback writing one tracklib run.

    Args:
        project: the tracklib project.
        root, storage_options, tags, group: as in :func:`tracklib.init`; so is any other keyword.
        log_every_n_batches: also log every n-th training batch (None: epochs only).
        log_model: upload the trained model (``model.keras``) when ``fit`` ends.
    """

    def __init__(
        self,
        project: str,
        *,
        root: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        group: str | None = None,
        log_every_n_batches: int | None = None,
        log_model: bool = False,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        if log_every_n_batches is not None and (
            type(log_every_n_batches) is not int or log_every_n_batches < 1
        ):
            raise ValueError(
                f"log_every_n_batches must be an integer >= 1 or None, got {log_every_n_batches!r}"
            )
        self._run = LazyRun(
            project, dict(root=root, storage_options=storage_options, tags=tags, group=group, **init_kwargs)
        )
        if type(log_model) is not bool:
            raise ValueError(f"log_model must be True or False, got {log_model!r}")
        self._log_model = log_model
        self._every = log_every_n_batches
        self._batches = 0
        if log_every_n_batches:
            # Keras dispatches batch hooks asynchronously only to callbacks that keep the default
            # one; a batch hook is installed only when asked for, so epoch-only logging costs nothing.
            self.on_train_batch_end = self._log_batch

    @property
    def run(self) -> Run | None:
        """The run, once ``fit`` has started it."""
        return self._run.run

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        if self._run.running:  # the last fit() never reached on_train_end: it raised
            self._run.restart()
        if self._run.run is None:  # a new run counts its batches from zero; a resumed one goes on
            self._batches = 0
        self._run.get(self._params())
        self._run.training_began()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._run.get().log(numeric_metrics(logs or {}), step=epoch)

    def _log_batch(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._batches += 1
        if self._every and self._batches % self._every == 0:
            self._run.get().log(numeric_metrics(logs or {}, prefix="batch/"), step=self._batches)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self._log_model:
            _log_saved_model(self._run.get(), self.model)
        self._run.training_ended()
        self._run.finish()

    def __enter__(self) -> TracklibCallback:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self._run.exit(exc_type, exc, tb)

    def _params(self) -> dict[str, Any]:
        model = self.model
        params: dict[str, Any] = {
            "fit": {k: v for k, v in (self.params or {}).items() if k in ("epochs", "steps")},
            "model": {"name": model.name, "class": type(model).__name__},
        }
        if model.built:
            params["model"]["num_parameters"] = model.count_params()
        params["model"]["layers"] = {layer.name: _layer_settings(layer) for layer in model.layers}
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            params["optimizer"] = {k: _float32(v) for k, v in optimizer.get_config().items() if v is not None}
        return plain_params(params)


def _log_saved_model(run: Run, model: keras.Model) -> None:
    with tempfile.TemporaryDirectory(prefix="tracklib-model-") as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        run.log_artifact(path, name="model.keras")


def _layer_settings(layer: Any) -> dict[str, Any]:
    """A layer's plain settings (units, activation, rate...); nested configs (initializers, dtype
    policies) are left out: they are rarely what a run is compared by, and many."""
    try:
        config = layer.get_config()
    except NotImplementedError:  # a custom layer without get_config
        return {"class": type(layer).__name__}
    plain = {
        k: v for k, v in config.items() if k not in _LAYER_NOISE and isinstance(v, (bool, int, float, str))
    }
    return {"class": type(layer).__name__, **plain}


def _float32(value: Any) -> Any:
    """Keras keeps the learning rate in a float32 variable: show 1e-3, not 0.0010000000474974513."""
    if isinstance(value, float) and np.isfinite(value) and float(np.float32(value)) == value:
        return float(str(np.float32(value)))
    return value
