"""The script ``tracklib ui`` hands to ``streamlit run`` (works from any installed copy)."""

from tracklib.dashboard.app import main

main()
