"""A run you hold: ``log`` buffers in memory, a background thread writes Parquet parts."""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from tracklib import config
from tracklib.format import layout
from tracklib.format.errors import InvalidStepError, InvalidValueError, RunFinishedError
from tracklib.format.ids import new_id
from tracklib.format.record import RunState
from tracklib.format.schema import Status
from tracklib.format.summary import merge, summarize
from tracklib.format.values import (
    FLOAT_INT_LIMIT,
    MAX_STEP,
    check_key,
    check_step,
    flatten_params,
    metric_value,
    storable,
)
from tracklib.storage import Storage
from tracklib.write import environment
from tracklib.write.buffer import Entry, Flusher, drain
from tracklib.write.compact_run import RunCompactor
from tracklib.write.console import NO_CONSOLE, ConsoleCapture
from tracklib.write.exit_hooks import failure_text
from tracklib.write.file_log import LogsFiles
from tracklib.write.image_log import ImageLog, LogsImages
from tracklib.write.parts import metric_part, record_part
from tracklib.write.run_summary import Summary
from tracklib.write.runtime import Runtime
from tracklib.write.spool import Spool
from tracklib.write.system_metrics import SystemSampler
from tracklib.write.uploader import Uploader


class Run(LogsFiles, LogsImages):
    """One training run. Create it with :func:`tracklib.init`; finish it (or use ``with``)."""

    def __init__(
        self,
        storage: Storage,
        state: RunState,
        *,
        capture: Iterable[str],
        flush_interval: float,
        heartbeat_interval: float,
        finish_timeout: float,
        redact: environment.Redactor | None = None,
        at_once: bool = False,
        runtime: Runtime,
        system_metrics: float | None = None,
    ) -> None:
        """``at_once``: write the first snapshot now rather than a second later. start.init
        asks it for a resumed run (its claim reserved that seq: the session must end past it,
        so the next resume can claim its own) and for a chosen id (so a crash in the first
        second leaves a run to resume, not just a claim marker). ``runtime``: the threads and
        exit hooks the run uses (``runtime.current()`` unless a test or embedder has its own).
        ``system_metrics``: seconds between system metrics samples; None: none."""
        self._runtime = runtime
        self._storage = storage
        self._state = state
        self._redact = redact or environment.Redactor(os.environ)
        self._spool = Spool(config.spool_dir(), storage.url)
        self._compactor = RunCompactor(storage, state.project, state.run_id)
        self._uploader = Uploader(
            storage,
            self._spool,
            config.UPLOAD_QUEUE_MAX_BYTES,
            f"tracklib-upload-{state.run_id}",
            runtime.senders,
            on_landed=self._compactor.landed,
        )
        self._entries: deque[Entry] = deque()
        self._flush_at = config.FLUSH_MAX_CALLS
        self._next_step = state.next_step()
        self._known_keys: set[str] = set()
        self._images = ImageLog()  # rows of log_image calls, written by the next flush
        self._heartbeat_interval = heartbeat_interval
        self._finish_timeout = finish_timeout
        self._lock = threading.Lock()  # guards _state and _dirty against the flusher thread
        self._dirty = True
        self._last_record_time = 0.0
        self._last_record: tuple[str, pa.Table] | None = None  # path and table of the newest snapshot
        self._finished = False
        self.summary = Summary(self)
        if at_once:
            self._flush()
        # git and package listing take ~0.1 s: done beside training, joined at finish; unless
        # what an earlier run of this process read still holds (a sweep): then written at once
        wanted = tuple(capture)
        self._environment = threading.Thread(
            target=self._write_environment,
            args=(wanted,),
            name=f"tracklib-env-{state.run_id}",
            daemon=True,
        )
        env = environment.reused(wanted, self._redact) if wanted else None
        if env is not None:
            try:
                self._write_environment(wanted, env)
            except Exception as exc:  # noqa: BLE001 - as on the thread, the run goes on without it
                warnings.warn(
                    f"tracklib: writing the environment failed: {exc!r}", RuntimeWarning, stacklevel=3
                )
        elif wanted:  # capture=False: no environment file at all, nothing to say in it
            self._environment.start()
        self._flusher = Flusher(
            self._flush, flush_interval, runtime.scheduler, first=config.FIRST_RECORD_AFTER_S
        )
        self._console = ConsoleCapture(wanted, self._flusher.wake)  # stdout/stderr, if "console"
        self._system = self._start_system_metrics(system_metrics)
        runtime.live.track(self)

    # -- identity ---------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._state.run_id

    @property
    def name(self) -> str:
        return self._state.name

    @property
    def project(self) -> str:
        return self._state.project

    @property
    def root(self) -> str:
        return self._storage.url

    @property
    def status(self) -> Status:
        return self._state.status

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._state.params)

    def __repr__(self) -> str:
        return f"<tracklib.Run {self.project}/{self.name} id={self.id} {self.status}>"

    # -- the hot path -----------------------------------------------------------------
    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Record metric values at ``step`` (default: one past the previous step).

        Does no I/O: the values are validated, then appended to an in-memory buffer.

        Raises:
            InvalidValueError: a value is not a number (a TypeError).
            InvalidKeyError: a key is not a non-empty string.
            InvalidStepError: ``step`` is not an integer >= 0.
            RunFinishedError: the run is finished.
        """
        if self._finished:
            raise RunFinishedError(f"run {self.id} is {self._state.status}; start a new run to log more")
        if step is None:
            step = self._next_step
            if step > MAX_STEP:
                raise InvalidStepError(f"the next step would be {step}, past the largest step {MAX_STEP}")
        elif type(step) is not int or not 0 <= step <= MAX_STEP:
            step = check_step(step)
        if type(data) is not dict and not isinstance(data, Mapping):  # the ABC check costs ~0.2 us
            raise InvalidValueError(f"log takes a mapping of metric values, got {type(data).__name__}")
        values = dict(data)
        known = self._known_keys
        for key, value in values.items():
            if key not in known:
                check_key(key)
                known.add(key)
            kind = type(value)
            if kind is not float and (kind is not int or not -FLOAT_INT_LIMIT <= value <= FLOAT_INT_LIMIT):
                values[key] = metric_value(key, value)
        if step >= self._next_step:
            self._next_step = step + 1
        if values:
            self._entries.append((step, time.time(), values))
            if len(self._entries) >= self._flush_at:
                self._flusher.wake()

    # -- the rest of the API ------------------------------------------------------------
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Merge more params in (nested dicts become dotted keys; types are kept)."""
        self._check_open()
        flat = self._redact.params(flatten_params(params))
        with self._lock:
            self._state.params.update(flat)
            self._dirty = True

    # Set only by tracklib.integrations, which see what the caller's code does not:
    # _cut_short while a framework's training is under way: finishing the run as finished
    # meanwhile (its exception was caught and swallowed, or the interpreter exits) fails it
    # with this text instead; _end_time when the work ended before it was recorded (an
    # Optuna trial): end_time is then that, not the moment of finish.
    _cut_short: str | None = None
    _end_time: float | None = None
    _console = NO_CONSOLE  # until __init__ starts its own: a first flush may come before

    def _set_times(self, start_time: float, end_time: float | None) -> None:
        """Times of work recorded after it happened (see ``_end_time``)."""
        with self._lock:
            self._state.start_time = start_time
            self._dirty = True
        self._end_time = end_time

    def finish(self, status: Status | str = Status.FINISHED, error: str | None = None) -> None:
        """Flush everything, write the final record and stop the background threads.

        Waits up to ``finish_timeout`` seconds for the store; what has not arrived by then
        stays in the local spool (see ``tracklib sync``). Calling it twice is harmless.
        """
        if self._finished:
            return
        final = Status(status)
        if final not in (Status.FINISHED, Status.FAILED, Status.KILLED):
            raise ValueError(f"a run finishes as finished, failed or killed, not {final}")
        if final is Status.FINISHED and self._cut_short is not None:
            final, error = Status.FAILED, self._cut_short
        self._finished = True
        if self._system is not None:  # before the last flush: no sample lands after it
            self._system.stop()
        self._flusher.stop()
        self._console.stop()
        self._uploader.defer_to_close()  # the final files: written by close, after the queue
        if self._environment.ident is not None:  # started (capture on)
            self._environment.join()
        with self._lock:
            self._state.status = final
            # an exception's text may quote a non-UTF-8 file name: kept, escaped
            # and may quote a URL with its credentials (`401 ... for url: https://...?api_key=...`)
            self._state.error = None if error is None else self._redact(storable(str(error)))
            self._state.end_time = time.time() if self._end_time is None else self._end_time
            self._dirty = True
        self._flush()
        spooled = self._uploader.close(self._finish_timeout)
        self._runtime.live.forget(self)
        if not spooled:
            self._compactor.finish()
            if self._last_record is not None:
                self._runtime.index.run_finished(self._storage, self.project, *self._last_record)
        if spooled:
            warnings.warn(
                f"tracklib: the store {self.root!r} did not take {spooled} file(s) of run {self.id} "
                f"in time; they wait in {self._spool.dir} and `tracklib sync` uploads them",
                RuntimeWarning,
                stacklevel=2,
            )

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc_type is None or (issubclass(exc_type, SystemExit) and exc.code in (0, None)):  # type: ignore[union-attr]
            self.finish(Status.FINISHED)
        elif issubclass(exc_type, Exception) or issubclass(exc_type, SystemExit):
            self.finish(Status.FAILED, failure_text(exc_type, exc, tb))
        else:  # KeyboardInterrupt, GeneratorExit: stopped from outside
            self.finish(Status.KILLED, exc_type.__name__)

    # -- background work ----------------------------------------------------------------
    def _check_open(self) -> None:
        if self._finished:
            raise RunFinishedError(f"run {self.id} is {self._state.status}")

    def _flush(self) -> None:
        """Turn buffered log calls into a metric part and, when due, a new record.

        Total: values are checked at the call, but should a batch still fail to build or
        encode, its offending rows are dropped (one warning naming run, key and step), the
        others written, and the record goes on (see ``parts``).
        """
        try:
            files: list[tuple[str, bytes]] = []  # handed over together, below: the uploader
            due = False
            try:  # does not compete for the GIL meanwhile, and a part built is never dropped
                batch = drain(self._entries)
                part = metric_part(self.id, batch) if batch else None
                if part is not None:
                    table, data = part
                    new = summarize(
                        table["key"].combine_chunks(), table["step"].to_numpy(), table["value"].to_numpy()
                    )
                    rel = layout.part_path(layout.METRICS, self.project, self.id, new_id())
                    self._compactor.part_written(rel, table)
                    files.append((rel, data))
                files += self._console.parts(self.project, self.id, self._redact, final=self._finished)
                now = time.time()
                with self._lock:
                    if part is not None:
                        self._state.summary = merge(self._state.summary, new)
                    due = (
                        bool(batch) or self._dirty or now - self._last_record_time >= self._heartbeat_interval
                    )
                    if due:
                        self._state.seq += 1
                        record, data = record_part(self._state, now)
                        self._dirty = False
                        self._last_record_time = now
                files.extend(filter(None, [self._images.part(self.project, self.id)]))
                if due:
                    snapshot = (layout.part_path(layout.RECORDS, self.project, self.id, new_id()), record)
                    files.append((snapshot[0], data))
            finally:
                handed = [rel for rel, data in files if self._hand_over(rel, data)]
            if due and snapshot[0] in handed:
                self._last_record = snapshot  # compact_records may fold it into an index once it lands
        except Exception as exc:  # noqa: BLE001 - never let the flusher thread die silently
            warnings.warn(f"tracklib: flushing run {self.id} failed: {exc!r}", RuntimeWarning, stacklevel=1)

    def _hand_over(self, rel: str, data: bytes) -> bool:
        """Give a built file to the uploader; one that fails (the spool's disk is full)
        must not keep the others from going."""
        try:
            self._uploader.submit(rel, data)
        except Exception as exc:  # noqa: BLE001 - warned, and the run goes on
            warnings.warn(
                f"tracklib: {rel} of run {self.id} could not be queued: {exc!r}", RuntimeWarning, stacklevel=2
            )
            return False
        return True

    def _write_environment(self, capture: Iterable[str], env: dict[str, Any] | None = None) -> None:
        """Write the environment row; ``env``: already captured.

        On a local disk it is written here, as ``Uploader.close`` writes a short run's files:
        handed over, it would start the uploader's thread, which costs a sweep's run of a few
        milliseconds ~1.5 ms more (the thread, then its GIL contention with finish). A failed
        write is handed over, to be retried or spooled.
        """
        try:
            env = environment.capture(capture, self._redact) if env is None else env
        except Exception as exc:  # noqa: BLE001 - a broken git or package must not stop the run
            warnings.warn(
                f"tracklib: capturing the environment failed: {exc!r}", RuntimeWarning, stacklevel=1
            )
            env = {}
        with self._lock:
            self._state.host = self._state.host or env.get("host")
            self._state.git_commit = env.get("git_commit") or self._state.git_commit
            self._dirty = True
        rel, data = environment.part(env, self.project, self.id)
        if self._storage.on_local_disk:
            try:
                self._storage.write_bytes(rel, data)
                return
            except Exception:  # noqa: BLE001, S110 - the uploader retries, then spools
                pass
        self._uploader.submit(rel, data)

    def _start_system_metrics(self, every: float | None) -> SystemSampler | None:
        """Sampled on the runtime's periodic thread into this run's buffer, as a series of
        sample indexes apart from the user's steps (``log``'s default step never sees them)."""
        if every is None:
            return None
        try:
            return SystemSampler(
                self._entries.append, every, self._runtime.scheduler, first_index=self._state.next_sample()
            )
        except Exception as exc:  # noqa: BLE001 - the run goes on without them
            warnings.warn(f"tracklib: system metrics are off: {exc!r}", RuntimeWarning, stacklevel=3)
            return None

    def _set_user_summary(self, key: str, value: Any) -> None:
        self._check_open()
        check_key(key, "summary")
        number = metric_value(key, value)
        with self._lock:
            self._state.user_summary[key] = number
            self._dirty = True
