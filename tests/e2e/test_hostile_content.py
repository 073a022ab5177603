"""Run records are data: names, tags, notes, params and metric keys full of HTML, script and
Markdown show up as literal text on every page, and nothing in them runs."""

from __future__ import annotations

import pytest

import tracklib

from browser_support import ARTIFACTS, open_page
from e2e.conftest import start_streamlit, stop

pytestmark = pytest.mark.e2e

NAME = "<script>window.__pwned='name'</script>"
TAG = "<img src=x onerror=\"window.__pwned='tag'\">"
NOTES = "[click me](javascript:window.__pwned='notes') **bold** <iframe src=\"https://example.com\"></iframe>"
GROUP = "[group link](https://evil.example)"
PARAM_KEY = "<b onmouseover=alert(1)>lr</b>"
PARAM_VALUE = "<img src=y onerror=\"window.__pwned='param'\">"
METRIC = "<svg onload=\"window.__pwned='metric'\">/loss"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hostile") / "store")
    ids = []
    for i in range(2):
        with tracklib.init(
            "digits",
            root=root,
            name=f"{NAME}{i}",
            tags=[TAG],
            notes=NOTES,
            group=GROUP,
            params={PARAM_KEY: PARAM_VALUE, "plain": i},
            capture=False,
        ) as run:
            for step in range(5):
                run.log({METRIC: 1.0 / (step + 1 + i), "val/acc": 0.5 + 0.1 * step})
        ids.append(run.id)
    server = start_streamlit(root)
    yield server, ids
    stop(server)


def _assert_inert(page) -> None:
    assert page.evaluate("window.__pwned") is None, "hostile content ran"
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('img[src="x"], img[src="y"], iframe, svg[onload]').count() == 0
    links = main.locator('a[href^="javascript:"], a[href="https://evil.example"]')
    assert links.count() == 0, links.first.evaluate(
        "e => e.parentElement.parentElement.outerHTML.slice(0, 600)"
    )
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("path", ["", "runs", "leaderboard", "curves", "sweeps", "compare"])
def test_hostile_fields_render_as_text_everywhere(hostile_server, page, path):
    server, ids = hostile_server
    query = "project=digits" + ("".join(f"&runs={r}" for r in ids) if path in ("curves", "compare") else "")
    open_page(page, f"{server.url}/{path}?{query}", f"hostile-{path or 'overview'}")
    page.wait_for_timeout(500)  # give an onerror/onload handler every chance to fire
    _assert_inert(page)


def test_run_page_shows_name_notes_and_group_literally(hostile_server, page):
    server, ids = hostile_server
    open_page(page, f"{server.url}/run?project=digits&run={ids[0]}", "hostile-run")
    page.wait_for_timeout(500)
    _assert_inert(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("h1").first.inner_text() == f"{NAME}0"
    assert main.get_by_text(NOTES, exact=True).count() == 1
    group = main.locator('[data-testid="stMetric"]', has_text="Group").locator(
        '[data-testid="stMetricValue"]'
    )
    assert group.inner_text().replace("\u2060", "") == GROUP  # md_escape's word joiners are invisible
    page.screenshot(path=str(ARTIFACTS / "hostile-run-literal.png"), full_page=True)
