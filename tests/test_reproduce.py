"""``tracklib reproduce``: following its steps for a run started in a real git repository with a
dirty tree gives the same tree (``git diff HEAD`` identical, staged new file included) and the
same command line; what the record lacks is said in the steps, never raised."""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import tracklib
from tracklib.analysis.reproduce import reproduction
from tracklib.cli import main
from tracklib.write import environment
from tracklib.write.git_state import DIFF_ARGS

QUIET = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
ARGS = ["--lr", "0.1", "--name", 'it\'s a "test" $HOME', "--empty", ""]
TRAIN = """import tracklib
with tracklib.init("proj") as run:  # the store: TRACKLIB_ROOT
    run.log_dataset("train", "data.csv")
    run.log({"loss": 1.0})
    print(run.id)
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=a@b.c", "-c", "user.name=t", "-C", str(repo), *args],
        check=True,
        env=QUIET,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _diff(repo: Path) -> str:
    return _git(repo, "diff", *DIFF_ARGS, "HEAD")


@pytest.fixture
def dirty_run(tmp_path):
    """A run of train.py started in a clone whose tree is dirty in every way git tracks: a
    modified file, a staged new file, a file staged then edited again, a deleted file, a CRLF
    file, and an untracked file (which is not recorded, and the steps say so)."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q")
    (origin / "train.py").write_text(TRAIN)
    (origin / "lib").mkdir()
    (origin / "lib" / "data.py").write_text("ROWS = 10\n")
    (origin / "old.txt").write_text("going\n")
    (origin / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    (origin / "data.csv").write_text("x,y\n1,2\n")
    _git(origin, "add", ".")
    _git(origin, "commit", "-qm", "first")
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(origin), str(work))
    (work / "train.py").write_text(TRAIN + "# tuned\n")
    (work / "lib" / "extra.py").write_text("EXTRA = 'new, staged'\n")
    (work / "lib" / "data.py").write_text("ROWS = 20\n")
    _git(work, "add", "lib/extra.py", "lib/data.py")
    (work / "lib" / "data.py").write_text("ROWS = 30\n")  # staged, then edited again
    (work / "old.txt").unlink()
    (work / "win.txt").write_bytes(b"one\r\nthree\r\n")
    (work / "scratch.txt").write_text("untracked\n")
    root = tmp_path / "store"
    started = subprocess.run(
        [sys.executable, "train.py", *ARGS],
        cwd=work,
        env={**QUIET, "TRACKLIB_ROOT": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    return SimpleNamespace(root=str(root), work=work, origin=origin, run_id=started.stdout.strip())


def _until_packages(script: str) -> str:
    """The steps up to the Python environment (which would download the packages)."""
    return script.split("\n# 3.", 1)[0] + "\n"


@pytest.mark.parametrize("mode", ["--out", "printed"])
def test_following_the_steps_gives_the_same_tree_and_command(dirty_run, tmp_path, capsys, mode):
    out = tmp_path / "repro"
    given = ["--out", str(out)] if mode == "--out" else []
    assert main(["reproduce", dirty_run.run_id, "--project", "proj", "--root", dirty_run.root, *given]) == 0
    printed = capsys.readouterr().out
    if mode == "--out":
        assert sorted(p.name for p in out.iterdir()) == ["changes.patch", "reproduce.sh", "requirements.txt"]
        script = (out / "reproduce.sh").read_text()
    else:
        script = printed
        out.mkdir()
        (out / "reproduce.sh").write_text(script)
    commit = _git(dirty_run.work, "rev-parse", "HEAD").strip()
    assert f"git checkout --quiet --detach {commit}" in script
    # the steps as written, run by a shell: clone the recorded remote, check out, apply
    (out / "steps.sh").write_text(_until_packages(script))
    subprocess.run(["sh", str(out / "steps.sh"), str(tmp_path / "clone")], cwd=out, env=QUIET, check=True)
    clone = tmp_path / "clone"
    assert _diff(clone) == _diff(dirty_run.work)
    assert (clone / "lib" / "extra.py").read_text() == "EXTRA = 'new, staged'\n"
    assert (clone / "win.txt").read_bytes() == b"one\r\nthree\r\n"
    assert not (clone / "old.txt").exists()
    assert not (clone / "scratch.txt").exists()  # untracked: not recorded, and the steps say so
    assert "Untracked files" in script
    digest = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    assert f"#    train: sha256:{digest} (file, 1 files, 8 bytes) from data.csv" in script
    command = script.split("# 5. The recorded command\n", 1)[1]
    assert shlex.split(command) == [".venv/bin/python", "train.py", *ARGS]
    assert tracklib.open_store(dirty_run.root).run("proj", dirty_run.run_id).environment["argv"] == [
        "train.py",
        *ARGS,
    ]


def test_requirements_pin_the_recorded_packages(dirty_run, tmp_path):
    assert main(["reproduce", dirty_run.run_id, "--project", "proj", "--root", dirty_run.root,
                 "--out", str(tmp_path / "r")]) == 0  # fmt: skip
    lines = (tmp_path / "r" / "requirements.txt").read_text().splitlines()
    recorded = tracklib.open_store(dirty_run.root).run("proj", dirty_run.run_id).environment["packages"]
    assert lines == list(recorded) and len(lines) > 10
    assert all(line.count("==") == 1 for line in lines)
    assert any(line.startswith("pyarrow==") for line in lines)


def test_unknown_run_or_project_is_a_clear_error(dirty_run, capsys):
    assert main(["reproduce", "nope", "--project", "proj", "--root", dirty_run.root]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert main(["reproduce", dirty_run.run_id, "--project", "other", "--root", dirty_run.root]) == 2
    assert "project 'other'" in capsys.readouterr().err


def test_a_run_with_nothing_recorded_gets_steps_that_say_so(tmp_path, capsys):
    root = str(tmp_path / "store")
    with tracklib.init("proj", root=root, capture=False) as run:
        pass
    out = tmp_path / "r"
    assert main(["reproduce", run.id, "--project", "proj", "--root", root, "--out", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["reproduce.sh"]
    script = (out / "reproduce.sh").read_text()
    assert "No git commit was recorded" in script
    assert "No packages were recorded" in script and "No command line was recorded" in script
    assert "git clone" not in script
    subprocess.run(["sh", "-n", str(out / "reproduce.sh")], check=True)


def _details(**env) -> SimpleNamespace:
    return SimpleNamespace(run_id="r1", project="p", environment=env)


BINARY_AND_TEXT = (
    "diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and b/img.png differ\n"
    "diff --git a/a.py b/a.py\nindex 1..2 100644\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
)


def test_binary_changes_are_named_and_left_out_of_the_patch():
    found = reproduction(_details(git_commit="a" * 40, git_dirty=True, git_diff=BINARY_AND_TEXT))
    assert found.patch == "diff --git a/a.py" + BINARY_AND_TEXT.split("diff --git a/a.py", 1)[1]
    assert any("Binary file 'img.png'" in gap for gap in found.gaps)


def test_a_truncated_diff_keeps_the_whole_files_and_names_the_cut_one():
    diff = BINARY_AND_TEXT.split("diff --git a/img.png", 1)[0] + BINARY_AND_TEXT.split("differ\n", 1)[1]
    cut = (
        diff + "diff --git a/b.py b/b.py\n--- a/b.py\n+++ b/b.py\n@@ -1,3 +1,3 @@\n-y\n+z\n[diff truncated]\n"
    )
    found = reproduction(_details(git_commit="b" * 40, git_dirty=True, git_diff=cut))
    assert found.patch == diff
    assert any("cut at its size limit" in gap and "'b.py'" in gap for gap in found.gaps)


def test_a_dirty_tree_without_its_diff_and_masked_values_are_said():
    found = reproduction(
        _details(
            git_commit="c" * 40,
            git_dirty=True,
            git_remote="https://***@github.com/o/r.git",
            argv=["train.py", "--api-key=***"],
            packages=["numpy==2.0.0", "--index-url https://evil.example/", "-e git+https://x"],
        )
    )
    assert found.patch is None and found.clone_url == "https://github.com/o/r.git"
    assert found.requirements == "numpy==2.0.0\n"
    gaps = " ".join(found.gaps)
    assert "diff was not recorded" in gaps and "credentials were masked" in gaps
    assert "evil.example" in gaps and "'***' where a secret was masked" in gaps


_hostile = hs.text(hs.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)


@settings(max_examples=40, deadline=None)
@given(branch=_hostile, remote=_hostile, argv=hs.lists(_hostile, min_size=1, max_size=4), run_id=_hostile)
def test_recorded_values_never_become_shell_code(branch, remote, argv, run_id):
    """Whatever a record holds, the script stays well formed, every recorded value shows only in
    a comment or a quoted word, and the command it runs is the recorded argv."""
    details = SimpleNamespace(
        run_id=run_id,
        project="p\n rm -rf ~",
        environment={
            "git_commit": "d" * 40,
            "git_branch": branch,
            "git_remote": remote,
            "argv": argv,
            "python": "3.12.1",
            "packages": ["a==1"],
        },  # fmt: skip
    )
    found = reproduction(details)
    for inline in (False, True):
        script = found.steps(inline_files=inline)
        subprocess.run(["sh", "-n"], input=script.encode(errors="surrogateescape"), check=True)
        header = script.split("set -eu\n", 1)[0].splitlines()
        assert all(line.startswith("#") for line in header)  # values with line breaks stay in it
        if found.command is not None:
            command = script.split("# 5. The recorded command\n", 1)[1]
            assert shlex.split(command) == [".venv/bin/python", *argv]


def test_the_recorded_diff_is_a_patch_whatever_the_users_git_config(tmp_path, monkeypatch):
    """Colours, no prefixes, relative paths and an external diff tool in the user's config
    would each make `git diff` print something `git apply` refuses; the recorder asks around them."""
    config = tmp_path / "gitconfig"
    config.write_text(
        "[color]\n\tui = always\n\tdiff = always\n[diff]\n\tnoprefix = true\n\trelative = true\n"
        "\tmnemonicPrefix = true\n\texternal = false\n"
    )
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "src" / "model.py").write_text("depth = 2\n")
    (repo / "top.txt").write_text("a\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    (repo / "src" / "model.py").write_text("depth = 3\n")
    (repo / "top.txt").write_text("b\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))

    env = environment.capture(("git", "git_diff"), environment.Redactor({}), cwd=str(repo / "src"))
    assert "\x1b[" not in env["git_diff"]
    found = reproduction(_details(**env))
    copy = tmp_path / "copy"
    _git(tmp_path, "clone", "-q", str(repo), str(copy))
    (tmp_path / "changes.patch").write_text(found.patch)
    _git(copy, "apply", "--index", str(tmp_path / "changes.patch"))
    assert (copy / "src" / "model.py").read_text() == "depth = 3\n" and (
        copy / "top.txt"
    ).read_text() == "b\n"
