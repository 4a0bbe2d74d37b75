"""The process's one write lock (see core.store.db): every ``transaction()`` and every safety copy takes it, so
writers queue instead of failing on DuckDB's optimistic concurrency, and a copy never sees half a write."""

from __future__ import annotations

import threading

# Re-entrant: nested blocks in one thread join.
WRITE_LOCK = threading.RLock()
WRITE_LOCK_TIMEOUT_S = 120.0
