"""Lightning ``log_model``: checkpoints reach the run's artifacts, named by epoch, step and
score, and load back with ``torch.load``."""

from __future__ import annotations

import io
import re

import pytest

from faults import FaultyStorage
from servers import require

lightning = require("lightning", "lightning")
torch = require("torch", "lightning")

from lightning_model import Regressor, loader  # noqa: E402

import tracklib  # noqa: E402
from tracklib.cli import main  # noqa: E402
from tracklib.integrations.lightning import TracklibLogger  # noqa: E402
from tracklib.storage import open_storage  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:The '\\w+_dataloader' does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning"),
]

EPOCHS, BATCHES = 3, 2
NAME = re.compile(r"checkpoints/(last-)?epoch=(\d+)-step=(\d+)-val_loss=([0-9.e+-]+)\.ckpt")


def _loader() -> torch.utils.data.DataLoader:
    return loader(BATCHES)


def _fit(local_root, tmp_path, log_model, logger=None, model=None, **checkpoint):
    logger = logger or TracklibLogger("lit", root=local_root.url, capture=False, log_model=log_model)
    callback = lightning.pytorch.callbacks.ModelCheckpoint(monitor="val/loss", **checkpoint)
    trainer = lightning.Trainer(
        max_epochs=EPOCHS,
        logger=logger,
        callbacks=[callback],
        accelerator="cpu",
        devices=1,
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model or Regressor(), _loader(), _loader())
    if local_root is None:
        return None, callback
    return local_root.store().run("lit", logger.version), callback


def _checkpoint(local_root, details, name):
    path = details.artifacts.set_index("name").loc[name, "path"]
    return torch.load(io.BytesIO(local_root.store().read_artifact(path)), weights_only=True)


def test_log_model_true_uploads_the_kept_checkpoints_once_with_epoch_step_and_score(local_root, tmp_path):
    details, callback = _fit(local_root, tmp_path, True, save_top_k=2, save_last=True)

    names = sorted(details.artifacts["name"])
    assert len(names) == 3  # the best two and last.ckpt, each once
    parsed = {name: NAME.fullmatch(name) for name in names}
    assert all(parsed.values()), names
    for name, match in parsed.items():
        checkpoint = _checkpoint(local_root, details, name)
        assert (checkpoint["epoch"], checkpoint["global_step"]) == (int(match[2]), int(match[3]))
        assert set(checkpoint["state_dict"]) == {"net.weight", "net.bias"}
    last = [name for name in names if name.startswith("checkpoints/last-")]
    assert last == [f"checkpoints/last-epoch={EPOCHS - 1}-step={EPOCHS * BATCHES}-" + last[0].split("-")[-1]]
    # the best one is named in params, with its score
    best_score = callback.best_model_score.item()
    assert details.params["checkpoint.best"] in names
    assert not details.params["checkpoint.best"].startswith("checkpoints/last-")
    assert details.params["checkpoint.best_score"] == pytest.approx(best_score)
    assert details.params["checkpoint.monitor"] == "val/loss"
    assert float(NAME.fullmatch(details.params["checkpoint.best"])[4]) == pytest.approx(best_score, rel=1e-5)
    expected = torch.load(callback.best_model_path, weights_only=True)["state_dict"]
    loaded = _checkpoint(local_root, details, details.params["checkpoint.best"])["state_dict"]
    assert all(torch.equal(expected[key], loaded[key]) for key in expected)


def test_log_model_all_uploads_every_saved_checkpoint(local_root, tmp_path):
    details, callback = _fit(local_root, tmp_path, "all", save_top_k=1)

    # save_top_k=1 keeps one file on disk, but each epoch saved one: all of them are in the store
    names = sorted(details.artifacts["name"])
    assert [(int(NAME.fullmatch(n)[2]), int(NAME.fullmatch(n)[3])) for n in names] == [
        (epoch, (epoch + 1) * BATCHES) for epoch in range(EPOCHS)
    ]
    for name in names:
        assert "state_dict" in _checkpoint(local_root, details, name)
    assert details.params["checkpoint.best"] in names


def test_checkpoints_the_store_refuses_are_spooled_and_sync_uploads_them(tmp_path):
    """Training goes on while the store refuses every checkpoint; ``tracklib sync`` delivers."""
    root = tmp_path / "store"
    storage = FaultyStorage(open_storage(str(root)))
    storage.fail(
        "put_file", OSError("store unreachable"), times=10**6, when=lambda rel, *_: "artifacts/" in rel
    )
    logger = TracklibLogger("lit", storage=storage, capture=False, log_model="all", finish_timeout=1)
    with pytest.warns(RuntimeWarning, match="tracklib sync"):
        _fit(None, tmp_path, "all", logger=logger, save_top_k=1)
    assert storage.failed  # the uploads were tried, and refused
    assert main(["sync", "--root", str(root)]) == 0  # the final record waited behind them
    details = tracklib.open_store(str(root)).run("lit", logger.version)
    assert details.status == "finished" and len(details.artifacts) == EPOCHS
    for path in details.artifacts["path"]:
        checkpoint = torch.load(
            io.BytesIO(tracklib.open_store(str(root)).read_artifact(path)), weights_only=True
        )
        assert "state_dict" in checkpoint


def test_a_failed_fit_still_uploads_what_was_kept_and_test_after_fit_adds_nothing(local_root, tmp_path):
    with pytest.raises(RuntimeError, match="loss diverged"):  # in epoch 1, after epoch 0's checkpoint
        _fit(local_root, tmp_path, True, model=Regressor(fail_at_step=BATCHES + 1), save_top_k=1)
    (failed,) = local_root.store().runs("lit").to_dict("records")
    details = local_root.store().run("lit", failed["run_id"])
    assert details.status == "failed"
    assert [NAME.fullmatch(n).group(2, 3) for n in details.artifacts["name"]] == [("0", str(BATCHES))]
    assert details.params["checkpoint.best"] == details.artifacts["name"].iloc[0]

    logger = TracklibLogger("lit", root=local_root.url, capture=False, log_model=True)
    details, _ = _fit(local_root, tmp_path / "second", True, logger=logger, save_top_k=1)
    assert len(details.artifacts) == 1
    lightning.Trainer(logger=logger, enable_progress_bar=False, enable_model_summary=False).test(
        Regressor(), _loader()
    )
    again = local_root.store().run("lit", logger.version)
    assert list(again.artifacts["path"]) == list(details.artifacts["path"])  # nothing uploaded twice
    runs = local_root.store().runs("lit").set_index("run_id")
    assert runs.loc[logger.version, "metrics.test/loss"] >= 0  # test() wrote to the same run


def test_log_model_false_uploads_nothing(local_root, tmp_path):
    details, callback = _fit(local_root, tmp_path, False, save_top_k=2, save_last=True)

    assert callback.best_model_path  # checkpoints were saved locally
    assert details.artifacts.empty
    assert not any(key.startswith("checkpoint.") for key in details.params)


@pytest.mark.parametrize("log_model", ["yes", 1, None, "ALL"])
def test_log_model_must_be_false_true_or_all(log_model):
    with pytest.raises(ValueError, match="log_model"):
        TracklibLogger("lit", log_model=log_model)
