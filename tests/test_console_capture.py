"""A run keeps what it printed: stdout and stderr lines, in order, with times, masked and bounded."""

from __future__ import annotations

import io
import sys
import threading
import time
import traceback

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracklib
from tracklib.cli import main
from tracklib.format.console import MAX_LINE_CHARS, MAX_RUN_CHARS
from tracklib.storage import open_storage
from tracklib.write import console

from faults import FaultyStorage
from seed import fail_in_a_chain


class _Terminal(io.StringIO):
    """Stands for the terminal the user sees: what reaches it must be all that was printed."""

    def isatty(self) -> bool:
        return True


def _terminal(monkeypatch):
    """sys.stdout and sys.stderr as the user's terminal, pytest's capture set aside (in the
    test's body: pytest puts its own streams back between a fixture and the test)."""
    out, err = _Terminal(), _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return out, err


def _lines(store: tracklib.Store, run: tracklib.Run, stream: str) -> list[str]:
    frame = store.console(run.project, run.id)
    return frame.loc[frame["stream"] == stream, "line"].tolist()


def test_printed_lines_are_stored_in_order_with_times_and_the_terminal_gets_everything(tmp_path, monkeypatch):
    out, err = _terminal(monkeypatch)
    long_line = "0123456789" * 2_000  # 20,000 characters: cut in the store, whole on the terminal
    before = pd.Timestamp.now(tz="UTC")
    with tracklib.init("digits", root=tmp_path, capture=["console"]) as run:
        assert sys.stdout.isatty() and sys.stdout.encoding == out.encoding  # the original's
        print("epoch 1", "loss 0.5")
        print("warning: lr high", file=sys.stderr)
        worker = threading.Thread(target=lambda: print("from a thread"))
        worker.start()
        worker.join()
        print(long_line)
        sys.stdout.write("progress 10%\rprogress 100%\n")
        print("no newline at the end", end="")
    after = pd.Timestamp.now(tz="UTC")
    assert sys.stdout is out and sys.stderr is err  # put back at finish
    assert out.getvalue() == (
        "epoch 1 loss 0.5\nfrom a thread\n"
        + long_line
        + "\nprogress 10%\rprogress 100%\nno newline at the end"
    )
    assert err.getvalue() == "warning: lr high\n"

    store = tracklib.open_store(tmp_path)
    frame = store.console("digits", run.id)
    assert list(frame.columns) == ["time", "stream", "line"]
    stdout = _lines(store, run, "stdout")
    assert stdout[:2] == ["epoch 1 loss 0.5", "from a thread"]
    assert stdout[2].startswith(long_line[:MAX_LINE_CHARS]) and "line cut: 20,000 characters" in stdout[2]
    assert len(stdout[2]) < MAX_LINE_CHARS + 100
    assert stdout[3:] == ["progress 100%", "no newline at the end"]  # as the terminal showed it
    assert _lines(store, run, "stderr") == ["warning: lr high"]
    assert frame["time"].between(before, after).all()
    assert frame["time"].is_monotonic_increasing


def test_threads_printing_at_once_lose_and_duplicate_nothing(tmp_path, monkeypatch):
    _terminal(monkeypatch)
    threads, each = 8, 300

    def chatter(n: int) -> None:
        for i in range(each):
            print(f"thread {n} line {i}", "with", "parts")

    with tracklib.init("digits", root=tmp_path, capture=["console"], flush_interval=0.05) as run:
        workers = [threading.Thread(target=chatter, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    lines = _lines(tracklib.open_store(tmp_path), run, "stdout")
    assert len(lines) == threads * each
    for n in range(threads):  # each thread's lines whole and in its order
        assert [line for line in lines if line.startswith(f"thread {n} ")] == [
            f"thread {n} line {i} with parts" for i in range(each)
        ]


def test_two_runs_at_once_each_keep_the_lines_printed_while_they_ran(tmp_path, monkeypatch):
    out, _ = _terminal(monkeypatch)
    outer = tracklib.init("digits", root=tmp_path, capture=["console"])
    print("outer only")
    with tracklib.init("digits", root=tmp_path, capture=True) as inner:
        print("both")
    print("outer again")
    outer.finish()
    print("neither")
    assert sys.stdout is out
    store = tracklib.open_store(tmp_path)
    assert _lines(store, outer, "stdout") == ["outer only", "both", "outer again"]
    assert _lines(store, inner, "stdout") == ["both"]


def test_a_stream_replaced_and_wrapped_again_stores_each_line_once(tmp_path, monkeypatch):
    """A user's wrapper around our tee, then a second run: two tees in one chain."""
    out, _ = _terminal(monkeypatch)
    first = tracklib.init("digits", root=tmp_path, capture=["console"])
    sys.stdout = _Wrapper(sys.stdout)
    with tracklib.init("digits", root=tmp_path, capture=["console"]) as second:
        print("once")
    first.finish()
    store = tracklib.open_store(tmp_path)
    assert _lines(store, first, "stdout") == ["once"]
    assert _lines(store, second, "stdout") == ["once"]
    assert out.getvalue() == "once\n"


class _Wrapper:
    def __init__(self, inner):
        self.inner = inner

    def write(self, text):
        return self.inner.write(text)

    def flush(self):
        self.inner.flush()


def test_capture_off_stores_nothing_and_leaves_the_streams_alone(tmp_path, monkeypatch):
    out, _ = _terminal(monkeypatch)
    for capture in (False, ("system", "argv")):
        with tracklib.init("digits", root=tmp_path, capture=capture) as run:
            assert sys.stdout is out
            print("not kept")
        assert tracklib.open_store(tmp_path).console("digits", run.id).empty
    assert not (tmp_path / "console").exists()


def test_output_past_the_cap_is_counted_and_noted_not_stored(tmp_path, monkeypatch):
    _terminal(monkeypatch)
    monkeypatch.setattr(console, "MAX_RUN_CHARS", 1_000)
    with tracklib.init("digits", root=tmp_path, capture=["console"]) as run:
        for i in range(200):
            print(f"line {i:04d}")  # 9 characters each
    frame = tracklib.open_store(tmp_path).console("digits", run.id)
    stored = frame.loc[frame["stream"] == "stdout", "line"].tolist()
    assert stored == [f"line {i:04d}" for i in range(len(stored))] and 100 < len(stored) < 130
    notes = frame.loc[frame["stream"] == "tracklib", "line"].tolist()
    assert notes and f"{200 - len(stored):,} later lines" in notes[-1]
    assert MAX_RUN_CHARS >= 1_000_000  # the real cap is documented in FORMAT.md §19


def test_a_store_fault_during_the_run_spools_the_lines_and_sync_uploads_them(tmp_path, monkeypatch):
    _terminal(monkeypatch)
    root = tmp_path / "store"
    storage = FaultyStorage(open_storage(root))
    storage.fail(
        "write_bytes", OSError("store unreachable"), times=10**6, when=lambda path, *_: "console/" in path
    )
    run = tracklib.init("digits", storage=storage, capture=["console"], finish_timeout=1, flush_interval=0.05)
    for i in range(50):
        print(f"batch {i}")
    deadline = time.monotonic() + 30
    while not storage.failed and time.monotonic() < deadline:  # a flush met the fault mid-run
        time.sleep(0.01)
    assert storage.failed
    print("after the fault")
    with pytest.warns(RuntimeWarning, match="tracklib sync"):
        run.finish()
    assert tracklib.open_store(root).console("digits", run.id).empty  # nothing landed
    assert main(["sync", "--root", str(root)]) == 0
    assert _lines(tracklib.open_store(root), run, "stdout") == [f"batch {i}" for i in range(50)] + [
        "after the fault"
    ]


_SECRET_NAME = "TRACKLIB_TEST_API_TOKEN"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    secret=st.text(
        st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/"), min_size=12, max_size=40
    ),
    before=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=30),
    pad=st.integers(0, MAX_LINE_CHARS + 50),
)
def test_a_printed_secret_never_reaches_the_store(tmp_path_factory, monkeypatch, secret, before, pad):
    """Anywhere in a line, even across the cut of a long line, the secret is masked first."""
    monkeypatch.setenv(_SECRET_NAME, secret)
    monkeypatch.setattr(sys, "stdout", _Terminal())
    root = tmp_path_factory.mktemp("secret")
    with tracklib.init("digits", root=root, capture=["console"]) as run:
        print(before + "x" * pad + secret + " end")
        print(f"token={secret}", file=sys.stderr)
    for path in root.rglob("*.parquet"):  # every string the store holds, decoded
        assert secret not in str(pq.read_table(path).to_pylist())
    frame = tracklib.open_store(root).console("digits", run.id)
    first, second = frame["line"]
    assert second == "token=***"
    if len(before) + pad + 3 <= MAX_LINE_CHARS:  # the mask itself is before the cut
        assert "***" in first


def test_the_traceback_of_a_failed_run_is_kept_whole(tmp_path):
    """30 chained exceptions make a ~43,000-character traceback: earlier writers kept its
    last 20,000 characters, losing the root cause at the top."""
    with pytest.raises(ValueError) as raised:
        with tracklib.init("digits", root=tmp_path, capture=False) as run:
            fail_in_a_chain(30)
    expected = "".join(traceback.format_exception(raised.value)).rstrip("\n")
    assert len(expected) > 40_000
    details = tracklib.open_store(tmp_path).run("digits", run.id)
    assert details.status == "failed"
    assert details.error == expected
    assert details.error.count("KeyError: 'root cause'") == 1


@pytest.mark.parametrize("capture", [["consol"], "console", ("system", 3)])
def test_an_unknown_capture_item_is_refused_at_init_before_anything_is_written(tmp_path, capture):
    with pytest.raises(tracklib.InvalidValueError, match="capture"):
        tracklib.init("digits", root=tmp_path, capture=capture)
    assert not list(tmp_path.rglob("*.parquet"))
