"""Everything the writer keeps per process: its threads, their queues and the fork handler.

A ``Runtime`` holds the flushing thread (``scheduler``), the shared upload threads
(``senders``), the final records waiting to be folded into index files (``index``) and the
runs the exit hooks must finish (``live``). The process's runtime is made on first use, by
``current()``, never at import: ``import tracklib`` starts no thread and registers no fork
handler. Tests and embedders may make their own and hand it to ``tracklib.init(runtime=...)``.

After a fork the child has none of the parent's threads: every runtime it inherited is reset
in place (the parent's flushers stop, its runs are neither finished nor folded by the child),
and ``current()`` makes the child a new one.
"""

from __future__ import annotations

import os
import threading
import weakref

from tracklib.write.buffer import Scheduler
from tracklib.write.compact_records import INDEX_EVERY, IndexBatches
from tracklib.write.exit_hooks import LiveRuns
from tracklib.write.uploader import Senders


class Runtime:
    """The writer's process-wide state, in one object rather than module globals."""

    def __init__(self, *, index_every: int = INDEX_EVERY) -> None:
        """``index_every``: finished runs per index file (tests lower it)."""
        self.scheduler = Scheduler()
        self.senders = Senders()
        self.index = IndexBatches(index_every)
        self.live = LiveRuns()
        _register(self)

    def wait(self) -> None:
        """Until the index files being written are written (for tests and benchmarks)."""
        self.index.wait()

    def forked(self) -> None:
        """In a forked child: drop what belongs to the parent's threads and runs."""
        self.scheduler.forked()
        self.senders.forked()
        self.index.forked()
        self.live.forked()


_current: Runtime | None = None
_runtimes: weakref.WeakSet[Runtime] = weakref.WeakSet()  # all of this process's, to reset at a fork
_making = threading.Lock()
_registering = threading.Lock()
_fork_handler = False


def current() -> Runtime:
    """The process's runtime, made on first use (and again in a forked child)."""
    global _current
    runtime = _current
    if runtime is None:
        with _making:
            if _current is None:
                _current = Runtime()
            runtime = _current
    return runtime


def _register(runtime: Runtime) -> None:
    """Remember ``runtime`` for the fork handler, registered with the process's first runtime."""
    global _fork_handler
    with _registering:
        _runtimes.add(runtime)
        if not _fork_handler:
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _fork_handler = True


def _after_fork_in_child() -> None:
    global _current, _making, _registering
    _making, _registering = threading.Lock(), threading.Lock()  # a parent's thread may have held one
    _current = None
    for runtime in list(_runtimes):
        runtime.forked()
