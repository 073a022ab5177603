"""The dashboard: `streamlit run app.py` from a checkout (or `tracklib ui` from anywhere)."""

from tracklib.dashboard.app import main

main()
