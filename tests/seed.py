"""A small store with known runs, shared by the dashboard and browser tests."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tracklib

APP = str(Path(__file__).resolve().parents[1] / "app.py")

# name -> (lr, optimizer, layers, val/acc curve end, tags, status)
SEED = {
    "adam-fast": (0.01, "adam", 2, 0.95, ["baseline"], "finished"),
    "adam-slow": (0.001, "adam", 2, 0.91, [], "finished"),
    "sgd-fast": (0.1, "sgd", 1, 0.88, [], "finished"),
    "sgd-slow": (0.01, "sgd", 1, 0.80, ["baseline"], "finished"),
    "rmsprop": (0.005, "rmsprop", 3, 0.97, [], "failed"),
}


def seed_store(root: str) -> dict[str, str]:
    ids = {}
    for name, (lr, optimizer, layers, final, tags, status) in SEED.items():
        run = tracklib.init(
            "digits",
            root=root,
            name=name,
            tags=tags,
            group=optimizer,
            capture=("system",),
            params={"lr": lr, "optimizer": optimizer, "model": {"layers": layers}},
        )
        for epoch in range(10):
            run.log(
                {"val/acc": final - 0.05 * (9 - epoch) / 9, "train/loss": 1.0 - final + 0.1 * (9 - epoch)}
            )
        if name == "adam-fast":
            with tempfile.TemporaryDirectory() as tmp:
                model = Path(tmp) / "model.pkl"
                model.write_bytes(b"\x80weights" * 300)
                run.log_artifact(model)
        run.finish(status, "RuntimeError: diverged" if status == "failed" else None)
        ids[name] = run.id
    with tracklib.init("other-project", root=root, name="lonely", capture=False) as run:
        run.log({"loss": 0.5})
    return ids


def fail_in_a_chain(depth: int) -> None:
    """Raise through ``depth`` chained exceptions, each with a 1,000-character message: the
    traceback of a failed run that a 20,000-character cut used to lose the root cause of."""
    try:
        if depth:
            fail_in_a_chain(depth - 1)
        raise KeyError("root cause")
    except Exception as exc:
        raise ValueError(f"layer {depth}: " + "why " * 250) from exc
