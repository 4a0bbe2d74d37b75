"""VeloCoach entry point: `streamlit run app.py` (or `python app.py`).

Streamlit finds the `app = st.App(...)` line below by reading this file (it must stay a literal module-level
assignment) and serves it with uvicorn, which imports this module once. The page script that every browser
session runs (page config, navigation, the error guard) is navigation.py; the gate, routes and lifespan are
in shell/. Add an internal API route with `shell.add_api_route(...)` and a background task with
`shell.add_lifespan_hook(...)` here, before `st.App`.
"""

import os

# pydantic scans every installed distribution's entry points for plugins when the first model is built; VeloCoach
# uses none (a rider's own PYDANTIC_DISABLE_PLUGINS still wins).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from core.access.private_files import set_owner_only_umask  # noqa: E402

set_owner_only_umask()  # before anything creates a file: the database and its .wal, backups, tokens are 0600

import sys  # noqa: E402
import threading  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402

import streamlit as st  # noqa: E402

from core.errors import VeloCoachError  # noqa: E402
from shell.server import Shell, exit_if_unsafe_start, send_writes_at_once  # noqa: E402
from shell.services import install_services  # noqa: E402

send_writes_at_once()  # before uvicorn accepts: Streamlit's socket leaves Nagle on (see its docstring)

try:
    shell = Shell()
except VeloCoachError as exc:  # a bad setting or an exposed password file: one sentence, no traceback
    sys.exit(f"VeloCoach cannot start: {exc}")
exit_if_unsafe_start(shell)
shell.configure_streamlit()
install_services(shell)  # the app's own connection: forwarded CLI commands, the background Garmin sync


def _warm_up() -> None:
    import ui

    ui.warm_up()


@asynccontextmanager
async def warm_up(_shell: Shell):
    """The first page's database and libraries, readied while the first browser loads Streamlit (ui.warm_up)."""
    threading.Thread(target=_warm_up, name="velocoach-warm-up", daemon=True).start()
    yield


shell.add_lifespan_hook(warm_up)

app = st.App("navigation.py", routes=shell.routes(), middleware=shell.middleware(), lifespan=shell.lifespan)

if __name__ == "__main__":
    app.run()
