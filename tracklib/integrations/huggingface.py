"""Hugging Face Transformers: ``Trainer(..., callbacks=[TracklibCallback(project="glue")])``.

``TrainingArguments`` become ``args.*`` params and the model's config ``model.*``; what the
Trainer logs becomes metrics at its global step, renamed as W&B does (``loss`` → ``train/loss``,
``eval_loss`` → ``eval/loss``, ``epoch`` kept). Only the main process writes.

The run finishes when training ends; ``trainer.evaluate()`` afterwards resumes it, logs, and
finishes it again; another ``train()`` from step 0 (each trial of ``hyperparameter_search`` too)
is a new run. To continue a run in a new process, pass ``run_id=<id>, resume=True`` (they go to
``init``). The Trainer has no hook for a crash, so a run whose ``train()`` began and never reached
``on_train_end`` is failed whenever it is finished: at once by ``with TracklibCallback(...) as
callback:`` (killed for Ctrl-C), by the next ``train()`` before it starts its own run, and also
when the caller caught the exception and the run is then finished by ``callback.run.finish()``, the
``with`` block or the interpreter's exit (error: training did not complete).

``log_model`` uploads models as artifacts, as W&B's ``WANDB_LOG_MODEL`` does: ``"end"`` the
model when training ends (``save_pretrained`` of the model and of the tokenizer/processor, if
any, under ``model/``; the best one with ``load_best_model_at_end``), ``"checkpoint"`` that and
also every checkpoint folder the Trainer saves, as it is saved, under
``checkpoints/checkpoint-<step>/``. ``transformers.AutoModel...from_pretrained`` loads the
downloaded ``model/`` folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from transformers import TrainerCallback

from tracklib.integrations import LazyRun, numeric_metrics, plain_params
from tracklib.integrations.model_files import log_folder
from tracklib.write.run import Run


class TracklibCallback(TrainerCallback):
    """A Trainer callback writing one tracklib run.

    Args:
        project: the tracklib project.
        root, storage_options, tags, group: as in :func:`tracklib.init`; so is any other keyword.
        log_model: False (default): no model files. ``"end"`` (or True): the model when training
            ends, under ``model/``. ``"checkpoint"``: that, and each checkpoint as saved.

    Raises:
        ValueError: ``log_model`` is not False, True, "end" or "checkpoint".
    """

    def __init__(
        self,
        project: str,
        *,
        root: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        group: str | None = None,
        log_model: bool | Literal["end", "checkpoint"] = False,
        **init_kwargs: Any,
    ) -> None:
        if not (log_model is False or log_model is True or log_model in ("end", "checkpoint")):
            raise ValueError(f'log_model must be False, True, "end" or "checkpoint", got {log_model!r}')
        self._log_model = "end" if log_model is True else log_model
        self._run = LazyRun(
            project, dict(root=root, storage_options=storage_options, tags=tags, group=group, **init_kwargs)
        )
        self._training = False
        self._trained = False

    @property
    def run(self) -> Run | None:
        """The run, once the Trainer has started it."""
        return self._run.run

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        if self._training or (self._trained and state.global_step == 0):
            self._run.restart()  # the last train() raised, or this one starts from scratch: a new run
        self._training = self._trained = True
        self._run.get(_params(args, model))
        self._run.training_began()

    def on_log(
        self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        metrics = numeric_metrics({_rename(key): value for key, value in (logs or {}).items()})
        if metrics:
            run = self._run.get() if self._run.running else self._run.get(_params(args, kwargs.get("model")))
            run.log(metrics, step=state.global_step)
            if not self._training:  # evaluate() outside train(): nothing else will end the run
                self._run.finish()

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """The Trainer saved ``<output_dir>/checkpoint-<step>`` (rotated old ones already)."""
        if self._log_model == "checkpoint" and state.is_world_process_zero:
            folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
            if os.path.isdir(folder):
                log_folder(self._run.get(), folder, f"checkpoints/checkpoint-{state.global_step}")

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            if self._log_model and kwargs.get("model") is not None:
                _log_saved_model(self._run.get(), kwargs["model"], kwargs.get("processing_class"))
            self._training = False
            self._run.training_ended()
            self._run.finish()

    def __enter__(self) -> TracklibCallback:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self._run.exit(exc_type, exc, tb)


def _log_saved_model(run: Run, model: Any, processing_class: Any) -> None:
    """What ``from_pretrained`` needs: the model's weights and config, and its tokenizer or
    processor when the Trainer has one, saved to a temporary folder and logged from there."""
    with tempfile.TemporaryDirectory(prefix="tracklib-model-") as folder:
        model.save_pretrained(folder)
        if hasattr(processing_class, "save_pretrained"):
            processing_class.save_pretrained(folder)
        log_folder(run, folder, "model")


def _rename(key: str) -> str:
    """W&B's names, familiar to Transformers users: ``eval_``/``test_`` prefixes become namespaces."""
    for prefix in ("eval", "test"):
        if key.startswith(f"{prefix}_"):
            return f"{prefix}/{key[len(prefix) + 1 :]}"
    return key if key == "epoch" else f"train/{key}"


def _params(args: Any, model: Any) -> dict[str, Any]:
    params = {"args": args.to_dict()}  # to_dict masks tokens (hub_token, ...)
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        params["model"] = config.to_dict()
    flat = plain_params(params)
    if hasattr(model, "num_parameters"):
        flat["model.num_parameters"] = model.num_parameters()
    return flat
