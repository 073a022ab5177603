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


def brush_bottom_of_optimizer_axis(page) -> None:
    """Drag a rectangle around the Sweeps page's "optimizer" axis from mid-height past the
    bottom edge (Vega clamps it there): it keeps the runs of the category drawn at the bottom."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("canvas, svg").first.wait_for()
    box = chart.bounding_box()
    start = (box["x"] + box["width"] * 0.70, box["y"] + box["height"] * 0.6)
    end = (box["x"] + box["width"] * 0.90, box["y"] + box["height"] + 40)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


# Finds each chart's Vega view through React's fiber of the chart element: window.__views.
FIND_VIEWS = """() => {
  const isView = o => o && typeof o === 'object' && typeof o.signal === 'function'
    && typeof o.scenegraph === 'function' && typeof o.runAsync === 'function';
  const skip = new Set(['return', 'child', 'sibling', 'stateNode', '_owner', 'alternate']);
  function scan(o, depth, seen) {
    if (!o || typeof o !== 'object' || seen.has(o) || depth > 4) return null;
    seen.add(o);
    if (isView(o)) return o;
    for (const k of Object.keys(o)) {
      if (skip.has(k)) continue;
      let found = null;
      try { found = scan(o[k], depth + 1, seen); } catch (e) {}
      if (found) return found;
    }
    return null;
  }
  function viewOf(chart) {
    for (const node of [chart, ...chart.querySelectorAll('*')]) {
      const key = Object.keys(node).find(k => k.startsWith('__reactFiber'));
      if (!key) continue;
      for (let f = node[key]; f; f = f.return) {
        for (let s = f.memoizedState, i = 0; s && i < 50; s = s.next, i++) {
          const view = scan(s.memoizedState, 0, new Set());
          if (view) return view;
        }
      }
    }
    return null;
  }
  window.__views = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(viewOf);
  return window.__views.filter(Boolean).length;
}"""


def vega_views(page, count: int) -> None:
    """Wait for ``count`` charts drawn, and keep their Vega views in ``window.__views``."""
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas').length >= {count}",
        timeout=120_000,
    )
    page.wait_for_function(
        FIND_VIEWS.replace(
            "return window.__views.filter(Boolean).length;",
            f"return window.__views.filter(Boolean).length >= {count};",
        ),
        timeout=30_000,
    )
