"""The Run page's Console section: the run's printed lines, a plain-text search, hostile lines
shown as text; and a failed run's whole traceback."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from page_open import open_page
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.format.console import CONSOLE_SCHEMA, console_part_path
from tracklib.format.ids import new_id

from seed import fail_in_a_chain

RUN_PAGE = "tracklib/dashboard/views/run.py"
HOSTILE = [
    "<script>alert('console')</script>",
    "**bold** [click](javascript:alert(1)) <img src=x onerror=alert(2)>",
    "# not a heading",
]


@pytest.fixture(scope="module")
def store_with_output(tmp_path_factory) -> tuple[str, str, str, str]:
    """A run that printed, one that captured nothing, one that failed with a long traceback."""
    root = str(tmp_path_factory.mktemp("console") / "store")
    with tracklib.init("digits", root=root, name="chatty", capture=["console"]) as chatty:
        for epoch in range(3):
            print(f"epoch {epoch} loss {1 / (epoch + 1):.3f}")
        print("ERROR: disk almost full", file=sys.stderr)
        print("(a+)+$ is not a pattern here")
        for line in HOSTILE:
            print(line)
    with tracklib.init("digits", root=root, name="quiet", capture=False) as quiet:
        print("not captured")
    with pytest.raises(ValueError):
        with tracklib.init("digits", root=root, name="broken", capture=False) as broken:
            fail_in_a_chain(30)
    return root, chatty.id, quiet.id, broken.id


def _open(root: str, monkeypatch, run_id: str) -> AppTest:
    return open_page(root, monkeypatch, "run", run=run_id)


def _console_rows(at: AppTest) -> list[tuple[str, str]]:
    (frame,) = [df.value for df in at.dataframe if "line" in df.value.columns]
    assert list(frame.columns) == ["time", "stream", "line"]
    return list(zip(frame["stream"], frame["line"]))


def test_the_console_section_shows_the_lines_in_order_with_stderr_marked(store_with_output, monkeypatch):
    root, chatty, _, _ = store_with_output
    at = _open(root, monkeypatch, chatty)
    assert not at.exception
    assert "Console" in [h.value for h in at.subheader]
    assert _console_rows(at) == [
        ("stdout", "epoch 0 loss 1.000"),
        ("stdout", "epoch 1 loss 0.500"),
        ("stdout", "epoch 2 loss 0.333"),
        ("stderr", "ERROR: disk almost full"),
        ("stdout", "(a+)+$ is not a pattern here"),
        *[("stdout", line) for line in HOSTILE],
    ]


def test_the_search_keeps_lines_containing_the_text_in_any_case_and_never_as_a_pattern(
    store_with_output, monkeypatch
):
    root, chatty, _, _ = store_with_output
    at = _open(root, monkeypatch, chatty)
    at.text_input(key="console_search").set_value("Disk ALMOST").run()
    assert _console_rows(at) == [("stderr", "ERROR: disk almost full")]
    assert any("1 of 8 lines" in c.value for c in at.caption)
    at.text_input(key="console_search").set_value("(A+)+$").run()  # literal text, any case
    assert _console_rows(at) == [("stdout", "(a+)+$ is not a pattern here")]
    at.text_input(key="console_search").set_value(".*").run()
    assert not at.exception and _console_rows(at) == []


def test_hostile_lines_render_as_text_nowhere_as_markdown_or_html(store_with_output, monkeypatch):
    root, chatty, _, _ = store_with_output
    at = _open(root, monkeypatch, chatty)
    lines = [line for _, line in _console_rows(at)]
    assert all(line in lines for line in HOSTILE)  # the exact text, as cells
    assert not at.get("html")
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("alert" in text or "not a heading" in text for text in rendered)


def test_a_run_that_captured_nothing_says_so(store_with_output, monkeypatch):
    root, _, quiet, _ = store_with_output
    at = _open(root, monkeypatch, quiet)
    assert not at.exception
    assert any("No console output captured" in c.value for c in at.caption)
    assert not any("not captured" in str(df.value) for df in at.dataframe)


def test_the_run_page_shows_a_failed_runs_whole_traceback(store_with_output, monkeypatch):
    root, _, _, broken = store_with_output
    error = tracklib.open_store(root).run("digits", broken).error
    assert len(error) > 40_000 and error.startswith("Traceback (most recent call last):")
    at = _open(root, monkeypatch, broken)
    assert not at.exception
    assert error in [code.value for code in at.code]
    assert "layer 30" in at.error[0].value  # the exception itself up front


def test_a_crafted_console_part_shows_as_cut_text_without_error(tmp_path, monkeypatch):
    """Anyone who can write to the store can write a part: nulls and a 1 MB line."""
    root = str(tmp_path / "store")
    with tracklib.init("digits", root=root, name="target", capture=False) as run:
        run.log({"loss": 1.0})
    rows = {
        "run_id": [run.id] * 3,
        "time": [None, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)],
        "stream": [None, "<b>odd</b>", "stdout"],
        "line": [None, "[x](javascript:alert(1))", "y" * 1_000_000],
    }
    path = tmp_path / "store" / console_part_path("digits", run.id, new_id())
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table(rows, schema=CONSOLE_SCHEMA), path)
    at = _open(root, monkeypatch, run.id)
    assert not at.exception
    (frame,) = [df.value for df in at.dataframe if "line" in df.value.columns]
    assert frame["stream"].tolist() == ["", "<b>odd</b>", "stdout"]
    assert frame["line"].tolist()[:2] == ["", "[x](javascript:alert(1))"]
    assert 10_000 <= len(frame["line"].iloc[2]) <= 10_100
