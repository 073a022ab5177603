"""``tracklib snapshot URL --out FILE.html [--publish] [--expires 7d]``: a share link as a file.

The page is not re-implemented here: the real dashboard runs headlessly (Streamlit's public
``AppTest``) on the link's page and query, with ``snapshot_control.CAPTURE`` set, and the
Snapshot control hands over the maker it would give its button. The file is therefore what
the button makes for that link. What the page says is wrong with the link (an error, a notice
that a value was dropped) becomes the command's error, never an empty or different snapshot.

The link names a store only by name, resolved through the dashboard's own configuration
(``[tracklib.roots]`` in ``.streamlit/secrets.toml``, ``$TRACKLIB_ROOTS``): a link can never
point this command at another location.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re
import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracklib import config
from tracklib.dashboard import access, snapshot, snapshot_control, urlstate

PAGES = ("leaderboard", "curves", "sweeps")
APP_SCRIPT = Path(__file__).with_name("streamlit_app.py")
PAGE_TIMEOUT_S = 300.0  # a page of a big store on a slow bucket may take a while
ROOT_KEY = urlstate.FRAME["root"].name
PROJECT_KEY = urlstate.FRAME["project"].name
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # widgets.md_escape, undone for a terminal


class SnapshotError(ValueError):
    """The link or the page it names cannot give a snapshot; the message says why."""


@dataclass(frozen=True)
class Link:
    """A share link, checked: which page, its query, and the configured store it names."""

    url: str
    page: str
    params: dict[str, list[str]]
    root_name: str
    root_url: str


def read_link(url: str, roots: Mapping[str, str]) -> Link:
    """Check ``url`` is a link to a page with a Snapshot, naming a configured store."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SnapshotError(f"{url!r} is not a dashboard link (http://host:port/leaderboard?...)")
    page = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if page not in PAGES:
        raise SnapshotError(
            f"page {page or '/'!r} has no snapshot; links to {', '.join(PAGES)} have one "
            "(open the view there and copy its Share link)"
        )
    params = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    params.pop("embed", None)  # the stakeholder view shows the same content
    names = params.get(ROOT_KEY) or [next(iter(roots))]  # the dashboard opens its first store
    if len(names) > 1:
        raise SnapshotError(f"the link names the store {len(names)} times ({names!r}): keep one root=")
    if names[0] not in roots:
        raise SnapshotError(
            f"this dashboard is not configured to open a store named {names[-1]!r} "
            f"(configured: {', '.join(roots)}; see [tracklib.roots] in .streamlit/secrets.toml "
            f"or ${config.ENV_ROOTS})"
        )
    return Link(url.strip(), page, params, names[0], roots[names[0]])


def unread_keys(link: Link) -> list[str]:
    """Keys of the link that its page does not read (it would silently ignore them)."""
    view = importlib.import_module(f"tracklib.dashboard.views.{link.page}")
    return sorted(set(link.params) - {*urlstate.FRAME.names, *view.URL.names})


def operator_secrets() -> dict[str, Any]:
    """The ``[tracklib]`` secrets the dashboard reads (``.streamlit/secrets.toml`` here or in ~)."""
    import streamlit as st

    try:
        return dict(st.secrets.get("tracklib", {}))
    except Exception:  # noqa: BLE001 - no secrets.toml is the common case
        return {}


def capture(link: Link, secrets: Mapping[str, Any]) -> tuple[snapshot.Snapshot, str]:
    """Run the link's page headlessly; its Snapshot (source: the link) and the project shown."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.testing.v1 import AppTest

    # Headless on purpose: no warnings that this thread has no script context (that module's
    # logger says nothing else; loading Streamlit's config resets log levels, not this)
    logging.getLogger(get_script_run_ctx.__module__).disabled = True
    app = AppTest.from_file(str(APP_SCRIPT), default_timeout=PAGE_TIMEOUT_S)
    # The page gets the operator's [tracklib] settings and nothing else: no [auth], so no
    # sign-in screen (the operator runs this with the store's own credentials; access.py)
    app.secrets["tracklib"] = dict(secrets)
    for key, values in link.params.items():
        app.query_params[key] = values if len(values) > 1 else values[0]
    app.session_state[snapshot_control.CAPTURE] = True
    app.switch_page(f"views/{link.page}.py").run()
    problems = _problems(app)
    if problems:
        raise SnapshotError(f"the {link.page} page says: " + " | ".join(problems))
    state = app.session_state
    if snapshot_control.CAPTURED not in state:
        said = [_plain(info.value) for info in app.info]
        raise SnapshotError(
            f"the {link.page} page shows nothing to snapshot" + (f": {' | '.join(said)}" if said else "")
        )
    made = state[snapshot_control.CAPTURED]()
    return dataclasses.replace(made, source_link=link.url), str(state[PROJECT_KEY])


def command(
    url: str,
    out: str,
    publish: bool = False,
    expires: str = "7d",
    secrets: Mapping[str, Any] | None = None,
) -> int:
    """The CLI command: 0 when the file (and the published copy) is written, else 2 and why."""
    try:
        return _command(url, out, publish, expires, secrets)
    except (SnapshotError, snapshot.SignError, PermissionError, OSError) as exc:
        print(f"tracklib snapshot: {exc}", file=sys.stderr)
        return 2


def _command(url: str, out: str, publish: bool, expires: str, secrets: Mapping[str, Any] | None) -> int:
    given = operator_secrets() if secrets is None else dict(secrets)
    link = read_link(url, config.configured_roots(given))
    if publish:
        try:
            expires_s = snapshot.parse_expires(expires)
        except ValueError as exc:
            raise SnapshotError(f"--expires: {exc}") from None
        if link.root_url.startswith(("s3://", "s3a://")) and expires_s > snapshot.MAX_S3_EXPIRES_S:
            raise SnapshotError("--expires: S3 pre-signed links last at most 7 days (7d)")
        if not access.may_write(link.root_name):
            raise PermissionError(f"not publishing: {access.why_not_write(link.root_name)}")
    ignored = unread_keys(link)
    if ignored:
        raise SnapshotError(
            f"the {link.page} page does not read {', '.join(map(repr, ignored))} from a link "
            "(a typo? the snapshot would not show what the link asks for)"
        )
    made, project = capture(link, given)
    document = snapshot.to_html(made)
    Path(out).write_text(document, encoding="utf-8")
    print(f"wrote {out} ({len(document.encode()):,} bytes): {made.title} of {project}")
    if publish:
        _publish(link, project, document, expires_s, given)
    return 0


def _publish(link: Link, project: str, document: str, expires_s: int, secrets: Mapping[str, Any]) -> None:
    from tracklib.storage import open_storage

    storage = open_storage(link.root_url, config.storage_options_for(link.root_name, secrets))
    try:
        where = snapshot.publish(storage, project, document)
        signed = snapshot.presigned_url(where, expires_s, fs=storage.fs)
    except ValueError as exc:  # e.g. longer than S3 signs for
        raise SnapshotError(str(exc)) from None
    print(f"published to {where}")
    if signed:
        print(f"anyone can open it for {_duration(expires_s)} at:")
        print(signed)


def _problems(app: Any) -> list[str]:
    """What the page showed as wrong: exceptions, errors, and notices about the link."""
    found = [f"{e.value}" for e in app.exception]
    found += [_plain(e.value) for e in app.error]
    found += [_plain(w.value) for w in app.warning]
    return found


def _plain(text: object) -> str:
    return _UNESCAPE.sub(r"\1", str(text)).replace("\u2060", "").replace("  \n", " ").strip()


def _duration(seconds: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"
