"""The x axis radio and the "log y" checkbox under a Curves chart switch in the browser, with
49 runs: the axis is drawn again with its new title and labels, the server sends nothing
again (the same canvas), the link and the Share link follow, and the shared link opens
with both where they were left."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

import tracklib

from browser_support import ARTIFACTS, open_page, vega_views

pytestmark = pytest.mark.e2e

CHART = '[data-testid="stVegaLiteChart"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

# The texts of one role of the first chart's scenegraph (axis titles, axis labels); with
# ``left``, only the right-aligned ones: the labels of the y axis, on its left.
TEXTS = """([role, left]) => {
  const out = [];
  (function walk(node) {
    for (const item of node.items || []) {
      if (node.role === role && (!left || item.align === 'right')) out.push(item.text);
      for (const child of item.items || []) walk(child);
    }
  })(window.__views[0].scenegraph().root);
  return out;
}"""


def _param(page, key: str) -> str | None:
    return page.evaluate(f"() => new URLSearchParams(location.search).get({key!r})")


def _numbers(labels: list[str]) -> list[float]:
    """The distinct numbers among ``labels``, in order."""
    return sorted({float(t) for t in labels if re.fullmatch(r"[0-9.e+-]+", t)})


def test_x_axis_and_log_scale_switch_in_the_chart_and_the_link_follows(server, page, e2e_store):
    runs = tracklib.open_store(e2e_store[0]).runs("digits")["run_id"].tolist()
    assert len(runs) >= 40
    query = (
        urlencode({"project": "digits", "metrics": "train/loss"})
        + "&"
        + urlencode([("runs", r) for r in runs])
    )
    open_page(page, f"{server.url}/curves?{query}", "curves-axis-before")
    vega_views(page, 1)
    assert "step" in page.evaluate(TEXTS, ["axis-title", False])
    page.evaluate(f"() => {{ document.querySelector('{CHART} canvas').__drawn = 1; }}")

    page.locator(f'{CHART} input[type="radio"][value="time"]').first.check()
    page.wait_for_function("() => new URLSearchParams(location.search).get('x') === 'time'", timeout=30_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    assert "wall time (UTC)" in page.evaluate(TEXTS, ["axis-title", False])
    clock = [
        t
        for t in page.evaluate(TEXTS, ["axis-label", False])
        if re.fullmatch(r"\d\d:\d\d(:\d\d)?(\.\d{3})?", t)
    ]
    assert len(clock) >= 2  # 24-hour UTC times on the x axis

    linear = _numbers(page.evaluate(TEXTS, ["axis-label", True]))
    page.locator(f'{CHART} input[type="checkbox"]').first.check()
    page.wait_for_function("() => new URLSearchParams(location.search).get('log') === 'true'", timeout=30_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    logged = _numbers(page.evaluate(TEXTS, ["axis-label", True]))
    assert logged != linear and len(logged) >= 3
    ratios = [b / a for a, b in zip(logged, logged[1:], strict=False) if a > 0]
    assert max(ratios) / min(ratios) < 1.6, logged  # equal steps of the axis are equal ratios: a log scale
    # laid out again for the wider log labels: nothing is drawn left of the canvas (the chart's
    # title and the y axis title were cut off there)
    left = page.evaluate(
        "() => { const v = window.__views[0]; return v.origin()[0] + v.scenegraph().root.bounds.x1; }"
    )
    assert left >= -0.5, left
    page.locator(CHART).first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "curves-axis-time-log.png"), full_page=True)
    # the same canvas: the server did not send the chart again
    assert page.evaluate(f"() => document.querySelector('{CHART} canvas').__drawn") == 1

    page.get_by_role("button", name="Share").click()
    link = page.locator('[data-testid="stPopoverBody"] code').first
    link.wait_for(timeout=30_000)
    shared = link.inner_text()
    assert "x=time" in shared and "log=true" in shared

    other = page.context.new_page()
    open_page(other, shared, "curves-axis-shared")
    other.locator(f'{CHART} input[type="radio"][value="time"]').first.wait_for(timeout=60_000)
    assert other.locator(f'{CHART} input[type="radio"][value="time"]').first.is_checked()
    assert other.locator(f'{CHART} input[type="checkbox"]').first.is_checked()
    # back to the default axis on the reopened page (no popover over it): the link drops x
    other.wait_for_selector(IDLE, timeout=60_000)
    other.locator(f'{CHART} input[type="radio"][value="step"]').first.check()
    other.wait_for_function("() => !new URLSearchParams(location.search).has('x')", timeout=30_000)
    assert _param(other, "log") == "true"
    other.close()
