"""The Run page's Console section in Chromium, in a copy of the 49-run demo plus one run that
printed: its lines show as grid cells, a search narrows them, HTML-looking lines stay text."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator

import pytest

import tracklib

from browser_support import ARTIFACTS, open_page
from e2e.conftest import Server, start_streamlit, stop

pytestmark = pytest.mark.e2e
HOSTILE = "<img src=x onerror=alert('console')> **bold** [link](javascript:alert(1))"


@pytest.fixture(scope="module")
def printed(e2e_store, tmp_path_factory) -> Iterator[tuple[Server, str, int]]:
    root = str(tmp_path_factory.mktemp("console") / "store")
    shutil.copytree(e2e_store[0], root)
    with tracklib.init("digits", root=root, name="chatty-run", capture=["console"]) as run:
        for epoch in range(40):
            print(f"epoch {epoch:02d} train/loss {1 / (epoch + 1):.4f}")
        print("CUDA out of memory: retrying with batch 16", file=sys.stderr)
        print(HOSTILE)
    server = start_streamlit(root)
    yield server, run.id, len(tracklib.open_store(root).runs("digits"))
    stop(server)


def _console_cells(page, showing: str) -> list[str]:
    """The line column of the Console grid (its accessible table, not the canvas: only the
    rows in view), once it holds a line containing ``showing``."""
    grid = page.locator('[data-testid="stDataFrame"]').filter(has_text=showing)
    grid.locator('td[aria-colindex="3"]').first.wait_for(state="attached", timeout=30_000)
    cells = grid.locator('td[aria-colindex="3"]')
    return [cells.nth(i).inner_text() for i in range(cells.count())]


def test_the_console_section_shows_and_searches_the_lines_as_text(printed, page):
    server, run_id, runs = printed
    assert runs >= 40
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_page(page, f"{server.url}/run?project=digits&run={run_id}", "console-run-page")
    main = page.locator('[data-testid="stMain"]')
    heading = main.get_by_role("heading", name="Console")
    heading.wait_for(timeout=30_000)
    heading.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-section.png"))
    assert _console_cells(page, "epoch 00")[:3] == [
        "epoch 00 train/loss 1.0000",
        "epoch 01 train/loss 0.5000",
        "epoch 02 train/loss 0.3333",
    ]
    search = main.get_by_label("Search the console", exact=True).and_(main.locator("input"))
    search.fill("ONERROR")
    search.press("Enter")
    assert _console_cells(page, "onerror") == [HOSTILE]  # the exact text, as a cell
    page.get_by_text("1 of 42 lines").wait_for(timeout=30_000)
    search.fill("cuda OUT")
    search.press("Enter")
    assert _console_cells(page, "CUDA") == ["CUDA out of memory: retrying with batch 16"]
    heading.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "console-search.png"))
    assert not dialogs  # no script from a printed line ran
    assert main.locator("img[src='x']").count() == 0
