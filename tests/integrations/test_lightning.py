"""Lightning: a 2-epoch model on random tensors, logged through ``Trainer(logger=TracklibLogger(...))``."""

from __future__ import annotations

import pickle

import pytest

from servers import require

lightning = require("lightning", "lightning")
torch = require("torch", "lightning")

from lightning_model import Regressor, loader  # noqa: E402

from tracklib.integrations.lightning import TracklibLogger  # noqa: E402

pytestmark = [
    # Lightning's advice for real jobs, irrelevant to a 64-row tensor dataset on one CPU
    pytest.mark.filterwarnings("ignore:The '\\w+_dataloader' does not have many workers:UserWarning"),
    # lightning 2.6's _pytree helper on torch 2.13: a deprecation inside Lightning, not in our code
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning"),
]

BATCHES_PER_EPOCH = 4


def _loader() -> torch.utils.data.DataLoader:
    return loader(BATCHES_PER_EPOCH)


def _trainer(logger: TracklibLogger, tmp_path, checkpoints: bool = False) -> lightning.Trainer:
    return lightning.Trainer(
        max_epochs=2,
        logger=logger,
        accelerator="cpu",
        devices=1,
        log_every_n_steps=1,
        enable_checkpointing=checkpoints,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )


def test_fit_records_hyperparams_metrics_by_step_and_finishes(local_root, tmp_path):
    logger = TracklibLogger("lit", root=local_root.url, tags=["cpu"], group="tiny", capture=False)
    trainer = _trainer(logger, tmp_path, checkpoints=True)
    trainer.fit(Regressor(hidden=8), _loader(), _loader())

    (run,) = local_root.store().runs("lit").to_dict("records")
    assert (logger.name, logger.version) == ("lit", run["run_id"])
    assert (run["status"], run["group"], list(run["tags"])) == ("finished", "tiny", ["cpu"])
    assert (run["params.lr"], run["params.hidden"]) == (0.05, 8)
    history = local_root.store().history("lit", [run["run_id"]])
    steps = {key: list(rows["step"]) for key, rows in history.groupby("key")}
    assert steps["train/loss"] == list(range(2 * BATCHES_PER_EPOCH))
    assert steps["val/loss"] == [BATCHES_PER_EPOCH - 1, 2 * BATCHES_PER_EPOCH - 1]  # each epoch's last step
    assert (run["metrics_min.epoch"], run["metrics.epoch"]) == (0.0, 1.0)
    # checkpoints stay local, beside the trainer, under <project>/<run id> as for W&B and MLflow
    checkpoint = trainer.checkpoint_callback.best_model_path
    assert checkpoint.startswith(str(tmp_path / "lit" / run["run_id"] / "checkpoints"))


def test_test_after_fit_resumes_the_same_run(local_root, tmp_path):
    logger = TracklibLogger("lit", root=local_root.url, capture=False)
    trainer = _trainer(logger, tmp_path)
    model = Regressor(hidden=8)
    trainer.fit(model, _loader(), _loader())
    trainer.test(model, _loader())

    (run,) = local_root.store().runs("lit").to_dict("records")
    assert run["status"] == "finished"
    assert {"metrics.train/loss", "metrics.test/loss"} <= set(run)


def test_an_exception_in_training_fails_the_run(local_root, tmp_path):
    logger = TracklibLogger("lit", root=local_root.url, capture=False)
    with pytest.raises(RuntimeError, match="loss diverged"):
        _trainer(logger, tmp_path).fit(Regressor(hidden=8, fail_at_step=3), _loader(), _loader())

    details = local_root.store().run("lit", logger.version)
    assert details.status == "failed"
    assert details.error == "RuntimeError: loss diverged"
    assert details.summary.set_index("key").loc["train/loss", "count"] == 3


def test_finalize_maps_lightning_statuses(local_root):
    """Lightning calls ``finalize("failed")`` for Ctrl-C too, from inside its ``except``."""
    logger = TracklibLogger("lit", root=local_root.url, capture=False)
    logger.log_metrics({"train/loss": 1.0}, step=0)
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        logger.finalize("failed")
    details = local_root.store().run("lit", logger.version)
    assert (details.status, details.error) == ("killed", "KeyboardInterrupt")


def test_a_run_open_when_the_logger_is_pickled_is_handed_to_the_worker(local_root):
    """What ddp_spawn does to the logger, without the processes: a run started in the parent (to
    log something before fit) is finished there and resumed by the worker, under one id."""
    logger = TracklibLogger("lit", root=local_root.url, capture=False)
    logger.log_metrics({"setup/seconds": 1.5}, step=0)
    worker = pickle.loads(pickle.dumps(logger))
    worker.log_metrics({"train/loss": 0.5}, step=1)
    worker.finalize("success")

    (run,) = local_root.store().runs("lit").to_dict("records")
    assert logger.version == worker.version == run["run_id"]
    assert (run["status"], run["metrics.setup/seconds"], run["metrics.train/loss"]) == ("finished", 1.5, 0.5)


def test_ddp_spawn_the_parent_names_the_workers_run_and_starts_none(local_root, tmp_path):
    """Two CPU workers spawned from this process; rank 0 writes the run. Reading the logger in
    the parent afterwards (what scripts do to print or link the run) starts no second run."""
    logger = TracklibLogger("lit", root=local_root.url, capture=False)
    trainer = lightning.Trainer(
        max_epochs=1,
        logger=logger,
        accelerator="cpu",
        devices=2,
        strategy="ddp_spawn",
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(Regressor(hidden=8), _loader())

    (run,) = local_root.store().runs("lit").to_dict("records")
    assert (logger.version, logger.name) == (run["run_id"], "lit")
    assert run["status"] == "finished" and run["params.lr"] == 0.05
    assert logger.experiment.id == run["run_id"]  # resumed here, as test() after fit would
    logger.finalize("success")
    (again,) = local_root.store().runs("lit").to_dict("records")
    assert (again["run_id"], again["status"]) == (run["run_id"], "finished")
    losses = local_root.store().history("lit", [run["run_id"]], keys=["train/loss"])
    assert len(losses) == BATCHES_PER_EPOCH // 2  # rank 0's share of the batches
