"""A deep link opened before app.py has run lands here (Streamlit's legacy page discovery):
run the whole app, so the page still gets its frame. The page itself is in
tracklib/dashboard/views/, which is what `tracklib ui` serves after a plain install."""

from tracklib.dashboard.app import main

main()
