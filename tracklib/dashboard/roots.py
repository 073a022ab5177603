"""The operator's allow-list of store roots, by name (pure: no streamlit here).

A link or a widget only ever picks a *name*; the URL behind it comes from the operator
(``TRACKLIB_ROOTS`` or ``[tracklib.roots]`` in ``.streamlit/secrets.toml``), so a shared
link can never make the server open an arbitrary location with its credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tracklib import config

ENV_ROOTS = "TRACKLIB_ROOTS"
DEFAULT_NAME = "default"


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
    """Named roots from secrets, then the environment; else ``default`` -> TRACKLIB_ROOT."""
    roots: dict[str, str] = {}
    if secrets:
        roots.update({str(k): str(v) for k, v in dict(secrets.get("roots", {})).items()})
    if os.environ.get(ENV_ROOTS):
        roots.update(parse_roots(os.environ[ENV_ROOTS]))
    return roots or {DEFAULT_NAME: config.resolve_root(None)}


def storage_options_for(name: str, secrets: Mapping[str, Any] | None) -> dict[str, Any]:
    """``[tracklib.storage_options.<name>]`` from secrets (credentials never go in URLs)."""
    if not secrets:
        return {}
    return dict(dict(secrets.get("storage_options", {})).get(name, {}))
