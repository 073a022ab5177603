"""The dashboard: `streamlit run app.py` from a checkout (or `tracklib ui` from anywhere).

Every page's body is in tracklib/dashboard/views/. The files in pages/ are shims that run this
same app: Streamlit's multipage routing needs one file per page there so that a cold deep link
(a URL opened straight at /runs?...) still runs the shared frame."""

from tracklib.dashboard.app import main

main()
