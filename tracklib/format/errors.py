"""The exceptions tracklib raises.

Every one derives from ``TracklibError`` and also from the built-in a caller
would naturally catch, so ``except TypeError`` keeps working::

    TracklibError
    ├── InvalidValueError  (TypeError)   a metric value that is not a number
    ├── InvalidKeyError    (ValueError)  an empty or non-string metric/param key
    ├── InvalidStepError   (ValueError)  a step that is not an integer >= 0
    ├── RunFinishedError   (RuntimeError) logging to a run after finish()
    ├── RunNotFoundError   (LookupError) resuming or reading a run id that is not there
    ├── ResumeConflictError (RuntimeError) another writer is starting or resuming that run
    ├── StoreError         (OSError)     the store root cannot be used (missing bucket, read-only)
    ├── FormatVersionError (ValueError)  a file written by a newer, incompatible tracklib
    ├── UnsafePathError    (ValueError)  a path from a record or link that leaves its folder
    └── InvalidImageError  (ValueError)  run.log_image: not an image, a shape or dtype it
                                         cannot store, or beyond its size limits
"""

from __future__ import annotations


class TracklibError(Exception):
    """Base class of every tracklib error."""


class InvalidValueError(TracklibError, TypeError):
    """A metric value that cannot be stored as a float."""


class InvalidKeyError(TracklibError, ValueError):
    """A metric, param or summary key that is not a non-empty string."""


class InvalidStepError(TracklibError, ValueError):
    """A step that is not an integer >= 0."""


class RunFinishedError(TracklibError, RuntimeError):
    """The run was already finished; nothing more can be logged to it."""


class RunNotFoundError(TracklibError, LookupError):
    """No run with that id exists in the project."""


class ResumeConflictError(TracklibError, RuntimeError):
    """Another writer claimed the same run first (two resumes of one run at once)."""


class StoreError(TracklibError, OSError):
    """The store root cannot be read or written."""


class FormatVersionError(TracklibError, ValueError):
    """A file uses a newer major format version than this tracklib reads."""


class UnsafePathError(TracklibError, ValueError):
    """A path read from a record or a link points outside the folder it must stay in."""


class InvalidImageError(TracklibError, ValueError):
    """An image ``run.log_image`` cannot store: not an image, an unsupported array shape or
    dtype, or beyond the pixel or byte limits (FORMAT.md §18)."""
