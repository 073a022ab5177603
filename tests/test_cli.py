"""The tracklib command as a user types it."""

from __future__ import annotations

import subprocess
import sys

from tracklib.cli import main


def test_ls_prints_each_run_with_status_and_metrics(local_root, capsys):
    with local_root.init(name="good-run") as run:
        run.log({"val/acc": 0.93})
    assert main(["ls", "--root", local_root.url]) == 0
    out = capsys.readouterr().out
    assert "digits: 1 run(s)" in out
    assert "good-run" in out and "finished" in out and "0.93" in out and "val/acc" in out


def test_ls_on_an_empty_root_says_so(tmp_path, capsys):
    assert main(["ls", "--root", str(tmp_path / "nothing")]) == 0
    assert "no runs" in capsys.readouterr().out


def test_console_script_runs_as_a_module(local_root):
    with local_root.init(name="cli-run"):
        pass
    done = subprocess.run(
        [sys.executable, "-m", "tracklib.cli", "ls", "--root", local_root.url, "--project", "digits"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "cli-run" in done.stdout
