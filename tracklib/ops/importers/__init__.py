"""Importers: copy runs from MLflow or TensorBoard into a tracklib store, idempotently.

    from tracklib.ops.importers import import_mlflow, import_tensorboard
    import_mlflow("sqlite:///mlflow.db", project="digits", root="./tracking")
    import_tensorboard("runs/", project="digits", root="./tracking")

mlflow and tensorboard are optional extras (``tracklib[mlflow]``, ``tracklib[tensorboard]``),
imported only when an import runs.
"""

from __future__ import annotations

from tracklib.ops.importers.common import ImportReport, Outcome
from tracklib.ops.importers.mlflow import import_mlflow
from tracklib.ops.importers.tensorboard import import_tensorboard

__all__ = ["ImportReport", "Outcome", "import_mlflow", "import_tensorboard"]
