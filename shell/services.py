"""The app's work beyond browser sessions, wired into the Shell: its own database connection, command-line
commands forwarded to it (core.relay) and the background Garmin sync (core.garmin.schedule).

``install_services(shell)`` in app.py registers the API routes ``cli/run``, ``cli/poll``, ``cli/cancel`` and one
lifespan hook that opens the database at start (so the command line sees it held and forwards), starts the
scheduler when the ``background_sync`` feature is on, and at shutdown stops the scheduler, interrupts forwarded
commands still running (their transactions roll back) and closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from core.errors import VeloCoachError
from core.garmin.schedule import SyncScheduler
from core.relay.files import CHUNK_BYTES
from core.relay.server import CommandRelay
from core.store.shared import SharedDatabase

if TYPE_CHECKING:
    from shell.server import Shell

log = logging.getLogger("velocoach.shell.services")

# A forwarded command's answers carry file chunks (base64 of CHUNK_BYTES) besides the small JSON around them.
RELAY_BODY_BYTES = CHUNK_BYTES * 2


def install_services(shell: Shell) -> None:
    database = SharedDatabase(shell.settings.db_path)
    relay = CommandRelay(database.get, database.path)
    for name, handler in relay.routes().items():
        shell.add_api_route(name, handler, max_body_bytes=RELAY_BODY_BYTES)

    @asynccontextmanager
    async def app_services(shell: Shell) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(database.get)
        except VeloCoachError as exc:  # e.g. a command line holds it right now: opened on first use instead
            log.warning("the database is not open yet: %s", exc)
        settings = shell.settings
        scheduler = None
        if settings.feature("background_sync"):
            scheduler = SyncScheduler(database.get, check_every_s=settings.sync_check_s,
                                      files_dir=settings.files_dir).start()
        try:
            yield
        finally:
            if scheduler is not None:
                await asyncio.to_thread(scheduler.stop)
            await asyncio.to_thread(relay.close)
            await asyncio.to_thread(database.close)

    shell.add_lifespan_hook(app_services)
