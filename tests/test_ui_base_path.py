"""`tracklib ui --base-path`: what reaches Streamlit's server.baseUrlPath, and what is refused."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklib import cli

SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


def ui_command(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> tuple[int, list[str] | None]:
    """Exit code of `tracklib ui ...`, and the Streamlit command it would become (None: refused)."""
    became: list[list[str]] = []
    monkeypatch.setattr(os, "execve", lambda _path, command, _env: became.append(command))
    code = cli.main(["ui", "--root", "/tmp/tracking", *arguments])
    return code, became[0] if became else None


def base_url_path(command: list[str]) -> str | None:
    return command[command.index("--server.baseUrlPath") + 1] if "--server.baseUrlPath" in command else None


@pytest.mark.parametrize("given_path", ["/tracking", "tracking", "/tracking/", "tracking//"])
def test_a_path_with_or_without_slashes_serves_under_it(monkeypatch, capsys, given_path):
    code, command = ui_command(monkeypatch, "--base-path", given_path)
    assert code == 0 and base_url_path(command) == "tracking"
    printed = capsys.readouterr().out
    assert "on http://127.0.0.1:8501/tracking/" in printed
    assert "health check: http://127.0.0.1:8501/tracking/_stcore/health" in printed


def test_no_base_path_serves_at_the_root(monkeypatch, capsys):
    code, command = ui_command(monkeypatch, "--host", "0.0.0.0", "--port", "9000")
    assert code == 0 and base_url_path(command) is None
    assert "health check: http://0.0.0.0:9000/_stcore/health" in capsys.readouterr().out


@pytest.mark.parametrize(
    "bad", ["/a/../b", "..", "/x y", "/a//b", "/a?b=1", "/%2e%2e", "/<script>", "/café", "/a\nb"]
)
def test_a_base_path_that_is_not_a_plain_url_path_is_refused_by_name(monkeypatch, capsys, bad):
    code, command = ui_command(monkeypatch, "--base-path", bad)
    assert (code, command) == (2, None)
    assert "--base-path" in capsys.readouterr().err


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30))
def test_any_base_path_is_served_as_plain_segments_or_refused(given_path):
    with pytest.MonkeyPatch.context() as monkeypatch:
        code, command = ui_command(monkeypatch, f"--base-path={given_path}")  # even "-x"
    if code == 2:
        assert command is None
        return
    served = base_url_path(command) or ""
    assert served == given_path.strip("/")
    segments = served.split("/") if served else []
    assert all(segment and set(segment) <= SAFE and segment not in {".", ".."} for segment in segments)
