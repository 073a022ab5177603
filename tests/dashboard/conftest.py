"""AppTest fixtures: a seeded store with known runs, and the app pointed at it."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from seed import APP, seed_store


@pytest.fixture(scope="session")
def seeded_root(tmp_path_factory) -> tuple[str, dict[str, str]]:
    root = str(tmp_path_factory.mktemp("seeded") / "store")
    return root, seed_store(root)


@pytest.fixture
def app(seeded_root, monkeypatch):
    """An AppTest of the whole app over the seeded store; call ``.run()`` yourself."""
    monkeypatch.setenv("TRACKLIB_ROOT", seeded_root[0])
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=60)
