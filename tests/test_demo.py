"""The demo sweep: real training on digits, written through the public API, read back by a Store."""

from __future__ import annotations

import hashlib
import importlib.resources
import io
import pickle
import re
import subprocess
import sys

import pytest
from PIL import Image

import tracklib
from tracklib.analysis.filters import apply_filter
from tracklib.ops.demo import run_demo

PROJECT = "digits"
METRICS = {"train/loss", "val/loss", "train/acc", "val/acc"}


def test_demo_writes_a_sweep_that_really_learned(demo_store):
    root, run_ids = demo_store

    store = tracklib.open_store(root)
    runs = store.runs(PROJECT)
    assert 24 <= len(runs) <= 49
    assert sorted(runs["run_id"]) == sorted(run_ids)
    assert set(runs["group"]) == {"sweep-1"}
    assert runs["name"].is_unique

    # exactly one failed run, carrying the exception's text
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 1
    error = store.run(PROJECT, failed["run_id"].iloc[0]).error
    assert "demo: learning rate schedule diverged" in error
    finished = runs[runs["status"] == "finished"]
    assert len(finished) == len(runs) - 1

    # the best run learned for real, and the sweep separates good configs from bad ones
    board = store.leaderboard(PROJECT, "val/acc", agg="max")
    top = board.iloc[0]
    assert top["metrics_max.val/acc"] > 0.9
    assert top["status"] == "finished"
    assert finished["metrics_max.val/acc"].min() < 0.5
    assert (finished["metrics.best_val_acc"] == finished["metrics_max.val/acc"]).all()
    assert len(runs[runs["tags"].map(lambda tags: "baseline" in tags)]) == 1

    # every finished run has the four metrics, one point per epoch
    history = store.history(PROJECT, run_ids=list(finished["run_id"]))
    epochs = dict(zip(finished["run_id"], finished["params.epochs"]))
    for (run_id, key), series in history.groupby(["run_id", "key"]):
        assert list(series["step"]) == list(range(epochs[run_id])), (run_id, key)
    assert history.groupby("run_id")["key"].agg(set).to_dict() == {r: METRICS for r in finished["run_id"]}

    # every finished run kept its model; the best one loads and classifies digits
    for run_id in finished["run_id"]:
        assert "model.pkl" in list(store.run(PROJECT, run_id).artifacts["name"])
    artifacts = store.run(PROJECT, top["run_id"]).artifacts
    model = pickle.loads(store.read_artifact(artifacts.loc[artifacts["name"] == "model.pkl", "path"].iloc[0]))
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    assert model.score(x / 16.0, y) > 0.9


def test_every_demo_run_records_the_digits_file_it_read(demo_store):
    root, run_ids = demo_store
    digits_file = importlib.resources.files("sklearn.datasets") / "data" / "digits.csv.gz"
    expected = "sha256:" + hashlib.sha256(digits_file.read_bytes()).hexdigest()

    runs = tracklib.open_store(root).runs(PROJECT)
    assert list(runs["datasets.digits"]) == [expected] * len(run_ids)
    # the Runs page's filter picks them all by that version, and none by another
    assert len(apply_filter(runs, f'datasets.digits = "{expected}"')) == len(run_ids)
    assert apply_filter(runs, 'datasets.digits = "sha256:0"').empty


def test_demo_runs_show_their_misclassified_digits_and_confusion_matrix(demo_store):
    root, _ = demo_store
    store = tracklib.open_store(root)
    runs = store.runs(PROJECT)
    worst = runs[runs["status"] == "finished"].sort_values("metrics_max.val/acc").iloc[0]["run_id"]

    images = store.images(PROJECT, worst)
    assert sorted(zip(images["key"], images["step"])) == [
        (key, step) for key in ("val/confusion", "val/misclassified") for step in (0, 9, 19)
    ]
    # the caption's count of wrong digits is the run's own val/acc at that epoch
    val_acc = store.history(PROJECT, run_ids=[worst], keys=["val/acc"]).set_index("step")["value"]
    for _, image in images[images["key"] == "val/misclassified"].iterrows():
        wrong = int(
            re.match(r"epoch \d+ of 20: (\d+) of 450 validation digits wrong", image["caption"]).group(1)
        )
        assert wrong == round((1 - val_acc[image["step"]]) * 450)
    for _, image in images.iterrows():
        png = Image.open(io.BytesIO(store.read_image(image["path"], PROJECT, worst)))
        assert png.size == (image["width"], image["height"]) and png.size[0] >= 300

    failed = runs[runs["status"] == "failed"].iloc[0]["run_id"]
    assert sorted(store.images(PROJECT, failed)["step"]) == [0, 0]  # it stopped after 3 epochs


def test_demo_runs_console_has_a_line_per_epoch(demo_store):
    root, _ = demo_store
    store = tracklib.open_store(root)
    runs = store.runs(PROJECT)
    for _, run in runs.iterrows():
        console = store.console(PROJECT, run["run_id"])
        lines = list(console["line"])
        assert lines[0].startswith(f"{run['name'].removesuffix('-exp')}: MLPClassifier(")
        epochs = [line for line in lines if line.startswith("epoch ")]
        if run["status"] == "finished":
            assert len(epochs) == 20 and set(console["stream"]) == {"stdout"}
            assert (
                lines[-1] == f"best val/acc {run['metrics.best_val_acc']:.4f}; saving the model as model.pkl"
            )
        else:
            assert epochs[-1] == "epoch  4/20 stopped: demo: learning rate schedule diverged"
            assert list(console["stream"])[-1] == "stderr"
            assert "Traceback" in store.run(PROJECT, run["run_id"]).error


def test_demo_without_sklearn_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKLIB_SPOOL", str(tmp_path / "spool"))
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail

    with pytest.raises(ImportError, match=r"pip install 'tracklib\[demo\]'"):
        run_demo(root=str(tmp_path / "store"))
    assert not (tmp_path / "store").exists()


def test_importing_tracklib_does_not_import_sklearn():
    code = "import sys, tracklib, tracklib.ops.demo; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
