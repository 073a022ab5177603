"""``import tracklib`` (and the integrations and importers packages) import no framework."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = (
    "torch",
    "lightning",
    "pytorch_lightning",
    "transformers",
    "keras",
    "tensorflow",
    "jax",
    "optuna",
    "sklearn",
    "mlflow",
    "tensorboard",
    "tensorboardX",
)


def test_import_tracklib_imports_no_framework():
    code = (
        "import sys, tracklib, tracklib.integrations, tracklib.ops.importers, tracklib.cli; "
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
