"""`tracklib import tensorboard`: event files a real writer wrote, one run per folder, once."""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import tracklib
from tracklib.ops.compact import compact
from tracklib.ops.importers import import_tensorboard

from servers import require
from together import errors_running_at_once

require("tensorboard", "tensorboard")


def _writer_module():
    """A real event-file writer: tensorboardX (small), else PyTorch's copy of it."""
    try:
        import tensorboardX

        return tensorboardX
    except ImportError:
        return require("tensorboardX", "dev")


tensorboard_writer = _writer_module()

T0 = 1_700_000_000.0
RUNS = {  # folder -> hparams (None: the run logs none)
    "lr=0.1": {"lr": 0.1, "batch": 32, "opt": "adam", "warmup": 0},
    "sweep/lr=0.01": {"lr": 0.01, "batch": 64, "opt": "sgd", "warmup": 5},
    "plain": None,
}


def _loss(run: int, step: int) -> float:
    return 1.0 / (step + 1) + run / 10


def _write(logdir: Path, folder: str, index: int, steps: range) -> None:
    """Scalars with given wall times, as the writer writes them (and add_hparams' own sub-folder)."""
    # A resumed writer's own file: tensorboardX names files by the second and would overwrite.
    suffix = f".from-{steps.start}" if steps.start else ""
    writer = tensorboard_writer.SummaryWriter(str(logdir / folder), filename_suffix=suffix)
    for step in steps:
        writer.add_scalar("train/loss", _loss(index, step), step, walltime=T0 + index * 1_000 + step * 0.25)
        if step % 10 == 0:
            writer.add_scalar("val/acc", step / 100, step, walltime=T0 + index * 1_000 + step * 0.25 + 0.1)
    hparams = RUNS[folder]
    if hparams is not None and steps.start == 0:
        writer.add_hparams(hparams, {"hparam/final_acc": 0.5 + index / 10})
    writer.close()


@pytest.fixture
def logdir(tmp_path) -> Path:
    folder = tmp_path / "runs"
    for index, name in enumerate(RUNS):
        _write(folder, name, index, range(30))
    return folder


def pd_timestamp(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(round(seconds * 1e6), unit="us", tz="UTC")


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _micros(column) -> list[int]:
    return pa.Array.from_pandas(column).cast(pa.int64()).to_pylist()


def test_each_event_folder_becomes_a_run_with_its_scalars_and_hparams(logdir, tmp_path):
    root = tmp_path / "tracking"
    report = import_tensorboard(logdir, project="tb", root=root)
    assert report.count("imported") == 3
    store = tracklib.open_store(root)
    runs = store.runs("tb").set_index("name")
    assert sorted(runs.index) == ["lr=0.1", "plain", "sweep/lr=0.01"]  # add_hparams' sub-folders folded in
    assert runs.loc["sweep/lr=0.01", "group"] == "sweep"
    assert set(runs["status"]) == {"finished"}
    for index, (name, hparams) in enumerate(RUNS.items()):
        details = store.run("tb", runs.loc[name, "run_id"])
        assert details.params == (hparams or {})  # whole numbers are ints, as TensorBoard shows them
        history = store.history("tb", [details.run_id])
        loss = history[history["key"] == "train/loss"]
        assert loss["step"].tolist() == list(range(30))
        # The writers store scalars as float32; the import keeps exactly what is in the file.
        assert loss["value"].tolist() == [float(np.float32(_loss(index, s))) for s in range(30)]
        assert _micros(loss["time"]) == [round((T0 + index * 1_000 + s * 0.25) * 1e6) for s in range(30)]
        acc = history[history["key"] == "val/acc"]
        assert acc["step"].tolist() == [0, 10, 20]
        assert details.start_time == pd_timestamp(T0 + index * 1_000)
        if hparams is not None:
            final = history[history["key"] == "hparam/final_acc"]["value"].tolist()
            assert final == [float(np.float32(0.5 + index / 10))]
        assert details.end_time >= pd_timestamp(T0 + index * 1_000 + 29 * 0.25)
    assert isinstance(store.run("tb", runs.loc["lr=0.1", "run_id"]).params["batch"], int)


def test_importing_again_or_from_a_moved_copy_writes_nothing(logdir, tmp_path):
    root = tmp_path / "tracking"
    import_tensorboard(logdir, project="tb", root=root)
    before = _files(root)
    assert import_tensorboard(logdir, project="tb", root=root).count("unchanged") == 3
    moved = tmp_path / "elsewhere" / "logs"
    shutil.copytree(logdir, moved)
    again = import_tensorboard(moved, project="tb", root=root)
    assert (again.count("unchanged"), again.points) == (3, 0)
    assert _files(root) == before
    assert len(tracklib.open_store(root).history("tb")) == 3 * (30 + 3) + 2


def test_a_run_that_went_on_gets_only_its_new_points(logdir, tmp_path):
    root = tmp_path / "tracking"
    import_tensorboard(logdir, project="tb", root=root)
    _write(logdir, "plain", 2, range(30, 40))  # training resumed: a second event file in the folder
    report = import_tensorboard(logdir, project="tb", root=root)
    assert sorted((o.name, o.action, o.points) for o in report.outcomes) == [
        ("lr=0.1", "unchanged", 0),
        ("plain", "updated", 11),
        ("sweep/lr=0.01", "unchanged", 0),
    ]
    store = tracklib.open_store(root)
    plain = store.runs("tb").set_index("name").loc["plain", "run_id"]
    history = store.history("tb", [plain])
    assert history[history["key"] == "train/loss"]["step"].tolist() == list(range(40))
    assert not history.duplicated(["key", "step", "time"]).any()
    assert store.newest_record("tb", plain)["seq"].to_pylist() == [2]


def test_compacted_runs_are_recognised_and_grow_on(logdir, tmp_path):
    root = tmp_path / "tracking"
    import_tensorboard(logdir, project="tb", root=root)
    _write(logdir, "plain", 2, range(30, 35))
    import_tensorboard(logdir, project="tb", root=root)
    compact(str(root), "tb")  # records into index/, the two metric parts of "plain" merged
    assert import_tensorboard(logdir, project="tb", root=root).count("unchanged") == 3
    _write(logdir, "plain", 2, range(35, 40))
    report = import_tensorboard(logdir, project="tb", root=root)
    assert sorted((o.action, o.points) for o in report.outcomes)[-1] == ("updated", 5)
    history = tracklib.open_store(root).history("tb")
    assert len(history) == 3 * (30 + 3) + 2 + 10 + 1
    assert not history.duplicated(["run_id", "key", "step", "time"]).any()


def test_imports_at_once_write_each_point_once(logdir, tmp_path):
    for attempt in range(3):  # a race: give it a few chances to interleave
        root = tmp_path / f"tracking-{attempt}"
        work = functools.partial(import_tensorboard, logdir, project="tb", root=root)
        assert errors_running_at_once(work, 4) == []
        store = tracklib.open_store(root)
        history = store.history("tb")
        assert len(store.runs("tb")) == 3 and len(history) == 3 * (30 + 3) + 2
        assert not history.duplicated(["run_id", "key", "step", "time"]).any()


def test_any_store_root_local_memory_or_s3(logdir, root):
    options = {"root": root.url, "storage_options": root.storage_options}
    assert import_tensorboard(logdir, project="tb", **options).count("imported") == 3
    _write(logdir, "plain", 2, range(30, 40))
    report = import_tensorboard(logdir, project="tb", **options)
    assert sorted(o.action for o in report.outcomes) == ["unchanged", "unchanged", "updated"]
    assert import_tensorboard(logdir, project="tb", **options).count("unchanged") == 3
    history = root.store().history("tb")
    assert len(history) == 3 * (30 + 3) + 2 + 11
    assert not history.duplicated(["run_id", "key", "step", "time"]).any()


def test_a_logdir_that_is_one_run(tmp_path):
    logdir = tmp_path / "single"
    writer = tensorboard_writer.SummaryWriter(str(logdir))
    writer.add_scalar("loss", 0.5, 0, walltime=T0)
    writer.close()
    import_tensorboard(logdir, project="tb", root=tmp_path / "tracking")
    runs = tracklib.open_store(tmp_path / "tracking").runs("tb")
    assert runs["name"].tolist() == ["single"] and runs["group"].isna().all()


def test_a_missing_logdir_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no TensorBoard log directory"):
        import_tensorboard(tmp_path / "nothing", project="tb", root=tmp_path / "tracking")


def test_without_the_extra_the_error_says_what_to_install(logdir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing", None)  # not installed
    with pytest.raises(ImportError, match=r"pip install 'tracklib\[tensorboard\]'"):
        import_tensorboard(logdir, project="tb", root=tmp_path / "tracking")


def test_cli_imports_tensorboard(logdir, tmp_path, capsys):
    """Needs the `tracklib import` sub-command (tracklib/cli.py)."""
    from tracklib.cli import main

    args = ["import", "tensorboard", str(logdir), "--root", str(tmp_path / "tracking"), "--project", "tb"]
    assert main(args) == 0
    assert "3 imported" in capsys.readouterr().out
    assert main(args) == 0
    assert "3 unchanged" in capsys.readouterr().out
