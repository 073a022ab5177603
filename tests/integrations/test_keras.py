"""Keras 3 on the torch backend: a small classifier fitted 2 epochs on random data."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from servers import missing_component, require

keras = require("keras", "keras")
if keras.backend.backend() != "torch":  # KERAS_BACKEND is set in conftest; another may have won
    missing_component("Keras on the torch backend", RuntimeError(f"backend is {keras.backend.backend()}"))

from tracklib.integrations.keras import TracklibCallback  # noqa: E402

pytestmark = [
    # Keras 3.15's torch Variable.__array__ lacks numpy 2's copy= keyword; numpy warns inside
    # keras (Optimizer.get_config -> Variable.numpy), not in our code
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

SAMPLES, BATCH = 64, 16
TRAIN_BATCHES = SAMPLES * 3 // 4 // BATCH  # validation_split=0.25


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dropout(0.1, name="dropout"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ],
        name="tiny",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(SAMPLES, 8)).astype("float32"), rng.integers(0, 3, SAMPLES)


def test_fit_records_config_epoch_and_batch_metrics(local_root):
    x, y = _data()
    model = _model()
    callback = TracklibCallback(
        "keras", root=local_root.url, tags=["cpu"], log_every_n_batches=1, capture=False
    )
    model.fit(x, y, epochs=2, batch_size=BATCH, validation_split=0.25, verbose=0, callbacks=[callback])

    (run,) = local_root.store().runs("keras").to_dict("records")
    assert (run["run_id"], run["status"], list(run["tags"])) == (callback.run.id, "finished", ["cpu"])
    params = {k.removeprefix("params."): v for k, v in run.items() if k.startswith("params.")}
    assert {
        k: params[k] for k in ("optimizer.name", "optimizer.learning_rate", "fit.epochs", "fit.steps")
    } == {
        "optimizer.name": "adam",
        "optimizer.learning_rate": 1e-3,
        "fit.epochs": 2,
        "fit.steps": TRAIN_BATCHES,
    }
    assert (params["model.name"], params["model.class"], params["model.num_parameters"]) == (
        "tiny",
        "Sequential",
        model.count_params(),
    )
    assert (params["model.layers.hidden.units"], params["model.layers.hidden.activation"]) == (16, "relu")
    assert (params["model.layers.dropout.class"], params["model.layers.dropout.rate"]) == ("Dropout", 0.1)

    history = local_root.store().history("keras", [run["run_id"]])
    steps = {key: list(rows["step"]) for key, rows in history.groupby("key")}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert steps[key] == [0, 1]  # the epoch index
    assert steps["batch/loss"] == list(range(1, 2 * TRAIN_BATCHES + 1))  # batches seen
    final = model.history.history
    assert run["metrics.val_loss"] == pytest.approx(final["val_loss"][-1])


def test_a_second_fit_continues_the_run(local_root):
    x, y = _data()
    model = _model()
    callback = TracklibCallback("keras", root=local_root.url, capture=False)
    model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[callback])
    model.fit(x, y, epochs=4, initial_epoch=2, batch_size=BATCH, verbose=0, callbacks=[callback])

    (run,) = local_root.store().runs("keras").to_dict("records")
    assert (run["status"], run["params.fit.epochs"]) == ("finished", 4)
    loss = local_root.store().history("keras", [run["run_id"]], keys=["loss"])
    assert list(loss["step"]) == [0, 1, 2, 3]
    assert "metrics.batch/loss" not in run  # batch logging is opt-in


class Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise RuntimeError("nan loss")


def test_a_crash_inside_the_with_block_fails_the_run(local_root):
    x, y = _data()
    with pytest.raises(RuntimeError, match="nan loss"):
        with TracklibCallback("keras", root=local_root.url, capture=False) as callback:
            _model().fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[callback, Boom()])

    details = local_root.store().run("keras", callback.run.id)
    assert details.status == "failed"
    assert details.error.startswith("Traceback (most recent call last)")  # kept whole
    assert details.error.splitlines()[-1] == "RuntimeError: nan loss"


def test_log_every_n_batches_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="log_every_n_batches"):
        TracklibCallback("keras", log_every_n_batches=0)


def test_a_fit_after_a_crashed_one_fails_it_and_starts_a_new_run(local_root):
    x, y = _data()
    model = _model()
    callback = TracklibCallback("keras", root=local_root.url, capture=False)
    with pytest.raises(RuntimeError, match="nan loss"):
        model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[callback, Boom()])
    crashed = callback.run.id
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[callback])

    runs = local_root.store().runs("keras").set_index("run_id")
    assert list(runs.loc[[crashed, callback.run.id], "status"]) == ["failed", "finished"]


def test_a_fit_error_the_caller_catches_still_fails_the_run(local_root):
    """Keras reports no exception and the caller swallowed it, but ``on_train_end`` never came:
    the caller finishing the run afterwards fails it."""
    x, y = _data()
    callback = TracklibCallback("keras", root=local_root.url, capture=False)
    try:
        _model().fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[callback, Boom()])
    except RuntimeError:
        pass
    assert callback.run.status == "running"
    callback.run.finish()

    details = local_root.store().run("keras", callback.run.id)
    assert details.status == "failed" and details.error.startswith("training did not complete")
    assert details.summary.set_index("key").loc["loss", "count"] == 1  # epoch 0, logged before Boom


SWALLOWED = """
import sys
import keras, numpy as np
from tracklib.integrations.keras import TracklibCallback

class Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("nan loss")

model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
rng = np.random.default_rng(0)
callback = TracklibCallback("keras", root=sys.argv[1], capture=False)
try:
    model.fit(rng.normal(size=(32, 8)), rng.integers(0, 3, 32), epochs=3, verbose=0, callbacks=[callback, Boom()])
except RuntimeError:
    pass  # swallowed: the script goes on and exits normally, the run still open
print(callback.run.id)
"""


def test_a_swallowed_fit_error_fails_the_run_at_exit(local_root):
    done = subprocess.run(
        [sys.executable, "-c", SWALLOWED, local_root.url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert done.returncode == 0, done.stderr
    details = local_root.store().run("keras", done.stdout.split()[-1])
    assert details.status == "failed" and details.error.startswith("training did not complete")
    assert details.summary.set_index("key").loc["loss", "count"] == 2  # epochs 0 and 1
