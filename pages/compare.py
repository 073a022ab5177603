"""A shim, not the page: the compare page's body is tracklib/dashboard/views/compare.py.

Streamlit's multipage routing wants one file per page here: a cold deep link (a URL opened
straight at /compare?... before app.py has run in the server) runs this file directly, through
the legacy pages/ discovery. It runs the whole app, so the page still gets the shared frame
(sidebar, allow-listed store, checked link)."""

from tracklib.dashboard.app import main

main()
