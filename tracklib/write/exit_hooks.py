"""What happens to open runs when the process ends: normally, by an exception, or by SIGTERM.

W&B and MLflow close runs at exit too. The hooks are installed by a runtime's first run, never
at import, and a SIGTERM handler only when the program has none of its own: a preempted job
(SIGTERM) flushes and records ``killed``, then dies of SIGTERM as it would have.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback
from typing import Protocol

from tracklib.format.schema import Status

# A traceback is kept whole (Python already folds a recursion's repeated frames); only a
# pathological one (an exception message of megabytes) keeps its first and last half of this.
MAX_FAILURE_TEXT = 1_000_000


def failure_text(kind: type[BaseException], value: BaseException | None, tb: object) -> str:
    """The whole traceback as Python prints it, chained exceptions included, ending with
    ``<ExceptionType>: <message>``; past ``MAX_FAILURE_TEXT`` characters its start and end
    around a note of what was cut. Never raises: a run must end."""
    try:
        text = "".join(traceback.format_exception(kind, value, tb)).rstrip("\n")
    except Exception:  # noqa: BLE001 - an exception whose __str__ fails
        text = f"{kind.__name__}: {object.__repr__(value)}"
    if len(text) > MAX_FAILURE_TEXT:
        half = MAX_FAILURE_TEXT // 2
        text = f"{text[:half]}\n… ({len(text) - 2 * half:,} characters of traceback cut)\n{text[-half:]}"
    return text


class Finishable(Protocol):
    """What the hooks need of a run (a ``Run``; not imported, it imports this module)."""

    @property
    def id(self) -> str: ...

    def finish(self, status: Status, error: str | None) -> None: ...


class LiveRuns:
    """A runtime's unfinished runs and the hooks that finish them when the process ends."""

    def __init__(self) -> None:
        self._runs: set[Finishable] = set()
        self._uncaught: list[str] = []
        self._installed = threading.Lock()
        self._hooks: list[str] = []

    def track(self, run: Finishable) -> None:
        """Remember ``run`` until it finishes; install the exit hooks once."""
        with self._installed:
            if not self._hooks:
                self._install()
        self._runs.add(run)

    def forget(self, run: Finishable) -> None:
        self._runs.discard(run)

    def forked(self) -> None:
        """A forked child (a DataLoader worker) must not finish its parent's runs when it exits.
        The hooks stay: the child inherited them, and they finish the child's own runs."""
        self._runs.clear()
        self._installed = threading.Lock()

    def _install(self) -> None:
        previous_excepthook = sys.excepthook

        def excepthook(kind, value, tb):  # type: ignore[no-untyped-def]
            self._uncaught.append(failure_text(kind, value, tb))
            previous_excepthook(kind, value, tb)

        sys.excepthook = excepthook
        atexit.register(self._finish_at_exit)
        self._hooks.append("atexit")
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGTERM)
            if previous == signal.SIG_DFL or isinstance(getattr(previous, "__self__", None), LiveRuns):
                self._previous_sigterm = previous  # another runtime's: it is called after this one
                signal.signal(signal.SIGTERM, self._on_sigterm)
                self._hooks.append("sigterm")

    def _finish_at_exit(self) -> None:
        if self._uncaught:
            self._finish_all(Status.FAILED, self._uncaught[-1])
        else:
            self._finish_all(Status.FINISHED, None)

    def _finish_all(self, status: Status, error: str | None) -> None:
        for run in list(self._runs):
            try:  # each run on its own: one failing must not leave the others open
                run.finish(status, error)
            except Exception as exc:  # noqa: BLE001 - exiting anyway; say what was not finished
                print(f"tracklib: could not finish run {run.id} at exit: {exc!r}", file=sys.stderr)

    def _on_sigterm(self, signum: int, frame: object) -> None:
        self._finish_all(Status.KILLED, "SIGTERM")
        if callable(self._previous_sigterm):
            self._previous_sigterm(signum, frame)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # end as SIGTERM would have, with its exit status
