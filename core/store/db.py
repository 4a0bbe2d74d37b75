"""DuckDB storage: one connection per process, a cursor per thread, numbered plain-SQL migrations.

Usage::

    db = connect(path)              # opens (creating if needed) and migrates
    cur = db.cursor()               # this thread's cursor; Streamlit sessions are threads
    with transaction(cur):          # explicit BEGIN/COMMIT, ROLLBACK on any exception
        cur.execute("INSERT ...", [params])
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from core.errors import DatabaseLockedError, DatabaseTooNewError, NotFoundError, StorageError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

# Children that mean nothing without their parent, deleted with it in the same transaction
# (see 001_initial.sql for why these links are not declared FOREIGN KEYs).
CHILDREN: dict[str, list[tuple[str, str]]] = {
    "routes": [("route_points", "route_id"), ("sections", "route_id")],
    "rides": [("ride_samples", "ride_id"), ("ride_tags", "ride_id"), ("analyses", "ride_id"), ("ride_mmp", "ride_id")],
    "plans": [("planned_workouts", "plan_id"), ("plan_rules", "plan_id")],
    "tags": [("ride_tags", "tag_id")],
    "garmin_accounts": [("sync_log", "account_id"), ("garmin_workouts", "account_id")],
}

# Every link: (child table, column, parent table). NULL links are allowed where the column is nullable.
LINKS: list[tuple[str, str, str]] = [
    ("athlete_ftp_history", "athlete_id", "athletes"),
    ("routes", "athlete_id", "athletes"),
    ("route_points", "route_id", "routes"),
    ("sections", "route_id", "routes"),
    ("garmin_accounts", "athlete_id", "athletes"),
    ("sync_log", "account_id", "garmin_accounts"),
    ("garmin_workouts", "account_id", "garmin_accounts"),
    ("rides", "athlete_id", "athletes"),
    ("rides", "route_id", "routes"),
    ("rides", "duplicate_of", "rides"),
    ("ride_samples", "ride_id", "rides"),
    ("tags", "athlete_id", "athletes"),
    ("ride_tags", "ride_id", "rides"),
    ("ride_tags", "tag_id", "tags"),
    ("rules", "athlete_id", "athletes"),
    ("rules", "parent_rule_id", "rules"),
    ("plans", "athlete_id", "athletes"),
    ("plans", "parent_plan_id", "plans"),
    ("plan_rules", "plan_id", "plans"),
    ("plan_rules", "rule_id", "rules"),
    ("planned_workouts", "plan_id", "plans"),
    ("planned_workouts", "completed_ride_id", "rides"),
    ("analyses", "ride_id", "rides"),
    ("analyses", "plan_id", "plans"),
    ("ride_mmp", "ride_id", "rides"),
    ("ftp_proposals", "athlete_id", "athletes"),
]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise StorageError(f"Migration file {path.name} is not named NNN_name.sql")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise StorageError("Two migration files share a number")
    return migrations


def _looks_like_duckdb(path: Path) -> bool:
    """DuckDB files carry the magic bytes 'DUCK' at offset 8."""
    with path.open("rb") as handle:
        header = handle.read(12)
    return len(header) == 12 and header[8:12] == b"DUCK"


@dataclass
class Database:
    """One DuckDB connection for the process; ``cursor()`` gives each thread its own cursor."""

    path: Path
    connection: duckdb.DuckDBPyConnection
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self.connection.cursor()
            self._local.cursor = cur
        return cur

    def close(self) -> None:
        self.connection.close()


def connect(path: str | Path, *, migrate_schema: bool = True, read_only: bool = False) -> Database:
    """Open the database file (creating it and its folder if missing) and apply pending migrations.

    Refuses, without touching it, a file that is not a DuckDB database, and a database newer than this code.
    """
    path = Path(path).expanduser()
    if path.exists():
        if path.is_dir():
            raise StorageError(f"{path} is a folder, not a database file")
        if path.stat().st_size > 0 and not _looks_like_duckdb(path):
            raise StorageError(
                f"{path} is not a VeloCoach (DuckDB) database; it was left untouched. "
                "Choose another file with --db or VELOCOACH_DB."
            )
    elif read_only:
        raise StorageError(f"There is no database at {path}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLockedError(
                f"The database {path} is in use by another VeloCoach process (probably the running app). "
                "Stop that process, or point --db / VELOCOACH_DB at another file."
            ) from None
        raise StorageError(f"The database {path} cannot be opened: {exc}") from None
    except duckdb.Error as exc:
        raise StorageError(f"The database {path} cannot be opened: {exc}") from None
    db = Database(path, connection)
    try:
        if migrate_schema and not read_only:
            migrate(db.connection)
        else:
            check_version(db.connection)
    except Exception:
        connection.close()
        raise
    return db


def _applied_versions(cur: duckdb.DuckDBPyConnection) -> list[int]:
    exists = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()[0]
    if not exists:
        return []
    return [row[0] for row in cur.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]


def schema_version(cur: duckdb.DuckDBPyConnection) -> int:
    applied = _applied_versions(cur)
    return max(applied) if applied else 0


def check_version(cur: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> None:
    migrations = available_migrations() if migrations is None else migrations
    known = max((m.version for m in migrations), default=0)
    current = schema_version(cur)
    if current > known:
        raise DatabaseTooNewError(
            f"This database was written by a newer VeloCoach (schema {current}; this version knows up to "
            f"{known}). Update VeloCoach; the database was left untouched."
        )


def migrate(cur: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations in order, each in its own transaction. Returns the versions applied."""
    migrations = available_migrations() if migrations is None else migrations
    check_version(cur, migrations)
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    done = set(_applied_versions(cur))
    applied = []
    for migration in migrations:
        if migration.version in done:
            continue
        try:
            with transaction(cur):
                cur.execute(migration.sql)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    [migration.version, migration.name],
                )
        except duckdb.Error as exc:
            raise StorageError(f"Migration {migration.name} failed: {exc}") from None
        log.info("applied migration %s", migration.name)
        applied.append(migration.version)
    return applied


@contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT; ROLLBACK and re-raise on any exception, so a failure leaves nothing behind.

    Nested use joins the outer transaction (the outermost block commits)."""
    if id(cur) in _TX_OPEN:
        yield cur
        return
    cur.execute("BEGIN TRANSACTION")
    _TX_OPEN.add(id(cur))
    try:
        yield cur
    except BaseException:
        _TX_OPEN.discard(id(cur))
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            log.exception("rollback failed")
        raise
    else:
        _TX_OPEN.discard(id(cur))
        try:
            cur.execute("COMMIT")
        except duckdb.Error as exc:
            raise StorageError(f"Saving failed; nothing was changed ({exc})") from None


# ids of cursors inside transaction(); DuckDB cursors take no attributes and expose no "in transaction" flag.
_TX_OPEN: set[int] = set()


def like_pattern(text: str) -> str:
    """'%text%' for ``ILIKE ? ESCAPE '\\'`` with the rider's %, _ and \\ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def bump_data_version(cur: duckdb.DuckDBPyConnection) -> None:
    """Mark that aggregates changed (imports, edits, deletes); cached page reads key on data_version()."""
    cur.execute("UPDATE data_version SET version = version + 1 WHERE id = 1")


def data_version(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT version FROM data_version WHERE id = 1").fetchone()[0]


def audit(cur, action: str, entity: str, entity_id: int | None, athlete_id: int | None = None, **detail) -> None:
    """Append to audit_log. Never pass secrets in detail."""
    cur.execute(
        "INSERT INTO audit_log (athlete_id, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?)",
        [athlete_id, action, entity, entity_id, json.dumps(detail, default=str)],
    )


def delete_with_children(cur: duckdb.DuckDBPyConnection, table: str, ids: list[int]) -> int:
    """Delete rows of ``table`` and, recursively, the child rows that mean nothing alone. Call inside
    transaction(). Returns the number of parent rows deleted."""
    if table not in CHILDREN and table not in {t for _, _, t in LINKS}:
        raise StorageError(f"unknown table {table}")
    if not ids:
        return 0
    for child, column in CHILDREN.get(table, []):
        if child in CHILDREN:
            child_ids = [r[0] for r in cur.execute(
                f"SELECT id FROM {child} WHERE {column} IN (SELECT unnest(?))", [ids]).fetchall()]  # noqa: S608 — identifiers from module constants
            delete_with_children(cur, child, child_ids)
        else:
            cur.execute(f"DELETE FROM {child} WHERE {column} IN (SELECT unnest(?))", [ids])  # noqa: S608 — identifiers from module constants
    before = cur.execute(f"SELECT count(*) FROM {table} WHERE id IN (SELECT unnest(?))", [ids]).fetchone()[0]  # noqa: S608 — identifiers from module constants
    cur.execute(f"DELETE FROM {table} WHERE id IN (SELECT unnest(?))", [ids])  # noqa: S608 — identifiers from module constants
    return before


def integrity_problems(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Every dangling link, as readable lines. Empty when the database is consistent."""
    problems = []
    for child, column, parent in LINKS:
        count = cur.execute(
            f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL "  # noqa: S608 — identifiers from module constants
            f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column})"
        ).fetchone()[0]
        if count:
            problems.append(f"{count} row(s) of {child}.{column} point at a missing {parent}")
    return problems


def table_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table: tests use it to prove a failed operation changed nothing."""
    names = [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database() AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
    return {name: cur.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608 — identifiers from module constants


def get_one(cur, sql: str, params: list, what: str) -> tuple:
    row = cur.execute(sql, params).fetchone()
    if row is None:
        raise NotFoundError(f"{what} was not found")
    return row
