"""The one non-page module that imports streamlit: cached connection, current athlete, error display."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.config import Settings, load_settings
from core.errors import VeloCoachError
from core.store.db import Database, connect, data_version
from core.views.text import md

log = logging.getLogger("velocoach.ui")


def settings() -> Settings:
    """Validated settings; a bad setting stops the page with a clear message."""
    try:
        return load_settings()
    except VeloCoachError as exc:
        st.error(md(exc))
        st.stop()


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    from core.setup import first_run

    db = connect(path)
    first_run(db, load_settings())
    return db


def database() -> Database:
    path = str(settings().db_path)
    try:
        with st.spinner("Opening the database (the first start builds the demo season)…"):
            return _database(path)
    except VeloCoachError as exc:
        st.error(md(exc))
        st.stop()


def cursor():
    """This thread's cursor on the process-wide connection."""
    return database().cursor()


def current_data_version() -> int:
    """Key for st.cache_data reads: bumped by every import or edit."""
    return data_version(cursor())


def athlete_id() -> int:
    """The athlete chosen in Settings (session state), else the first one."""
    from core.athletes import first_athlete_id

    chosen = st.session_state.get("athlete_id")
    if chosen is None:
        chosen = first_athlete_id(cursor())
        if chosen is None:
            st.info("No athlete yet: create one in Settings.")
            st.stop()
        st.session_state["athlete_id"] = chosen
    return chosen


@contextmanager
def friendly_errors(action: str) -> Iterator[None]:
    """Show a VeloCoachError as its message; anything unexpected is logged with context and shown briefly."""
    try:
        yield
    except VeloCoachError as exc:
        st.error(md(exc))
    except Exception:  # noqa: BLE001 — the rider never sees a traceback
        log.exception("unexpected error while %s", action)
        st.error(f"Something went wrong while {md(action)}. Nothing was changed; the details are in the app's "
                 "log.")


def session_controls() -> None:
    """With sign-in on: a Sign out link, and a reload of the page when the session ends, so the browser lands on
    the sign-in form instead of Streamlit's "Connection failed" when it next reconnects."""
    import streamlit.components.v1 as components

    from shell.gate import SESSION_COOKIE
    from shell.login import LOGOUT_PATH
    from shell.server import current_shell

    shell = current_shell()
    expires_at = shell.session_expiry(st.context.cookies.get(SESSION_COOKIE)) if shell is not None else None
    if expires_at is None:
        return
    # Markdown links open a new tab; this constant anchor signs out in this one.
    st.sidebar.markdown(f'<a href="{LOGOUT_PATH}" target="_self">Sign out</a>', unsafe_allow_html=True)
    delay_ms = min(2**31 - 1, max(0, int((expires_at - time.time()) * 1000) + 1000))
    with st.sidebar:
        components.html(f"<script>setTimeout(function () {{ window.parent.location.reload(); }}, {delay_ms});"
                        "</script>", height=0)
