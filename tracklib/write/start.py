"""``tracklib.init``: resolve the root, validate what the user passed, start or resume a run."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from tracklib import compaction, config
from tracklib.format import layout
from tracklib.format.errors import InvalidValueError, ResumeConflictError, RunNotFoundError, StoreError
from tracklib.format.ids import new_id, new_run_name
from tracklib.format.record import RunState, state_from_record
from tracklib.format.schema import Status
from tracklib.format.values import check_text, flatten_params
from tracklib.storage import Storage, given_or_opened
from tracklib.write import environment
from tracklib.write import runtime as runtimes
from tracklib.write.run import Run
from tracklib.write.spool import Spool
from tracklib.write.system_metrics import interval as system_metrics_interval


def init(
    project: str,
    *,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    group: str | None = None,
    notes: str | None = None,
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    storage: Storage | None = None,
    run_id: str | None = None,
    resume: bool = False,
    capture: Iterable[str] | bool = True,
    flush_interval: float = config.FLUSH_INTERVAL_S,
    heartbeat_interval: float = config.HEARTBEAT_INTERVAL_S,
    finish_timeout: float = config.FINISH_TIMEOUT_S,
    runtime: runtimes.Runtime | None = None,
    system_metrics: bool | float = False,
) -> Run:
    """Start (or, with ``resume=True``, continue) a run and return it.

    Args:
        project: the project the run belongs to (a folder name).
        name: a readable name; generated (``crimson-otter``) when omitted.
        params: hyperparameters; nested dicts flatten to dotted keys.
        tags, group, notes: for filtering and grouping in the dashboard.
        root: the store (any fsspec URL); default ``$TRACKLIB_ROOT`` or ``./tracking``.
        storage_options: passed to fsspec unchanged.
        storage: instead of ``root`` and ``storage_options``, the storage to write through:
            ``tracklib.storage.open_storage(url)``, or any object with its methods (a wrapper
            that counts, delays or fails calls, say). Giving both is a ValueError.
        run_id: the id of the run to resume (or a custom id for a new run).
        resume: continue ``run_id`` after its last step, keeping params, tags and history.
        capture: ``True`` (all), ``False`` (none) or a subset of
            ``("system", "argv", "git", "git_diff", "packages", "gpu", "console")``;
            ``"console"`` stores what the run prints to stdout and stderr (FORMAT.md §19),
            passed through to the terminal unchanged, from now until ``finish``.
        flush_interval: seconds between metric parts while logging.
        heartbeat_interval: seconds between record refreshes of an idle running run.
        finish_timeout: how long ``finish`` waits for the store before spooling locally.
        runtime: the threads and exit hooks the run uses; default the process's own. For tests
            and embedding, to keep runs apart from the rest of the process.
        system_metrics: ``True`` samples CPU, memory, disk and network use (and NVIDIA GPUs,
            with ``nvidia-ml-py``) every 10 s as ``system/*`` metrics; a number: every that
            many seconds (at least 1). Their step is the sample index, apart from ``log``'s.

    Raises:
        StoreError: the root cannot be written (missing bucket, read-only folder).
        RunNotFoundError: ``resume=True`` and no run ``run_id`` exists in ``project``.
        InvalidValueError: ``system_metrics`` is not a bool or a number of seconds >= 1.
    """
    layout.check_project(project)
    sample_every = system_metrics_interval(system_metrics)
    if resume and run_id is None:
        raise ValueError("resume=True needs the run_id of the run to continue")
    if run_id is not None:
        layout.check_run_id(run_id)
    # every value is checked before anything is written: a refused init leaves no trace
    check_text(name, "name", optional=True)
    check_text(group, "group", optional=True)
    check_text(notes, "notes", optional=True)
    if isinstance(tags, str):
        raise InvalidValueError(f"tags must be a list of strings, not one string {tags!r}")
    checked_tags = [_check_tag(tag) for tag in (tags or [])]
    _check_capture(capture)
    flat_params = flatten_params(params or {})
    storage = given_or_opened(storage, root, storage_options)
    storage.check_writable()
    _sync_leftovers(storage)
    redact = environment.Redactor(os.environ)
    flat_params = redact.params(flat_params)
    tag_list = [redact(tag) for tag in checked_tags]
    notes = redact(notes) if notes is not None else None
    if resume:
        state = _read_state(storage, project, layout.check_run_id(run_id))
        # Claim the snapshot we continue from and the one we will write first: a second writer
        # resuming at the same time reads one of the two and is refused.
        for seq in (state.seq, state.seq + 1):
            _claim(storage, project, state.run_id, f"resume-{seq}")
        state.status, state.error, state.end_time = Status.RUNNING, None, None
        state.params.update(flat_params)
        state.tags += [tag for tag in tag_list if tag not in state.tags]
        state.name = name or state.name
        state.group = group if group is not None else state.group
        state.notes = notes if notes is not None else state.notes
    else:
        if (
            run_id is not None
            and compaction.newest_record(storage, project, layout.check_run_id(run_id))[0].num_rows
        ):
            raise ValueError(f"run {run_id} already exists in {project!r}; pass resume=True to continue it")
        if run_id is not None:  # a chosen id: two writers must not both start it
            _claim(storage, project, run_id, "start")
        state = RunState(
            run_id=run_id or new_id(),
            project=project,
            name=name or new_run_name(),
            group=group,
            tags=tag_list,
            notes=notes,
            start_time=time.time(),
            params=flat_params,
        )
    wanted = environment.CAPTURE_ALL if capture is True else () if capture is False else tuple(capture)
    return Run(
        storage,
        state,
        capture=wanted,
        flush_interval=flush_interval,
        heartbeat_interval=heartbeat_interval,
        finish_timeout=finish_timeout,
        redact=redact,
        at_once=resume or run_id is not None,
        runtime=runtime if runtime is not None else runtimes.current(),
        system_metrics=sample_every,
    )


def _sync_leftovers(storage: Storage) -> None:
    """Upload, beside the new run, what earlier runs on this machine left in the spool."""
    spool = Spool(config.spool_dir(), storage.url)
    leftovers = spool.pending()
    if leftovers:
        threading.Thread(
            target=spool.sync, args=(storage, leftovers), name="tracklib-sync", daemon=True
        ).start()


def _claim(storage: Storage, project: str, run_id: str, what: str) -> None:
    """Exclusive create of a marker: of two writers starting or resuming the same run from the
    same snapshot, exactly one gets it; the other is refused before it writes anything.
    A marker a 1.1 writer left beside the records counts too."""
    rel = layout.claim_path(project, run_id, what)
    legacy = layout.legacy_claim_path(project, run_id, what)
    try:
        if storage.exists(legacy):
            rel = legacy
            raise FileExistsError(legacy)
        storage.write_bytes(rel, run_id.encode())
    except FileExistsError:
        raise ResumeConflictError(
            f"run {run_id} is already being started or resumed by another writer (marker {rel}); "
            "if that writer is gone, resume again once its last record is written, or delete the marker"
        ) from None


def _read_state(storage: Storage, project: str, run_id: str) -> RunState:
    """The newest snapshot of the run, whether still in its folder or compacted."""
    newest, unusable = compaction.newest_record(storage, project, run_id)
    if unusable:  # continuing from an older snapshot would lose what the broken one said
        raise StoreError(f"cannot resume run {run_id!r}: unreadable record files {unusable}")
    if newest.num_rows == 0:
        raise RunNotFoundError(f"no run {run_id!r} in project {project!r} at {storage.url!r} to resume")
    return state_from_record(newest.to_pylist()[0])


def _check_capture(capture: object) -> None:
    """``capture`` is True, False or a collection of known item names (a typo would else turn
    off what it meant to keep, silently)."""
    if isinstance(capture, bool):
        return
    if isinstance(capture, str) or not isinstance(capture, Iterable):
        raise InvalidValueError(f"capture must be True, False or a list of items, got {capture!r}")
    unknown = [item for item in capture if item not in environment.CAPTURE_ALL]
    if unknown:
        raise InvalidValueError(f"capture: unknown item(s) {unknown!r}; known: {environment.CAPTURE_ALL}")


def _check_tag(tag: object) -> str:
    if not isinstance(tag, str) or not tag:
        raise InvalidValueError(f"tags must be non-empty strings, got {tag!r}")
    return check_text(tag, "tag")
