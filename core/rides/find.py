"""Finding one ride among thousands for a picker: by '#id', by date ('2025', '2025-03', '2025-03-14') or by name,
in SQL with a LIMIT (a picker never holds every ride).

Must never: write, or return a linked duplicate (a copy of a ride received twice).
"""

from __future__ import annotations

import re

from core.rides.store import LIST_COLUMNS
from core.store.db import like_pattern

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
PICKER_LIMIT = 50


def parse_query(query: str | None) -> tuple[str, object]:
    """('latest', None) | ('id', 118) | ('date', '2025-03') | ('text', '%loop%'), from what the rider typed."""
    text = (query or "").strip()[:200]
    if not text:
        return "latest", None
    if text.startswith("#"):
        digits = text[1:].strip()
        return ("id", int(digits)) if digits.isdigit() and len(digits) < 19 else ("text", like_pattern(text))
    if _DATE.match(text):
        return "date", text
    return "text", like_pattern(text)


def find_rides(cur, athlete_id: int, query: str | None = None, *, limit: int = PICKER_LIMIT) -> list[dict]:
    """Rides of the athlete matching ``query``, newest first, at most ``limit``: '#118' is ride 118 only; a bare
    number is that ride id or a name containing it; a date (or year, or month) the rides of that day (in the
    database's time zone, as the Rides filters); anything else a name containing it."""
    kind, value = parse_query(query)
    limit = max(1, min(int(limit), 500))
    cols = ", ".join(f"r.{c}" for c in LIST_COLUMNS)
    id_value = value if kind == "id" else None
    date_value = value if kind == "date" else None
    name_value = value if kind == "text" else None
    typed = (query or "").strip()
    bare_id = int(typed) if typed.isdigit() and len(typed) < 19 else None  # '118': ride 118 or a name with 118
    rows = cur.execute(
        f"SELECT {cols} FROM rides r WHERE r.athlete_id = ? AND r.duplicate_of IS NULL "  # noqa: S608 — constants
        "AND (? IS NULL OR r.id = ?) "
        "AND (? IS NULL OR strftime(CAST(r.started_at AS DATE), '%Y-%m-%d') LIKE ? || '%' OR r.id = ?) "
        "AND (? IS NULL OR r.name ILIKE ? ESCAPE '\\' OR r.id = ?) "
        "ORDER BY r.started_at DESC NULLS LAST, r.id DESC LIMIT ?",
        [athlete_id, id_value, id_value, date_value, date_value, bare_id, name_value, name_value, bare_id,
         limit]).fetchall()
    return [dict(zip(LIST_COLUMNS, row, strict=True)) for row in rows]
