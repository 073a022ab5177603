"""What the integrations' ``log_model`` options store and cost, on a local store, for the small
models of tests/integrations: the artifact bytes per run, the time the framework's hook takes
(saving the model where needed, copying it into the spool and hashing it: what training waits
for), and the run's ``finish`` with and without ``log_model`` (finish waits for the background
uploads to land). Median of ``--repeat`` runs each. (The whole training call is not compared:
on a shared 2-core machine it varies by a second from run to run, far more than the upload.)

For scale, ``--large-mb N`` (default 200) also times ``run.log_artifact`` of one N MB file, what
each hook does per file: the call (copy into the spool and SHA-256) and the finish after it.

    KERAS_BACKEND=torch .venv/bin/python benchmarks/checkpoint_uploads.py [--repeat 5] [--large-mb 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")
for folder in ("tests", os.path.join("tests", "integrations")):  # the tests' tiny models
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", folder))

import tracklib  # noqa: E402

HOOK_SECONDS: list[float] = []
FINISH_SECONDS: list[float] = []


def timed_hook(owner: Any, name: str, into: list[float] = HOOK_SECONDS) -> None:
    """Make ``owner.name`` add its duration to ``into``."""
    real = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    setattr(owner, name, wrapper)


def lightning_case(root: str, log_model: Any) -> None:
    import lightning
    from test_lightning_checkpoints import Regressor, _loader

    from tracklib.integrations.lightning import TracklibLogger

    logger = TracklibLogger("bench", root=root, capture=False, log_model=log_model)
    callback = lightning.pytorch.callbacks.ModelCheckpoint(monitor="val/loss", save_top_k=2, save_last=True)
    with tempfile.TemporaryDirectory() as work:
        lightning.Trainer(
            max_epochs=3,
            logger=logger,
            callbacks=[callback],
            accelerator="cpu",
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=work,
        ).fit(Regressor(), _loader(), _loader())


def huggingface_case(root: str, log_model: Any) -> None:
    import pathlib

    from test_huggingface_models import _train

    class Root:  # the test's local_root fixture, as _train uses it
        url = root

        @staticmethod
        def store() -> Any:
            return tracklib.open_store(root)

    with tempfile.TemporaryDirectory() as work:
        _train(pathlib.Path(work), log_model, Root(), save_strategy="no")


def keras_case(root: str, log_model: Any) -> None:
    from test_keras_model_upload import _data, _model

    from tracklib.integrations.keras import TracklibCallback

    x, y = _data()
    callback = TracklibCallback("bench", root=root, capture=False, log_model=log_model)
    _model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[callback])


def sklearn_case(root: str, log_model: Any) -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    from tracklib.integrations.sklearn import log_search

    x, y = load_digits(return_X_y=True)
    search = GridSearchCV(SVC(), {"C": [1.0]}, cv=2).fit(x[:300] / 16.0, y[:300])
    log_search(search, "bench", root=root, log_best_estimator=bool(log_model))


def hooks() -> dict[str, Callable[[], None]]:
    """Wrap each integration's upload step (imported here: the frameworks load slowly)."""
    from tracklib.integrations import huggingface, keras, lightning_checkpoints, sklearn

    return {
        "lightning (log_model=True; best 2 + last)": lambda: timed_hook(
            lightning_checkpoints.CheckpointUploads, "training_ended"
        ),
        'huggingface (log_model="end"; tiny BERT + tokenizer)': lambda: timed_hook(
            huggingface, "_log_saved_model"
        ),
        "keras (log_model=True; model.keras)": lambda: timed_hook(keras, "_log_saved_model"),
        "sklearn (log_best_estimator=True; SVC)": lambda: timed_hook(sklearn, "_log_estimator"),
    }


CASES = [  # (case, log_model value, the project it writes), in the order of hooks()
    (lightning_case, True, "bench"),
    (huggingface_case, "end", "hf"),  # the project the test's _train writes
    (keras_case, True, "bench"),
    (sklearn_case, True, "bench"),
]


def measure(
    case: Callable[[str, Any], None], on: Any, project: str, repeat: int
) -> tuple[float, float, int, int]:
    """Median finish time without and with log_model, bytes and files stored."""
    finishes: dict[bool, list[float]] = {False: [], True: []}
    stored = (0, 0)
    for _ in range(repeat):
        for with_model in (False, True):
            with tempfile.TemporaryDirectory() as root:
                hooks_before = len(HOOK_SECONDS)
                FINISH_SECONDS.clear()
                case(root, on if with_model else False)
                finishes[with_model].append(sum(FINISH_SECONDS))  # the last finish drains the uploads
                if not with_model:  # Lightning's finalize asks even when there is nothing to do
                    del HOOK_SECONDS[hooks_before:]
                if with_model:
                    store = tracklib.open_store(root)
                    artifacts = [store.run(project, r).artifacts for r in store.runs(project)["run_id"]]
                    stored = (sum(int(a["size"].sum()) for a in artifacts), sum(len(a) for a in artifacts))
    return statistics.median(finishes[False]), statistics.median(finishes[True]), *stored


def large_file(megabytes: int, repeat: int) -> None:
    call, finish = [], []
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "model.ckpt")
        with open(path, "wb") as file:
            file.write(os.urandom(megabytes * 2**20))
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as root:
                run = tracklib.init("bench", root=root, capture=False)
                started = time.perf_counter()
                run.log_artifact(path)
                call.append(time.perf_counter() - started)
                started = time.perf_counter()
                run.finish()
                finish.append(time.perf_counter() - started)
    print(
        f"log_artifact of one {megabytes} MB file: call {statistics.median(call):.2f} s, "
        f"finish after it {statistics.median(finish):.2f} s [median of {repeat}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--large-mb", type=int, default=200)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("TRACKLIB_SPOOL", tempfile.mkdtemp(prefix="tracklib-bench-spool-"))
    from tracklib.write.run import Run

    timed_hook(Run, "finish", FINISH_SECONDS)
    for (label, wrap), (case, on, project) in zip(hooks().items(), CASES):
        case(tempfile.mkdtemp(), on)  # warm-up: imports, first-call costs
        wrap()
        HOOK_SECONDS.clear()
        off_s, on_s, size, files = measure(case, on, project, args.repeat)
        hook_ms = statistics.median(HOOK_SECONDS) * 1000
        print(
            f"{label}: {size:,} bytes in {files} files; hook {hook_ms:.1f} ms; "
            f"finish {off_s * 1000:.0f} ms without, {on_s * 1000:.0f} ms with "
            f"[median of {args.repeat}]",
            flush=True,
        )
    if args.large_mb:
        large_file(args.large_mb, args.repeat)


if __name__ == "__main__":
    main()
