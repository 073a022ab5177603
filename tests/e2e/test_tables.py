"""Run tables in a real browser over the 49-run demo sweep: a run name on the Leaderboard
opens that run's page; screenshots of the Runs and Run pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

import tracklib
from tracklib.dashboard.tables import names_of

from browser_support import cell_texts, open_page

pytestmark = pytest.mark.e2e

BOARD = {"project": "digits", "metric": "val/acc", "agg": "max", "order": "highest"}


def test_a_run_name_on_the_leaderboard_opens_its_run_page(server, page, e2e_store):
    top = tracklib.open_store(e2e_store[0]).leaderboard("digits", "val/acc", agg="max").iloc[0]
    open_page(page, f"{server.url}/leaderboard?{urlencode(BOARD)}", "tables-leaderboard")
    assert names_of(cell_texts(page, column=1))[0] == top["name"]  # the link shows the name
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    x, y = grid["x"] + 90, grid["y"] + 35 + 17  # a canvas: the first row's name, after the rank
    # Streamlit 1.67's grid takes the first click on a cell to select it; a click on the
    # selected link cell opens it (in a new tab)
    page.mouse.click(x, y)
    with page.context.expect_page() as opened:
        page.mouse.click(x, y)
    run_page = opened.value
    run_page.wait_for_load_state()
    query = parse_qs(urlsplit(run_page.url).query)
    assert urlsplit(run_page.url).path == "/run" and query["run"] == [top["run_id"]]
    open_page(run_page, run_page.url, "tables-run-page")  # (Streamlit drops default root/project)
    assert run_page.locator("h1").first.inner_text().strip() == top["name"]


def test_runs_page_is_a_tall_table(server, page):
    open_page(page, f"{server.url}/runs?project=digits", "tables-runs")
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box["height"] >= 25 * 35  # a tall table: at least 25 rows in view, not ten
