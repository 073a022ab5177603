"""Which way is better for a metric, and which metric a project is judged by (pure).

A project's saved settings (FORMAT.md §16) win; without them the direction is guessed from
the words of the metric's name, as W&B and MLflow users name things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from tracklib.format.settings import Direction, ProjectSettings
from tracklib.read import query

LOWER_WORDS = frozenset(
    "loss losses error errors err perplexity ppl mse mae rmse mape smape msle wer cer ter nll "
    "latency time duration runtime cost regret fid kl bpc bpb eer fpr fnr lpips".split()
)
HIGHER_WORDS = frozenset(
    "accuracy acc f1 fscore fbeta auc auroc roc precision prec recall map ap bleu rouge meteor "
    "iou miou dice r2 reward rewards return returns score psnr ssim ndcg mrr hits hitrate "
    "throughput tpr specificity sensitivity success winrate kappa mcc elbo".split()
)
NEGATIONS = frozenset({"neg", "negative"})  # sklearn's scorers: neg_log_loss is higher-better
Source = Literal["saved", "name", "guess"]


def words(key: str) -> list[str]:
    """The lowercase words of a key: split at ``/ . _ -``, spaces, any other non-alphanumeric
    and camelCase humps (``valLoss`` -> val, loss)."""
    humps = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [w for w in re.split(r"[^a-z0-9]+", humps.lower()) if w]


def named_direction(key: str) -> Direction | None:
    """The direction the words of ``key`` name, or None when no word is known.

    Every word counts, not only the last (``loss/value`` and ``train/loss/epoch`` are losses).
    A word for lower (loss, error, time, …) wins over a word for higher (``val/acc_error``
    is an error rate, ``f1_loss`` a loss), with two clearer rules first: in a rate only the
    words before ``per`` count (``tokens_per_time``: a throughput, ``loss_per_token``: a
    loss), and ``neg``/``negative`` flips the result (``neg_mean_squared_error`` is higher
    is better, as scikit-learn scorers are). A word may carry digits (``acc1``, ``map50``).
    """
    found = words(key)
    if "per" in found:
        found = found[: found.index("per")]
    known = {w.rstrip("0123456789") or w for w in found} | set(found)
    direction: Direction | None
    if known & LOWER_WORDS:
        direction = "min"
    elif known & HIGHER_WORDS:
        direction = "max"
    else:
        return None
    if known & NEGATIONS:
        return "max" if direction == "min" else "min"
    return direction


def direction_of(key: str) -> Direction:
    """``"min"`` if lower is better for ``key``, else ``"max"`` (also when no word is known:
    most things logged besides losses are scores)."""
    return named_direction(key) or "max"


@dataclass(frozen=True)
class Headline:
    """A metric to rank by, which way is better, and where that came from."""

    metric: str
    direction: Direction
    source: Source  # "saved": project settings; "name": a known word; "guess": neither

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "min"

    @property
    def label(self) -> str:
        """What the page says next to the metric."""
        better = "lower is better" if self.lower_is_better else "higher is better"
        return {"saved": f"{better} (project setting)", "name": better, "guess": f"{better} (guessed)"}[
            self.source
        ]


def judged_by(metric: str, settings: ProjectSettings | None) -> Headline:
    """The direction of ``metric``: the saved one when it is the project's saved metric, else
    the name's, else higher is better, marked as guessed."""
    if settings is not None and settings.direction is not None and settings.metric == metric:
        return Headline(metric, settings.direction, "saved")
    named = named_direction(metric)
    return Headline(metric, named or "max", "name" if named else "guess")


def headline(
    runs: pd.DataFrame, summary: pd.DataFrame | None, settings: ProjectSettings | None
) -> Headline | None:
    """The project's headline: its saved metric if the project has that metric, else
    ``query.headline_metric``'s pick; None for a project without metrics."""
    metrics = query.metric_names(runs)
    if settings is not None and settings.metric in metrics:
        return judged_by(settings.metric, settings)
    metric = query.headline_metric(runs, summary)
    return judged_by(metric, settings) if metric is not None else None


def default_columns(settings: ProjectSettings | None, offered: list[str], fallback: list[str]) -> list[str]:
    """The saved default columns this page offers (in the saved order), else ``fallback``."""
    saved = [c for c in settings.columns if c in offered] if settings is not None else []
    return saved or fallback
