"""tracklib: experiment tracking with no server and no database.

with tracklib.init(project="digits", params={"lr": 1e-3}) as run:
    run.log({"train/loss": 0.3})
tracklib.open_store().runs("digits")
"""

from __future__ import annotations

from tracklib.errors import (
    FormatVersionError,
    InvalidKeyError,
    InvalidStepError,
    InvalidValueError,
    ResumeConflictError,
    RunFinishedError,
    RunNotFoundError,
    StoreError,
    TracklibError,
    UnsafePathError,
)
from tracklib.run import Run
from tracklib.schema import FORMAT_VERSION, Status
from tracklib.start import init
from tracklib.store import RunDetails, Store, open_store

__version__ = "0.1.0"

__all__ = [
    "FORMAT_VERSION",
    "FormatVersionError",
    "InvalidKeyError",
    "InvalidStepError",
    "InvalidValueError",
    "ResumeConflictError",
    "Run",
    "RunDetails",
    "RunFinishedError",
    "RunNotFoundError",
    "Status",
    "Store",
    "StoreError",
    "TracklibError",
    "UnsafePathError",
    "__version__",
    "init",
    "open_store",
]
