"""The dashboard's Publish (beside Snapshot): stores the view's file in the store and shows
where, for users allowed to write; nothing to click where the operator switched writes off."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tracklib.dashboard.tables import names_of

from seed import APP, seed_store
from snapshot_html import Document

LEADERBOARD = "tracklib/dashboard/views/leaderboard.py"


@pytest.fixture(scope="module")
def own_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("publish-button") / "store")
    seed_store(root)
    return root


@pytest.fixture
def leaderboard(own_root, monkeypatch) -> AppTest:
    monkeypatch.setenv("TRACKLIB_ROOT", own_root)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"project": "digits", "metric": "val/acc", "top": "3"})
    return app


def publish_buttons(app: AppTest) -> list:
    return [b for b in app.button if b.label == "Publish snapshot"]


def test_publish_stores_the_view_and_shows_where(leaderboard, own_root):
    app = leaderboard.switch_page(LEADERBOARD).run()
    assert not app.exception
    names = names_of(app.dataframe[0].value["name"])
    (button,) = publish_buttons(app)
    app = button.click().run()
    assert not app.exception and not app.error
    shown = [code.value for code in app.code]
    stored = sorted((Path(own_root) / "snapshots" / "project=digits").glob("*.html"))
    assert len(stored) == 1 and str(stored[0]) in shown  # the path, in a copyable code block
    document = Document(stored[0].read_text(encoding="utf-8"))
    assert [row[1] for row in document.body_rows] == names == ["rmsprop", "adam-fast", "adam-slow"]


def test_no_publish_where_dashboard_writes_are_off(leaderboard, monkeypatch):
    monkeypatch.setenv("TRACKLIB_DASHBOARD_WRITES", "0")
    app = leaderboard.switch_page(LEADERBOARD).run()
    assert not app.exception
    assert app.dataframe and not publish_buttons(app)
    assert [b.label for b in app.get("download_button")].count("Snapshot") == 1
