"""The Streamlit dashboard. Only this package, ``app.py`` and ``pages/`` import streamlit."""
