"""In a browser: a project judged by ``loss/value`` ranks lowest first on the Leaderboard,
says so next to the metric, and its settings can be saved from the sidebar."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Server, start_streamlit, stop

import tracklib

from browser_support import cell_texts, open_page

RUNS = 45


@pytest.fixture(scope="module")
def lossy_server(tmp_path_factory) -> Iterator[Server]:
    root = str(tmp_path_factory.mktemp("lossy") / "store")
    for i in range(RUNS):
        params = {"lr": 10 ** -(1 + i % 4), "depth": 2 + i % 5, "seed": i}
        with tracklib.init("lossy", root=root, name=f"run-{i:02d}", capture=False, params=params) as run:
            for step in range(5):
                run.log({"loss/value": 1.0 + i / 10 + (4 - step) * 0.1, "lr_now": 0.1})
    server = start_streamlit(root)
    yield server
    stop(server)


def test_leaderboard_ranks_a_loss_lowest_first_and_offers_to_save(lossy_server, page):
    open_page(page, f"{lossy_server.url}/leaderboard?project=lossy", "project_settings_leaderboard")
    assert page.get_by_text("lower is better", exact=True).first.is_visible()
    best = [float(v) for v in cell_texts(page, 2)[:5]]  # the "min loss/value" column
    assert best == sorted(best) and best[0] == pytest.approx(1.0)
    page.get_by_role("button", name="Project settings").click()
    page.get_by_role("button", name="Save for everyone").wait_for(timeout=30_000)
    page.screenshot(path=str(_artifact("project_settings_popover")), full_page=True)


def _artifact(name: str):
    from browser_support import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
