"""tracklib: experiment tracking with no server and no database.

with tracklib.init(project="digits", params={"lr": 1e-3}) as run:
    run.log({"train/loss": 0.3})
tracklib.open_store().runs("digits")
"""

from __future__ import annotations

from tracklib.format.errors import (
    FormatVersionError,
    InvalidImageError,
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
from tracklib.format.schema import FORMAT_VERSION, Status
from tracklib.read.store import RunDetails, Store, open_store
from tracklib.write.run import Run
from tracklib.write.start import init

__version__ = "0.1.0"

__all__ = [
    "FORMAT_VERSION",
    "FormatVersionError",
    "InvalidImageError",
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
