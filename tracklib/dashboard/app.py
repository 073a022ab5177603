"""The dashboard's one entry point: page config, navigation, the shared frame, the page.

Every script Streamlit may run — the top-level ``app.py``, each ``pages/<name>.py`` (which
Streamlit's legacy discovery runs directly for a cold deep link) and the packaged
``streamlit_app.py`` behind ``tracklib ui`` — calls ``main()``, so no page ever renders
without its frame (sidebar, allow-listed store, project).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tracklib.dashboard import access

PAGES = {  # url path -> (title, icon)
    "overview": ("Overview", ":material/dashboard:"),
    "runs": ("Runs", ":material/table_rows:"),
    "leaderboard": ("Leaderboard", ":material/leaderboard:"),
    "curves": ("Curves", ":material/show_chart:"),
    "sweeps": ("Sweeps", ":material/tune:"),
    "compare": ("Compare", ":material/compare_arrows:"),
    "run": ("Run", ":material/science:"),
}
DEFAULT_PAGE = "overview"


VIEWS = Path(__file__).resolve().parent / "views"


def page(name: str) -> st.Page:
    """The ``st.Page`` for ``name`` (equal to the registered one: pages are keyed by url path)."""
    title, icon = PAGES[name]
    return st.Page(VIEWS / f"{name}.py", title=title, icon=icon, url_path=name, default=name == DEFAULT_PAGE)


def main() -> None:
    embedded = st.context.is_embedded  # ?embed=true: a stakeholder view, no controls around it
    st.set_page_config(
        page_title="tracklib",
        page_icon=":material/monitoring:",
        layout="wide",
        initial_sidebar_state="collapsed" if embedded else "auto",
    )
    pages = [page(name) for name in PAGES]
    if not access.gate():  # sign-in on and nobody signed in yet: the sign-in screen, no page
        st.navigation(pages, position="hidden")
        return
    st.navigation(pages, position="hidden" if embedded else "sidebar").run()
