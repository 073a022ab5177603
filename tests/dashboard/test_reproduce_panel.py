"""The Run page's Reproduce panel: the recorded commit, the patch and the requirements as
downloads with the contents ``tracklib reproduce`` writes, the steps as code; a hostile record
(branch, remote, command, diff, commit with Markdown/HTML) shows as text."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from dashboard.hostile import PAYLOADS, assert_renders_as_text
from page_open import open_page
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.write import environment

RUN_PAGE = "tracklib/dashboard/views/run.py"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
DIFF = "diff --git a/a.py b/a.py\nindex 1..2 100644\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
ENV = {
    "python": "3.12.4",
    "argv": ["train.py", "--lr", "0.1"],
    "git_commit": COMMIT,
    "git_branch": "main",
    "git_dirty": True,
    "git_remote": "https://github.com/o/r.git",
    "git_diff": DIFF,
    "packages": ["numpy==2.1.0", "pandas==2.2.3"],
}


def _run_with(root: str, env: dict, dataset: Path | None = None) -> str:
    """A run whose environment file holds ``env`` exactly (written as the recorder writes it)."""
    with tracklib.init("digits", root=root, name="recorded", capture=False) as run:
        if dataset is not None:
            run.log_dataset("train", dataset)
        run.log({"loss": 1.0})
    rel, data = environment.part(env, "digits", run.id)
    Path(root, rel).parent.mkdir(parents=True, exist_ok=True)
    Path(root, rel).write_bytes(data)
    return run.id


def _open(root: str, run_id: str, monkeypatch) -> AppTest:
    return open_page(root, monkeypatch, "run", run=run_id)


def _served_as(data: bytes, mime: str, name: str) -> str:
    """The URL Streamlit's test runtime gives a download of exactly these bytes, type and name."""
    storage = MemoryMediaFileStorage("/mock/media")
    return storage.get_url(storage.load_and_get_id(data, mime, MediaFileKind.DOWNLOADABLE, name))


@pytest.fixture
def root(tmp_path) -> str:
    return str(tmp_path / "store")


def test_the_panel_shows_the_commit_and_offers_the_patch_and_requirements(root, monkeypatch, tmp_path):
    (tmp_path / "data.csv").write_bytes(b"x\n1\n")
    at = _open(root, _run_with(root, ENV, tmp_path / "data.csv"), monkeypatch)
    assert not at.exception
    assert "Reproduce" in [e.label for e in at.expander]
    texts = [t.value for t in at.text]
    assert f"Commit: {COMMIT}" in texts and "Branch: main" in texts
    assert "Command: python train.py --lr 0.1" in texts
    datasets = at.dataframe[-1].value  # the panel's, under the Environment section's tables
    assert datasets["name"].tolist() == ["train"]
    assert datasets["fingerprint"].tolist() == ["sha256:" + hashlib.sha256(b"x\n1\n").hexdigest()]
    downloads = {b.label: b.proto.url for b in at.get("download_button")}
    assert downloads["changes.patch"] == _served_as(DIFF.encode(), "text/x-diff", "changes.patch")
    assert downloads["requirements.txt"] == _served_as(
        b"numpy==2.1.0\npandas==2.2.3\n", "text/plain", "requirements.txt"
    )
    steps = next(c.value for c in at.code if "git apply" in c.value)
    assert f"git checkout --quiet --detach {COMMIT}" in steps
    assert 'git clone -- "$REPO"' in steps and ".venv/bin/python train.py --lr 0.1" in steps
    assert downloads["reproduce.sh"] == _served_as(
        (steps.rstrip("\n") + "\n").encode(), "text/x-shellscript", "reproduce.sh"
    )


def test_missing_pieces_are_said_not_offered(root, monkeypatch):
    at = _open(root, _run_with(root, {"python": "3.12.4"}), monkeypatch)
    assert not at.exception
    assert "Commit: not recorded" in [t.value for t in at.text]
    refused = {b.label: b.disabled for b in at.button if b.label in ("changes.patch", "requirements.txt")}
    assert refused == {"changes.patch": True, "requirements.txt": True}
    captions = " ".join(c.value for c in at.caption)
    assert "No git commit was recorded" in captions and "No packages recorded" in captions


def test_a_hostile_record_renders_as_text(root, monkeypatch):
    hostile = {
        **ENV,
        "git_commit": PAYLOADS[0],
        "git_branch": PAYLOADS[2],
        "git_remote": PAYLOADS[3],
        "argv": ["train.py", PAYLOADS[1], PAYLOADS[6], "$(rm -rf ~)"],
        "git_diff": DIFF + f"+{PAYLOADS[4]}\n",
        "packages": ["numpy==2.1.0", PAYLOADS[8]],
    }
    at = _open(root, _run_with(root, hostile), monkeypatch)
    assert_renders_as_text(at)
    texts = [t.value for t in at.text]
    assert f"Branch: {PAYLOADS[2]}" in texts  # literal text, not an image
    assert "Commit: not recorded" in texts  # not a commit id: left out, and said
    steps = next(c.value for c in at.code if "git checkout" in c.value or "venv" in c.value)
    assert "'$(rm -rf ~)'" in steps  # quoted: the shell never runs it
    requirements = next(b for b in at.get("download_button") if b.label == "requirements.txt")
    assert requirements.proto.url == _served_as(b"numpy==2.1.0\n", "text/plain", "requirements.txt")
