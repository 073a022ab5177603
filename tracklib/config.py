"""Every TRACKLIB_* environment variable and default, in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

ENV_ROOT = "TRACKLIB_ROOT"
ENV_ROOTS = "TRACKLIB_ROOTS"  # the dashboard's named roots: "team=s3://bucket/tracking; local=./tracking"
ENV_SPOOL = "TRACKLIB_SPOOL"
# "0" keeps the dashboard from writing to any store (no "Save" of project settings); anything
# else, or unset, lets it write with the credentials it reads with.
ENV_DASHBOARD_WRITES = "TRACKLIB_DASHBOARD_WRITES"
DEFAULT_ROOT = "./tracking"
DEFAULT_ROOT_NAME = "default"  # the dashboard's one root when none is named

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


def parse_roots(text: str) -> dict[str, str]:
    """``"team=s3://bucket/tracking; local=./tracking"`` -> {"team": ..., "local": ...}."""
    roots: dict[str, str] = {}
    for item in text.replace("\n", ";").split(";"):
        if not item.strip():
            continue
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise ValueError(f"{ENV_ROOTS}: expected name=url, got {item.strip()!r}")
        roots[name.strip()] = url.strip()
    return roots


def configured_roots(secrets: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The dashboard's allow-list of store roots, by name: from secrets (``[tracklib.roots]``
    in ``.streamlit/secrets.toml``), then ``$TRACKLIB_ROOTS``; else ``default`` -> the root
    ``resolve_root`` gives.

    A link or a widget only ever picks a *name*; the URL behind it comes from the operator,
    so a shared link can never make the server open an arbitrary location with its credentials.
    """
    roots: dict[str, str] = {}
    if secrets:
        roots.update({str(k): str(v) for k, v in dict(secrets.get("roots", {})).items()})
    if os.environ.get(ENV_ROOTS):
        roots.update(parse_roots(os.environ[ENV_ROOTS]))
    return roots or {DEFAULT_ROOT_NAME: resolve_root(None)}


def storage_options_for(name: str, secrets: Mapping[str, Any] | None) -> dict[str, Any]:
    """``[tracklib.storage_options.<name>]`` from secrets (credentials never go in URLs)."""
    if not secrets:
        return {}
    return dict(dict(secrets.get("storage_options", {})).get(name, {}))


def dashboard_writes() -> bool:
    """Whether the dashboard may write to its stores (project settings): not when
    ``$TRACKLIB_DASHBOARD_WRITES`` is ``0``."""
    return os.environ.get(ENV_DASHBOARD_WRITES, "").strip() != "0"


def spool_dir() -> str:
    """Where parts that could not reach the store wait: ``$TRACKLIB_SPOOL`` or the user cache."""
    configured = os.environ.get(ENV_SPOOL)
    if configured:
        return configured
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("tracklib"), "spool")
