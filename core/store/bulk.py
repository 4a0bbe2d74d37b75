"""Bulk inserts into DuckDB from numpy arrays (ride samples, route points), never row by row.

The columns go to DuckDB as a dict of numpy arrays, which it scans in place: a masked value, or NaN in a float
column, becomes NULL. No pyarrow on this path: importing it alone is ~26 MiB of an import's memory (issue 17).
"""

from __future__ import annotations

import numpy as np


def nullable(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``values`` as a contiguous column, NULL where ``mask`` is True (a masked array only when something is)."""
    values = np.ascontiguousarray(values)
    if mask is None or not np.any(mask):
        return values
    return np.ma.masked_array(values, mask=np.asarray(mask, dtype=bool))


def insert_columns(cur, view: str, columns: dict[str, np.ndarray], sql: str, params: list | None = None) -> None:
    """Run ``sql`` (an INSERT … SELECT … FROM ``view``) over ``columns`` registered under ``view`` (a fixed name:
    registered views belong to this cursor's connection, so threads cannot clash). Registered by name rather than
    found by DuckDB's replacement scan: the scan calls back into Python while the query runs, and a Ctrl-C there
    (a forwarded command's cancel) became "table does not exist". DuckDB refuses register/unregister while the
    cursor holds a half-read result (a caller's ``fetchone()``), so that result is finished first."""
    cur.execute("SELECT 1").fetchall()
    cur.register(view, columns)
    try:
        cur.execute(sql, params or []).fetchall()
    finally:
        cur.unregister(view)
