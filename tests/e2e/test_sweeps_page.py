"""The Sweeps page in a real browser: a brush keeps some runs, and those runs open in Curves."""

from __future__ import annotations

import re

import pytest

from browser_support import ARTIFACTS, brush_bottom_of_optimizer_axis, open_page

pytestmark = pytest.mark.e2e


def test_brushed_runs_open_in_curves_with_exactly_those_runs(server, page):
    open_page(page, f"{server.url}/sweeps?project=digits&metric=val%2Facc&agg=max", "sweeps-scoped")
    brush_bottom_of_optimizer_axis(page)
    caption = page.get_by_text("runs in the brushed range")
    caption.wait_for(timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.screenshot(path=str(ARTIFACTS / "sweeps-scoped-brushed.png"), full_page=True)
    shown = int(caption.inner_text().split(" of ")[0])
    assert shown > 0

    link = page.get_by_role("link", name=re.compile(rf"Open these {shown} runs in Curves"))
    link.click()
    page.wait_for_url(re.compile(r"/curves\?"), timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.get_by_text(re.compile(rf"{shown} of \d+ runs shown")).wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "curves-from-sweeps-brush.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert len(re.findall(r"[?&]runs=", page.url)) == shown
