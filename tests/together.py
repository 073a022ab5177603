"""Running one piece of work on several threads at once, for tests of concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable


def errors_running_at_once(work: Callable[[], object], threads: int) -> list[BaseException]:
    """Start ``work`` on ``threads`` threads together, wait for all; what any of them raised."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            errors.append(exc)

    started = [threading.Thread(target=guarded) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return errors
