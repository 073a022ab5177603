"""Loading for the dashboard: the only place that uses ``st.cache_*``.

The Store is kept per root in ``cache_resource`` (it caches every file it has read, so a
refresh lists the folder and reads only new files). Loaded frames are cached for a short
time per (root, project, refresh token), so clicking around never re-lists the store; the
runs table is shared by all sessions rather than copied into each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from tracklib import config
from tracklib.analysis import asof as pinning
from tracklib.analysis import ranking, sweeps
from tracklib.format.settings import ProjectSettings
from tracklib.read import query
from tracklib.read.store import Store, open_store
from tracklib.write.settings import save_settings

RUNS_TTL_S = 30


def _secrets() -> dict[str, Any]:
    try:
        return dict(st.secrets.get("tracklib", {}))
    except Exception:  # noqa: BLE001 - no secrets.toml is the common case
        return {}


def roots() -> dict[str, str]:
    return config.configured_roots(_secrets())


@st.cache_resource(show_spinner=False)
def store_for(root_name: str) -> Store:
    url = roots()[root_name]
    return open_store(url, config.storage_options_for(root_name, _secrets()))


@dataclass(frozen=True)
class Loaded:
    """A project's runs and summaries, and when they were read; for a pinned link, as of
    ``asof``, with the values that could not be pinned (``asof.Pinned.unpinnable``)."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    loaded_at: float
    asof: datetime | None = None
    unpinnable: pd.DataFrame | None = None


def load_project(root_name: str, project: str, token: int, asof: datetime | None = None) -> Loaded:
    """Runs table and long summary of a project (``token`` changes on Refresh), as of
    ``asof`` when a link is pinned to that time.

    Every session shares one copy of the frames: each caller gets new frame objects over the
    same data, and pandas copies on write, so one page changing its frame changes nothing
    for the others. (``cache_data`` kept a pickled copy per entry and unpickled another per
    rerun: 60 MB and 0.2 s each for 100,000 runs.)
    """
    loaded = (
        _load_project(root_name, project, token)
        if asof is None
        else _load_pinned(root_name, project, token, asof)
    )
    return replace(loaded, runs=loaded.runs.copy(deep=False), summary=loaded.summary.copy(deep=False))


@st.cache_resource(ttl=RUNS_TTL_S, show_spinner=False, max_entries=32)
def _load_project(root_name: str, project: str, token: int) -> Loaded:
    store = store_for(root_name)
    runs, summary = store.runs_and_summary(project)
    return Loaded(runs, summary, time.time())


@st.cache_resource(ttl=RUNS_TTL_S, show_spinner=False, max_entries=8)
def _load_pinned(root_name: str, project: str, token: int, asof: datetime) -> Loaded:
    """The project as of ``asof``: cut once per load of the runs, shared like the live one.
    It reads every metric point of the project (what an exact pin needs); live views never do."""
    live = _load_project(root_name, project, token)
    store = store_for(root_name)
    history = store.history(project)
    pinned = pinning.pin(
        live.runs, live.summary, history, store.record_times(project), asof, store.stale_after
    )
    return Loaded(pinned.runs, pinned.summary, live.loaded_at, asof, pinned.unpinnable)


def skipped_in(root_name: str, project: str) -> dict[str, str]:
    """What the store left out so far in this project's folders of every kind (records,
    index, metrics, environment, artifacts: files, rows, links), and folders below a kind
    that are no project (path -> why). Not cached: a page's own reads add to it."""
    skipped = store_for(root_name).skipped_files
    mine = tuple(
        f"{kind}/project={project}/" for kind in ("records", "index", "metrics", "environment", "artifacts")
    )
    return {
        path: why
        for path, why in skipped.items()
        if path.startswith(mine) or path.count("/") == 1  # an odd folder right below a kind
    }


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=16)
def param_importance(
    root_name: str,
    project: str,
    target: str,
    params: tuple[str, ...],
    token: int,
    loaded_at: float,
    group: str = sweeps.ALL_RUNS,
    carried: tuple[str, ...] = (),
    asof: datetime | None = None,
) -> pd.DataFrame:
    """``sweeps.importance`` of the Sweeps page's runs (one group's, or those carried): a forest
    fit takes seconds, once per view and per load of the runs (``loaded_at``), so it never
    describes other runs than the page."""
    runs = sweeps.scoped(load_project(root_name, project, token, asof).runs, group, carried)
    frame = sweeps.sweep_frame(runs, list(params), target)
    return sweeps.importance(frame, list(params))


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=64)
def project_settings(root_name: str, project: str, token: int) -> ProjectSettings | None:
    """The project's saved settings (None: guess); a save clears this cache at once."""
    return store_for(root_name).settings(project)


def save_project_settings(
    root_name: str, project: str, metric: str, direction: str, columns: list[str]
) -> ProjectSettings:
    """Save the project's settings to the store and show them on every page now."""
    saved = save_settings(store_for(root_name).storage, project, metric, direction, columns)
    project_settings.clear()
    return saved


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=8)
def load_projects(root_name: str, token: int) -> list[str]:
    return store_for(root_name).projects()


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=64)
def load_history(
    root_name: str,
    project: str,
    run_ids: tuple[str, ...],
    keys: tuple[str, ...] | None,
    max_points: int | None,
    token: int,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Metric points of ``run_ids`` (logged at or before ``until``: a pinned link)."""
    store = store_for(root_name)
    return store.history(project, run_ids=list(run_ids), keys=keys, max_points=max_points, until=until)


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=64)
def load_run(root_name: str, project: str, run_id: str, token: int) -> Any:
    return store_for(root_name).run(project, run_id)


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=16)
def load_console(root_name: str, project: str, run_id: str, token: int) -> pd.DataFrame:
    """A run's console lines (time, stream, line); a search of them reruns without reading."""
    return store_for(root_name).console(project, run_id)


def check_artifact(root_name: str, path: str, project: str, run_id: str) -> None:
    """UnsafePathError unless ``path`` is this run's artifact (links out of it included)."""
    store_for(root_name).check_artifact(path, project, run_id)


def read_artifact(root_name: str, path: str, project: str, run_id: str) -> bytes:
    """An artifact of this run only: the store refuses any other path (UnsafePathError)."""
    return store_for(root_name).read_artifact(path, project, run_id)


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=64)
def load_images(root_name: str, project: str, run_id: str, token: int) -> pd.DataFrame:
    """The run's logged images (``Store.images``): key, step, caption, size, path."""
    return store_for(root_name).images(project, run_id)


@st.cache_data(show_spinner=False, max_entries=128)  # files never change: no TTL needed
def read_image(root_name: str, path: str, project: str, run_id: str) -> bytes:
    """A logged image's PNG bytes; the store refuses a path outside the run's media folder
    and a file that is no PNG within the limits (UnsafePathError, InvalidImageError)."""
    return store_for(root_name).read_image(path, project, run_id)


@st.cache_data(show_spinner=False, max_entries=64)
def read_artifact_cached(root_name: str, path: str, project: str, run_id: str) -> bytes:
    """``read_artifact`` kept for previews, which every rerun of the Run page shows again."""
    return read_artifact(root_name, path, project, run_id)


# Per-view results shared by every session. A link sent to a team is opened by many viewers
# at once; each session reruns the page script, and ranking 100,000 runs or building a set of
# their ids costs tenths of a second of the server's one Python thread each time (20 viewers
# of one link waited 14 s). Keyed by the load (``loaded_at``, ``asof``), so a refresh or a pin
# never shows another load's results; the frames are passed unhashed (``_runs``).


def run_ids(root_name: str, project: str, loaded: Loaded) -> frozenset[str]:
    """The ids of ``loaded.runs``, as a set (read-only, shared)."""
    return _run_ids(root_name, project, loaded.loaded_at, loaded.asof, loaded.runs)


@st.cache_resource(ttl=RUNS_TTL_S, show_spinner=False, max_entries=32)
def _run_ids(
    root_name: str, project: str, loaded_at: float, asof: Any, _runs: pd.DataFrame
) -> frozenset[str]:
    return frozenset(_runs["run_id"].tolist())


def varying_params(root_name: str, project: str, loaded: Loaded) -> list[str]:
    """``query.varying_params`` of ``loaded.runs``, once per load."""
    return list(_varying_params(root_name, project, loaded.loaded_at, loaded.asof, loaded.runs))


@st.cache_resource(ttl=RUNS_TTL_S, show_spinner=False, max_entries=32)
def _varying_params(
    root_name: str, project: str, loaded_at: float, asof: Any, _runs: pd.DataFrame
) -> tuple[str, ...]:
    return tuple(query.varying_params(_runs))


def leaderboard(
    root_name: str, project: str, loaded: Loaded, chosen: list[str], **view: Any
) -> tuple[pd.DataFrame, int]:
    """``ranking.board(runs, summary, **view)`` of ``loaded``'s runs (only those ``chosen``, if
    any), once per view and load; each call gets a copy of the ranked rows (``top`` of them).
    Raises ``FilterError`` for an expression that does not parse."""
    key = (loaded.loaded_at, loaded.asof, tuple(chosen), tuple(sorted(view.items())))
    return _leaderboard(root_name, project, *key, loaded.runs, loaded.summary)


@st.cache_data(ttl=RUNS_TTL_S, show_spinner=False, max_entries=64)
def _leaderboard(
    root_name: str,
    project: str,
    loaded_at: float,
    asof: Any,
    chosen: tuple[str, ...],
    view: tuple[tuple[str, Any], ...],
    _runs: pd.DataFrame,
    _summary: pd.DataFrame,
) -> tuple[pd.DataFrame, int]:
    runs = _runs[_runs["run_id"].isin(chosen)] if chosen else _runs
    return ranking.board(runs, _summary, **dict(view))
