"""The headline metric's direction on Overview, Leaderboard and Sweeps: guessed from every
word of its name (``loss/value`` ranks lowest first), and saved per project from the sidebar."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import tracklib
from tracklib.dashboard.tables import names_of

from seed import APP

VIEWS = "tracklib/dashboard/views"
LOSSES = {"low": (0.1, 0.001), "mid": (0.5, 0.01), "high": (0.9, 0.1)}  # name -> (loss/value, lr)


@pytest.fixture
def lossy_root(tmp_path, monkeypatch) -> str:
    """A project whose only metric is ``loss/value``: its last segment names nothing."""
    root = str(tmp_path / "store")
    for name, (loss, lr) in LOSSES.items():
        params = {"lr": lr, "depth": int(loss * 10)}
        with tracklib.init("lossy", root=root, name=name, capture=False, params=params) as run:
            for step in range(3):
                run.log({"loss/value": loss + 0.1 * (2 - step)})
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    return root


def _app(page: str | None = None) -> AppTest:
    """A fresh session, as a new visitor would open the page."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["project"] = "lossy"
    at.run()
    if page:
        at.switch_page(f"{VIEWS}/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_a_loss_ranks_lowest_first_by_default(lossy_root):
    overview = _app()
    best = overview.dataframe[0].value.set_index("project")
    assert names_of([best.loc["lossy", "run"]]) == ["low"]
    assert best.loc["lossy", "metric"] == "min loss/value"
    assert best.loc["lossy", "judged"] == "lower is better"

    board = _app("leaderboard")
    table = board.dataframe[0].value
    assert names_of(table["name"]) == ["low", "mid", "high"]
    assert {"params.lr", "params.depth"} <= set(table.columns)  # every varying param, unsaved
    assert "lower is better" in _captions(board)

    sweeps = _app("sweeps")
    assert "lower is better" in _captions(sweeps)


def test_saved_settings_rank_for_everyone_in_a_fresh_session(lossy_root):
    at = _app("leaderboard")
    at.segmented_control(key="settings_direction:lossy:loss/value").set_value("max")
    at.multiselect(key="settings_columns:lossy").set_value(["params.depth"])
    at.button(key="settings_save:lossy").click().run()
    assert not at.exception, at.exception
    saved = tracklib.open_store(lossy_root).settings("lossy")
    assert (saved.metric, saved.direction, saved.columns) == ("loss/value", "max", ("params.depth",))

    board = _app("leaderboard")
    table = board.dataframe[0].value
    assert names_of(table["name"]) == ["high", "mid", "low"]
    assert "params.depth" in table.columns and "params.lr" not in table.columns  # saved columns
    assert "higher is better (project setting)" in _captions(board)
    best = _app().dataframe[0].value.set_index("project")
    assert names_of([best.loc["lossy", "run"]]) == ["high"]
    runs_page = _app("runs")
    columns = runs_page.multiselect(key="columns").value
    assert "params.depth" in columns and "params.lr" not in columns  # the Runs page shows them too


def test_a_hostile_settings_file_falls_back_to_the_guess(lossy_root):
    from tracklib.storage import open_storage

    open_storage(lossy_root).write_bytes(
        "settings/project=lossy/01aaaaaaaaaaaaaaaaaaaaaaaa.parquet", b"<script>alert(1)</script>"
    )
    board = _app("leaderboard")
    assert names_of(board.dataframe[0].value["name"]) == ["low", "mid", "high"]


def test_saving_is_off_when_the_operator_says_so(lossy_root, monkeypatch):
    monkeypatch.setenv("TRACKLIB_DASHBOARD_WRITES", "0")
    at = _app("leaderboard")
    assert not [b for b in at.button if b.key == "settings_save:lossy"]
    assert any(
        "TRACKLIB\\_DASHBOARD\\_WRITES" in c or "TRACKLIB_DASHBOARD_WRITES" in c for c in _captions(at)
    )
