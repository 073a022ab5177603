"""Publish beside Snapshot, in Chromium over the 49-run demo: one click on "Publish snapshot"
stores the view under snapshots/ and shows its path in a copyable code block; the stored file
has the page's rows."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest

from browser_support import ARTIFACTS, cell_texts, open_page
from e2e.conftest import start_streamlit, stop
from snapshot_html import Document

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_server(e2e_store, tmp_path):
    """A server over a copy of the demo store (publishing writes into it)."""
    root = tmp_path / "store"
    shutil.copytree(e2e_store[0], root)
    server = start_streamlit(str(root))
    yield server, root
    stop(server)


def test_publish_shows_where_the_snapshot_was_stored(own_server, page):
    server, root = own_server
    query = {"project": "digits", "metric": "val/acc", "agg": "max", "top": "40"}
    open_page(page, f"{server.url}/leaderboard?{urlencode(query)}", "snapshot-publish-page")
    names = cell_texts(page, 1)
    snapshot_button = page.get_by_role("button", name="Snapshot").bounding_box()
    publish_button = page.get_by_role("button", name="Publish").first.bounding_box()
    assert publish_button["y"] == snapshot_button["y"]  # one row of controls, side by side
    page.get_by_role("button", name="Publish").first.click()
    page.get_by_role("button", name="Publish snapshot").click()
    code = page.locator('[data-testid="stCode"]', has_text="snapshots/project=digits/")
    code.wait_for(timeout=120_000)
    code.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "snapshot-publish-done.png"), full_page=False)
    stored = sorted((root / "snapshots" / "project=digits").glob("*.html"))
    assert len(stored) == 1 and str(stored[0]) in code.inner_text()
    rows = Document(Path(stored[0]).read_text(encoding="utf-8")).body_rows
    assert len(rows) == 40 and [row[1] for row in rows][: len(names)] == names[: len(rows)]
