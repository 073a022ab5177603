"""Each page in a real browser over the demo sweep: it renders, shows the right content,
raises nothing, and a shared link reopens the same view."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlencode

import pytest

import tracklib
from tracklib.dashboard.tables import names_of

from browser_support import ARTIFACTS, brush_bottom_of_optimizer_axis, cell_texts, open_page
from e2e.conftest import REPO, start_streamlit, stop

pytestmark = pytest.mark.e2e

LEADERBOARD = {"project": "digits", "metric": "val/acc", "agg": "max", "order": "highest"}


@pytest.fixture(scope="module")
def expected_top(e2e_store) -> list[str]:
    board = tracklib.open_store(e2e_store[0]).leaderboard("digits", "val/acc", agg="max")
    return board["name"].tolist()


def test_cold_deep_link_to_leaderboard_renders_full_frame(fresh_server, page, expected_top):
    open_page(page, f"{fresh_server.url}/leaderboard?{urlencode(LEADERBOARD)}", "cold-leaderboard")
    assert page.locator("h1", has_text="Leaderboard").count() == 1
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("Project").count() >= 1
    assert sidebar.get_by_role("button", name="Refresh").count() == 1
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title in ("Overview", "Runs", "Leaderboard", "Run"):
        assert nav.get_by_text(title, exact=True).count() == 1
    assert names_of(cell_texts(page, column=1))[:3] == expected_top[:3]  # name column (run links), ranked


@pytest.mark.parametrize(
    "path,heading",
    [
        ("", "Overview"),
        ("runs", "Runs"),
        ("leaderboard", "Leaderboard"),
        ("run", None),
        ("curves", "Curves"),
        ("sweeps", "Sweeps"),
        ("compare", "Compare"),
    ],
)
def test_every_page_renders(server, page, path, heading):
    open_page(page, f"{server.url}/{path}?project=digits", f"page-{path or 'overview'}")
    if heading:
        assert page.locator("h1", has_text=heading).count() == 1
    assert page.locator('[data-testid="stVegaLiteChart"], [data-testid="stDataFrame"]').count() >= 1
    for chart in page.locator('[data-testid="stVegaLiteChart"]').all():
        chart.scroll_into_view_if_needed()
        chart.locator("canvas, svg").first.wait_for()  # every chart really drew
    page.screenshot(path=str(ARTIFACTS / f"page-{path or 'overview'}-end.png"))


def test_run_page_draws_its_curves(server, page, e2e_store):
    open_page(page, f"{server.url}/run?project=digits&run={e2e_store[1][0]}", "run-curves")
    page.locator(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
    ).first.wait_for()
    assert page.locator("h1").first.inner_text() != ""


def test_embedded_leaderboard_is_a_clean_stakeholder_view(server, page, expected_top):
    open_page(
        page, f"{server.url}/leaderboard?{urlencode(LEADERBOARD | {'embed': 'true'})}", "embed-leaderboard"
    )
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert names_of(cell_texts(page, column=1))[0] == expected_top[0]


def test_share_link_reopens_the_same_view_in_a_fresh_browser(server, browser, page, expected_top):
    state = LEADERBOARD | {"agg": "last", "top": "5", "filter": 'params.optimizer = "adam"'}
    open_page(page, f"{server.url}/leaderboard?{urlencode(state)}", "share-source")
    before = cell_texts(page, column=1)
    page.get_by_role("button", name="Share").click()
    link = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"] code').inner_text().strip()
    assert link.startswith(f"{server.url}/leaderboard?") and "filter=" in link

    stranger = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = stranger.new_page()
        open_page(fresh, link, "share-opened")
        assert cell_texts(fresh, column=1) == before
        assert len(before) == 5
    finally:
        stranger.close()


def test_tracklib_ui_serves_an_installed_copy_from_outside_the_checkout(
    browser, e2e_store, tmp_path, expected_top
):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(REPO)],
        check=True,
        timeout=300,
    )
    where = subprocess.run(
        [sys.executable, "-c", "import tracklib.dashboard as d; print(d.__file__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(target))  # the installed copy, not the checkout
    server = start_streamlit(
        e2e_store[0],
        command=[sys.executable, "-m", "tracklib.cli", "ui"],
        cwd=tmp_path,
        extra_env={"PYTHONPATH": str(target)},
    )
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        open_page(page, f"{server.url}/leaderboard?{urlencode(LEADERBOARD)}", "installed-ui")
        assert names_of(cell_texts(page, column=1))[0] == expected_top[0]
        context.close()
    finally:
        stop(server)


def test_brushing_the_parallel_coordinates_filters_the_runs(server, page):
    open_page(page, f"{server.url}/sweeps?project=digits&metric=val%2Facc&agg=max", "sweeps-before-brush")
    brush_bottom_of_optimizer_axis(page)
    caption = page.get_by_text("runs in the brushed range")
    caption.wait_for(timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.screenshot(path=str(ARTIFACTS / "sweeps-brushed.png"))
    shown, total = caption.inner_text().split(" runs")[0].split(" of ")
    assert 0 < int(shown) < int(total) == 49
