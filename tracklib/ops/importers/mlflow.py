"""Copy runs from an MLflow tracking store (``mlflow.db``, ``mlruns/``, a server) into a store.

Everything goes through MLflow's own client, so every store MLflow can open works. What maps
to what:

* run id: MLflow's 32-hex-digit run id, unchanged (so importing again finds the run);
* name: ``run_name``; status: FINISHED → finished, FAILED → failed, KILLED → killed,
  RUNNING and SCHEDULED → running (with the last activity as heartbeat, so an abandoned
  run reads as stale); start and end times as MLflow has them (ms);
* params: MLflow keeps them as text. A text that is exactly Python's ``str()`` of an int, a
  float or a bool (``32``, ``0.001``, ``1e-05``, ``True``) becomes that value, so sweeps sort
  numerically; anything else (``007``, ``0.10``, ``adam``, and ``None``, which MLflow shows
  as the text it is) stays text;
* tags: ``key=value`` (just ``key`` for an empty value), plus ``mlflow.experiment=<name>``;
  MLflow's own ``mlflow.*`` tags are not copied as tags, but ``mlflow.note.content``
  becomes the notes, the parent run of a nested run the group, ``mlflow.source.git.commit``
  the git commit, and the user and git branch/remote go to the environment file;
* metrics: every row of every history, with its step, value and timestamp (±inf, which
  MLflow's SQL stores keep as ±1.8e308, is ±inf again). Importing again compares each
  metric's latest point (and, when that says the run may have grown, its number of rows)
  with the store, so points logged to a run after it ended are imported too;
* artifacts (``artifacts=True``): every file under the run's artifact root.
"""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tracklib import config
from tracklib.format import layout
from tracklib.format.schema import Status
from tracklib.format.values import ParamValue
from tracklib.ops.importers.artifacts import SourceArtifact
from tracklib.ops.importers.common import ImportReport, SourceRun, metrics_table, write_run
from tracklib.read.store import Store
from tracklib.storage import open_storage

EXTRA = "pip install 'tracklib[mlflow]'"
STATUSES = {
    "FINISHED": Status.FINISHED,
    "FAILED": Status.FAILED,
    "KILLED": Status.KILLED,
    "RUNNING": Status.RUNNING,
    "SCHEDULED": Status.RUNNING,
}
_PAGE = 1000
_SQL_INF = sys.float_info.max  # MLflow's SQL stores keep ±inf as ±max float (SQL has no inf)
# MLflow tags that become something else than a tag (see the module docstring).
_SYSTEM_PREFIX = "mlflow."


def import_mlflow(
    tracking_uri: str | os.PathLike[str],
    *,
    project: str,
    root: str | os.PathLike[str] | None = None,
    experiments: Iterable[str] | None = None,
    artifacts: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> ImportReport:
    """Copy the runs of an MLflow store into ``project``; importing again adds only what is new.

    Args:
        tracking_uri: ``sqlite:///path/mlflow.db``, a path to an ``mlflow.db`` file (or to
            the folder holding it) or to an ``mlruns/`` folder, ``file:./mlruns``, or a
            tracking server URL.
        project: the tracklib project the runs go to.
        root: the store (any fsspec URL); default ``$TRACKLIB_ROOT`` or ``./tracking``.
        experiments: only these experiments (names or ids); default every active one.
        artifacts: also copy every run's artifact files.
        storage_options: passed to fsspec unchanged.

    Raises:
        ImportError: mlflow is not installed (``pip install 'tracklib[mlflow]'``).
        FileNotFoundError: no MLflow store at a local ``tracking_uri``.
        ValueError: an experiment in ``experiments`` does not exist.
    """
    layout.check_project(project)
    uri = tracking_uri_of(tracking_uri)
    client_class = _mlflow_client(uri)
    storage = open_storage(config.resolve_root(root), storage_options)
    storage.check_writable()
    store = Store(storage)
    report = ImportReport(source=uri, root=storage.url, project=project)
    with _file_store_allowed(uri):
        client = client_class(uri)
        names: dict[str, str] = {}  # run id -> name, for the group of nested runs
        for experiment in _experiments(client, experiments):
            for run in _runs(client, experiment.experiment_id):
                names[run.info.run_id] = run.info.run_name or run.info.run_id
                source = _source_run(client, run, experiment.name, names, artifacts)
                report.outcomes.append(write_run(storage, store, project, source))
    return report


def tracking_uri_of(location: str | os.PathLike[str]) -> str:
    """A tracking URI for a URI, an ``mlflow.db`` file (or a folder holding one) or an ``mlruns/`` folder."""
    text = os.fspath(location)
    if "://" in text or text.startswith("file:"):
        path = _local_path(text)
        if path is not None and not os.path.exists(path):
            raise FileNotFoundError(f"no MLflow store at {text!r} ({path} does not exist)")
        return text
    if os.path.isfile(text):
        return f"sqlite:///{os.path.abspath(text)}"
    if os.path.isfile(os.path.join(text, "mlflow.db")):  # MLflow 3's default: ./mlflow.db (+ ./mlruns/)
        return f"sqlite:///{os.path.abspath(os.path.join(text, 'mlflow.db'))}"
    if os.path.isdir(text):
        return Path(os.path.abspath(text)).as_uri()
    raise FileNotFoundError(f"no MLflow store at {text!r}: not a file, a folder or a URI")


def parse_param(text: str) -> ParamValue:
    """MLflow stores ``str(value)``: give back the int, float or bool it came from. ``None``
    stays the text MLflow has: it may as well be a string, and MLflow itself shows it as one."""
    if text in ("True", "False"):
        return text == "True"
    try:
        number: int | float = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return text
    return number if str(number) == text else text  # "007", "0.10", "1_000" stay text


def _local_path(uri: str) -> str | None:
    """The file an ``sqlite:`` or ``file:`` URI points at (None for servers and in-memory)."""
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///") :]
        return None if path in ("", ":memory:") else path
    if uri.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(uri).path) or None
    return None


def _mlflow_client(uri: str) -> Any:
    """MlflowClient, imported only now, with a clear message when the extra is missing."""
    try:
        from mlflow.tracking import MlflowClient

        if uri.startswith(("sqlite:", "postgresql", "mysql", "mssql")):
            import alembic  # noqa: F401 - mlflow's SQL store needs both, and says so late
            import sqlalchemy  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"importing from MLflow needs mlflow-skinny, sqlalchemy and alembic: {EXTRA}"
        ) from exc
    return MlflowClient


@contextmanager
def _file_store_allowed(uri: str) -> Iterator[None]:
    """MLflow 3 refuses its (maintenance-mode) file store unless asked; we only read it."""
    name = "MLFLOW_ALLOW_FILE_STORE"
    if not uri.startswith("file:") or os.environ.get(name):
        yield
        return
    os.environ[name] = "true"
    try:
        yield
    finally:
        os.environ.pop(name, None)


def _experiments(client: Any, wanted: Iterable[str] | None) -> list[Any]:
    from mlflow.exceptions import MlflowException

    if wanted is None:
        return list(_pages(lambda token: client.search_experiments(max_results=_PAGE, page_token=token)))
    found = []
    for name in wanted:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                experiment = client.get_experiment(name)  # an experiment id
            except MlflowException:
                raise ValueError(f"no MLflow experiment named {name!r}") from None
        found.append(experiment)
    return found


def _runs(client: Any, experiment_id: str) -> Iterator[Any]:
    # Oldest first: a nested run's parent usually comes before it, so its name is known.
    return _pages(
        lambda token: client.search_runs(
            [experiment_id], max_results=_PAGE, order_by=["attributes.start_time ASC"], page_token=token
        )
    )


def _pages(fetch: Any) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


def _source_run(client: Any, run: Any, experiment: str, names: dict[str, str], artifacts: bool) -> SourceRun:
    info, data = run.info, run.data
    tags = dict(data.tags)
    run_id = layout.check_run_id(info.run_id)
    parent = tags.get("mlflow.parentRunId")
    if parent and parent not in names:
        names[parent] = _run_name(client, parent)
    user = tags.get("mlflow.user") or (info.user_id if info.user_id not in (None, "", "unknown") else None)
    return SourceRun(
        run_id=run_id,
        name=info.run_name or tags.get("mlflow.runName") or run_id,
        status=STATUSES.get(info.status, Status.RUNNING),
        start_time=(info.start_time or 0) / 1000,  # None only for a run that never started
        end_time=info.end_time / 1000 if info.end_time is not None else None,
        history=lambda: _history(client, run_id, data.metrics),
        params={key: parse_param(value) for key, value in data.params.items()},
        tags=_tags(tags, experiment),
        notes=tags.get("mlflow.note.content") or None,
        group=names.get(parent) if parent else None,
        git_commit=tags.get("mlflow.source.git.commit"),
        environment={
            "user": user,
            "git_commit": tags.get("mlflow.source.git.commit"),
            "git_branch": tags.get("mlflow.source.git.branch"),
            "git_remote": tags.get("mlflow.source.git.repoURL"),
        },
        latest=_latest(data),
        artifacts=(lambda: _artifacts(client, run_id)) if artifacts else None,
    )


def _run_name(client: Any, run_id: str) -> str:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id).info.run_name or run_id
    except MlflowException:  # the parent was deleted
        return run_id


def _tags(tags: Mapping[str, str], experiment: str) -> list[str]:
    found = [key if value == "" else f"{key}={value}" for key, value in sorted(tags.items())]
    return [tag for tag in found if not tag.startswith(_SYSTEM_PREFIX)] + [f"mlflow.experiment={experiment}"]


def _latest(data: Any) -> dict[str, tuple[int, float, int]] | None:
    """Each metric's latest point (MLflow's: highest step, then newest) as (step, value, µs),
    as the run listing already has them; None if this MLflow's run data does not carry them."""
    try:
        points = data.to_proto().metrics  # the Metric entities, in MLflow's public proto form
    except AttributeError:
        return None
    return {point.key: (point.step, float(_logged(point.value)), point.timestamp * 1000) for point in points}


def _logged(values: Any) -> np.ndarray:
    """±inf again where MLflow's SQL stores keep ±max float (SQL has no inf)."""
    values = np.array(values, dtype=np.float64)
    values[np.abs(values) == _SQL_INF] *= np.inf
    return values


def _history(client: Any, run_id: str, metrics: Iterable[str]) -> pa.Table:
    """Every row of every metric, in the order they were logged (by timestamp, then step)."""
    keys: list[str] = []
    steps: list[int] = []
    values: list[float] = []
    millis: list[int] = []
    for key in sorted(metrics):
        for point in client.get_metric_history(run_id, key):
            keys.append(key)
            steps.append(point.step)
            values.append(point.value)
            millis.append(point.timestamp)
    table = metrics_table(run_id, keys, steps, _logged(values), np.asarray(millis, dtype=np.int64) * 1000)
    # Stable: rows logged at the same time and step keep the key order.
    order = np.lexsort((table["step"].to_numpy(), table["time"].cast(pa.int64()).to_numpy()))
    return table.take(pa.array(order, pa.int64()))


def _artifacts(client: Any, run_id: str) -> list[SourceArtifact]:
    """Every file under the run's artifact root, fetched only when it is copied."""
    found = []
    folders: list[str | None] = [None]
    while folders:
        for item in client.list_artifacts(run_id, folders.pop()):
            if item.is_dir:
                folders.append(item.path)
            else:
                found.append(
                    SourceArtifact(
                        name=item.path,
                        size=item.file_size or 0,
                        fetch=_fetcher(client, run_id, item.path),
                    )
                )
    return sorted(found, key=lambda a: a.name)


def _fetcher(client: Any, run_id: str, path: str) -> Any:
    def fetch(folder: str) -> str:
        target = os.path.join(folder, run_id, posixpath.dirname(path))
        os.makedirs(target, exist_ok=True)
        return client.download_artifacts(run_id, path, target)

    return fetch
