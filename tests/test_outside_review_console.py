"""Outside review of console capture: when the run's flusher happens to run must not change
what the Run page shows. ``print(f"{pct}%", end="\\r")`` is a progress line a terminal keeps
overwriting; it was stored as ``0%10%20%...`` whenever a flush fell between two prints."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from tracklib.write.console import ConsoleBuffer


def _lines(writes: list[str], flush_after: set[int]) -> list[str]:
    buffer = ConsoleBuffer(lambda: None)
    lines = []
    for i, text in enumerate(writes):
        buffer.chunks.append((0.0, 1, "stdout", text))
        if i in flush_after:
            lines += buffer.lines(final=False)
    lines += buffer.lines(final=True)
    return [line for _, _, line, _ in lines]


def test_a_progress_line_printed_with_end_cr_is_stored_as_its_last_state_across_flushes():
    writes = []
    for pct in range(0, 101, 10):
        writes += [f"{pct}%", "\r"]  # print(f"{pct}%", end="\r"): two writes
    writes += ["done", "\n"]
    every_print = {i for i in range(len(writes)) if i % 2 == 1}
    assert _lines(writes, every_print) == ["done"]
    assert _lines(writes, set()) == ["done"]


@settings(max_examples=60, deadline=None)
@given(
    writes=hs.lists(hs.text(hs.sampled_from("ab\r\n"), min_size=1, max_size=6), max_size=12),
    flushes=hs.sets(hs.integers(0, 11)),
)
def test_the_stored_lines_do_not_depend_on_when_the_flusher_ran(writes, flushes):
    assert _lines(writes, flushes) == _lines(writes, set())
