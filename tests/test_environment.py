"""What is captured about where a run ran, and that secrets never reach the store."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import tracklib
from tracklib.storage import open_storage
from tracklib.write import environment, git_state, probes

from faults import FaultyStorage


def test_secret_environment_values_never_reach_any_file(local_root, monkeypatch, tmp_path):
    secrets = {
        "AWS_SECRET_ACCESS_KEY": "AKIAsupersecretvalue123",
        "GITHUB_TOKEN": "ghp_tokenvalue456789",
        "DB_PASSWORD": "hunter2-but-longer",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        sys, "argv", ["train.py", "--api-key=plainkey999", "--password", "hunter2-but-longer"]
    )
    with local_root.init(
        capture=("system", "argv", "git", "packages"),  # not git_diff: this test file may be in it
        params={"endpoint": "https://user:ghp_tokenvalue456789@example.com/x"},
        notes="uses AKIAsupersecretvalue123",
    ) as run:
        run.log({"loss": 1.0})
    files = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    # Raw bytes, and the decoded rows too: Parquet pages are compressed.
    blobs = (
        b"".join(p.read_bytes() for p in files)
        + "".join(repr(pq.read_table(p).to_pylist()) for p in files if p.suffix == ".parquet").encode()
    )
    for value in [*secrets.values(), "plainkey999"]:
        assert value.encode() not in blobs, value
    details = local_root.store().run("digits", run.id)
    assert details.environment["argv"] == ["train.py", "--api-key=***", "--password", "***"]


def test_git_state_is_captured_with_credentials_masked_in_the_remote(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=a@b.c", "-c", "user.name=t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    subprocess.run(
        [*git, "remote", "add", "origin", "https://bob:s3cretTokenX@github.com/o/r.git"], check=True
    )
    (repo / "train.py").write_text("print(2)\n")

    env = environment.capture(("git", "git_diff"), environment.Redactor({}), cwd=str(repo))
    assert len(env["git_commit"]) == 40 and env["git_branch"] in ("master", "main")
    assert env["git_dirty"] is True
    assert env["git_remote"] == "https://***@github.com/o/r.git"
    assert "+print(2)" in env["git_diff"]


# A sweep's runs reuse what the last run read when its sources are unchanged; files younger
# than SETTLE_NS are never trusted, so in a fresh test repository everything is read afresh.
# "reused": every stat is trusted, so what is reused must still be right; "status": the same
# with more tracked files than are stat'ed (one `git status` per run, the diff reused).
MODES = {"fresh": (probes.SETTLE_NS, 1_000), "reused": (0, 1_000), "status": (0, 0)}


@pytest.fixture(params=list(MODES))
def mode(request, monkeypatch) -> None:
    settle, files = MODES[request.param]
    monkeypatch.setattr(probes, "SETTLE_NS", settle)
    monkeypatch.setattr(git_state, "MAX_STAT_FILES", files)


def _repo(path: Path) -> Path:
    path.mkdir()
    _git(path, "init", "-q")
    (path / "train.py").write_text("print(1)\n")
    (path / "lib").mkdir()
    (path / "lib" / "data.py").write_text("ROWS = 10\n")
    _git(path, "add", ".")
    _git(path, "commit", "-qm", "first")
    return path


def _git(repo: Path, *args: str) -> str:
    quiet = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", "-c", "user.email=a@b.c", "-c", "user.name=t", "-C", str(repo), *args],
        check=True,
        env=quiet,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _run_git_state(local_root) -> dict:
    with local_root.init(capture=("git", "git_diff")) as run:
        run.log({"loss": 1.0})
    env = local_root.store().run("digits", run.id).environment
    runs = local_root.store().runs("digits").set_index("run_id")
    assert runs.loc[run.id, "git_commit"] == env["git_commit"]  # the runs table says it too
    return env


def test_each_run_of_a_sweep_records_the_git_state_at_its_start(local_root, tmp_path, monkeypatch, mode):
    repo = _repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    first_commit = _git(repo, "rev-parse", "HEAD")

    clean = _run_git_state(local_root)
    assert clean["git_commit"] == first_commit and clean["git_dirty"] is False
    assert clean["git_diff"] is None

    (repo / "train.py").write_text("print(2)\n")
    edited = _run_git_state(local_root)
    assert edited["git_commit"] == first_commit and edited["git_dirty"] is True
    assert "+print(2)" in edited["git_diff"]

    (repo / "train.py").write_text("print(3)  # again\n")  # a file already in the diff, edited again
    again = _run_git_state(local_root)
    assert "+print(3)  # again" in again["git_diff"] and "+print(2)" not in again["git_diff"]

    (repo / "lib" / "data.py").write_text("ROWS = 20\n")  # a second file, from a subfolder's run
    monkeypatch.chdir(repo / "lib")
    two = _run_git_state(local_root)
    assert "+print(3)  # again" in two["git_diff"] and "+ROWS = 20" in two["git_diff"]

    _git(repo, "commit", "-qam", "second")
    committed = _run_git_state(local_root)
    assert committed["git_commit"] == _git(repo, "rev-parse", "HEAD") != first_commit
    assert committed["git_dirty"] is False and committed["git_diff"] is None

    (repo / "train.py").write_text("print(4)\n")
    _git(repo, "checkout", "-q", "-b", "other")
    _git(repo, "remote", "add", "origin", "https://example.com/o/r.git")
    branched = _run_git_state(local_root)
    assert branched["git_branch"] == "other" and branched["git_remote"] == "https://example.com/o/r.git"
    assert "+print(4)" in branched["git_diff"]

    _git(repo, "commit", "-qam", "third")
    (repo / "train.py").write_text("print(5)\n")
    assert "-print(4)" in _run_git_state(local_root)["git_diff"]
    _git(repo, "reset", "-q", "--soft", "HEAD~1")  # the same file changed, against another commit
    reset = _run_git_state(local_root)
    assert reset["git_commit"] == committed["git_commit"]
    assert "-print(3)  # again" in reset["git_diff"] and "+print(5)" in reset["git_diff"]

    _git(repo, "reset", "-q", "--hard")  # back as committed: clean again
    reverted = _run_git_state(local_root)
    assert reverted["git_dirty"] is False and reverted["git_diff"] is None


def test_a_secret_set_between_runs_is_masked_in_a_diff_read_before(local_root, tmp_path, monkeypatch, mode):
    repo = _repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    (repo / "train.py").write_text("connect('hunter2-but-longer')\n")
    assert "hunter2-but-longer" in _run_git_state(local_root)["git_diff"]  # not a secret yet
    monkeypatch.setenv("DB_PASSWORD", "hunter2-but-longer")
    masked = _run_git_state(local_root)["git_diff"]
    assert "+connect('***')" in masked and "hunter2-but-longer" not in masked


def test_git_state_is_what_asking_git_each_time_gives(tmp_path, monkeypatch, mode):
    """Renames, deletions, staged files, a detached HEAD, a submodule, a nested repository: the
    state captured is the one the step-by-step git commands report."""
    monkeypatch.setenv("GIT_OPTIONAL_LOCKS", "0")  # those commands leave the index as it is
    repo = _repo(tmp_path / "repo")
    redact = environment.Redactor({})

    def same(cwd: Path) -> dict:
        env = environment.capture(("git", "git_diff"), redact, cwd=str(cwd))
        assert env == git_state.capture_each_time(redact, True, str(cwd))
        return env

    _git(repo, "remote", "add", "origin", "https://example.com/outer.git")
    assert same(repo)["git_dirty"] is False
    (repo / "train.py").write_text("print(2)\n")
    assert "git_diff" not in environment.capture(("git",), redact, cwd=str(repo))  # not asked for
    assert "+print(2)" in same(repo)["git_diff"]
    _git(repo, "update-index", "--assume-unchanged", "train.py")  # only the index changes
    assert same(repo)["git_dirty"] is False
    _git(repo, "update-index", "--no-assume-unchanged", "train.py")
    _git(repo, "checkout", "train.py")
    _git(repo, "mv", "train.py", "fit.py")
    assert "rename to fit.py" in same(repo)["git_diff"]
    (repo / "lib" / "data.py").unlink()
    assert "deleted file mode" in same(repo / "lib")["git_diff"]
    (repo / "new.py").write_text("x = 1\n")
    _git(repo, "add", "new.py")
    assert "+x = 1" in same(repo)["git_diff"]
    _git(repo, "commit", "-qam", "second")
    _git(repo, "checkout", "-q", "--detach")
    assert same(repo)["git_branch"] == "HEAD"
    assert same(repo / "lib")["git_remote"] == "https://example.com/outer.git"
    nested = repo / "lib"  # made a repository of its own, under a run's working directory
    (nested / "model.py").write_text("w = 1\n")
    _git(nested, "init", "-q")
    _git(nested, "add", ".")
    _git(nested, "commit", "-qm", "inner")
    inner = same(nested)
    assert inner["git_commit"] == _git(nested, "rev-parse", "HEAD") and inner["git_remote"] is None
    library = _repo(tmp_path / "library")  # a submodule moved on twice: its folder's stat stays
    _git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendored")
    _git(repo, "commit", "-qm", "vendored")
    for version in (2, 3):
        (repo / "vendored" / "train.py").write_text(f"print({version})\n")
        _git(repo / "vendored", "commit", "-qam", f"v{version}")
        sub = _git(repo / "vendored", "rev-parse", "HEAD")
        assert f"+Subproject commit {sub}" in same(repo)["git_diff"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _git(empty, "init", "-q")
    assert same(empty) == {}  # no commit yet
    assert same(repo / ".git") == same(repo / ".git")  # no work tree: git is asked each time


def test_an_environment_file_that_fails_to_write_is_retried(local_root):
    storage = FaultyStorage(open_storage(local_root.url))
    storage.fail("write_bytes", OSError("disk busy"), when=lambda rel, data: rel.startswith("environment/"))
    for _ in range(2):  # the second run reuses the first one's capture
        with tracklib.init("digits", storage=storage, capture=("system", "argv")) as run:
            pass
        assert local_root.store().run("digits", run.id).environment["pid"] == os.getpid()
    assert storage.failed


def test_each_run_of_a_sweep_has_its_own_environment_file(local_root, monkeypatch):
    monkeypatch.setattr(probes, "SETTLE_NS", 0)  # the later runs reuse the first one's row
    ids = []
    for _ in range(3):
        with local_root.init(capture=("system", "argv", "packages")) as run:
            pass
        ids.append(run.id)
    rows = [
        pq.read_table(os.path.join(local_root.url, path)).to_pylist()[0]
        for path in _parquet_files(local_root, "environment")
    ]
    assert sorted(row["run_id"] for row in rows) == sorted(ids)
    by_id = {row["run_id"]: row for row in rows}
    times = [by_id[run_id]["record_time"] for run_id in ids]
    assert times == sorted(times) and len(set(times)) == 3
    assert all(by_id[run_id]["packages"] == rows[0]["packages"] != [] for run_id in ids)


def test_a_reused_environment_that_fails_to_write_does_not_stop_the_run(local_root, monkeypatch):
    monkeypatch.setattr(probes, "SETTLE_NS", 0)
    with local_root.init(capture=("system",)):  # read afresh, then reused by the next run
        pass

    def broken(*args):
        raise ValueError("no row")

    monkeypatch.setattr(environment, "table", broken)
    with pytest.warns(RuntimeWarning, match="writing the environment failed"):
        run = local_root.init(capture=("system",))
    with run:
        run.log({"loss": 1.0})
    details = local_root.store().run("digits", run.id)
    assert details.status == "finished" and details.environment == {}


def test_a_package_installed_mid_process_shows_in_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setattr(probes, "SETTLE_NS", 0)
    site = tmp_path / "site"
    (site / "alpha-1.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    assert "alpha==1.0" in environment.capture(("packages",))["packages"]
    (site / "beta-2.0.dist-info").mkdir()
    (site / "alpha-1.0.dist-info").rename(site / "alpha-1.1.dist-info")
    packages = environment.capture(("packages",))["packages"]
    assert {"alpha==1.1", "beta==2.0"} <= set(packages) and "alpha==1.0" not in packages


def test_a_forked_child_records_its_own_pid_and_argv(monkeypatch):
    assert environment.capture(("system",))["pid"] == os.getpid()  # the parent's, now known
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork beside threads: the child only reports
        child = os.fork()
    if child == 0:
        sys.argv = ["child.py", "--token=ghp_tokenvalue456789"]
        env = environment.capture(("system", "argv"), environment.Redactor({}))
        os.write(write, f"{env['pid']} {' '.join(env['argv'])}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        pid, *argv = pipe.read().split()
    os.waitpid(child, 0)
    assert int(pid) == child != os.getpid()
    assert argv == ["child.py", "--token=***"]


def test_capture_can_be_switched_off(local_root):
    with local_root.init(capture=False) as run:
        pass
    assert local_root.store().run("digits", run.id).environment == {}
    assert _parquet_files(local_root, "environment") == []


def _parquet_files(root, kind: str) -> list[str]:
    return [f.path for f in open_storage(root.url).list_files(kind) if f.path.endswith(".parquet")]
