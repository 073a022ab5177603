"""A run's stdout and stderr: a tee in front of ``sys.stdout``/``sys.stderr`` and the lines it keeps.

The tee passes every write to the stream it replaced first, unchanged (``isatty``, ``fileno``,
``encoding``... are that stream's), then appends the text with its time and thread to the
buffer of every run capturing at that moment: a deque append, no lock, no line splitting on
the printing thread. The run's flusher makes lines of them, per thread (two threads printing
at once each get whole lines), and bounded Parquet parts (``format.console``), masked by the
run's Redactor, uploaded, retried and spooled like metric parts.

The streams are one per process, whatever runtime a run uses, so the tees are too (``TAPS``;
nothing is wrapped at import): the first capturing run installs them, the last one to finish
puts the original streams back if nobody replaced them meanwhile (else the tee stays in their
chain and passes text through). A tee that finds another tee of ours below it in the chain (a
stream replaced by the user and wrapped again) records nothing twice: the outermost records.

Only Python-level writes are seen: output of C extensions and subprocesses written straight
to file descriptors 1 and 2 is not captured. A carriage return starts the line again, as a
terminal shows it (a progress bar is stored as its last state, not as a thousand lines).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from tracklib.format.console import (
    CONSOLE_SCHEMA,
    MAX_LINE_CHARS,
    MAX_PART_CHARS,
    MAX_RUN_CHARS,
    NOTE,
    console_part_path,
    cut_line,
    truncated_note,
)
from tracklib.format.ids import new_id
from tracklib.format.values import storable
from tracklib.storage.parquet import table_to_bytes
from tracklib.write.masking import _PEM_BEGIN, _PEM_END, MASK, Redactor

CONSOLE = "console"  # the item of ``tracklib.init(capture=...)`` that turns this on

# A line is held a little longer than it is stored, so that a secret crossing the cut is whole
# when it is masked: what is stored is cut after masking, never a secret's first characters.
SECRET_SLACK = 4096
HELD_CHARS = MAX_LINE_CHARS + SECRET_SLACK

Chunk = tuple[float, int, str, str]  # time, thread, stream, text of one write
Line = tuple[float, str, str, int]  # time, stream, text (at most HELD_CHARS), length as printed


class _Recording(threading.local):
    on = False  # set while a tee writes below itself: inner tees record nothing


_recording = _Recording()


class ConsoleCapture:
    """What a ``Run`` holds: capture from its start to ``stop``, when ``capture`` names it."""

    def __init__(self, capture: tuple[str, ...], wake: Callable[[], None], taps: Taps | None = None) -> None:
        self._taps = taps or TAPS
        self._buffer = ConsoleBuffer(wake) if CONSOLE in capture else None
        if self._buffer is not None:
            self._taps.attach(self._buffer)

    def stop(self) -> None:
        """No line after this one; the streams go back when no other run captures."""
        if self._buffer is not None:
            self._taps.detach(self._buffer)

    def parts(self, project: str, run_id: str, redact: Redactor, final: bool) -> list[tuple[str, bytes]]:
        """The parts to write now (see ``ConsoleBuffer.parts``); never raises: the flush goes on."""
        if self._buffer is None:
            return []
        try:
            return self._buffer.parts(project, run_id, redact, final)
        except Exception as exc:  # noqa: BLE001 - the metrics and record of this flush still go
            warnings.warn(
                f"tracklib: console output of run {run_id} lost: {exc!r}", RuntimeWarning, stacklevel=2
            )
            return []


class ConsoleBuffer:
    """One run's captured writes until its flusher takes them and makes lines of them.

    The tee only appends ``(time, thread, stream, text)`` (a deque append needs no lock); the
    flusher joins each thread's writes into lines and applies ``MAX_RUN_CHARS``, off the
    printing thread.
    """

    def __init__(self, wake: Callable[[], None]) -> None:
        self.chunks: deque[Chunk] = deque()
        self.wake = wake  # asks the run's flusher for an early part
        self._partial: dict[tuple[int, str], list[str]] = {}  # (thread, stream) -> unfinished line
        self._extra: dict[tuple[int, str], int] = {}  # ... characters it had past HELD_CHARS
        self._kept = 0  # characters accepted for the store (a cut line counts as cut)
        self._dropped_lines = 0
        self._dropped_chars = 0
        self._noted = False
        self._in_key = False  # the last line masked was inside a private key block (BEGIN, no END yet)

    def lines(self, final: bool) -> list[Line]:
        """The lines completed by the writes appended so far (``final``: the unfinished ones
        too), within ``MAX_RUN_CHARS``; the rest counted. One pass over the writes, in C
        where it can (``print`` makes two writes a line: joined, then split once)."""
        completed: list[Line] = []
        partial, extra, chunks = self._partial, self._extra, self.chunks
        for _ in range(len(chunks)):
            when, thread, stream, text = chunks.popleft()
            key = (thread, stream)
            if "\n" not in text:
                pending = partial.get(key)
                if pending is None:
                    partial[key] = [text]
                else:
                    pending.append(text)
                continue
            pending = partial.pop(key, None)
            if pending is not None:
                pending.append(text)
                text = "".join(pending)
            pieces = text.split("\n")
            tail = pieces.pop()
            cut = extra.pop(key, 0) if extra else 0  # characters a long unfinished line lost
            for piece in pieces:
                if cut or "\r" in piece or len(piece) > HELD_CHARS:
                    completed.append((when, stream, *_hold("", cut, piece)))
                    cut = 0
                else:
                    completed.append((when, stream, piece, len(piece)))
            if tail:
                partial[key] = [tail]
        for key, pending in partial.items():  # what waits: one text per thread and stream, bounded
            if len(pending) > 1 or "\r" in pending[0] or len(pending[0]) > HELD_CHARS:
                joined = "".join(pending)
                held, length = _hold("", extra.pop(key, 0), joined)
                if length > len(held):
                    extra[key] = length - len(held)
                # print(x, end="\r"): the next write starts the line over, also after this flush
                partial[key] = [held + "\r" if joined.endswith("\r") else held]
        if final:
            now = time.time()
            for key, pending in partial.items():
                line = pending[0].rstrip("\r")
                completed.append((now, key[1], line, len(line) + extra.get(key, 0)))
            partial.clear()
            extra.clear()
        kept: list[Line] = []
        for line in completed:
            if self._kept >= MAX_RUN_CHARS:
                self._dropped_lines += 1
                self._dropped_chars += line[3]
            else:
                kept.append(line)
                self._kept += min(line[3], MAX_LINE_CHARS)
        if self._dropped_lines and (final or not self._noted):
            kept.append((time.time(), NOTE, truncated_note(self._dropped_lines, self._dropped_chars), 0))
            self._noted = True
        return kept

    def parts(
        self, project: str, run_id: str, redact: Redactor, final: bool = False
    ) -> list[tuple[str, bytes]]:
        """Parquet parts of the lines completed since the last call (none if none), each with
        at most ``MAX_PART_CHARS`` of text; ``final``: the last call, after the run stopped."""
        batch = self.lines(final)
        if not batch:
            return []
        texts, self._in_key = _masked([text for _, _, text, _ in batch], redact, self._in_key)
        parts, rows, size = [], [], 0
        for (when, stream, _, length), text in zip(batch, texts):
            line = cut_line(text, length) if stream != NOTE else text
            if rows and size + len(line) > MAX_PART_CHARS:
                parts.append(_part(project, run_id, rows))
                rows, size = [], 0
            rows.append((when, stream, line))
            size += len(line)
        parts.append(_part(project, run_id, rows))
        return parts


def _masked(texts: list[str], redact: Redactor, in_key: bool = False) -> tuple[list[str], bool]:
    """Each text masked; in one call over them all (a regex pass per line would cost ~10x),
    line by line should masking ever change the number of lines. A private key printed over
    several lines is masked whole, line by line (its body lines alone look like any text), also
    when a flush falls inside it: ``in_key`` says the previous batch ended inside one."""
    joined = redact(storable("\n".join(texts)))
    lines = joined.split("\n")
    if len(lines) != len(texts):
        lines = [redact(storable(text)) for text in texts]
        _mask_lines_of(redact.multiline_secrets, texts, lines)
    if not in_key and not any("PRIVATE KEY" in text for text in texts):
        return lines, False
    for i, text in enumerate(texts):
        if in_key:
            lines[i] = MASK
            in_key = _PEM_END.search(text) is None
        else:
            begins = list(_PEM_BEGIN.finditer(text))
            in_key = bool(begins) and _PEM_END.search(text, begins[-1].end()) is None
    return lines, in_key


def _mask_lines_of(secrets: tuple[str, ...], texts: list[str], lines: list[str]) -> None:
    """Every line an occurrence of a multi-line secret touches, masked whole (each line alone
    holds only a piece of it, which masking line by line does not recognise)."""
    if not secrets:
        return
    whole = "\n".join(texts)
    for secret in secrets:
        at = whole.find(secret)
        while at != -1:
            first = whole.count("\n", 0, at)
            for i in range(first, first + secret.count("\n") + 1):
                lines[i] = MASK
            at = whole.find(secret, at + len(secret))


def _part(project: str, run_id: str, rows: list[tuple[float, str, str]]) -> tuple[str, bytes]:
    micros = pa.array([int(when * 1e6) for when, _, _ in rows], pa.int64()).cast(
        CONSOLE_SCHEMA.field("time").type
    )
    table = pa.table(
        [
            pa.repeat(pa.scalar(run_id, pa.string()), len(rows)),
            micros,
            pa.array([stream for _, stream, _ in rows], pa.string()),
            pa.array([line for _, _, line in rows], pa.string()),
        ],
        schema=CONSOLE_SCHEMA,
    )
    return console_part_path(project, run_id, new_id()), table_to_bytes(table)


class Tee:
    """Stands for ``sys.stdout`` or ``sys.stderr``: writes go to the original, then to the
    capturing runs' buffers as they are (one tuple, one append each: lines are made later)."""

    def __init__(self, original: Any, stream: str, taps: Taps) -> None:
        self.original = original
        self._stream = stream
        self._taps = taps

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, buffer, errors...
        return getattr(self.original, name)

    def write(self, text: Any) -> Any:
        taps = self._taps
        if not taps.sinks or _recording.on or type(text) is not str:
            return self.original.write(text)
        _recording.on = True
        try:
            written = self.original.write(text)
        finally:
            _recording.on = False
        chunk = (_now(), _thread(), self._stream, text)
        for sink in taps.sinks:
            sink.chunks.append(chunk)
        taps.pending += len(text)
        if taps.pending >= MAX_PART_CHARS:  # a flood: parts now rather than at the next interval
            taps.pending = 0
            for sink in taps.sinks:
                sink.wake()
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.original.flush()


_now, _thread = time.time, threading.get_ident


def _hold(held: str, length: int, text: str) -> tuple[str, int]:
    """``held`` continued by ``text``: a carriage return starts over; at most ``HELD_CHARS`` kept."""
    if "\r" in text:
        stripped = text.rstrip("\r")
        if "\r" in stripped:
            held, length, text = "", 0, stripped.rsplit("\r", 1)[1]
        else:
            text = stripped
    if len(held) < HELD_CHARS:
        held += text[: HELD_CHARS - len(held)]
    return held, length + len(text)


class Taps:
    """The process's tees and the runs capturing now (see the module docstring)."""

    def __init__(self) -> None:
        self.sinks: tuple[ConsoleBuffer, ...] = ()  # replaced whole under the lock, read without it
        self.pending = 0  # characters written since the last wake (approximate across threads)
        self._lock = threading.Lock()
        self._tees: dict[str, Tee] = {}
        self._fork_handler = False

    def attach(self, sink: ConsoleBuffer) -> None:
        with self._lock:
            if not self._fork_handler:
                os.register_at_fork(after_in_child=self._forked)
                self._fork_handler = True
            for name in ("stdout", "stderr"):
                current = getattr(sys, name)
                if current is None:  # pythonw, a daemon with closed streams: nothing to capture
                    continue
                if current is not self._tees.get(name):
                    self._tees[name] = Tee(current, name, self)
                    setattr(sys, name, self._tees[name])
            self.sinks = (*self.sinks, sink)

    def detach(self, sink: ConsoleBuffer) -> None:
        """Stop giving writes to ``sink``; the last run to detach puts back the original
        streams, if they are still ours to put back."""
        with self._lock:
            self.sinks = tuple(s for s in self.sinks if s is not sink)
            if self.sinks:
                return
            for name, tee in list(self._tees.items()):
                if getattr(sys, name) is tee:
                    setattr(sys, name, tee.original)
                del self._tees[name]

    def _forked(self) -> None:
        """A forked child (a DataLoader worker) prints into no run of its parent's."""
        self._lock = threading.Lock()
        self.sinks = ()


TAPS = Taps()
NO_CONSOLE = ConsoleCapture((), lambda: None)  # a run's until its own starts
