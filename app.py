"""VeloCoach entry point: `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="VeloCoach", page_icon="🚴", layout="wide")

PAGES = [
    st.Page("pages/settings.py", title="Settings", icon="⚙️", url_path="settings"),
]

st.navigation(PAGES).run()
