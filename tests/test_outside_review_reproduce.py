"""Outside review of ``tracklib reproduce``: a record anyone can write must not make the
steps run code the record smuggled in as an interpreter option."""

from __future__ import annotations

import shlex
from types import SimpleNamespace

import pytest

from tracklib.analysis.reproduce import reproduction


def _details(argv: list[str]) -> SimpleNamespace:
    return SimpleNamespace(
        run_id="r1",
        project="p",
        datasets=None,
        environment={"git_commit": "a" * 40, "git_remote": "https://example.com/x.git", "argv": argv},
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["-cimport os; os.system('touch pwned')"],
        ["-c", "import os"],
        ["-W", "ignore", "-cimport os"],
        ["-mhttp.server", "8000"],
        ["--help"],
    ],
)
def test_an_argv_that_starts_with_an_interpreter_option_is_not_run(argv):
    """``sys.argv[0]`` is a script path (``-c`` alone for code on the command line): a first
    element that is an option would hand the record's code to the interpreter."""
    found = reproduction(_details(argv))
    assert found.command is None
    last = found.steps().rstrip("\n").splitlines()[-1]
    assert not last.startswith(".venv/bin/python"), last
    assert any("command" in gap.lower() for gap in found.gaps)


def test_a_script_with_hostile_arguments_is_quoted_not_refused():
    argv = ["train.py", "--lr", "$(touch pwned)", "a\nb", "-c"]
    found = reproduction(_details(argv))
    assert found.command == argv
    command = found.steps().split("# 5. The recorded command\n", 1)[1]
    assert shlex.split(command) == [".venv/bin/python", *argv]
