"""The thread that moves finished Parquet parts to the store, so training never waits on it.

A part waits in memory while the queue is under its byte cap and goes straight to the
local spool beyond it (memory stays bounded however long the store is away). Failed
uploads are retried with exponential backoff; at ``close`` whatever did not make it in
time is spooled, never dropped.

On a local root the thread starts with the first file. A run that ends before its first
flush hands over nothing until ``finish``, and ``close`` then writes its files itself on a
local disk, or on a network mount hands them to a thread shared by all runs of the process
(which, unlike the caller's, can be given up on when the mount hangs): starting, joining
and handing over to a thread per run cost more than the writes (a sweep of short runs is
twice as fast).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tracklib.storage import Storage
from tracklib.write.spool import Spool

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.25
BACKOFF_MAX_S = 10.0
CLOSE_GRACE_S = 0.5
SHARED_SENDERS = 4  # more than one: a write hung on a dead mount must not hold up other runs


@dataclass(frozen=True)
class Upload:
    """One file for the store: in memory (``data``) or already in the spool."""

    rel: str
    data: bytes | None = None
    spooled: bool = False


class Uploader:
    def __init__(
        self,
        storage: Storage,
        spool: Spool,
        max_queue_bytes: int,
        name: str,
        senders: Senders,
        on_landed: Callable[[str], None] | None = None,
    ) -> None:
        self._storage = storage
        self._senders = senders  # the runtime's shared threads, for the hand-off at close
        self._on_landed = on_landed  # called on this thread with each rel that reached the store
        self._spool = spool
        self._max_queue_bytes = max_queue_bytes
        self._queue: deque[Upload] = deque()
        self._queued_bytes = 0
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._closing = False
        self._abandoned = False  # set when close() stops waiting for a hung upload
        self._deadline = float("inf")
        self._deferred = False  # set by defer_to_close(): queue without starting the thread
        self.uploaded = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        # Decided now, while the root was just checked: on a dead mount, finding out would hang.
        self._on_local_disk = storage.on_local_disk
        if not storage.is_local:
            self._thread.start()  # at once: at interpreter exit no thread may start any more
        elif not self._on_local_disk:
            senders.ready()  # likewise, for the hand-off at close

    def defer_to_close(self) -> None:
        """From now on only queue files: ``close`` sends them (itself, on a local root)."""
        with self._lock:
            self._deferred = True

    def submit(self, rel: str, data: bytes) -> None:
        """Queue ``data`` for ``rel``; beyond the byte cap it waits in the spool instead."""
        with self._lock:
            self._start_if_idle()
            if self._queued_bytes + len(data) > self._max_queue_bytes:
                self._spool.save(rel, data)
                upload = Upload(rel, spooled=True)
            else:
                upload = Upload(rel, data)
                self._queued_bytes += len(data)
            self._queue.append(upload)
            self._ready.notify()

    def submit_spooled(self, rel: str) -> None:
        """Queue a file that is already in the spool (a staged artifact)."""
        with self._lock:
            self._start_if_idle()
            self._queue.append(Upload(rel, spooled=True))
            self._ready.notify()

    def close(self, timeout: float) -> int:
        """Give the queue ``timeout`` seconds to drain, then spool the rest; returns how many.

        Returns within about ``timeout`` even if an upload hangs: that upload is spooled too
        (if it lands after all, the spooled copy's upload finds it there and is dropped).
        """
        with self._lock:
            self._closing = True
            self._deadline = time.monotonic() + timeout
            self._ready.notify()
        if self._thread.ident is not None:
            self._thread.join(timeout + CLOSE_GRACE_S)
        elif self._queue and self._on_local_disk:
            self._loop()  # a local disk does not hang: write here, no hand-over at all
        elif self._queue:  # a network mount may hang: only another thread can be given up on
            self._senders.run(self._loop, timeout + CLOSE_GRACE_S)
        with self._lock:
            self._abandoned = True
            left = list(self._queue)
            self._queue.clear()
        for upload in left:
            if upload.data is not None:
                try:
                    self._spool.save(upload.rel, upload.data)
                except OSError as exc:  # the spool's disk is full too: nowhere left to keep it
                    warnings.warn(
                        f"tracklib: {upload.rel} reached neither the store nor the spool ({exc}); it is lost",
                        RuntimeWarning,
                        stacklevel=3,
                    )
        return len(left)

    def _start_if_idle(self) -> None:  # local roots only: remote ones started at once
        if self._thread.ident is None and not self._deferred and not self._closing:
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._ready.wait()
                if not self._queue:
                    return
                upload = self._queue[0]
            if not self._send_with_retries(upload):
                return  # closing and out of time: close() spools what is left
            if self._on_landed is not None:
                self._on_landed(upload.rel)
            with self._lock:
                if self._abandoned:
                    return
                self._queue.popleft()
                if upload.data is not None:
                    self._queued_bytes -= len(upload.data)
                self.uploaded += 1

    def _send_with_retries(self, upload: Upload) -> bool:
        delay = BACKOFF_START_S
        while True:
            try:
                self._send(upload)
                return True
            except Exception as exc:  # noqa: BLE001 - every store fault is retried, then spooled
                self.failures += 1
                log.debug("upload of %s failed (%r); retrying in %.2fs", upload.rel, exc, delay)
            with self._lock:
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._ready.wait(min(delay, remaining))
            delay = min(delay * 2, BACKOFF_MAX_S)

    def _send(self, upload: Upload) -> None:
        if upload.spooled:
            self._spool.upload(self._storage, upload.rel)
            return
        try:
            self._storage.write_bytes(upload.rel, upload.data or b"")
        except FileExistsError:
            pass  # names are unique: an earlier, timed-out attempt had landed


class Senders:
    """A few daemon threads that run uploader loops handed to them.

    Daemon threads (ThreadPoolExecutor's are not): a write hung on a dead mount must not
    keep the interpreter from exiting, as it would if exit waited to join them. Each hand-off
    takes an idle thread, or starts one (up to SHARED_SENDERS), or waits behind busy ones.
    """

    def __init__(self) -> None:
        self.forked()

    def forked(self) -> None:
        """Also in a forked child, which has none of the parent's threads: none yet, none busy."""
        self._tasks: queue.SimpleQueue[tuple[Callable[[], None], threading.Event]] = queue.SimpleQueue()
        self._threads = 0
        self._idle = 0  # threads waiting for a task and not yet promised one
        self._waiting = 0  # tasks queued while no thread was free
        self._lock = threading.Lock()

    def ready(self) -> None:
        """Start one thread now, while threads can start (not at interpreter exit)."""
        with self._lock:
            if self._threads == 0 and self._start():
                self._idle += 1

    def run(self, loop: Callable[[], None], wait: float) -> None:
        """Run ``loop`` on a sender, waiting ``wait`` seconds at most. Without any sender (no
        thread could start) it returns at once: the caller spools what ``loop`` would send."""
        done = threading.Event()
        with self._lock:
            if self._idle:
                self._idle -= 1
            elif not (self._threads < SHARED_SENDERS and self._start()):
                if self._threads == 0:
                    return
                self._waiting += 1
            self._tasks.put((loop, done))
        done.wait(wait)

    def _start(self) -> bool:
        try:
            threading.Thread(target=self._work, name="tracklib-send", daemon=True).start()
        except RuntimeError:  # interpreter exit (Python 3.12+), or a thread limit
            return False
        self._threads += 1
        return True

    def _work(self) -> None:
        while True:
            loop, done = self._tasks.get()
            try:
                loop()
            except Exception:  # noqa: BLE001, S110 - the loop spools nothing itself; close() does
                pass
            finally:
                done.set()
                with self._lock:
                    if self._waiting:
                        self._waiting -= 1  # the next get() takes a task already queued
                    else:
                        self._idle += 1
