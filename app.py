"""VeloCoach entry point: `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="VeloCoach", page_icon="🚴", layout="wide")

PAGES = [
    st.Page("pages/dashboard.py", title="Dashboard", icon="📈", url_path="dashboard", default=True),
    st.Page("pages/compare.py", title="Compare", icon="⚖️", url_path="compare"),
    st.Page("pages/settings.py", title="Settings", icon="⚙️", url_path="settings"),
]

st.navigation(PAGES).run()
