"""The Run page's Reproduce panel in Chromium, in a copy of the 49-run demo with one run whose
environment records a commit, a diff, packages, a command and a dataset: opened, it shows the
steps, and its changes.patch and requirements.txt downloads are the recorded bytes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracklib
from tracklib.write import environment

from browser_support import ARTIFACTS, open_page
from e2e.conftest import Server, start_streamlit, stop

pytestmark = pytest.mark.e2e

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"
DIFF = "diff --git a/train.py b/train.py\nindex 1..2 100644\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-lr = 1\n+lr = 2\n"
ENV = {
    "python": "3.11.7",
    "argv": ["train.py", "--lr", "0.1", "--note", "<b>not bold</b>"],
    "git_commit": COMMIT,
    "git_branch": "main",
    "git_dirty": True,
    "git_remote": "https://***@github.com/o/r.git",
    "git_diff": DIFF,
    "packages": ["numpy==2.1.0", "scikit_learn==1.6.1"],
}


@pytest.fixture(scope="module")
def reproducible(e2e_store, tmp_path_factory) -> Iterator[tuple[Server, str, int]]:
    base = tmp_path_factory.mktemp("reproduce")
    root = str(base / "store")
    shutil.copytree(e2e_store[0], root)
    (base / "digits.csv").write_text("pixel,label\n0,1\n")
    with tracklib.init("digits", root=root, name="recorded-run", capture=False) as run:
        run.log_dataset("digits", base / "digits.csv")
        run.log({"val/acc": 0.5})
    rel, data = environment.part(ENV, "digits", run.id)
    Path(root, rel).parent.mkdir(parents=True, exist_ok=True)
    Path(root, rel).write_bytes(data)
    server = start_streamlit(root)
    yield server, run.id, len(tracklib.open_store(root).runs("digits"))
    stop(server)


def test_the_reproduce_panel_shows_the_steps_and_downloads_the_recorded_files(reproducible, page):
    server, run_id, runs = reproducible
    assert runs >= 40
    open_page(page, f"{server.url}/run?project=digits&run={run_id}", "reproduce-closed")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Reproduce", exact=True).click()
    steps = main.locator('[data-testid="stCode"]').filter(has_text="git checkout").first
    steps.wait_for(timeout=30_000)
    assert f"git checkout --quiet --detach {COMMIT}" in steps.inner_text()
    assert ".venv/bin/python train.py --lr 0.1 --note '<b>not bold</b>'" in steps.inner_text()
    assert main.get_by_text(f"Commit: {COMMIT}").is_visible()
    main.get_by_text("Reproduce", exact=True).scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reproduce-open.png"), full_page=True)
    steps.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "reproduce-steps.png"), full_page=True)
    for name, expected in (
        ("changes.patch", DIFF.encode()),
        ("requirements.txt", b"numpy==2.1.0\nscikit_learn==1.6.1\n"),
    ):
        with page.expect_download(timeout=30_000) as download:
            main.get_by_role("button", name=name).click()
        assert download.value.suggested_filename == name
        assert Path(download.value.path()).read_bytes() == expected
