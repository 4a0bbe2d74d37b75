"""VeloCoach entry point: `streamlit run app.py`."""

import logging
import os

import streamlit as st

from core.errors import VeloCoachError

log = logging.getLogger("velocoach")

st.set_page_config(page_title="VeloCoach", page_icon=":material/directions_bike:", layout="wide")

PAGES = [
    st.Page("pages/dashboard.py", title="Dashboard", icon=":material/monitoring:", url_path="dashboard"),  # the first page is the default
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/rides.py", title="Rides", icon=":material/directions_bike:", url_path="rides"),
    st.Page("pages/routes.py", title="Routes", icon=":material/route:", url_path="routes"),
    st.Page("pages/garmin.py", title="Garmin sync", icon=":material/sync:", url_path="garmin"),
    st.Page("pages/coach.py", title="Coach", icon=":material/psychology:", url_path="coach"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
    st.Page("pages/backup.py", title="Backup", icon=":material/save:", url_path="backup"),
]

page = st.navigation(PAGES)
try:
    page.run()
except VeloCoachError as exc:  # a page let one through: still the rider's sentence, never a traceback
    st.error(str(exc))
except Exception:
    if os.environ.get("VELOCOACH_ENV") == "test":
        raise  # tests must see the real failure
    log.exception("unexpected error on the %s page", page.title)
    st.error("Something went wrong on this page. The details are in the app's log; your data is unchanged.")
