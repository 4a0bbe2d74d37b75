"""The running app's own connection to its database, for work that is not a browser session: commands forwarded
from the command line and the background Garmin sync. Opened at start (so the command line finds the database
held and forwards), or on first use when that failed; every thread takes its own cursor; closed at shutdown.

Streamlit sessions open the same file through ui.py; DuckDB shares one database instance between connections of
one process, so both see the same data and the process's write lock (core.store.db.transaction) covers both.
"""

from __future__ import annotations

import threading
from pathlib import Path

from core.errors import StorageError
from core.store.db import Database, connect


class SharedDatabase:
    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        self._db: Database | None = None
        self._closed = False
        self._lock = threading.Lock()

    def get(self) -> Database:
        """The open database (opening it now if needed). Raises StorageError (e.g. DatabaseLockedError)."""
        with self._lock:
            if self._closed:
                raise StorageError("The app is stopping; nothing more is written.")
            if self._db is None:
                self._db = connect(self.path)
            return self._db

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._db is not None:
                self._db.close()
                self._db = None
