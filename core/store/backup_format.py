"""Backups of one athlete (ZIP of Parquet files, or one JSON document) and GPX export of a ride or route.

What a backup holds: the athletes row and every table reachable from it through ``core.store.db.LINKS`` (FTP history,
routes with points and sections, rides with samples, tags, rules, plans with their rules and workouts, analyses,
Garmin account labels and sync log). Column lists come from the live schema (information_schema) and table links
from ``core.store.db.LINKS``, so a table added to the model with its links is backed up without touching this file.
Not in a backup: ai_cache, ai_calls, prompts and audit_log (machine-wide, not the athlete's), data_changes and
schema_migrations (bookkeeping). Secrets never enter one: the database holds none, and ``garmin_accounts.token_dir``
(where Garmin tokens live on this machine) is written as NULL, so a restored Garmin account must sign in again.

Restore is validated first (format, versions, ZIP member names and sizes, checksums, columns, types, NOT NULL,
unique ids, links inside the backup), then written in ONE transaction as a NEW athlete with fresh ids: a mapping
temp table (old id -> nextval of the table's own sequence) per table with ids, links rewritten through the
mappings, bulk ``INSERT ... SELECT`` per table. Any failure rolls everything back.

Restoring the same backup twice into one database: rides are stored once per database (the schema's
UNIQUE (source, account_id, external_id)), so a second restore of a backup whose rides are already present is
refused with a message naming the athlete who has them. A backup without rides restores as a second athlete."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.errors import ExportImportError, NotFoundError
from core.store.db import LINKS, schema_version

log = logging.getLogger(__name__)

FORMAT = "velocoach-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ROOT_TABLE = "athletes"

# Written as NULL: where this machine keeps Garmin tokens is no business of a backup (and useless elsewhere).
SCRUBBED_COLUMNS = {("garmin_accounts", "token_dir")}
# Links that use 0 for "none" and so cannot be listed in core.store.db.LINKS (integrity_problems would flag them):
# remapped when the target is in the backup, kept as they are otherwise.
SOFT_LINKS = [("rides", "account_id", "garmin_accounts")]


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile file from exhausting memory or disk (zip bombs, huge uploads)."""

    max_file_bytes: int = 2 * 1024**3          # the backup file itself
    max_total_bytes: int = 4 * 1024**3         # all members uncompressed, and all Parquet pages uncompressed
    max_ratio: float = 100.0                   # uncompressed / compressed for any member over 1 MiB
    max_manifest_bytes: int = 1024**2
    max_rows: int = 200_000_000                # all tables together


DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------------------------- the data model


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    default: str | None


def live_schema(cur) -> dict[str, list[Column]]:
    """Every table's columns in this database, in order (one information_schema query)."""
    rows = cur.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'main' "
        "ORDER BY table_name, ordinal_position").fetchall()
    schema: dict[str, list[Column]] = {}
    for table, name, dtype, nullable, default in rows:
        schema.setdefault(table, []).append(Column(name, dtype, nullable == "YES", default))
    return schema


def live_columns(cur, table: str, schema: dict[str, list[Column]] | None = None) -> list[Column]:
    columns = (schema if schema is not None else live_schema(cur)).get(table)
    if not columns:
        raise ExportImportError(f"the table {table} does not exist in this database")
    return columns


def backup_tables() -> list[str]:
    """athletes, then every table reachable from it through core.store.db.LINKS, in discovery order."""
    tables = [ROOT_TABLE]
    changed = True
    while changed:
        changed = False
        for child, _column, parent in LINKS:
            if parent in tables and child not in tables:
                tables.append(child)
                changed = True
    return tables


def owner_link(table: str) -> tuple[str, str]:
    """(column, parent) of the table's first link in core.store.db.LINKS: the one that says whose row it is."""
    for child, column, parent in LINKS:
        if child == table:
            return column, parent
    raise ExportImportError(f"the table {table} has no link to an athlete")


def _links_of(table: str) -> list[tuple[str, str, bool]]:
    """(column, parent, soft) for every link of ``table``."""
    links = [(c, p, False) for t, c, p in LINKS if t == table]
    links += [(c, p, True) for t, c, p in SOFT_LINKS if t == table]
    return links


def _q(name: str) -> str:
    """Quote an identifier taken from the live schema (never from a file: file names are checked against it)."""
    return '"' + name.replace('"', '""') + '"'


def _selection(table: str) -> tuple[str, list]:
    """A WHERE clause selecting ``table``'s rows that belong to athlete ``?`` (one parameter)."""
    if table == ROOT_TABLE:
        return "id = ?", []
    column, parent = owner_link(table)
    inner, params = _selection(parent)
    return f"{_q(column)} IN (SELECT id FROM {_q(parent)} WHERE {inner})", params  # noqa: S608 — live identifiers


def _export_select(cur, table: str, athlete_id: int, schema=None) -> tuple[str, list]:
    columns = live_columns(cur, table, schema)
    cols = []
    for col in columns:
        if (table, col.name) in SCRUBBED_COLUMNS:
            cols.append(f"CAST(NULL AS {col.type}) AS {_q(col.name)}")
        else:
            cols.append(_q(col.name))
    where, _ = _selection(table)
    order = " ORDER BY id" if any(c.name == "id" for c in columns) else ""
    sql = f"SELECT {', '.join(cols)} FROM {_q(table)} WHERE {where}{order}"  # noqa: S608 — live identifiers
    return sql, [athlete_id]


def _app_version() -> str:
    try:
        from importlib.metadata import version

        return version("velocoach")
    except Exception:  # noqa: BLE001 — not installed as a package: read pyproject.toml
        import tomllib

        try:
            path = Path(__file__).resolve().parent.parent / "pyproject.toml"
            return tomllib.loads(path.read_text(encoding="utf-8"))["project"]["version"]
        except Exception:  # noqa: BLE001
            return "unknown"


def _manifest_head(cur) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": schema_version(cur),
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "app_version": _app_version()}


def _check_athlete(cur, athlete_id: int) -> str:
    row = cur.execute("SELECT name FROM athletes WHERE id = ?", [athlete_id]).fetchall()
    if not row:
        raise NotFoundError(f"Athlete #{athlete_id} was not found")
    return row[0][0]
