"""Copy runs from a TensorBoard log directory into a store.

One run per folder holding event files, as TensorBoard shows them. Event files are read
with TensorBoard's own reader (``plugin_event_accumulator``, the one its server uses): it
handles the scalars of PyTorch, tensorboardX, Keras and TF2 alike, and is kept with
TensorBoard. What maps to what:

* run id: ``tb-`` and a hash of the folder's first event file name and the wall time of its
  first event (names hold the second, host and sometimes process that wrote them; the
  time tells apart two writers of one second), so importing again, from a copy of the log
  directory or from a parent or sub-folder of it, finds the same run;
* name: the folder relative to the log directory; group: its parent folder, if any;
* metrics: every scalar with its step and wall time (no reservoir sampling: all of them);
* params: the HParams plugin's values (numbers that are whole become ints, as
  TensorBoard shows them). ``SummaryWriter.add_hparams`` writes them to a new sub-folder of
  the run; such a sub-folder, directly below a run without hparams of its own, is taken
  as part of that run (its scalars too), not as a run of its own;
* status: from the HParams session end info when there is one, else finished; start and
  end: the first and last event's wall time.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from tracklib import config
from tracklib.format import layout
from tracklib.format.schema import Status
from tracklib.format.values import ParamValue
from tracklib.ops.importers.common import ImportReport, SourceRun, metrics_table, write_run
from tracklib.read.store import Store
from tracklib.storage import open_storage

EXTRA = "pip install 'tracklib[tensorboard]'"
_EVENTS = "tfevents"  # what TensorBoard's own reader looks for in a file name
_HPARAMS = "hparams"
_SESSION_STATUS = {  # tensorboard.plugins.hparams.api_pb2.Status; UNKNOWN (0) reads as finished
    1: Status.FINISHED,  # STATUS_SUCCESS
    2: Status.FAILED,  # STATUS_FAILURE
    3: Status.RUNNING,  # STATUS_RUNNING
}
_INTEGRAL_MAX = 2**53  # beyond this a double no longer holds every integer


@dataclass
class _Events:
    """What one folder's event files say."""

    first_file: str
    first_time: float  # wall time of the first event: with the file name, who wrote this run
    start: float
    end: float
    keys: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    params: dict[str, ParamValue] = field(default_factory=dict)
    has_hparams: bool = False
    status: Status | None = None


def import_tensorboard(
    logdir: str | os.PathLike[str],
    *,
    project: str,
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> ImportReport:
    """Copy every run of a local TensorBoard log directory into ``project``, idempotently.

    Args:
        logdir: the folder given to TensorBoard's ``--logdir``.
        project: the tracklib project the runs go to.
        root: the store (any fsspec URL); default ``$TRACKLIB_ROOT`` or ``./tracking``.
        storage_options: passed to fsspec unchanged.

    Raises:
        ImportError: tensorboard is not installed (``pip install 'tracklib[tensorboard]'``).
        FileNotFoundError: ``logdir`` is not a folder.
    """
    layout.check_project(project)
    top = os.path.abspath(os.fspath(logdir))
    if not os.path.isdir(top):
        raise FileNotFoundError(f"no TensorBoard log directory at {os.fspath(logdir)!r}")
    reader = _reader()
    storage = open_storage(config.resolve_root(root), storage_options)
    storage.check_writable()
    store = Store(storage)
    report = ImportReport(source=top, root=storage.url, project=project)
    folders = _run_folders(top)
    folded: set[str] = set()
    for folder in folders:  # parents come before their sub-folders
        if folder in folded:
            continue
        events = reader(os.path.join(top, folder))
        if events is None:
            continue
        for child in _children(folder, folders):
            extra = reader(os.path.join(top, child))
            # SummaryWriter.add_hparams writes to a sub-folder of the run: fold it back in.
            if extra is not None and extra.has_hparams and not events.has_hparams:
                _fold(events, extra)
                folded.add(child)
        source = _source_run(top, folder, events)
        report.outcomes.append(write_run(storage, store, project, source))
    return report


def _reader() -> Any:
    """The event file reader, imported only now, with a clear message when the extra is missing."""
    try:
        from tensorboard.backend.event_processing import plugin_event_accumulator
        from tensorboard.plugins.hparams import metadata as hparams_metadata
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise ImportError(f"importing TensorBoard logs needs tensorboard: {EXTRA}") from exc

    def read(folder: str) -> _Events | None:
        accumulator = plugin_event_accumulator.EventAccumulator(
            folder,
            size_guidance={plugin_event_accumulator.TENSORS: 0},  # 0: keep every event, no sampling
            purge_orphaned_data=False,  # keep steps logged again after a restart; never drop data
        )
        accumulator.Reload()
        files = sorted(name for name in os.listdir(folder) if _EVENTS in name)
        try:
            start = accumulator.FirstEventTimestamp()
        except ValueError:  # event files with no event yet (a writer that just started)
            return None
        events = _Events(first_file=files[0], first_time=start, start=start, end=start)
        for tag in accumulator.Tags()["tensors"]:
            if accumulator.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
                continue
            for event in accumulator.Tensors(tag):
                value = tensor_util.make_ndarray(event.tensor_proto)
                if value.size != 1:
                    continue
                events.keys.append(tag)
                events.steps.append(event.step)
                events.values.append(float(value.reshape(())))
                events.times.append(event.wall_time)
        if events.times:  # a writer may pass its own wall times, earlier than the file's
            events.start = min(events.start, min(events.times))
            events.end = max(events.end, max(events.times))
        if _HPARAMS in accumulator.ActivePlugins():
            content = accumulator.PluginTagToContent(_HPARAMS)
            if hparams_metadata.SESSION_START_INFO_TAG in content:
                info = hparams_metadata.parse_session_start_info_plugin_data(
                    content[hparams_metadata.SESSION_START_INFO_TAG]
                )
                events.params = {key: _hparam(value) for key, value in info.hparams.items()}
                events.has_hparams = True
            if hparams_metadata.SESSION_END_INFO_TAG in content:
                end = hparams_metadata.parse_session_end_info_plugin_data(
                    content[hparams_metadata.SESSION_END_INFO_TAG]
                )
                events.status = _SESSION_STATUS.get(end.status)
        return events

    return read


def _hparam(value: Any) -> ParamValue:
    """A google.protobuf Value as a param; whole numbers are ints, as TensorBoard shows them."""
    kind = value.WhichOneof("kind")
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind == "string_value":
        return str(value.string_value)
    if kind == "number_value":
        number = float(value.number_value)
        return int(number) if number.is_integer() and abs(number) < _INTEGRAL_MAX else number
    return None


def _run_folders(top: str) -> list[str]:
    """Folders (relative, posix, ``.`` for the top) holding event files, parents first."""
    found = []
    for folder, subfolders, files in os.walk(top):
        subfolders.sort()
        if any(_EVENTS in name for name in files):
            rel = os.path.relpath(folder, top)
            found.append("." if rel == os.curdir else rel.replace(os.sep, "/"))
    return sorted(found, key=lambda rel: (rel != ".", rel.split("/")))


def _children(folder: str, folders: list[str]) -> list[str]:
    prefix = "" if folder == "." else f"{folder}/"
    return [f for f in folders if f != folder and f.startswith(prefix) and "/" not in f[len(prefix) :]]


def _fold(events: _Events, extra: _Events) -> None:
    events.keys += extra.keys
    events.steps += extra.steps
    events.values += extra.values
    events.times += extra.times
    events.params = extra.params
    events.has_hparams = True
    events.status = extra.status or events.status
    events.start = min(events.start, extra.start)
    events.end = max(events.end, extra.end)


def _source_run(top: str, folder: str, events: _Events) -> SourceRun:
    identity = f"{events.first_file}\0{events.first_time!r}"
    run_id = "tb-" + hashlib.sha1(identity.encode()).hexdigest()[:20]
    name = os.path.basename(top) if folder == "." else folder
    micros = np.rint(np.asarray(events.times, dtype=np.float64) * 1e6).astype(np.int64)
    table = metrics_table(run_id, events.keys, events.steps, events.values, micros)
    order = np.lexsort((np.arange(table.num_rows), table["time"].cast(pa.int64()).to_numpy()))
    table = table.take(pa.array(order, pa.int64()))  # logging order: by wall time
    return SourceRun(
        run_id=run_id,
        name=name,
        status=events.status or Status.FINISHED,
        start_time=events.start,
        end_time=events.end if (events.status or Status.FINISHED) != Status.RUNNING else None,
        history=lambda: table,
        params=events.params,
        group=posixpath.dirname(folder) or None,
    )
