"""Helpers for the browser tests."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "e2e" / "artifacts"


def open_page(page, url: str, shot: str) -> None:
    """Load ``url``, wait until the script ran and nothing is loading, save a screenshot."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=60_000)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0, f"exception on {url}"


def cell_texts(page, column: int = 1) -> list[str]:
    """Texts of one column of the first data grid (its accessible table, not the canvas)."""
    first = page.locator(f'[data-testid="stDataFrame"] [data-testid="glide-cell-{column}-0"]').first
    first.wait_for(state="attached", timeout=30_000)
    cells = page.locator('[data-testid="stDataFrame"]').first.locator(f'td[aria-colindex="{column + 1}"]')
    return [cells.nth(i).inner_text() for i in range(cells.count())]
