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


def test_a_brush_from_the_link_cleared_in_the_chart_leaves_the_link(server, page):
    """A brush cleared right after opening a link used to stay in the link (and kept filtering):
    the chart then reports an empty selection, which reads like a chart nobody touched."""
    brushed = "brush_axes=-0.1%2C0.1&brush_range=0.5%2C1"  # the first axis, upper half
    link = f"{server.url}/sweeps?project=digits&metric=val%2Facc&agg=max&{brushed}"
    open_page(page, link, "sweeps-linked-brush")
    page.get_by_text("runs in the brushed range").wait_for(timeout=30_000)
    assert "brush_axes=" in page.url
    box = page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.3)  # outside the brush
    page.get_by_text("Drag a rectangle over one or more axes").wait_for(timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.screenshot(path=str(ARTIFACTS / "sweeps-linked-brush-cleared.png"), full_page=True)
    assert page.get_by_text("runs in the brushed range").count() == 0
    assert "brush_" not in page.url
