"""What is captured about where a run ran, and that secrets never reach the store."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq

from tracklib import environment
from tracklib.storage import Storage


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


def test_capture_can_be_switched_off(local_root):
    with local_root.init(capture=False) as run:
        pass
    assert local_root.store().run("digits", run.id).environment == {}
    assert _parquet_files(local_root, "environment") == []


def _parquet_files(root, kind: str) -> list[str]:
    return [f.path for f in Storage(root.url).list_files(kind) if f.path.endswith(".parquet")]
