"""What a new user sees of one demo run after `make demo`, in Chromium: its two images
(misclassified digits, confusion matrix) decoded, its per-epoch console lines, the digits
dataset it read, and the Runs page filtered by that dataset version (screenshots looked at)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

import tracklib

from browser_support import ARTIFACTS, cell_texts, open_page

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def baseline(e2e_store) -> tuple[str, str, int]:
    """The baseline run's id, its fingerprint of the digits file, and how many runs read it."""
    runs = tracklib.open_store(e2e_store[0]).runs("digits")
    assert len(runs) >= 40
    row = runs[runs["tags"].map(lambda tags: "baseline" in tags)].iloc[0]
    return (
        row["run_id"],
        row["datasets.digits"],
        int((runs["datasets.digits"] == row["datasets.digits"]).sum()),
    )


def test_a_demo_run_page_shows_its_images_console_and_dataset(server, page, e2e_store, baseline):
    run_id, fingerprint, _ = baseline
    store = tracklib.open_store(e2e_store[0])
    open_page(page, f"{server.url}/run?project=digits&run={run_id}", "demo-run-top")
    main = page.locator('[data-testid="stMain"]')

    main.get_by_role("heading", name="Images", exact=True).scroll_into_view_if_needed()
    images = main.locator('[data-testid="stImage"] img')
    images.first.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')].every(i => i.complete)"
    )
    widths = sorted(images.nth(i).evaluate("e => e.naturalWidth") for i in range(images.count()))
    logged = store.images("digits", run_id)
    last = logged[logged["step"] == logged["step"].max()]
    assert widths == sorted(last["width"])  # both keys at the last epoch, decoded
    for caption in last["caption"]:
        assert main.get_by_text(caption, exact=True).is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-run-images.png"), full_page=True)

    lines = list(store.console("digits", run_id)["line"])
    main.get_by_role("heading", name="Console", exact=True).scroll_into_view_if_needed()
    grid = page.locator('[data-testid="stDataFrame"]').filter(has_text="MLPClassifier(")
    grid.locator('td[aria-colindex="3"]').first.wait_for(state="attached", timeout=30_000)
    cells = grid.locator('td[aria-colindex="3"]')
    assert [cells.nth(i).inner_text() for i in range(3)] == lines[:3]  # the header, epochs 1 and 2
    page.screenshot(path=str(ARTIFACTS / "demo-run-console.png"))

    reproduce = main.get_by_text("Reproduce", exact=True)
    reproduce.scroll_into_view_if_needed()
    reproduce.click()
    data = page.locator('[data-testid="stDataFrame"]').filter(has_text=fingerprint)
    data.first.wait_for(state="attached", timeout=30_000)  # the digits version it read
    data.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "demo-run-reproduce.png"))


def test_runs_page_filters_demo_runs_by_the_digits_version(server, page, baseline):
    _, fingerprint, runs = baseline
    query = quote(f'datasets.digits = "{fingerprint}"')
    open_page(
        page, f"{server.url}/runs?project=digits&filter={query}&columns=datasets.digits", "demo-runs-filter"
    )
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text(f"{runs} of {runs} runs").wait_for(timeout=30_000)
    assert cell_texts(page, 1)  # the table shows rows
