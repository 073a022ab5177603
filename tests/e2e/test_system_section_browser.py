"""The Run page's System section in Chromium, in a copy of the 49-run demo plus one run that
sampled its machine every second: the section draws one small chart per system/* key."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import pytest

import tracklib

from browser_support import ARTIFACTS, open_page
from e2e.conftest import Server, start_streamlit, stop

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sampled(e2e_store, tmp_path_factory) -> Iterator[tuple[Server, str, int]]:
    root = str(tmp_path_factory.mktemp("system") / "store")
    shutil.copytree(e2e_store[0], root)
    with tracklib.init("digits", root=root, name="sampled-run", capture=False, system_metrics=1) as run:
        end, step = time.monotonic() + 3.5, 0
        while time.monotonic() < end:
            sum(i * i for i in range(5000))
            run.log({"train/loss": 1.0 / (step + 1), "val/acc": step / (step + 1)})
            step += 1
    server = start_streamlit(root)
    yield server, run.id, len(tracklib.open_store(root).runs("digits"))
    stop(server)


def test_the_system_section_draws_the_samples(sampled, page):
    server, run_id, runs = sampled
    assert runs >= 40
    open_page(page, f"{server.url}/run?project=digits&run={run_id}", "system-run-page")
    main = page.locator('[data-testid="stMain"]')
    heading = main.get_by_role("heading", name="System")
    heading.wait_for(timeout=30_000)
    charts = main.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() == 2  # Curves, then System
    system = charts.nth(1)
    system.locator("svg, canvas").first.wait_for(timeout=30_000)
    heading.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "system-section.png"))
    system.scroll_into_view_if_needed()
    system.screenshot(path=str(ARTIFACTS / "system-charts.png"))
    # three panels a row, none cut off at the main area's right edge
    drawn, room = system.bounding_box(), main.bounding_box()
    assert drawn["x"] + drawn["width"] <= room["x"] + room["width"]
