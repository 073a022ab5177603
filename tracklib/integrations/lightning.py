"""PyTorch Lightning: ``Trainer(logger=TracklibLogger(project="mnist"))``.

Hyperparameters (``self.save_hyperparameters()``) become params, ``self.log`` values become
metrics at the trainer's global step, and ``finalize`` sets the run's status (Lightning calls it
with ``failed`` from its ``except``, so a failed ``fit`` is failed even if the caller catches the
exception). The run starts when Lightning first asks for it (at setup) on rank 0 only;
``trainer.test`` after ``trainer.fit`` resumes the same run. With ``strategy="ddp_spawn"`` the run's
id is fixed in the parent when Lightning pickles the logger for its workers: the rank-0 worker
starts the run under it, and ``logger.version`` in the parent afterwards is that run's id (no second
run); ``logger.experiment`` there resumes it. Checkpoints go where Lightning puts them for W&B or
MLflow: ``<default_root_dir>/<project>/<run id>/checkpoints``, and with ``log_model`` into the run's
artifacts too (:mod:`tracklib.integrations.lightning_checkpoints`).
"""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from tracklib.format.schema import Status
from tracklib.integrations import LazyRun, error_text, plain_params
from tracklib.integrations.lightning_checkpoints import CheckpointUploads
from tracklib.write.run import Run


class TracklibLogger(Logger):
    """A Lightning logger writing one tracklib run.

    Args:
        project: the tracklib project.
        root, storage_options, tags, group: as in :func:`tracklib.init`; so is any other keyword.
        log_model: upload the ``ModelCheckpoint`` callback's checkpoints as artifacts, as W&B's
            and MLflow's loggers do. False: none. True: the ones it kept (best k, last) once, when
            training ends (also when it failed; not after Ctrl-C), or each as it is saved with
            ``save_top_k=-1`` (all are kept). ``"all"``: every checkpoint as it is saved.

    Raises:
        ValueError: ``log_model`` is not False, True or "all".
    """

    def __init__(
        self,
        project: str,
        *,
        root: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        group: str | None = None,
        log_model: bool | Literal["all"] = False,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        self._run = LazyRun(
            project, dict(root=root, storage_options=storage_options, tags=tags, group=group, **init_kwargs)
        )
        self._checkpoints = CheckpointUploads(log_model)

    @property
    @rank_zero_experiment
    def experiment(self) -> Run:
        """The :class:`tracklib.Run` (a no-op stand-in on other ranks)."""
        return self._run.get()

    @property
    def name(self) -> str:
        """The project: Lightning's "experiment name", the first folder of the checkpoint path."""
        return self._run.project

    @property
    def version(self) -> str | None:
        """The run id; asking never resumes a run, nor starts one once the id is known (in the
        parent after a ``ddp_spawn`` fit it is the worker's run). Before that, rank 0 starts the
        run (Lightning asks at setup anyway) and other ranks, which write nothing, get None."""
        if self._run.run_id is None and not isinstance(self.experiment, Run):
            return None
        return self._run.run_id

    @property
    def save_dir(self) -> str | None:
        """None: nothing is saved in a local folder of ours (the store may be remote), so
        Lightning keeps checkpoints under its ``default_root_dir``, as for W&B and MLflow."""
        return None

    @property
    def log_dir(self) -> str | None:
        """None, for the same reason: the run's files live in the store, under several prefixes."""
        return None

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        self._run.get(plain_params(vars(params) if isinstance(params, Namespace) else params))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self._run.get().log(metrics, step=step)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Lightning calls this after each checkpoint it saves (on rank 0)."""
        self._checkpoints.saved(checkpoint_callback, self._run.get)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """``success``/``finished`` → finished; ``failed`` → failed with the exception being
        handled (Lightning calls this from its ``except``), or killed for a KeyboardInterrupt;
        anything else (``aborted``) → killed. With ``log_model``, the kept checkpoints not
        uploaded yet are uploaded first, unless the run is killed."""
        exc = sys.exc_info()[1] if status == "failed" else None
        if status in ("success", "finished", "failed") and not isinstance(exc, KeyboardInterrupt):
            self._checkpoints.training_ended(self._run.get)
        if status in ("success", "finished"):
            self._run.finish(Status.FINISHED)
        elif status == "failed":
            if isinstance(exc, KeyboardInterrupt):
                self._run.finish(Status.KILLED, "KeyboardInterrupt")
            else:
                self._run.finish(Status.FAILED, error_text(exc))
        else:
            self._run.finish(Status.KILLED, status)
