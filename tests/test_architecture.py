"""The layers of docs/ARCHITECTURE.md hold: each imports only the ones below it, and no modules
of one package import each other in a loop (contracts in pyproject.toml, checked by import-linter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_layer_imports_a_layer_above_it_and_no_module_loop():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout
