"""Multi-run charts in a real browser over the 49-run demo sweep: every run in the legend,
hovering draws the rule and lists the runs there best first, a legend click isolates one run
(a double click restores), a run keeps its colour from Curves to Compare. The chart's Vega
view is read from the page (Streamlit keeps it in React state)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

import tracklib
from tracklib.dashboard import line_charts

from browser_support import ARTIFACTS, open_page, vega_views

pytestmark = pytest.mark.e2e

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
        out.push({run: d.run_id ?? d.value ?? null, role: node.role, opacity: item.opacity,
          width: item.strokeWidth ?? null,
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


# Each legend label's run id and drawn text.
LABELS = """() => {
  const out = [];
  (function walk(node) {
    for (const item of node.items || []) {
      if (node.role === 'legend-label') out.push({run: item.datum.value, text: item.text});
      for (const child of item.items || []) walk(child);
    }
  })(window.__views[0].scenegraph().root);
  return out;
}"""

# The dots on the rule: each run's smoothed value at the x under the pointer.
DOTS = """() => {
  const out = {};
  (function walk(node) {
    for (const item of node.items || []) {
      if (node.marktype === 'symbol' && node.role === 'mark') out[item.datum.run_id] = item.datum.smoothed;
      for (const child of item.items || []) walk(child);
    }
  })(window.__views[0].scenegraph().root);
  return out;
}"""

# vega-tooltip's table: heading, then rows in order (key, value).
TOOLTIP = """() => {
  const t = document.querySelector('#vg-tooltip-element');
  if (!t || !t.classList.contains('visible')) return null;
  const rows = [...t.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent));
  return {title: t.querySelector('h2')?.textContent ?? null, rows};
}"""


def _tooltip_at(page, x: float, y: float) -> dict:
    """Point at the plot and read the hover list: its heading, the ranked rows (keys 1, 2, …
    in order) and the "+N more" row if any."""
    page.mouse.move(x, y)
    page.wait_for_function("() => window.__views[0].data('at_x_store').length === 1", timeout=10_000)
    page.wait_for_function(TOOLTIP, timeout=10_000)
    tip = page.evaluate(TOOLTIP)
    ranked = [value for key, value in tip["rows"] if key != "+"]
    assert [key for key, _ in tip["rows"] if key != "+"] == [str(k) for k in range(1, len(ranked) + 1)]
    more = [value for key, value in tip["rows"] if key == "+"]
    return {"title": tip["title"], "rows": ranked, "more": more[0] if more else None}


def _line_opacity(page) -> dict[str, float]:
    """Each run's smoothed line (the wide one; raw lines are 1 px) and its drawn opacity."""
    return {i["run"]: i["opacity"] for i in page.evaluate(ITEMS, [0, "line"]) if (i["width"] or 0) >= 1.8}


@pytest.fixture(scope="module")
def all_runs(e2e_store) -> list[str]:
    return tracklib.open_store(e2e_store[0]).runs("digits")["run_id"].tolist()


def _curves_url(server, runs: list[str], **extra: str) -> str:
    query = urlencode({"project": "digits", "metrics": "val/acc", **extra})
    return f"{server.url}/curves?{query}&" + urlencode([("runs", r) for r in runs])


def test_curves_with_every_run_draws_them_all_and_lists_them_all(server, page, all_runs):
    assert len(all_runs) >= 40
    open_page(page, _curves_url(server, all_runs), "charts-curves-49-runs")
    vega_views(page, 1)
    symbols = page.evaluate(ITEMS, [0, "legend-symbol"])
    assert len(symbols) == len(all_runs)  # no "…and 41 more": every run has its entry
    lines = _line_opacity(page)
    assert set(lines) == set(all_runs) and set(lines.values()) == {1}


def _picked(page) -> list[str]:
    return page.evaluate("() => window.__views[0].data('pick_store').map(t => t.values[0])")


def _bright(page) -> set[str]:
    return {run for run, opacity in _line_opacity(page).items() if opacity >= 0.9}


def _plot_point(page, fx: float = 0.5) -> tuple[float, float]:
    box = page.locator('[data-testid="stVegaLiteChart"] canvas').first.bounding_box()
    return box["x"] + box["width"] * fx, box["y"] + 120


def _away_from_the_lines(page, fx: float) -> tuple[float, float]:
    """A point of the plot at ``fx`` of its width in the widest gap between the runs' dots
    there (a click on a line or a dot would pick that run)."""
    x, y = _plot_point(page, fx)
    for dy in (0, 15, -15, 30, -30):  # right on a line the rule does not answer: move off it
        page.mouse.move(x, y + dy)
        page.wait_for_timeout(200)
        if page.evaluate("() => window.__views[0].data('at_x_store').length === 1"):
            break
    ys = sorted(i["y"] for i in page.evaluate(ITEMS, [0, "symbol"]) if i["role"] == "mark")
    gap, top = max((b - a, a) for a, b in zip(ys, ys[1:], strict=False))
    return x, top + gap / 2


def test_a_legend_click_isolates_one_run_and_shift_click_adds_one(server, page, all_runs):
    open_page(page, _curves_url(server, all_runs), "charts-curves-49-runs-legend")
    vega_views(page, 1)
    symbols = page.evaluate(ITEMS, [0, "legend-symbol"])
    labels = page.evaluate(ITEMS, [0, "legend-label"])
    page.mouse.click(labels[0]["x"], labels[0]["y"])
    page.wait_for_function("() => window.__views[0].data('pick_store').length === 1", timeout=10_000)
    assert _picked(page) == [labels[0]["run"]]
    assert _bright(page) == {labels[0]["run"]}  # the other 48 runs faded
    assert set(_line_opacity(page).values()) == {1, line_charts.FADED}

    page.keyboard.down("Shift")
    page.mouse.click(symbols[1]["x"], symbols[1]["y"])
    page.keyboard.up("Shift")
    page.wait_for_function("() => window.__views[0].data('pick_store').length === 2", timeout=10_000)
    tip = _tooltip_at(page, *_away_from_the_lines(page, 0.5))  # it lists the two shown runs only
    assert _bright(page) == {labels[0]["run"], symbols[1]["run"]}
    assert len(tip["rows"]) == 2 and tip["more"] is None
    page.screenshot(path=str(ARTIFACTS / "charts-curves-legend-isolated.png"), full_page=True)

    page.mouse.dblclick(*_away_from_the_lines(page, 0.5))  # a double click restores every run
    page.wait_for_function("() => window.__views[0].data('pick_store').length === 0", timeout=10_000)
    assert _bright(page) == set(all_runs)
    page.mouse.click(labels[2]["x"], labels[2]["y"])
    page.wait_for_function("() => window.__views[0].data('pick_store').length === 1", timeout=10_000)
    page.mouse.click(*_away_from_the_lines(page, 0.3))  # so does a click on the plot off the lines
    page.wait_for_function("() => window.__views[0].data('pick_store').length === 0", timeout=10_000)
    page.mouse.click(*_away_from_the_lines(page, 0.7))  # and a later click does not pick again
    page.wait_for_timeout(300)
    assert _picked(page) == [] and _bright(page) == set(all_runs)


def test_hovering_the_plot_draws_the_rule_with_a_dot_on_every_run(server, page, all_runs):
    open_page(page, _curves_url(server, all_runs), "charts-curves-before-hover")
    vega_views(page, 1)
    box = page.locator('[data-testid="stVegaLiteChart"] canvas').first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 120)
    page.wait_for_function("() => window.__views[0].data('at_x_store').length === 1", timeout=10_000)
    dots = [i for i in page.evaluate(ITEMS, [0, "symbol"]) if i["role"] == "mark"]  # not the legend's
    assert len({i["run"] for i in dots}) >= 40  # a dot on (nearly) every run where the rule is
    hovered = page.evaluate("() => window.__views[0].data('hover_store').map(t => t.values[0])")
    assert set(hovered) <= set(all_runs)  # the plot under the lines highlights no phantom run
    page.screenshot(path=str(ARTIFACTS / "charts-curves-hover.png"), full_page=True)


def test_the_hover_list_names_the_runs_at_the_pointer_best_first(server, page, all_runs):
    open_page(page, _curves_url(server, all_runs), "charts-curves-hover-list")
    vega_views(page, 1)
    names = {i["run"]: i["text"] for i in page.evaluate(LABELS)}
    for fx in (0.2, 0.5, 0.9):
        tip = _tooltip_at(page, *_away_from_the_lines(page, fx))  # on a line: that line's highlight
        dots = page.evaluate(DOTS)  # each run's smoothed value where the rule is
        assert tip["title"].startswith("step ")
        assert all("NaN" not in r and "null" not in r and "undefined" not in r for r in tip["rows"])
        listed = [row.rsplit(" · ", 1) for row in tip["rows"]]
        values = [float(v) for _, v in listed]
        assert values == sorted(values, reverse=True)  # val/acc: higher is better, best first
        best = sorted(dots.values(), reverse=True)[: line_charts.TOOLTIP_ROWS]
        assert values == [float(f"{v:.5g}") for v in best]
        for name, value in listed:  # each row is a run with that value there
            assert any(names[r] == name and float(f"{dots[r]:.5g}") == float(value) for r in dots)
        hidden = len(dots) - len(tip["rows"])  # the rest are counted, not dropped silently
        assert tip["more"] == (f"+{hidden} more: click legend entries to isolate runs" if hidden else None)
    page.screenshot(path=str(ARTIFACTS / "charts-curves-hover-list.png"))


def test_a_run_has_the_same_colour_on_curves_and_compare(server, page, all_runs):
    chosen = all_runs[5:8]
    open_page(page, _curves_url(server, chosen), "charts-curves-3-runs")
    vega_views(page, 1)
    on_curves = page.evaluate("(ids) => ids.map(id => window.__views[0].scale('color')(id))", chosen)
    query = urlencode([("project", "digits"), ("metrics", "val/acc"), *[("runs", r) for r in chosen]])
    open_page(page, f"{server.url}/compare?{query}", "charts-compare-3-runs")
    vega_views(page, 1)
    on_compare = page.evaluate("(ids) => ids.map(id => window.__views[0].scale('color')(id))", chosen)
    assert on_curves == on_compare and len(set(on_curves)) == 3
