"""The Snapshot button on Leaderboard, Curves and Sweeps over the 49-run demo: the file it
downloads opens from disk with every network request refused and shows the same rows and
charts as the page (the offline rendering itself is checked in test_snapshot_offline.py)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

import tracklib

from browser_support import ARTIFACTS, cell_texts, open_page

pytestmark = pytest.mark.e2e


def _download(page, tmp_path, name: str):
    button = page.get_by_role("button", name="Snapshot")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    path = tmp_path / f"{name}.html"
    info.value.save_as(path)
    return path


def _open_offline(context, path, shot: str):
    """The file in a new tab with every request but the file itself refused."""
    offline = context.new_page()
    refused: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith("file:"):
            request_route.continue_()
        else:
            refused.append(request_route.request.url)
            request_route.abort()

    offline.route("**/*", route)
    offline.goto(path.as_uri())
    offline.wait_for_function(
        "() => Object.keys(window.tracklibViews || {}).length > 0 || !document.querySelector('.chart')",
        timeout=60_000,
    )
    offline.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    return offline, refused


def test_leaderboard_snapshot_has_the_pages_rows_and_link(server, page, tmp_path):
    query = {"project": "digits", "metric": "val/acc", "agg": "max", "top": "30"}
    open_page(page, f"{server.url}/leaderboard?{urlencode(query)}", "snapshot-button-leaderboard")
    names = cell_texts(page, 1)  # rank, name, …
    path = _download(page, tmp_path, "leaderboard")
    offline, refused = _open_offline(page.context, path, "snapshot-button-leaderboard-file")
    rows = offline.locator("table tbody tr")
    assert rows.count() == 30 and refused == []
    file_names = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert file_names[: len(names)] == names[: len(file_names)]
    text = offline.locator("body").inner_text()
    assert "max of val/acc, highest first" in text and "metric=val%2Facc" in offline.content()
    offline.close()


def test_curves_and_sweeps_snapshots_draw_every_chart_offline(server, page, tmp_path, e2e_store):
    runs = tracklib.open_store(e2e_store[0]).runs("digits")["run_id"].tolist()
    query = urlencode({"project": "digits", "metrics": ["val/acc", "train/loss"]}, doseq=True)
    open_page(
        page,
        f"{server.url}/curves?{query}&" + urlencode([("runs", r) for r in runs]),
        "snapshot-button-curves",
    )
    offline, refused = _open_offline(
        page.context, _download(page, tmp_path, "curves"), "snapshot-button-curves-file"
    )
    offline.wait_for_function("() => Object.keys(window.tracklibViews).length === 2", timeout=60_000)
    drawn_charts = offline.locator(".chart canvas, .chart svg.marks").count()
    assert refused == [] and drawn_charts == 2
    offline.close()

    open_page(page, f"{server.url}/sweeps?project=digits&metric=val%2Facc", "snapshot-button-sweeps")
    drawn = page.locator('[data-testid="stVegaLiteChart"]').count()
    offline, refused = _open_offline(
        page.context, _download(page, tmp_path, "sweeps"), "snapshot-button-sweeps-file"
    )
    offline.wait_for_function(f"() => Object.keys(window.tracklibViews).length === {drawn}", timeout=60_000)
    assert refused == [] and offline.locator("table tbody tr").count() > 0
    offline.close()
