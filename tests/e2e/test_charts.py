"""Multi-run charts in a real browser over the 49-run demo sweep: every run in the legend,
hovering draws the rule, a legend click isolates one run, a run keeps its colour from Curves
to Compare. The chart's Vega view is read from the page (Streamlit keeps it in React state)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

import tracklib

from browser_support import ARTIFACTS, open_page

pytestmark = pytest.mark.e2e

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

# Every scenegraph item of one role or mark type: run id, drawn style, centre in page pixels.
ITEMS = """([index, role]) => {
  const view = window.__views[index];
  const box = view.container().querySelector('canvas').getBoundingClientRect();
  const [ox, oy] = view.origin();
  const out = [];
  function walk(node, x, y) {
    for (const item of node.items || []) {
      if (node.role === role || node.marktype === role) {
        const d = item.datum || {};
        const b = item.bounds;
        out.push({run: d.run_id ?? d.value ?? null, opacity: item.opacity, width: item.strokeWidth ?? null,
          x: box.left + ox + x + (b ? (b.x1 + b.x2) / 2 : item.x || 0),
          y: box.top + oy + y + (b ? (b.y1 + b.y2) / 2 : item.y || 0)});
      }
      const gx = node.marktype === 'group' ? x + (item.x || 0) : x;
      const gy = node.marktype === 'group' ? y + (item.y || 0) : y;
      for (const child of item.items || []) walk(child, gx, gy);
    }
  }
  walk(view.scenegraph().root, 0, 0);
  return out;
}"""


def _line_opacity(page) -> dict[str, float]:
    """Each run's smoothed line (the wide one; raw lines are 1 px) and its drawn opacity."""
    return {i["run"]: i["opacity"] for i in page.evaluate(ITEMS, [0, "line"]) if (i["width"] or 0) >= 1.8}


def _views(page, count: int) -> None:
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


@pytest.fixture(scope="module")
def all_runs(e2e_store) -> list[str]:
    return tracklib.open_store(e2e_store[0]).runs("digits")["run_id"].tolist()


def _curves_url(server, runs: list[str], **extra: str) -> str:
    query = urlencode({"project": "digits", "metrics": "val/acc", **extra})
    return f"{server.url}/curves?{query}&" + urlencode([("runs", r) for r in runs])


def test_curves_with_every_run_draws_them_all_and_lists_them_all(server, page, all_runs):
    assert len(all_runs) >= 40
    open_page(page, _curves_url(server, all_runs), "charts-curves-49-runs")
    _views(page, 1)
    symbols = page.evaluate(ITEMS, [0, "legend-symbol"])
    assert len(symbols) == len(all_runs)  # no "…and 41 more": every run has its entry
    lines = _line_opacity(page)
    assert set(lines) == set(all_runs) and set(lines.values()) == {1}


@pytest.mark.xfail(
    strict=True,
    reason="a click on a legend label drawn on Streamlit's canvas does not reach the legend-bound "
    "selection yet (pick_store stays empty); the spec binds it (test_curves_charts.py)",
)
def test_a_legend_click_isolates_one_run_and_shift_click_adds_one(server, page, all_runs):
    open_page(page, _curves_url(server, all_runs), "charts-curves-49-runs-legend")
    _views(page, 1)
    symbols = page.evaluate(ITEMS, [0, "legend-symbol"])
    first = page.evaluate(ITEMS, [0, "legend-label"])[0]
    page.mouse.click(first["x"], first["y"])
    page.wait_for_function("() => window.__views[0].data('pick_store').length === 1", timeout=10_000)
    picked = page.evaluate("() => window.__views[0].data('pick_store')[0].values[0]")
    assert picked in all_runs
    bright = {run for run, opacity in _line_opacity(page).items() if opacity >= 0.9}
    assert bright == {picked}  # the other 48 runs faded
    page.screenshot(path=str(ARTIFACTS / "charts-curves-legend-isolated.png"), full_page=True)

    page.mouse.click(symbols[1]["x"], symbols[1]["y"], modifiers=["Shift"])
    page.wait_for_function("() => window.__views[0].data('pick_store').length === 2", timeout=10_000)


def test_hovering_the_plot_draws_the_rule_with_a_dot_on_every_run(server, page, all_runs):
    open_page(page, _curves_url(server, all_runs), "charts-curves-before-hover")
    _views(page, 1)
    box = page.locator('[data-testid="stVegaLiteChart"] canvas').first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 120)
    page.wait_for_function("() => window.__views[0].data('at_x_store').length === 1", timeout=10_000)
    dots = page.evaluate(ITEMS, [0, "symbol"])
    assert len({i["run"] for i in dots}) >= 40  # a dot on (nearly) every run where the rule is
    page.screenshot(path=str(ARTIFACTS / "charts-curves-hover.png"), full_page=True)


def test_a_run_has_the_same_colour_on_curves_and_compare(server, page, all_runs):
    chosen = all_runs[5:8]
    open_page(page, _curves_url(server, chosen), "charts-curves-3-runs")
    _views(page, 1)
    on_curves = page.evaluate("(ids) => ids.map(id => window.__views[0].scale('color')(id))", chosen)
    query = urlencode([("project", "digits"), ("metrics", "val/acc"), *[("runs", r) for r in chosen]])
    open_page(page, f"{server.url}/compare?{query}", "charts-compare-3-runs")
    _views(page, 1)
    on_compare = page.evaluate("(ids) => ids.map(id => window.__views[0].scale('color')(id))", chosen)
    assert on_curves == on_compare and len(set(on_curves)) == 3
