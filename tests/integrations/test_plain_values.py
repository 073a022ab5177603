"""What frameworks hand over becomes plain params and float metrics, with no warning."""

from __future__ import annotations

import argparse
import dataclasses
import enum

import numpy as np
import pytest

from tracklib.format.errors import InvalidValueError
from tracklib.format.values import flatten_params
from tracklib.integrations import numeric_metrics, plain_params


class Mode(enum.Enum):
    FAST = "fast"


@dataclasses.dataclass
class Optim:
    name: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)


def test_configs_flatten_to_plain_params():
    params = plain_params(
        {
            "lr": np.float32(0.5),
            "epochs": np.int64(3),
            "use_amp": np.bool_(True),
            "mode": Mode.FAST,
            "optim": Optim(),
            "args": argparse.Namespace(seed=1),
            "layers": [{"units": 4}, {"units": 2}],
            "sizes": [1, 2, None],
            "id2label": {0: "cat", 1: "dog"},
            "activation": np.tanh,
            "loss_class": ValueError,
            "empty": {},
            "": "dropped",
        }
    )
    assert params == {
        "lr": 0.5,
        "epochs": 3,
        "use_amp": True,
        "mode": "fast",
        "optim.name": "adam",
        "optim.betas": "[0.9, 0.999]",
        "args.seed": 1,
        "layers.0.units": 4,
        "layers.1.units": 2,
        "sizes": "[1, 2, null]",
        "id2label.0": "cat",
        "id2label.1": "dog",
        "activation": str(np.tanh),
        "loss_class": "ValueError",
    }
    assert all(type(v) in (bool, int, float, str) for v in params.values())


def test_plain_params_flatten_as_init_does():
    """The dotted keys and the checks are flatten_params': plain input comes out the same, and
    a value init would refuse is refused here."""
    plain = {"lr": 0.1, "model": {"layers": 2, "act": "relu", "drop": None}, "seed": 7}
    assert plain_params(plain) == flatten_params(plain)
    with pytest.raises(InvalidValueError, match="'data.path'"):
        plain_params({"data": {"path": "caf\udce9.csv"}})  # not valid UTF-8: not storable


def test_only_real_numbers_are_metrics():
    logs = {"loss": np.float32(0.25), "step": 3, "epoch": 1.5, "done": True, "note": "x", "none": None}
    assert numeric_metrics(logs, prefix="train/") == {
        "train/loss": 0.25,
        "train/step": 3.0,
        "train/epoch": 1.5,
    }
