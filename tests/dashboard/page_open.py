"""Open one dashboard page in AppTest over a given store, as a shared link would."""

from __future__ import annotations

import streamlit as st
from streamlit.testing.v1 import AppTest

from seed import APP

VIEWS = "tracklib/dashboard/views"


def open_page(root: str, monkeypatch, page: str, project: str = "digits", **params) -> AppTest:
    """``page``: a view's name (``"run"``) or its path; ``params``: the link's other keys."""
    monkeypatch.setenv("TRACKLIB_ROOT", root)
    monkeypatch.delenv("TRACKLIB_ROOTS", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"project": project, **params})
    at.switch_page(page if page.endswith(".py") else f"{VIEWS}/{page}.py")
    return at.run()
