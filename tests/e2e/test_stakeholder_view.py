"""The stakeholder view (``embed=true``) of Leaderboard, Curves, Sweeps and Run on the 49-run
demo: a title, the line that says what the view is, the table and the charts, and no control
a reader could fiddle with (no widget, no Share, no sidebar toggle, no chart slider)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

import tracklib

from browser_support import ARTIFACTS, open_page

pytestmark = pytest.mark.e2e

# What a stakeholder must not see: every input, button, select, slider and popover Streamlit
# draws in the page's main area, the charts' own sliders, and the sidebar's toggle.
CONTROLS = (
    '[data-testid="stMain"] input:visible, [data-testid="stMain"] button:visible, '
    '[data-testid="stMain"] [role="combobox"]:visible, [data-testid="stMain"] [role="slider"]:visible, '
    '[data-testid="stSidebarCollapsedControl"]:visible, [data-testid="stExpandSidebarButton"]:visible'
)
# The content's own hover toolbars (a table's search/download, a chart's data and spec) and
# the help icon of a figure stay: they change nothing in the view.
CONTENT_CONTROLS = ("Search", "Download", "Fullscreen", "Show/hide", "Show data", "Vega-Lite", "Help for")


def _visible_controls(page) -> list[str]:
    """Labels of the controls a reader sees, less the grid's own toolbar (hover-only)."""
    found = []
    for element in page.locator(CONTROLS).all():
        text = (element.get_attribute("aria-label") or element.inner_text() or "").strip()
        if not any(word.lower() in text.lower() for word in CONTENT_CONTROLS):
            found.append(text or element.evaluate("e => e.outerHTML.slice(0, 80)"))
    return found


@pytest.fixture(scope="module")
def runs(e2e_store):
    return tracklib.open_store(e2e_store[0]).runs("digits")


@pytest.mark.parametrize(
    ("page_name", "query", "charts", "tables"),
    [
        ("leaderboard", {"metric": "val/acc", "agg": "max", "filter": 'status = "finished"'}, 0, 1),
        ("curves", {"metrics": ["val/acc", "train/loss"]}, 2, 0),
        ("sweeps", {"metric": "val/acc"}, 3, 1),
        ("run", {}, 1, 2),
    ],
)
def test_embed_shows_the_content_and_no_controls(server, page, runs, page_name, query, charts, tables):
    params = {"project": "digits", **query, "embed": "true"}
    if page_name == "curves":
        params["runs"] = runs["run_id"].tolist()
    url = f"{server.url}/{page_name}?{urlencode(params, doseq=True)}"
    open_page(page, url, f"stakeholder-{page_name}")
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("h1").first.is_visible()
    line = main.get_by_text("data as of", exact=False).first
    text = line.inner_text().replace("\u2060", "")  # Markdown-safe joiners are invisible
    assert line.is_visible() and text.startswith("digits · ")
    if page_name == "leaderboard":
        assert 'filter: status = "finished"' in text
    page.wait_for_function(
        f'() => document.querySelectorAll(\'[data-testid="stVegaLiteChart"] canvas, '
        f'[data-testid="stVegaLiteChart"] svg.marks\').length >= {charts}',
        timeout=120_000,
    )
    assert page.locator('[data-testid="stDataFrame"]:visible').count() >= tables
    assert _visible_controls(page) == [], _visible_controls(page)
    page.screenshot(path=str(ARTIFACTS / f"stakeholder-{page_name}.png"), full_page=True)


def test_the_same_link_without_embed_keeps_every_control(server, page):
    open_page(page, f"{server.url}/leaderboard?project=digits&metric=val%2Facc", "explorer-leaderboard")
    assert len(_visible_controls(page)) >= 5  # metric, aggregate, order, top, filter, Share…
