"""The chart's own smoothing slider re-smooths in the browser and the link follows: the
address bar and the Share link carry the new value, the chart is not redrawn by the server,
and the shared link opens with the slider where it was left."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

import tracklib

from browser_support import open_page

pytestmark = pytest.mark.e2e

SLIDER = '[data-testid="stVegaLiteChart"] input[type="range"]'


def _move(page, value: str) -> None:
    slider = page.locator(SLIDER).first
    slider.fill(value)
    slider.dispatch_event("input")
    slider.dispatch_event("change")


def test_moving_the_smoothing_slider_updates_the_link_without_redrawing_the_chart(server, page, e2e_store):
    runs = tracklib.open_store(e2e_store[0]).runs("digits")["run_id"].tolist()
    query = urlencode({"project": "digits", "metrics": "val/acc"}) + "&" + urlencode([("runs", r) for r in runs])
    open_page(page, f"{server.url}/curves?{query}", "curves-smoothing-before")
    page.locator(SLIDER).first.wait_for(timeout=60_000)
    page.evaluate("() => { document.querySelector('[data-testid=\"stVegaLiteChart\"] canvas').__drawn = 1; }")

    _move(page, "0.8")
    page.wait_for_function("() => new URLSearchParams(location.search).get('smooth') === '0.8'", timeout=30_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    # the same canvas: the server did not send the chart again under the pointer
    assert page.evaluate("() => document.querySelector('[data-testid=\"stVegaLiteChart\"] canvas').__drawn") == 1

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
