"""A pinned leaderboard link (asof=...) in Chromium: the 49-run demo as of the pin, with the
"as of" line, while a run written after the pin shows only in the live view."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

import tracklib
from tracklib.analysis import asof

from browser_support import ARTIFACTS, open_page
from e2e.conftest import Server, start_streamlit, stop

pytestmark = pytest.mark.e2e

ROW_PX = 35  # Streamlit's header and row height
BOARD = {"project": "digits", "metric": "val/acc", "agg": "max", "order": "highest", "top": "100"}


@pytest.fixture(scope="module")
def pinned_store(e2e_store, tmp_path_factory) -> Iterator[tuple[Server, str, int]]:
    """A copy of the demo store, a pin after its last write, then one more run (the best)."""
    root = str(tmp_path_factory.mktemp("pinned") / "store")
    shutil.copytree(e2e_store[0], root)
    before = len(tracklib.open_store(root).runs("digits"))
    time.sleep(1.02 - time.time() % 1)  # pins are whole seconds: let the clock pass one
    pin = asof.format_asof(datetime.now(UTC))
    with tracklib.init("digits", root=root, name="after-the-pin", capture=False) as run:
        run.log({"val/acc": 1.0})
    server = start_streamlit(root)
    yield server, pin, before
    stop(server)


def _view_line(page) -> str:
    line = page.locator('[data-testid="stMain"]').get_by_text(" · max of val/acc", exact=False).first
    return line.inner_text().replace("\u2060", "")  # Markdown-safe joiners are invisible


def test_a_pinned_leaderboard_link_shows_the_runs_as_of_its_time(pinned_store, page):
    server, pin, before = pinned_store
    assert before >= 40
    open_page(page, f"{server.url}/leaderboard?{urlencode(BOARD | {'asof': pin})}", "pinned-leaderboard")
    line = _view_line(page)
    assert line.endswith(f"as of {pin[:10]} {pin[11:19]} UTC (pinned link)"), line
    assert f"{before} of {before} runs" in line
    assert page.get_by_text("Pinned link: the runs started by", exact=False).first.is_visible()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "pinned-leaderboard.png"), full_page=True)

    embedded = BOARD | {"asof": pin, "embed": "true"}
    open_page(page, f"{server.url}/leaderboard?{urlencode(embedded)}", "pinned-leaderboard-embed")
    assert _view_line(page).endswith("(pinned link)")  # the stakeholder view carries it too

    open_page(page, f"{server.url}/leaderboard?{urlencode(BOARD)}", "live-leaderboard")
    live = _view_line(page)
    assert f"{before + 1} of {before + 1} runs" in live and "data as of" in live


def test_a_run_name_on_a_pinned_stakeholder_leaderboard_opens_the_run_as_of_the_pin(pinned_store, page):
    server, pin, _ = pinned_store
    query = BOARD | {"asof": pin, "embed": "true"}
    open_page(page, f"{server.url}/leaderboard?{urlencode(query)}", "pinned-leaderboard-click")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.locator('[data-testid="glide-cell-1-0"]').first.wait_for(state="attached", timeout=30_000)
    name = grid.locator('[data-testid="glide-cell-1-1"]').first.inner_text()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 90, box["y"] + ROW_PX * 2 + ROW_PX // 2)  # the second row's name

    def arrived(url: str) -> bool:
        return urlsplit(url).path == "/run" and parse_qs(urlsplit(url).query).get("asof") == [pin]

    page.wait_for_url(arrived, timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "pinned-run-from-click.png"), full_page=True)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == name
    main = page.locator('[data-testid="stMain"]')
    assert main.get_by_text("(pinned link)", exact=False).first.is_visible()
