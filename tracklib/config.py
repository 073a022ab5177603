"""Every TRACKLIB_* environment variable and default, in one place."""

from __future__ import annotations

import os

ENV_ROOT = "TRACKLIB_ROOT"
ENV_SPOOL = "TRACKLIB_SPOOL"
DEFAULT_ROOT = "./tracking"

FLUSH_INTERVAL_S = 5.0  # a metric part at most this often, unless the buffer fills up
FLUSH_MAX_CALLS = 20_000  # ...and sooner once this many log() calls are waiting
# A run's first "running" snapshot waits this long (or until finish): a dashboard shows the run
# within a second, and a short run of a sweep writes one snapshot instead of two.
FIRST_RECORD_AFTER_S = 1.0
HEARTBEAT_INTERVAL_S = 60.0  # a running run re-writes its record at least this often
STALE_AFTER_S = 600.0  # a "running" run silent for this long reads as "stale"
UPLOAD_QUEUE_MAX_BYTES = 64 * 2**20  # beyond this, new parts go to the local spool
FINISH_TIMEOUT_S = 30.0  # how long finish() waits for the store before spooling the rest
MERGE_PARTS_AT_FINISH = 8  # a run that wrote this many metric parts merges them as it finishes


def resolve_root(root: str | os.PathLike[str] | None) -> str:
    """The store root: an explicit ``root``, else ``$TRACKLIB_ROOT``, else ``./tracking``."""
    if root is not None:
        return os.fspath(root)
    return os.environ.get(ENV_ROOT) or DEFAULT_ROOT


def spool_dir() -> str:
    """Where parts that could not reach the store wait: ``$TRACKLIB_SPOOL`` or the user cache."""
    configured = os.environ.get(ENV_SPOOL)
    if configured:
        return configured
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("tracklib"), "spool")
