"""What happens to open runs when the process ends: normally, by an exception, or by SIGTERM.

W&B and MLflow close runs at exit too. The hooks are installed by the first run, never at
import, and a SIGTERM handler only when the program has none of its own: a preempted job
(SIGTERM) flushes and records ``killed``, then dies of SIGTERM as it would have.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from tracklib.format.schema import Status

if TYPE_CHECKING:
    from tracklib.write.run import Run

_live_runs: set[Run] = set()
_uncaught: list[str] = []
_installed = threading.Lock()
_hooks: list[str] = []


def track(run: Run) -> None:
    """Remember ``run`` until it finishes; install the exit hooks once."""
    with _installed:
        if not _hooks:
            _install()
    _live_runs.add(run)


def forget(run: Run) -> None:
    _live_runs.discard(run)


def _install() -> None:
    previous_excepthook = sys.excepthook

    def excepthook(kind, value, tb):  # type: ignore[no-untyped-def]
        _uncaught.append(f"{kind.__name__}: {value}")
        previous_excepthook(kind, value, tb)

    sys.excepthook = excepthook
    atexit.register(_finish_at_exit)
    _hooks.append("atexit")
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)
        _hooks.append("sigterm")


def _finish_at_exit() -> None:
    if _uncaught:
        _finish_all(Status.FAILED, _uncaught[-1])
    else:
        _finish_all(Status.FINISHED, None)


def _finish_all(status: Status, error: str | None) -> None:
    for run in list(_live_runs):
        try:  # each run on its own: one failing must not leave the others open
            run.finish(status, error)
        except Exception as exc:  # noqa: BLE001 - exiting anyway; say what was not finished
            print(f"tracklib: could not finish run {run.id} at exit: {exc!r}", file=sys.stderr)


def _forget_in_child() -> None:
    """A forked child (a DataLoader worker) must not finish its parent's runs when it exits."""
    _live_runs.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _on_sigterm(signum: int, frame: object) -> None:
    _finish_all(Status.KILLED, "SIGTERM")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)  # end as SIGTERM would have, with its exit status
