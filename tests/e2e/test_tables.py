"""Run tables in a real browser over the 49-run demo sweep: ONE click on a run name on the
Leaderboard, Runs, Overview or brushed Sweeps table opens that run's page in the same tab,
with the store and project (and ``embed=true``) kept; screenshots of the pages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

import tracklib

from browser_support import ARTIFACTS, brush_bottom_of_optimizer_axis, open_page
from e2e.conftest import Server, start_streamlit, stop

pytestmark = pytest.mark.e2e

ROW_PX = 35  # Streamlit's header and row height
# Neither the store nor the project is the default one, so a link that lost them would show
# another store's or project's page: "other" is listed first, project "aaa" sorts first.
STORES = {"root": "demo", "project": "digits"}
BOARD = STORES | {"metric": "val/acc", "agg": "max", "order": "highest"}


@pytest.fixture(scope="module")
def stores(e2e_store, tmp_path_factory) -> dict[str, str]:
    """Two stores: "other" (one run) and "demo" (a copy of the demo sweep plus project aaa)."""
    base = tmp_path_factory.mktemp("two-stores")
    demo, other = str(base / "demo"), str(base / "other")
    shutil.copytree(e2e_store[0], demo)
    for root in (other, demo):
        with tracklib.init("aaa", root=root, capture=False, name="lonely") as run:
            run.log({"loss": 1.0})
    return {"other": other, "demo": demo}


@pytest.fixture(scope="module")
def two_store_server(stores) -> Iterator[Server]:
    roots = ";".join(f"{name}={path}" for name, path in stores.items())
    server = start_streamlit(stores["other"], extra_env={"TRACKLIB_ROOTS": roots})
    yield server
    stop(server)


def _ids_by_name(root: str, project: str) -> dict[str, str]:
    runs = tracklib.open_store(root).runs(project)
    assert runs["name"].is_unique  # a name tells which run the page should show
    return dict(zip(runs["name"], runs["run_id"], strict=True))


def _column(page, table: int, column: int) -> list[str]:
    """One column's texts of the ``table``-th grid (its accessible table, not the canvas)."""
    grid = page.locator('[data-testid="stDataFrame"]').nth(table)
    grid.locator(f'[data-testid="glide-cell-{column}-0"]').first.wait_for(state="attached", timeout=30_000)
    cells = grid.locator(f'[data-testid^="glide-cell-{column}-"]')  # in row order
    return [cells.nth(i).inner_text() for i in range(cells.count())]


def _click_cell(page, table: int, x: int, row: int) -> None:
    """One click, ``x`` px into the ``table``-th grid (a canvas), on data row ``row``."""
    grid = page.locator('[data-testid="stDataFrame"]').nth(table)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + ROW_PX * (row + 1) + ROW_PX // 2)


def _run_page_after_one_click(page, shot: str, **expected: str) -> dict[str, list[str]]:
    """Wait until this tab shows the Run page with the ``expected`` query; its query."""

    def arrived(url: str) -> bool:
        query = parse_qs(urlsplit(url).query)
        return urlsplit(url).path == "/run" and all(query.get(k) == [v] for k, v in expected.items())

    page.wait_for_url(arrived, timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.wait_for_timeout(500)  # the bound sidebar widgets finish writing the URL
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert len(page.context.pages) == 1  # the same tab: no tab piles up
    return parse_qs(urlsplit(page.url).query)


def _title(page) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text().strip()


@pytest.mark.parametrize("embedded", [False, True], ids=["app", "embed"])
def test_one_click_on_a_leaderboard_name_opens_its_run_in_this_tab(two_store_server, stores, page, embedded):
    ids = _ids_by_name(stores["demo"], "digits")
    query = BOARD | ({"embed": "true"} if embedded else {})
    open_page(
        page, f"{two_store_server.url}/leaderboard?{urlencode(query)}", f"tables-leaderboard-{embedded}"
    )
    names = _column(page, 0, column=1)  # rank, then name
    assert len(names) == 20 and set(names) <= set(ids)
    _click_cell(page, 0, x=90, row=2)  # the third-ranked run, not just the first
    wanted = ids[names[2]]
    expected = STORES | {"run": wanted} | ({"embed": "true"} if embedded else {})
    _run_page_after_one_click(page, f"tables-run-from-leaderboard-{embedded}", **expected)
    assert _title(page) == names[2]
    if embedded:  # the stakeholder view stays without sidebar
        assert not page.locator('[data-testid="stSidebar"]').is_visible()


def test_one_click_on_a_runs_page_name_opens_its_run(two_store_server, stores, page):
    ids = _ids_by_name(stores["demo"], "digits")
    open_page(page, f"{two_store_server.url}/runs?{urlencode(STORES)}", "tables-runs")
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box["height"] >= 25 * ROW_PX  # a tall table: at least 25 rows in view, not ten
    names = _column(page, 0, column=1)  # the row checkbox, then the pinned name
    _click_cell(page, 0, x=32 + 60, row=5)
    _run_page_after_one_click(page, "tables-run-from-runs", **STORES, run=ids[names[5]])
    assert _title(page) == names[5]


def test_one_click_on_an_overview_name_opens_its_run_in_its_project(two_store_server, stores, page):
    """Overview lists every project: the click also switches the sidebar's project (aaa, the
    default one, to digits)."""
    open_page(page, f"{two_store_server.url}/?root=demo&project=aaa", "tables-overview")
    latest = page.locator('[data-testid="stDataFrame"]').count() - 1
    projects, names = _column(page, latest, column=0), _column(page, latest, column=1)
    row = projects.index("digits")  # the newest run of the project the sidebar does not show
    _click_cell(page, latest, x=140, row=row)  # project, then name
    wanted = _ids_by_name(stores["demo"], "digits")[names[row]]
    _run_page_after_one_click(page, "tables-run-from-overview", **STORES, run=wanted)
    assert _title(page) == names[row]


def test_one_click_on_a_brushed_sweeps_name_opens_its_run(two_store_server, stores, page):
    ids = _ids_by_name(stores["demo"], "digits")
    query = STORES | {"metric": "val/acc", "agg": "max"}
    open_page(page, f"{two_store_server.url}/sweeps?{urlencode(query)}", "tables-sweeps")
    brush_bottom_of_optimizer_axis(page)
    page.get_by_text("runs in the brushed range").wait_for(timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.screenshot(path=str(ARTIFACTS / "tables-sweeps-brushed.png"), full_page=True)
    names = _column(page, 0, column=0)  # the brushed table: name first
    assert names and set(names) <= set(ids)
    _click_cell(page, 0, x=60, row=0)
    _run_page_after_one_click(page, "tables-run-from-sweeps", **STORES, run=ids[names[0]])
    assert _title(page) == names[0]
