"""Transformers: a tiny BERT built from a config (no download) trained 2 epochs on random tokens."""

from __future__ import annotations

import contextlib

import pytest

from servers import require

torch = require("torch", "huggingface")
transformers = require("transformers", "huggingface")
require("accelerate", "huggingface")  # the Trainer needs it

from tracklib.integrations.huggingface import TracklibCallback  # noqa: E402

EXAMPLES, BATCH, EPOCHS = 32, 8, 2
STEPS = EXAMPLES // BATCH * EPOCHS


class Tokens(torch.utils.data.Dataset):
    def __init__(self, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 32, (EXAMPLES, 8), generator=generator)
        self.labels = (self.ids[:, 0] % 2).long()

    def __len__(self) -> int:
        return EXAMPLES

    def __getitem__(self, i: int) -> dict:
        return {
            "input_ids": self.ids[i],
            "attention_mask": torch.ones(8, dtype=torch.long),
            "labels": self.labels[i],
        }


class FailAt(transformers.TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 3:
            raise RuntimeError("out of memory, pretend")


def _trainer(tmp_path, callbacks) -> transformers.Trainer:
    config = transformers.BertConfig(
        vocab_size=32,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=2,
    )
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=EPOCHS,
        per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=BATCH,
        learning_rate=1e-3,
        logging_steps=2,
        eval_strategy="epoch",
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    return transformers.Trainer(
        model=transformers.BertForSequenceClassification(config),
        args=args,
        train_dataset=Tokens(0),
        eval_dataset=Tokens(1),
        callbacks=callbacks,
    )


def test_train_then_evaluate_records_args_config_and_metrics_by_step(local_root, tmp_path):
    callback = TracklibCallback("hf", root=local_root.url, group="tiny-bert", capture=False)
    trainer = _trainer(tmp_path, [callback])
    trainer.train()
    trainer.evaluate()  # after training: the same run, resumed and finished again

    (run,) = local_root.store().runs("hf").to_dict("records")
    assert run["run_id"] == callback.run.id
    assert (run["status"], run["group"]) == ("finished", "tiny-bert")
    assert (run["params.args.learning_rate"], run["params.args.num_train_epochs"]) == (1e-3, EPOCHS)
    assert (run["params.model.hidden_size"], run["params.model.model_type"]) == (16, "bert")
    assert run["params.model.num_parameters"] == trainer.model.num_parameters()
    history = local_root.store().history("hf", [run["run_id"]])
    steps = {key: list(rows["step"]) for key, rows in history.groupby("key")}
    assert steps["train/loss"] == list(range(2, STEPS + 1, 2))
    assert steps["eval/loss"] == [STEPS // 2, STEPS, STEPS]  # each epoch, then evaluate()
    assert steps["train/train_loss"] == [STEPS]  # the Trainer's closing average
    assert run["metrics.epoch"] == EPOCHS
    assert all(isinstance(key, str) and key for key in steps)


def test_a_crash_inside_the_with_block_fails_the_run(local_root, tmp_path):
    with pytest.raises(RuntimeError, match="pretend"):
        with TracklibCallback("hf", root=local_root.url, capture=False) as callback:
            _trainer(tmp_path, [callback, FailAt()]).train()

    details = local_root.store().run("hf", callback.run.id)
    assert details.status == "failed"
    assert details.error.startswith("Traceback (most recent call last)")  # kept whole
    assert details.error.splitlines()[-1] == "RuntimeError: out of memory, pretend"
    assert details.summary.set_index("key").loc["train/loss", "last_step"] == 2


def test_each_train_from_scratch_is_a_new_run_and_a_crashed_one_is_failed(local_root, tmp_path):
    callback = TracklibCallback("hf", root=local_root.url, capture=False)
    with pytest.raises(RuntimeError, match="pretend"):
        _trainer(tmp_path, [callback, FailAt()]).train()  # no with-block: nothing marks it yet
    crashed = callback.run.id
    trainer = _trainer(tmp_path, [callback])
    trainer.train()
    first = callback.run.id
    trainer.train()

    runs = local_root.store().runs("hf").set_index("run_id")
    assert len(runs) == 3 and len({crashed, first, callback.run.id}) == 3
    assert list(runs.loc[[crashed, first, callback.run.id], "status"]) == ["failed", "finished", "finished"]
    assert local_root.store().run("hf", crashed).error.startswith("training did not complete")


@pytest.mark.parametrize("ending", ["finish", "with"])
def test_a_training_error_the_caller_catches_still_fails_the_run(local_root, tmp_path, ending):
    """The Trainer reports no exception and the caller swallowed it, but ``on_train_end`` never
    came: finishing the run afterwards (by the caller, a ``with`` block or at exit) fails it."""
    callback = TracklibCallback("hf", root=local_root.url, capture=False)
    with callback if ending == "with" else contextlib.nullcontext():
        try:
            _trainer(tmp_path, [callback, FailAt()]).train()
        except RuntimeError:
            pass
        assert callback.run.status == "running"
    if ending == "finish":
        callback.run.finish()

    details = local_root.store().run("hf", callback.run.id)
    assert details.status == "failed" and details.error.startswith("training did not complete")
    assert details.summary.set_index("key").loc["train/loss", "last_step"] == 2  # kept
