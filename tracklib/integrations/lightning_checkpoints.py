"""Which of a ``ModelCheckpoint`` callback's files to upload, when, and under what name: the
``log_model`` of :class:`tracklib.integrations.lightning.TracklibLogger`, with the semantics of
Lightning's own W&B logger (True: the kept ones at the end, or each as saved when all are kept;
``"all"``: each as saved).

Artifacts carry no metadata (FORMAT.md §10), so the name says what a checkpoint is: Lightning's
file name with the epoch, step and monitored score added when it lacks them, e.g.
``checkpoints/epoch=2-step=12-val_loss=0.3166.ckpt`` and ``checkpoints/last-epoch=2-step=12-
val_loss=0.3166.ckpt``. The best one (``best_model_path`` when training ends) is named by the
run's params ``checkpoint.best`` (its artifact name), ``checkpoint.best_score`` and
``checkpoint.monitor``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import torch

from tracklib.integrations.model_files import name_part
from tracklib.write.run import Run


class CheckpointUploads:
    """The checkpoints of one logger: which callbacks it saw, which files it uploaded."""

    def __init__(self, log_model: Any) -> None:
        if not (log_model is False or log_model is True or log_model == "all"):
            raise ValueError(f'log_model must be False, True or "all", got {log_model!r}')
        self.mode = log_model
        self._callbacks: dict[int, Any] = {}
        self._uploaded: dict[str, tuple[float, str]] = {}  # file -> (its mtime when uploaded, artifact name)
        self._best_logged: dict[str, Any] = {}

    def saved(self, callback: Any, run: Callable[[], Run]) -> None:
        """A checkpoint was just saved: upload it now, or remember the callback for the end."""
        if not self.mode:
            return
        self._callbacks[id(callback)] = callback
        if self.mode == "all" or getattr(callback, "save_top_k", None) == -1:
            self._upload_new(callback, run)

    def training_ended(self, run: Callable[[], Run]) -> None:
        """Upload what the callbacks kept and was not uploaded yet; name the best in params."""
        for callback in self._callbacks.values():
            self._upload_new(callback, run)
        best = self._best()
        if best and best != self._best_logged:  # a later test() need not resume the run for it
            run().log_params(best)
            self._best_logged = best

    def _upload_new(self, callback: Any, run: Callable[[], Run]) -> None:
        for path, score in _kept_files(callback):
            mtime = os.path.getmtime(path)
            if path in self._uploaded and self._uploaded[path][0] >= mtime:
                continue
            name = artifact_name(path, getattr(callback, "monitor", None), score)
            run().log_artifact(path, name=name)
            self._uploaded[path] = (mtime, name)

    def _best(self) -> dict[str, Any]:
        """The params naming the first callback's best checkpoint (Lightning's
        ``trainer.checkpoint_callback`` is the first one), if it was uploaded."""
        for callback in self._callbacks.values():
            path = getattr(callback, "best_model_path", "")
            if path not in self._uploaded:
                continue
            params: dict[str, Any] = {"checkpoint.best": self._uploaded[path][1]}
            score = _number(getattr(callback, "best_model_score", None))
            monitor = getattr(callback, "monitor", None)
            if monitor and score is not None:
                params.update({"checkpoint.monitor": str(monitor), "checkpoint.best_score": score})
            return params
        return {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the logger for ``ddp_spawn`` workers: callbacks (weak proxies) stay here."""
        return {**self.__dict__, "_callbacks": {}}


def _kept_files(callback: Any) -> list[tuple[str, float | None]]:
    """The files the callback keeps, oldest first, each with its monitored score: the last,
    the best and the best k, as Lightning's own W&B and MLflow loggers gather them."""
    found: dict[str, Any] = {}
    last = getattr(callback, "last_model_path", "")
    if last:
        found[last] = getattr(callback, "current_score", None)
    best = getattr(callback, "best_model_path", "")
    if best:
        found[best] = getattr(callback, "best_model_score", None)
    found.update(getattr(callback, "best_k_models", None) or {})
    files = [(path, _number(score)) for path, score in found.items() if os.path.isfile(path)]
    return sorted(files, key=lambda item: os.path.getmtime(item[0]))


def artifact_name(path: str, monitor: str | None, score: float | None) -> str:
    """``checkpoints/<file stem>[-epoch=E][-step=S][-<monitor>=<score>]<suffix>``, adding only
    what the stem does not already say (Lightning's default stem is ``epoch=E-step=S``)."""
    stem, suffix = os.path.splitext(os.path.basename(path))
    epoch, step = _epoch_and_step(path)
    parts = [name_part(stem)]
    if epoch is not None and f"epoch={epoch}" not in stem:
        parts.append(f"epoch={epoch}")
    if step is not None and f"step={step}" not in stem:
        parts.append(f"step={step}")
    if monitor and score is not None:
        key = name_part(str(monitor))
        if f"{key}=" not in stem:
            parts.append(f"{key}={score:.6g}")
    extension = f".{name_part(suffix[1:])}" if suffix else ".ckpt"
    return f"checkpoints/{'-'.join(parts)}{extension}"


def _epoch_and_step(path: str) -> tuple[int | None, int | None]:
    """The epoch and global step a Lightning checkpoint records, read without loading its
    tensors (memory-mapped) and without running pickled code (``weights_only``); (None, None)
    for a file that is not such a checkpoint or holds objects torch will not load safely."""
    try:
        checkpoint = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception:  # any file a callback might keep: not ours to judge, only to name
        return None, None
    if not isinstance(checkpoint, dict):
        return None, None
    epoch, step = checkpoint.get("epoch"), checkpoint.get("global_step")
    return (
        epoch if type(epoch) is int else None,
        step if type(step) is int else None,
    )


def _number(value: Any) -> float | None:
    """A score (a 0-d tensor, a float, or None) as a finite float, else None."""
    if value is None:
        return None
    try:
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        return None
    return number if math.isfinite(number) else None
