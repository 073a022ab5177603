"""``run.summary``: a run's summary as a dict, for reading and for setting values by hand."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any


class Summary(MutableMapping[str, float]):
    """``run.summary``: the last value of every metric, overridable by explicit values."""

    def __init__(self, run: Any) -> None:  # the Run it belongs to (no import: run.py imports this)
        self._run = run

    def _view(self) -> dict[str, float]:
        state = self._run._state
        return {k: s.last for k, s in state.summary.items()} | state.user_summary

    def __getitem__(self, key: str) -> float:
        return self._view()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._run._set_user_summary(key, value)

    def __delitem__(self, key: str) -> None:
        self._run._check_open()
        with self._run._lock:
            del self._run._state.user_summary[key]
            self._run._dirty = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())

    def __repr__(self) -> str:
        return f"Summary({self._view()!r})"
