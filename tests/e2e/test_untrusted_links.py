"""Shared links and run records are untrusted: in a real browser, a link whose filter is a
Markdown payload shows it as text (no link, no external image), a link with numbers no
widget takes opens the default view, and a record's crafted artifact paths are not served."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from dashboard.hostile import EVIL, GENUINE, PAYLOADS, PROJECT, SECRET, seed_hostile_store

from browser_support import ARTIFACTS, open_page
from e2e.conftest import start_streamlit, stop

pytestmark = pytest.mark.e2e

# A filter whose error message quotes a phishing link and an external image (a tracking pixel)
FILTER = f'start_time >= "{PAYLOADS[0]} {PAYLOADS[1]}"'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    store = seed_hostile_store(str(tmp_path_factory.mktemp("links") / "store"))
    server = start_streamlit(store.root)
    yield server, store
    stop(server)


def _assert_no_live_payload(page) -> None:
    """Nowhere in the document (main, sidebar, notices) a link or image to the payload host."""
    live = page.locator(f'a[href*="{EVIL}"], img[src*="{EVIL}"], img[src="x"], iframe')
    assert live.count() == 0, live.first.evaluate("e => e.parentElement.outerHTML.slice(0, 600)")
    assert page.locator('[data-testid="stException"]').count() == 0


def _text(locator) -> str:
    return locator.inner_text().replace("\u2060", "")  # the word joiners md_escape adds are invisible


@pytest.mark.parametrize("path", ["runs", "leaderboard"])
def test_a_shared_link_with_a_hostile_filter_shows_it_as_text(hostile, page, path):
    server, _ = hostile
    open_page(
        page, f"{server.url}/{path}?{urlencode({'project': PROJECT, 'filter': FILTER})}", f"link-{path}"
    )
    _assert_no_live_payload(page)
    error = page.locator('[data-testid="stAlert"]', has_text="Filter")
    assert PAYLOADS[0] in _text(error) and PAYLOADS[1] in _text(error)  # quoted, as text
    assert page.locator('[data-testid="stCode"]').first.inner_text().startswith(FILTER)


@pytest.mark.parametrize("path,key", [("leaderboard", "top"), ("runs", "page"), ("curves", "points")])
def test_a_link_with_a_number_no_widget_takes_opens_the_default_view(hostile, page, path, key):
    server, _ = hostile
    open_page(page, f"{server.url}/{path}?project={PROJECT}&{key}=-1e309", f"link-{path}-{key}")
    _assert_no_live_payload(page)
    assert f"{key}=-1e309" in _text(page.locator('[data-testid="stAlert"]', has_text=key).first)
    assert f"{key}=" not in page.url  # the address was corrected: a reload is clean


def test_the_run_page_does_not_serve_crafted_artifact_paths(hostile, page):
    server, store = hostile
    open_page(page, f"{server.url}/run?project={PROJECT}&run={store.victim}", "link-artifacts")
    _assert_no_live_payload(page)
    main = page.locator('[data-testid="stMain"]')
    rows = {name: _row(main, name) for name in ("model.bin", "passwd", "absolute", "neighbour", "linked.txt")}
    # '..', an absolute path, another project's file, a symlink out of the run's folder
    for name in ("passwd", "absolute", "neighbour", "linked.txt"):
        assert rows[name].locator('[data-testid="stDownloadButton"]').count() == 0
        assert rows[name].get_by_role("button", name="Download").is_disabled()
        assert "Not offered" in _text(rows[name])
    downloads = []
    page.on("download", lambda download: downloads.append(download))

    with page.expect_download() as genuine:  # the harness sees a real download
        rows["model.bin"].get_by_role("button", name="Download").click()
    assert Path(genuine.value.path()).read_bytes() == GENUINE
    page.screenshot(path=str(ARTIFACTS / "link-artifacts-refused.png"), full_page=True)
    served = [Path(d.path()).read_bytes() for d in downloads]
    assert served == [GENUINE] and not any(SECRET in content for content in served)


def _row(main, name: str):
    """The row of the artifacts list whose first column names ``name``."""
    row = main.locator('[data-testid="stHorizontalBlock"]').filter(
        has=main.page.get_by_text(name, exact=True)
    )
    assert row.count() == 1, name
    return row
