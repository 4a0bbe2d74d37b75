"""The page script every browser session runs: page config, navigation over app_pages/, the app-level error guard.

app.py is the server (an st.App); Streamlit runs this file for each session and rerun. AppTest runs it too.
"""

import base64
import logging
import os
from pathlib import Path

import streamlit as st

import ui
from core.errors import DatabaseDamagedError, VeloCoachError
from core.store.db import is_damage
from core.views.text import md

log = logging.getLogger("velocoach")

# A local icon: a material icon as page_icon would be fetched from Google Fonts (the app must work offline). As a
# data: URL (661 bytes) Streamlit passes it on as it is; a file path costs a first page ~0.3 s of image decoding.
ICON = "data:image/png;base64," + base64.b64encode(
    (Path(__file__).parent / "static" / "velocoach-icon.png").read_bytes()).decode()
st.set_page_config(page_title="VeloCoach", page_icon=ICON, layout="wide")

# Page files live in app_pages/, not pages/: with a pages/ folder beside this script Streamlit 1.67 would run the
# first session in its legacy mode, where /<file name> runs a page file directly (no page config, no error guard).
# They are also named *_page.py so that no url_path equals a file name.
PAGES = [
    # The first page is the default and lives at "/": a url_path on it would only lead to "Page not found".
    st.Page("app_pages/dashboard_page.py", title="Dashboard", icon=":material/monitoring:"),
    st.Page("app_pages/rides_page.py", title="Rides", icon=":material/directions_bike:", url_path="rides"),
    st.Page("app_pages/ride_page.py", title="Ride", icon=":material/pedal_bike:", url_path="ride"),
    st.Page("app_pages/power_page.py", title="Power", icon=":material/bolt:", url_path="power"),
    st.Page("app_pages/routes_page.py", title="Routes", icon=":material/route:", url_path="routes"),
    st.Page("app_pages/climbs_page.py", title="Climbs", icon=":material/landscape:", url_path="climbs"),
    st.Page("app_pages/compare_page.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("app_pages/coach_page.py", title="Coach", icon=":material/psychology:", url_path="coach"),
    st.Page("app_pages/plans_page.py", title="Plans", icon=":material/event_note:", url_path="plans"),
    st.Page("app_pages/garmin_page.py", title="Garmin sync", icon=":material/sync:", url_path="garmin"),
    st.Page("app_pages/settings_page.py", title="Settings", icon=":material/settings:", url_path="settings"),
    st.Page("app_pages/backup_page.py", title="Backup", icon=":material/save:", url_path="backup"),
    st.Page("app_pages/health_page.py", title="Health", icon=":material/health_and_safety:", url_path="health"),
]
# Feature flags (VELOCOACH_FEATURES) take whole pages out of the navigation; the log goes to the data folder.
FEATURE_OF_PAGE = {"garmin": "garmin_sync", "health": "health_page"}  # url_path -> flag
settings = ui.settings()
ui.setup_logging(settings)
PAGES = [p for p in PAGES if p.url_path not in FEATURE_OF_PAGE or settings.feature(FEATURE_OF_PAGE[p.url_path])]

page = st.navigation(PAGES)
ui.session_controls()
try:
    page.run()
except DatabaseDamagedError as exc:  # which file, what to do, and the way to save what can be read
    ui.show_damage(exc)
except VeloCoachError as exc:  # a page let one through: still the rider's sentence, never a traceback
    st.error(md(exc))
except Exception as exc:
    if os.environ.get("VELOCOACH_ENV") == "test" and not is_damage(exc):
        raise  # tests must see the real failure
    ui.show_unexpected(exc, f"showing the {page.title} page")
ui.finish_first_start()  # after the first page is drawn: the rest of the demo season, in the background
