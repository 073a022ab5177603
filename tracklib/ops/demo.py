"""A real hyperparameter sweep to look at: small MLPs on scikit-learn's bundled digits.

    from tracklib.ops.demo import run_demo
    run_ids = run_demo("./tracking")          # ~49 runs in project "digits", group "sweep-1"

Each run trains ``sklearn.neural_network.MLPClassifier`` one epoch at a time with
``partial_fit`` on a fixed, stratified train/validation split, logs ``train/loss``,
``val/loss``, ``train/acc`` and ``val/acc`` every epoch, sets ``best_val_acc`` in its summary
and logs the trained model as the ``model.pkl`` artifact. Every run records the data it read
(``log_dataset("digits", ...)``: scikit-learn's own ``digits.csv.gz``, so all runs share one
fingerprint), prints a line per epoch (its Console), and at the first, middle and last epoch
logs two images of its validation predictions: the digits it got wrong and a confusion
matrix. One extra run fails part-way, so the dashboard has a failed run (with its error
and traceback) to show.

scikit-learn is an optional dependency (``pip install 'tracklib[demo]'``); it is imported
only when the demo runs, never by ``import tracklib``.
"""

from __future__ import annotations

import importlib.resources
import itertools
import os
import pickle
import sys
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracklib.ops.compact import compact
from tracklib.ops.demo_images import MAX_TILES, confusion_image, misclassified_grid
from tracklib.write.run import Run
from tracklib.write.start import init

GROUP = "sweep-1"
EPOCHS = 20
LEARNING_RATES = (1e-4, 1e-3, 1e-2, 1e-1)  # log-spaced
HIDDEN_LAYERS = ((32,), (64,), (64, 64))
ALPHAS = (1e-4, 1e-1)  # L2 penalty: weak, strong
OPTIMIZERS = ("adam", "sgd")
VALIDATION_FRACTION = 0.25
BATCH_SIZE = 64
FAILING_EPOCH = 3  # the failing run raises after this many epochs
FAILURE_MESSAGE = "demo: learning rate schedule diverged"
# Only what is cheap: "git" shells out several times per run, "packages" walks every
# installed distribution; neither says anything about this sweep. "console" keeps the
# per-epoch lines each run prints.
CAPTURE = ("system", "argv", "console")
# No system_metrics: a run lasts 0.2-4 s (median 1.4 s), and at the shortest interval (1 s)
# that is 0-4 samples per run, a System chart that says nothing.
IMAGE_EPOCHS = (0, EPOCHS // 2 - 1, EPOCHS - 1)  # first, middle, last: the step slider's stops
DATASET = "digits"


@dataclass(frozen=True)
class Config:
    optimizer: str
    learning_rate: float
    hidden: tuple[int, ...]
    alpha: float

    @property
    def name(self) -> str:
        """Readable and unique within the sweep, e.g. ``adam-lr1e-03-64x64-a1e-04``."""
        layers = "x".join(str(width) for width in self.hidden)
        return f"{self.optimizer}-lr{self.learning_rate:.0e}-{layers}-a{self.alpha:.0e}"

    def params(self, seed: int) -> dict[str, Any]:
        return {
            "model": "MLPClassifier",
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "alpha": self.alpha,
            "hidden": {
                "layers": "x".join(str(width) for width in self.hidden),
                "width": max(self.hidden),
                "depth": len(self.hidden),
            },
            "batch_size": BATCH_SIZE,
            "epochs": EPOCHS,
            "seed": seed,
            "data": {"name": "digits", "val_fraction": VALIDATION_FRACTION},
        }


BASELINE = Config("adam", 1e-3, (64,), 1e-4)  # roughly scikit-learn's defaults
# The failing run stands for a schedule that blows up: it raises FAILURE_MESSAGE after
# FAILING_EPOCH epochs (on purpose, so the demo always has exactly one failed run).
FAILING = Config("sgd", 1e-1, (64,), 1e-4)


def sweep() -> list[Config]:
    """The grid: every optimiser x learning rate x architecture x alpha (48 configs)."""
    return [
        Config(optimizer, lr, hidden, alpha)
        for optimizer, lr, hidden, alpha in itertools.product(
            OPTIMIZERS, LEARNING_RATES, HIDDEN_LAYERS, ALPHAS
        )
    ]


def run_demo(
    root: str | None = None,
    project: str = "digits",
    storage_options: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> list[str]:
    """Write the demo sweep to ``root`` (default as in :func:`tracklib.init`); return its run ids.

    48 finished runs and one failed run, in the order they ran, then compacted; takes
    some seconds.

    Raises:
        ImportError: scikit-learn is not installed.
    """
    sklearn = _import_sklearn()
    data = _load_data(seed)
    run_ids = []
    with warnings.catch_warnings(), _digits_file() as digits_file:
        warnings.simplefilter("ignore", category=sklearn.exceptions.ConvergenceWarning)
        for config in sweep():
            tags = [config.optimizer] + (["baseline"] if config == BASELINE else [])
            with _start(config, config.name, project, root, storage_options, seed, tags) as run:
                run_ids.append(run.id)
                run.log_dataset(DATASET, digits_file)
                _train(run, config, data, seed)
        try:
            name, tags, params = (
                FAILING.name + "-exp",
                ["sgd", "broken"],
                {"lr_schedule": "exponential-warmup"},
            )
            with _start(FAILING, name, project, root, storage_options, seed, tags, params) as run:
                run_ids.append(run.id)
                run.log_dataset(DATASET, digits_file)
                _train(run, FAILING, data, seed, fail_after=FAILING_EPOCH)
        except ValueError as exc:
            if str(exc) != FAILURE_MESSAGE:
                raise  # a real error, not the demo's planned one
    compact(root, project, storage_options)  # as a nightly `tracklib compact` would
    return run_ids


def _import_sklearn() -> Any:
    try:
        import sklearn
        import sklearn.exceptions
    except ImportError as exc:
        raise ImportError("the tracklib demo needs scikit-learn: pip install 'tracklib[demo]'") from exc
    return sklearn


def _digits_file() -> Any:
    """The file ``load_digits`` reads, shipped inside scikit-learn (a real path while open)."""
    return importlib.resources.as_file(
        importlib.resources.files("sklearn.datasets") / "data" / "digits.csv.gz"
    )


@dataclass(frozen=True)
class _Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def _load_data(seed: int) -> _Data:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x / 16.0  # pixel intensities are 0..16
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_FRACTION, stratify=y, random_state=seed
    )
    return _Data(x_train, y_train, x_val, y_val)


def _start(
    config: Config,
    name: str,
    project: str,
    root: str | None,
    storage_options: Mapping[str, Any] | None,
    seed: int,
    tags: list[str],
    extra_params: Mapping[str, Any] | None = None,
) -> Run:
    return init(
        project=project,
        name=name,
        params=config.params(seed) | dict(extra_params or {}),
        tags=tags,
        group=GROUP,
        root=root,
        storage_options=storage_options,
        capture=CAPTURE,
    )


def _train(run: Run, config: Config, data: _Data, seed: int, fail_after: int | None = None) -> None:
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier

    classes = np.arange(10)
    model = MLPClassifier(
        hidden_layer_sizes=config.hidden,
        solver=config.optimizer,
        learning_rate_init=config.learning_rate,
        alpha=config.alpha,
        batch_size=BATCH_SIZE,
        random_state=seed,
    )
    best_val_acc = 0.0
    print(
        f"{config.name}: MLPClassifier(hidden={config.hidden}, solver={config.optimizer}, "
        f"learning_rate_init={config.learning_rate:g}, alpha={config.alpha:g}) on "
        f"{len(data.y_train)} training digits, {len(data.y_val)} for validation"
    )
    for epoch in range(EPOCHS):
        if fail_after is not None and epoch == fail_after:
            print(f"epoch {epoch + 1:>2}/{EPOCHS} stopped: {FAILURE_MESSAGE}", file=sys.stderr)
            raise ValueError(FAILURE_MESSAGE)
        if epoch == 0:
            model.partial_fit(data.x_train, data.y_train, classes=classes)
        else:
            model.partial_fit(data.x_train, data.y_train)
        train_proba = model.predict_proba(data.x_train)
        val_proba = model.predict_proba(data.x_val)
        val_predicted = classes[val_proba.argmax(axis=1)]
        metrics = {
            "train/loss": log_loss(data.y_train, train_proba, labels=classes),
            "val/loss": log_loss(data.y_val, val_proba, labels=classes),
            "train/acc": float(np.mean(classes[train_proba.argmax(axis=1)] == data.y_train)),
            "val/acc": float(np.mean(val_predicted == data.y_val)),
        }
        run.log(metrics, step=epoch)
        print(
            f"epoch {epoch + 1:>2}/{EPOCHS}  train/loss {metrics['train/loss']:.4f}  "
            f"val/loss {metrics['val/loss']:.4f}  val/acc {metrics['val/acc']:.4f}"
        )
        if epoch in IMAGE_EPOCHS:
            _log_images(run, data, val_predicted, epoch)
        best_val_acc = max(best_val_acc, metrics["val/acc"])
    print(f"best val/acc {best_val_acc:.4f}; saving the model as model.pkl")
    run.summary["best_val_acc"] = best_val_acc
    with tempfile.TemporaryDirectory(prefix="tracklib-demo-") as tmp:
        path = os.path.join(tmp, "model.pkl")
        with open(path, "wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        run.log_artifact(path, name="model.pkl")  # staged (copied) now, uploaded later


def _log_images(run: Run, data: _Data, predicted: np.ndarray, epoch: int) -> None:
    """What a user looks at besides the curves: which validation digits are wrong, and as what."""
    wrong = int(np.sum(predicted != data.y_val))
    grid = misclassified_grid(data.x_val, data.y_val, predicted)
    if grid is not None:
        caption = (
            f"epoch {epoch + 1} of {EPOCHS}: {wrong} of {len(data.y_val)} validation digits wrong; "
            + (f"the first {MAX_TILES}" if wrong > MAX_TILES else "all shown")
            + ", each labelled '<true digit> as <predicted>'"
        )
        run.log_image("val/misclassified", grid, step=epoch, caption=caption)
    run.log_image(
        "val/confusion",
        confusion_image(data.y_val, predicted),
        step=epoch,
        caption=f"epoch {epoch + 1} of {EPOCHS}: validation digits, rows the true digit, columns the predicted one",
    )


if __name__ == "__main__":
    import sys

    from tracklib.read.store import open_store

    target = sys.argv[1] if len(sys.argv) > 1 else None
    ids = run_demo(target)
    board = open_store(target).leaderboard("digits", "val/acc", agg="max", top=5)
    print(f"wrote {len(ids)} runs")
    print(board[["rank", "name", "status", "metrics_max.val/acc", "step"]].to_string(index=False))
