"""The chart's own smoothing slider re-smooths in the browser and the link follows: the
address bar and the Share link carry the new value, the chart is not redrawn by the server,
and the shared link opens with the slider where it was left."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

import tracklib

from browser_support import ARTIFACTS, open_page

pytestmark = pytest.mark.e2e

SLIDER = '[data-testid="stVegaLiteChart"] input[type="range"]'


def _move(page, value: str) -> None:
    slider = page.locator(SLIDER).first
    slider.fill(value)
    slider.dispatch_event("input")
    slider.dispatch_event("change")


def test_moving_the_smoothing_slider_updates_the_link_without_redrawing_the_chart(server, page, e2e_store):
    runs = tracklib.open_store(e2e_store[0]).runs("digits")["run_id"].tolist()
    query = (
        urlencode({"project": "digits", "metrics": "val/acc"}) + "&" + urlencode([("runs", r) for r in runs])
    )
    open_page(page, f"{server.url}/curves?{query}", "curves-smoothing-before")
    page.locator(SLIDER).first.wait_for(timeout=60_000)
    page.evaluate("() => { document.querySelector('[data-testid=\"stVegaLiteChart\"] canvas').__drawn = 1; }")

    _move(page, "0.8")
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('smooth') === '0.8'", timeout=30_000
    )
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    # the same canvas: the server did not send the chart again under the pointer
    assert (
        page.evaluate("() => document.querySelector('[data-testid=\"stVegaLiteChart\"] canvas').__drawn") == 1
    )

    page.get_by_role("button", name="Share").click()
    link = page.locator('[data-testid="stPopoverBody"] code').first
    link.wait_for(timeout=30_000)
    shared = link.inner_text()
    assert "smooth=0.8" in shared and shared.count("runs=") == len(runs)

    other = page.context.new_page()
    open_page(other, shared, "curves-smoothing-shared")
    other.locator(SLIDER).first.wait_for(timeout=60_000)
    assert other.locator(SLIDER).first.input_value() == "0.8"
    other.close()


def test_compare_with_49_runs_puts_two_metrics_side_by_side(server, page, e2e_store):
    runs = tracklib.open_store(e2e_store[0]).runs("digits")["run_id"].tolist()
    assert len(runs) >= 40
    query = urlencode({"project": "digits", "metrics": ["val/acc", "train/loss"]}, doseq=True)
    open_page(
        page, f"{server.url}/compare?{query}&" + urlencode([("runs", r) for r in runs]), "compare-49-runs"
    )
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas').length >= 2",
        timeout=120_000,
    )
    first, second = (c.bounding_box() for c in page.locator('[data-testid="stVegaLiteChart"]').all()[:2])
    assert abs(first["y"] - second["y"]) < 5 and second["x"] > first["x"] + first["width"] - 5
    page.locator('[data-testid="stVegaLiteChart"]').first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "compare-49-runs-charts.png"), full_page=True)
    # the demo's images of one key at one step, a few runs a row: readable, not 49 slivers
    images = page.locator('[data-testid="stImage"] img')
    images.first.wait_for(timeout=60_000)
    images.first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "compare-49-runs-images.png"))
    widths = [images.nth(i).bounding_box()["width"] for i in range(min(images.count(), 8))]
    assert len(widths) >= 4 and min(widths) >= 150, widths
