"""Transformers ``log_model``: the trained model (and tokenizer) and the Trainer's checkpoints
reach the run's artifacts, and ``from_pretrained`` loads the downloaded folders."""

from __future__ import annotations

import os

import pytest

from servers import require

torch = require("torch", "huggingface")
transformers = require("transformers", "huggingface")
require("accelerate", "huggingface")

from tracklib.integrations.huggingface import TracklibCallback  # noqa: E402

EXAMPLES, BATCH, EPOCHS = 16, 8, 2
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *(f"w{i}" for i in range(27))]


class Tokens(torch.utils.data.Dataset):
    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.ids = torch.randint(5, len(VOCAB), (EXAMPLES, 8), generator=generator)

    def __len__(self) -> int:
        return EXAMPLES

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i], "labels": self.ids[i, 0] % 2}


def _train(tmp_path, log_model, local_root, save_strategy="no"):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(VOCAB) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab))
    config = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=2,
    )
    callback = TracklibCallback("hf", root=local_root.url, capture=False, log_model=log_model)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=EPOCHS,
        per_device_train_batch_size=BATCH,
        learning_rate=1e-3,
        save_strategy=save_strategy,
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    trainer = transformers.Trainer(
        model=transformers.BertForSequenceClassification(config),
        args=args,
        train_dataset=Tokens(),
        processing_class=tokenizer,
        callbacks=[callback],
    )
    trainer.train()
    return trainer, local_root.store().run("hf", callback.run.id)


def _download(local_root, details, prefix, folder):
    """The artifacts under ``prefix/`` written to ``folder`` as they were named."""
    for artifact in details.artifacts.itertuples():
        if artifact.name.startswith(f"{prefix}/"):
            target = folder / artifact.name[len(prefix) + 1 :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(local_root.store().read_artifact(artifact.path))
    return folder


def _logits(model, ids):
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_log_model_end_uploads_a_folder_from_pretrained_loads(local_root, tmp_path):
    trainer, details = _train(tmp_path, "end", local_root)

    names = set(details.artifacts["name"])
    assert {"model/config.json", "model/model.safetensors", "model/tokenizer.json"} <= names, names
    assert all(name.startswith("model/") for name in names)  # no checkpoints were asked for
    folder = _download(local_root, details, "model", tmp_path / "downloaded")
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    ids = tokenizer(["w3 w7 w1", "w20"], padding=True, return_tensors="pt")["input_ids"]
    assert torch.equal(_logits(model, ids), _logits(trainer.model, ids))


def test_log_model_checkpoint_uploads_each_saved_checkpoint_and_the_end_model(local_root, tmp_path):
    trainer, details = _train(tmp_path, "checkpoint", local_root, save_strategy="epoch")

    names = set(details.artifacts["name"])
    steps = EXAMPLES // BATCH
    saved = {name.split("/")[1] for name in names if name.startswith("checkpoints/")}
    assert saved == {f"checkpoint-{steps * (epoch + 1)}" for epoch in range(EPOCHS)}
    assert "model/model.safetensors" in names
    first = _download(local_root, details, f"checkpoints/checkpoint-{steps}", tmp_path / "first")
    assert sorted(os.listdir(first)) == sorted(os.listdir(tmp_path / "out" / f"checkpoint-{steps}"))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(first)
    assert model.num_parameters() == trainer.model.num_parameters()


def test_log_model_false_uploads_nothing(local_root, tmp_path):
    _, details = _train(tmp_path, False, local_root, save_strategy="epoch")
    assert details.artifacts.empty


@pytest.mark.parametrize("log_model", ["all", "End", 1, None])
def test_log_model_must_be_a_known_choice(log_model):
    with pytest.raises(ValueError, match="log_model"):
        TracklibCallback("hf", log_model=log_model)
