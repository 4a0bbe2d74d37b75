"""VeloCoach entry point: `streamlit run app.py` (or `python app.py`).

Streamlit finds the `app = st.App(...)` line below by reading this file (it must stay a literal module-level
assignment) and serves it with uvicorn, which imports this module once. The page script that every browser
session runs (page config, navigation, the error guard) is navigation.py; the gate, routes and lifespan are
in shell/. Add an internal API route with `shell.add_api_route(...)` and a background task with
`shell.add_lifespan_hook(...)` here, before `st.App`.
"""

from core.access.private_files import set_owner_only_umask

set_owner_only_umask()  # before anything creates a file: the database and its .wal, backups, tokens are 0600

import sys  # noqa: E402

import streamlit as st  # noqa: E402

from core.errors import VeloCoachError  # noqa: E402
from shell.server import Shell, exit_if_unsafe_start  # noqa: E402
from shell.services import install_services  # noqa: E402

try:
    shell = Shell()
except VeloCoachError as exc:  # a bad setting or an exposed password file: one sentence, no traceback
    sys.exit(f"VeloCoach cannot start: {exc}")
exit_if_unsafe_start(shell)
shell.configure_streamlit()
install_services(shell)  # the app's own connection: forwarded CLI commands, the background Garmin sync

app = st.App("navigation.py", routes=shell.routes(), middleware=shell.middleware(), lifespan=shell.lifespan)

if __name__ == "__main__":
    app.run()
