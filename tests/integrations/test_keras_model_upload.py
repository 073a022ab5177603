"""Keras ``log_model``: the fitted model reaches the run's artifacts as ``model.keras`` and
``keras.models.load_model`` reads it back with the same predictions."""

from __future__ import annotations

import numpy as np
import pytest

from servers import missing_component, require

keras = require("keras", "keras")
if keras.backend.backend() != "torch":
    missing_component("Keras on the torch backend", RuntimeError(f"backend is {keras.backend.backend()}"))

from tracklib.integrations.keras import TracklibCallback  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 3, 64)


def test_log_model_uploads_the_fitted_model_load_model_reads_back(local_root, tmp_path):
    x, y = _data()
    model = _model()
    callback = TracklibCallback("keras", root=local_root.url, capture=False, log_model=True)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])

    details = local_root.store().run("keras", callback.run.id)
    assert list(details.artifacts["name"]) == ["model.keras"]
    downloaded = tmp_path / "model.keras"
    downloaded.write_bytes(local_root.store().read_artifact(details.artifacts["path"].iloc[0]))
    loaded = keras.models.load_model(downloaded)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_a_second_fit_uploads_the_model_again_and_the_run_lists_the_newest(local_root, tmp_path):
    x, y = _data()
    model = _model()
    callback = TracklibCallback("keras", root=local_root.url, capture=False, log_model=True)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[callback])
    first = local_root.store().run("keras", callback.run.id).artifacts
    model.fit(x, y, epochs=3, initial_epoch=1, batch_size=16, verbose=0, callbacks=[callback])
    second = local_root.store().run("keras", callback.run.id).artifacts

    assert list(second["name"]) == ["model.keras"]
    assert second["path"].iloc[0] != first["path"].iloc[0]
    downloaded = tmp_path / "model.keras"
    downloaded.write_bytes(local_root.store().read_artifact(second["path"].iloc[0]))
    loaded = keras.models.load_model(downloaded)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_log_model_false_uploads_nothing(local_root):
    x, y = _data()
    callback = TracklibCallback("keras", root=local_root.url, capture=False)
    _model().fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[callback])
    assert local_root.store().run("keras", callback.run.id).artifacts.empty


@pytest.mark.parametrize("log_model", ["end", 1, None])
def test_log_model_must_be_a_bool(log_model):
    with pytest.raises(ValueError, match="log_model"):
        TracklibCallback("keras", log_model=log_model)
