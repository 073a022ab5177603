"""Each page in a real browser: it renders, shows the right content, and raises nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from browser_support import cell_texts, open_page

pytestmark = pytest.mark.e2e

LEADERBOARD = {"project": "digits", "metric": "val/acc", "agg": "max", "order": "highest"}


def test_cold_deep_link_to_leaderboard_renders_full_frame(fresh_server, page):
    open_page(page, f"{fresh_server.url}/leaderboard?{urlencode(LEADERBOARD)}", "cold-leaderboard")
    assert page.locator("h1", has_text="Leaderboard").count() == 1
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("Project").count() >= 1
    assert sidebar.get_by_role("button", name="Refresh").count() == 1
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title in ("Overview", "Runs", "Leaderboard", "Run"):
        assert nav.get_by_text(title, exact=True).count() == 1
    assert cell_texts(page, column=1)[:2] == ["rmsprop", "adam-fast"]  # name column, ranked


@pytest.mark.parametrize("path,heading", [("", "Overview"), ("runs", "Runs"), ("leaderboard", "Leaderboard"), ("run", "Run")])
def test_every_page_renders(server, page, path, heading):
    open_page(page, f"{server.url}/{path}?project=digits", f"page-{path or 'overview'}")
    if path != "run":
        assert page.locator("h1", has_text=heading).count() == 1
    assert page.locator('[data-testid="stDataFrame"], [data-testid="stVegaLiteChart"]').count() >= 1


def test_embedded_leaderboard_is_a_clean_stakeholder_view(server, page):
    open_page(page, f"{server.url}/leaderboard?{urlencode(LEADERBOARD | {'embed': 'true'})}", "embed-leaderboard")
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert cell_texts(page, column=1)[0] == "rmsprop"
