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
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.errors import ExportImportError, NotFoundError
from core.store.db import LINKS, schema_version

log = logging.getLogger(__name__)

FORMAT = "velocoach-backup"
FORMAT_VERSION = 2          # the newest this code reads
ZIP_FORMAT_VERSION = 1      # the ZIP layout never changed (its Parquet files are smaller since issue 16)
JSON_FORMAT_VERSION = 2     # 1: one object per row (old, large); 2: columnar chunks (core/store/backup_json.py)
MANIFEST = "manifest.json"
ROOT_TABLE = "athletes"
ATHLETE_VARIABLE = "velocoach_backup_athlete"  # SET VARIABLE: COPY … TO takes no parameters
# Rows in a table's natural order: Parquet's delta and byte-stream-split encodings then compress 2-3x better.
EXPORT_ORDER = {"ride_samples": "ride_id, t_s", "route_points": "route_id, seq", "ride_mmp": "ride_id, duration_s",
                "athlete_ftp_history": "athlete_id, effective_from", "ride_tags": "ride_id, tag_id",
                "plan_rules": "plan_id, rule_id"}

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
    max_json_value_bytes: int = 256 * 1024**2  # one value of a JSON backup (a chunk of rows), read at once


DEFAULT_LIMITS = Limits()


def work_dir(cur, purpose: str) -> Path:
    """A new owner-only folder for a backup's temporary files, next to the database (a system temp folder may be
    in memory, and bounded memory is the point); removed by the caller."""
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    folder = Path(row[0]).parent if row and row[0] else Path(tempfile.gettempdir())
    return Path(tempfile.mkdtemp(prefix=f".velocoach-{purpose}-", dir=folder))


def sql_path(path: Path) -> str:
    """A path of ours (a work_dir file) as an SQL string literal, for COPY … TO, which takes no parameters."""
    text = str(path)
    if "'" in text or "\x00" in text:
        raise ExportImportError(f"the folder {path.parent} has a quote in its name; move the database elsewhere")
    return "'" + text + "'"


def _fail(filename: str, reason: str) -> ExportImportError:
    return ExportImportError(f"{filename}: {reason}. Nothing was restored.")


def _check_manifest(manifest, filename: str, cur_schema: int | None = None) -> None:
    if not isinstance(manifest, dict):
        raise _fail(filename, "the backup's manifest is not a JSON object")
    if manifest.get("format") != FORMAT:
        raise _fail(filename, "this is not a VeloCoach backup (its format is "
                              f"{str(manifest.get('format'))[:40]!r}, expected {FORMAT!r})")
    version = manifest.get("format_version")
    if version is None:
        raise _fail(filename, "the backup does not say which format version it uses")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(filename, f"the backup's format version {str(version)[:20]!r} is not one VeloCoach knows")
    if version > FORMAT_VERSION:
        raise _fail(filename, f"the backup was made by a newer VeloCoach (backup format {version}; this version "
                              f"reads up to {FORMAT_VERSION}). Update VeloCoach to restore it")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise _fail(filename, "the backup does not say which database schema it was made with")
    if not isinstance(manifest.get("tables"), dict):
        raise _fail(filename, "the backup lists no tables")


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


def _selection(table: str, athlete: str = "?") -> tuple[str, list]:
    """A WHERE clause selecting ``table``'s rows that belong to the athlete ``athlete`` (an SQL expression: a
    parameter, or getvariable(ATHLETE_VARIABLE))."""
    if table == ROOT_TABLE:
        return f"id = {athlete}", []
    column, parent = owner_link(table)
    inner, params = _selection(parent, athlete)
    return f"{_q(column)} IN (SELECT id FROM {_q(parent)} WHERE {inner})", params  # noqa: S608 — live identifiers


def _export_select(cur, table: str, athlete_id: int, schema=None, *, athlete: str = "?") -> tuple[str, list]:
    columns = live_columns(cur, table, schema)
    cols = []
    for col in columns:
        if (table, col.name) in SCRUBBED_COLUMNS:
            cols.append(f"CAST(NULL AS {col.type}) AS {_q(col.name)}")
        else:
            cols.append(_q(col.name))
    where, _ = _selection(table, athlete)
    if any(c.name == "id" for c in columns):
        order = " ORDER BY id"
    else:
        order = f" ORDER BY {EXPORT_ORDER[table]}" if table in EXPORT_ORDER else ""
    sql = f"SELECT {', '.join(cols)} FROM {_q(table)} WHERE {where}{order}"  # noqa: S608 — live identifiers
    return sql, [athlete_id] if athlete == "?" else []


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


def _manifest_head(cur, format_version: int = ZIP_FORMAT_VERSION) -> dict:
    return {"format": FORMAT, "format_version": format_version, "schema_version": schema_version(cur),
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "app_version": _app_version()}


def _check_athlete(cur, athlete_id: int) -> str:
    row = cur.execute("SELECT name FROM athletes WHERE id = ?", [athlete_id]).fetchall()
    if not row:
        raise NotFoundError(f"Athlete #{athlete_id} was not found")
    return row[0][0]
