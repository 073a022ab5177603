"""The small Lightning model both Lightning test files train: a regression on seeded tensors."""

from __future__ import annotations

from servers import require

lightning = require("lightning", "lightning")
torch = require("torch", "lightning")


class Regressor(lightning.LightningModule):
    """``hidden=None``: one linear layer (state dict ``net.weight``, ``net.bias``); else an MLP.
    ``fail_at_step`` raises in that training step, as a diverging loss would."""

    def __init__(self, lr: float = 0.05, hidden: int | None = None, fail_at_step: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        if hidden is None:
            self.net = torch.nn.Linear(4, 1)
        else:
            self.net = torch.nn.Sequential(
                torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
            )

    def _loss(self, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def training_step(self, batch, batch_idx):
        if self.global_step == self.hparams.fail_at_step:
            raise RuntimeError("loss diverged")
        loss = self._loss(batch)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", self._loss(batch))

    def test_step(self, batch, batch_idx):
        self.log("test/loss", self._loss(batch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def loader(batches: int) -> torch.utils.data.DataLoader:
    """``batches`` batches of 16 rows; the target is the sum of the four inputs."""
    x = torch.randn(16 * batches, 4, generator=torch.Generator().manual_seed(0))
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=16
    )
