"""A snapshot of the 49-run demo opened from disk in Chromium with every network request
blocked: the table, the charts (lines, a legend entry per run) and their tooltips all work,
and nothing in it is fetched or run from a run record."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import unquote

import pandas as pd
import pytest

import tracklib
from tracklib.analysis import curves
from tracklib.dashboard import colors, line_charts, snapshot

from browser_support import ARTIFACTS

pytestmark = pytest.mark.e2e

PROJECT = "digits"
METRICS = ["val/acc", "train/loss"]
# Not in the store: a row a hostile run record could bring, to show it stays text in a browser.
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'

# Items of one view's scenegraph by role or mark type: how many, and how many runs they name.
COUNT = """([id, role]) => {
  let items = 0; const runs = new Set();
  (function walk(node) {
    for (const item of node.items || []) {
      if (node.role === role || node.marktype === role) {
        items += 1;
        const d = item.datum || {};
        const run = d.run_id ?? d.value;
        if (run !== undefined) runs.add(run);
      }
      for (const child of item.items || []) walk(child);
    }
  })(window.tracklibViews[id].scenegraph().root);
  return {items, runs: runs.size};
}"""


def _leaderboard(store: tracklib.Store) -> pd.DataFrame:
    """What the Leaderboard shows: rank, name, status, the params and the metric."""
    board = store.leaderboard(PROJECT, "val/acc", "last")
    params = [c for c in board.columns if c.startswith("params.")]
    return board[["rank", "name", "status", *params, "metrics.val/acc"]]


def _chart(store: tracklib.Store, runs: pd.DataFrame, metric: str):
    """The Curves page's chart of one metric for every run (as tracklib.dashboard.views.curves),
    the best run named like a hostile record would name it (in the legend and the hover list)."""
    history = store.history(PROJECT, run_ids=list(runs["run_id"]), keys=[metric], max_points=500)
    points = curves.with_relative(history, runs)
    names = dict(zip(runs["run_id"], runs["name"], strict=False))
    names[store.leaderboard(PROJECT, "val/acc", "last")["run_id"].iloc[0]] = HOSTILE_NAME
    chart = line_charts.curves(points, metric, "step", False, 0.0, colors.run_colors(runs), names)
    return chart, history["run_id"].nunique()


DESCRIPTION = f"{PROJECT} · last of val/acc, highest first · data as of 2026-12-01 21:30 UTC"


@pytest.fixture(scope="module")
def snapshot_file(e2e_store, tmp_path_factory):
    root, _ = e2e_store
    store = tracklib.open_store(root)
    runs = store.runs(PROJECT)
    table = _leaderboard(store)
    table = pd.concat([table, pd.DataFrame({"rank": [len(table) + 1], "name": [HOSTILE_NAME]})])
    charts, series = zip(*(_chart(store, runs, metric) for metric in METRICS), strict=True)
    shot = snapshot.Snapshot(
        title="Leaderboard",
        description=DESCRIPTION,
        table=table,
        charts=list(charts),
        source_link="http://127.0.0.1:8501/leaderboard?project=digits",
        made_at=datetime(2026, 12, 1, 21, 30, tzinfo=UTC),
    )
    path = tmp_path_factory.mktemp("snapshot") / "leaderboard.html"
    path.write_text(snapshot.to_html(shot), encoding="utf-8")
    return path, table, list(series)


def test_a_snapshot_opened_from_disk_with_no_network_shows_everything(browser, snapshot_file):
    path, table, series = snapshot_file
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith("file:") else outside.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route("**/*", lambda r: r.abort() if not r.request.url.startswith("file:") else r.continue_())
    try:
        page.goto(path.as_uri())
        page.wait_for_function(f"() => Object.keys(window.tracklibViews || {{}}).length === {len(METRICS)}")

        assert page.locator("h1").inner_text() == "Leaderboard"
        assert page.locator("p.description").inner_text() == DESCRIPTION
        assert "made at 2026-12-01 21:30:00 UTC" in page.locator("p.made").inner_text()
        assert (
            page.locator("p.made a").get_attribute("href")
            == "http://127.0.0.1:8501/leaderboard?project=digits"
        )

        rows = page.locator("table tbody tr")
        assert rows.count() == len(table) == 50
        first = rows.nth(0).locator("td")
        assert first.nth(1).inner_text() == table["name"].iloc[0]
        assert first.nth(first.count() - 1).inner_text() == snapshot.cell_text(
            table["metrics.val/acc"].iloc[0]
        )
        assert rows.nth(49).locator("td").nth(1).inner_text() == HOSTILE_NAME  # shown, not run
        assert page.evaluate("() => window.__pwned") is None
        assert page.locator("table img, table script").count() == 0
        with page.expect_download() as download:  # the CSV comes out of the file, offline
            page.locator("a[download]").click()
        assert download.value.suggested_filename == "Leaderboard-20261201T213000Z.csv"
        read = pd.read_csv(download.value.path())
        assert list(read["name"]) == list(table["name"]) and len(read.columns) == len(table.columns)

        for index, count in enumerate(series):
            chart = f"chart-{index}"
            assert page.locator(f"#{chart} canvas, #{chart} svg").count() >= 1
            legend = page.evaluate(COUNT, [chart, "legend-symbol"])
            assert legend == {"items": count, "runs": count} and count == 49
            lines = page.evaluate(COUNT, [chart, "line"])
            assert lines["runs"] == count  # a line per run, drawn

        page.evaluate("() => window.scrollTo(0, 0)")  # the download link was scrolled to
        box = page.locator("#chart-0 canvas").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 200)
        page.mouse.move(box["x"] + box["width"] * 0.5 + 3, box["y"] + 210)
        page.wait_for_selector("#vg-tooltip-element.visible", timeout=10_000)
        tip = page.locator("#vg-tooltip-element").inner_text()
        assert "step" in tip and "·" in tip  # the hover list: "run name · value" rows
        assert '<img src=x onerror="window.__pwned=1">' in tip  # the best run's name, as text (cut)
        assert page.locator("#vg-tooltip-element img, #vg-tooltip-element script").count() == 0
        assert page.evaluate("() => window.__pwned") is None
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "snapshot-offline.png"), full_page=True)

        assert errors == []
        assert outside == []  # not one request left the file
        assert dialogs == []
    finally:
        context.close()


def test_the_csv_inside_the_snapshot_is_the_table(snapshot_file):
    path, table, _ = snapshot_file
    document = path.read_text(encoding="utf-8")
    prefix = 'href="data:text/csv;charset=utf-8,'
    start = document.index(prefix) + len(prefix)
    csv = unquote(document[start : document.index('"', start)])
    read = pd.read_csv(io.StringIO(csv))
    assert list(read.columns) == list(table.columns)
    assert list(read["name"]) == list(table["name"])
    pd.testing.assert_series_equal(
        read["metrics.val/acc"], table["metrics.val/acc"].reset_index(drop=True), check_dtype=False
    )
