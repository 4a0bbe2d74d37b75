"""VeloCoach entry point: `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="VeloCoach", page_icon="🚴", layout="wide")

PAGES = [
    st.Page("pages/dashboard.py", title="Dashboard", icon="📈", url_path="dashboard"),  # the first page is the default
    st.Page("pages/compare.py", title="Compare", icon="⚖️", url_path="compare"),
    st.Page("pages/rides.py", title="Rides", icon="🚴", url_path="rides"),
    st.Page("pages/routes.py", title="Routes", icon="🗺️", url_path="routes"),
    st.Page("pages/garmin.py", title="Garmin sync", icon="🔄", url_path="garmin"),
    st.Page("pages/coach.py", title="Coach", icon="🧠", url_path="coach"),
    st.Page("pages/settings.py", title="Settings", icon="⚙️", url_path="settings"),
]

st.navigation(PAGES).run()
