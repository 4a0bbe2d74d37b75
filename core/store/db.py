"""DuckDB storage: one connection per process, a cursor per thread, numbered plain-SQL migrations.

Usage::

    db = connect(path)              # opens (creating if needed) and migrates
    cur = db.cursor()               # this thread's cursor; Streamlit sessions are threads
    with transaction(cur):          # explicit BEGIN/COMMIT, ROLLBACK on any exception
        cur.execute("INSERT ...", [params])

Concurrency: DuckDB lets one process write a file, and inside it transactions are optimistic: two that touch the
same row at once make the second fail ("Conflict on update!"). So every ``transaction()`` of the process takes
one write lock (``WRITE_LOCK``): writers queue instead of failing, readers never wait. ``retrying(fn)`` runs a
whole operation again if a conflict still happens (a write outside ``transaction()``, another connection).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb

from core.answers import forget as forget_answers
from core.errors import (
    DatabaseDamagedError,
    DatabaseLockedError,
    DatabaseTooNewError,
    NotFoundError,
    StorageError,
    WriteConflictError,
)
from core.store.locks import WRITE_LOCK, WRITE_LOCK_TIMEOUT_S

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

# Children that mean nothing without their parent, deleted with it in the same transaction
# (see 001_initial.sql for why these links are not declared FOREIGN KEYs).
CHILDREN: dict[str, list[tuple[str, str]]] = {
    "routes": [("route_points", "route_id"), ("sections", "route_id")],
    "rides": [("ride_samples", "ride_id"), ("ride_tags", "ride_id"), ("analyses", "ride_id"), ("ride_mmp", "ride_id"),
              ("climb_efforts", "ride_id")],
    "climbs": [("climb_efforts", "climb_id")],
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
    ("climbs", "athlete_id", "athletes"),
    ("climbs", "route_id", "routes"),
    ("climbs", "ride_id", "rides"),
    ("climb_efforts", "climb_id", "climbs"),
    ("climb_efforts", "ride_id", "rides"),
]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    return [Migration(version, path.stem, path.read_text(encoding="utf-8"))
            for version, path in _migration_files(directory)]


def _migration_files(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """(version, file) of every migration, names checked; no file read (a start that migrates nothing reads no
    SQL)."""
    files = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise StorageError(f"Migration file {path.name} is not named NNN_name.sql")
        files.append((int(match.group(1)), path))
    versions = [version for version, _ in files]
    if len(set(versions)) != len(versions):
        raise StorageError("Two migration files share a number")
    return files


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

    def release_cursor(self) -> None:
        """Close this thread's cursor (a worker thread that is about to end)."""
        cur = getattr(self._local, "cursor", None)
        if cur is not None:
            self._local.cursor = None
            cur.close()

    def has_log(self) -> bool:
        """Whether DuckDB's write-ahead log is there: writes not yet checkpointed into the file (closing writes them
        and removes it; left there, the next start takes it for a killed run, see _recover)."""
        return wal_path(self.path).exists()

    def close(self) -> None:
        self.connection.close()
        with _CONNECTING:
            key = str(self.path.resolve())
            if _OPEN_HERE.get(key, 0) > 1:
                _OPEN_HERE[key] -= 1
            else:
                _OPEN_HERE.pop(key, None)


# Connections this process holds, per file. While there is one, the file's header is not read again: closing any
# descriptor of a file drops every POSIX lock the process holds on it, DuckDB's included, and another process
# could then open the database behind the app's back.
_OPEN_HERE: dict[str, int] = {}
_CONNECTING = threading.Lock()


def connect(path: str | Path, *, migrate_schema: bool = True, read_only: bool = False) -> Database:
    """Open the database file (creating it and its folder if missing) and apply pending migrations.

    Refuses, without touching it, a file that is not a DuckDB database, and a database newer than this code.
    """
    path = Path(path).expanduser()
    with _CONNECTING:
        connection, unclean = _open(path, read_only)
    db = Database(path, connection)
    try:
        if unclean:
            _recover(db.connection, path)
        applied = _applied_versions(db.connection)  # read once: every start pays it
        pending = _pending(db.connection, applied)
        if migrate_schema and not read_only and pending:
            if applied:  # an existing database: keep a copy first
                from core.store.snapshots import snapshot

                snapshot(db.connection, path, f"migration-{max(pending):03d}")
            migrate(db.connection)
        else:
            check_version(db.connection, applied=applied)
    except duckdb.Error as exc:
        db.close()
        if is_damage(exc):
            raise damaged(path, exc) from None
        raise StorageError(f"The database {path} cannot be opened: {exc}") from None
    except Exception:
        db.close()
        raise
    return db


def _open(path: Path, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """The DuckDB connection and whether the last run left the file unclean (its write-ahead log is there)."""
    key = str(path.resolve())
    if path.exists():
        if path.is_dir():
            raise StorageError(f"{path} is a folder, not a database file")
        if not _OPEN_HERE.get(key) and path.stat().st_size > 0 and not _looks_like_duckdb(path):
            raise StorageError(
                f"{path} is not a VeloCoach (DuckDB) database; it was left untouched. "
                "Choose another file with --db or VELOCOACH_DB. If it was your VeloCoach database, its first bytes "
                f"are damaged: restore your latest backup, or a safety copy from {path.parent / 'backups'}."
            )
    elif read_only:
        raise StorageError(f"There is no database at {path}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    unclean = not read_only and wal_path(path).exists()  # the last run did not close it
    try:
        connection = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLockedError(
                f"The database {path} is in use by another VeloCoach process (probably the running app). "
                "Stop that process, or point --db / VELOCOACH_DB at another file."
            ) from None
        if is_damage(exc):
            raise damaged(path, exc) from None
        raise StorageError(f"The database {path} cannot be opened: {exc}") from None
    except duckdb.Error as exc:
        if is_damage(exc):
            raise damaged(path, exc) from None
        raise StorageError(f"The database {path} cannot be opened: {exc}") from None
    _OPEN_HERE[key] = _OPEN_HERE.get(key, 0) + 1
    return connection, unclean


def _recover(cur: duckdb.DuckDBPyConnection, path: Path) -> None:
    """After a run that was killed: DuckDB has replayed its log, but the blocks a half-done write had taken stay
    in the file (a killed demo seeding left 24.6 MB with nothing in it); a CHECKPOINT gives them back (0.8 MB).
    Work folders a killed backup or restore left behind are removed."""
    import shutil

    before = path.stat().st_size
    if not checkpoint(cur):  # the file is open elsewhere in this process too: its log is no sign of a crash
        return
    stale = time.time() - 6 * 3600
    for folder in path.parent.glob(".velocoach-*-*"):
        if folder.is_dir() and folder.stat().st_mtime < stale:
            shutil.rmtree(folder, ignore_errors=True)
    if path.stat().st_size < before:
        log.warning("%s was not closed cleanly last time: recovered (%.1f MB -> %.1f MB)", path.name,
                    before / 1048576, path.stat().st_size / 1048576)


_DAMAGE = ("corrupt database file", "data corruption", "not a valid duckdb database file", "checksum",
           "database has been invalidated")


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error says the file is damaged (a block that fails its checksum, a broken header). Read
    through Arrow, DuckDB's error arrives as a plain OSError."""
    return isinstance(exc, duckdb.Error | OSError) and any(word in str(exc).lower() for word in _DAMAGE)


def damaged(path: Path | None, exc: BaseException | None = None) -> DatabaseDamagedError:
    """The rider's sentence for a damaged database: which file, and what to do."""
    where = f"The database {path}" if path else "The database"
    detail = f" ({str(exc).splitlines()[0][:120]})" if exc is not None else ""
    folder = Path(path).parent / "backups" if path else Path("backups")
    return DatabaseDamagedError(
        f"{where} is damaged: part of it cannot be read{detail}. Nothing more was written to it. "
        f"Save what can still be read (Backup page, or `python -m core check --salvage NEW_FILE`), then restore "
        f"your latest backup, or stop VeloCoach and copy a safety copy from {folder} over the file.")


LARGE_DELETE_ROWS = 100_000  # samples or points: a delete this large is followed by a checkpoint


def checkpoint(cur: duckdb.DuckDBPyConnection) -> bool:
    """Write everything to the file and give freed blocks back (after large deletes). False when another
    transaction prevents it now (DuckDB then checkpoints later on its own)."""
    try:
        cur.execute("CHECKPOINT")
        return True
    except duckdb.Error as exc:
        log.info("checkpoint postponed: %s", exc)
        return False


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log beside the database file: writes not yet checkpointed into it."""
    return path.with_name(path.name + ".wal")


def database_bytes(path: Path | None) -> int | None:
    """The database's size on disk, its write-ahead log included (None without a file)."""
    if path is None or not path.exists():
        return None
    wal = wal_path(path)
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def database_file(cur: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the database ``cur`` is connected to (None in memory)."""
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return Path(row[0]) if row and row[0] else None


def _applied_versions(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """The migrations applied to the database, in order; [] for a new file (the only one without the table, never
    read inside a transaction, where a failed statement would end it). Every start pays this: one plain query
    (a catalog query before it, or an ORDER BY, each cost a fresh process about as much again)."""
    try:
        rows = cur.execute("SELECT version FROM schema_migrations").fetchall()
    except duckdb.CatalogException:
        return []
    return sorted(row[0] for row in rows)


def schema_version(cur: duckdb.DuckDBPyConnection) -> int:
    applied = _applied_versions(cur)
    return max(applied) if applied else 0


def check_version(cur: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None, *,
                  applied: list[int] | None = None) -> None:
    versions = [v for v, _ in _migration_files()] if migrations is None else [m.version for m in migrations]
    known = max(versions, default=0)
    applied = _applied_versions(cur) if applied is None else applied
    current = max(applied) if applied else 0
    if current > known:
        raise DatabaseTooNewError(
            f"This database was written by a newer VeloCoach (schema {current}; this version knows up to "
            f"{known}). Update VeloCoach; the database was left untouched."
        )


def _pending(cur: duckdb.DuckDBPyConnection, applied: list[int] | None = None) -> list[int]:
    done = set(_applied_versions(cur) if applied is None else applied)
    return [version for version, _ in _migration_files() if version not in done]


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




def _is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


@contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT under the process's write lock; ROLLBACK and re-raise on any exception, so a failure leaves
    nothing behind. A write-write conflict is raised as WriteConflictError (``retrying`` runs the operation again).

    Nested use joins the outer transaction (the outermost block commits)."""
    if id(cur) in _TX_OPEN:
        yield cur
        return
    if not WRITE_LOCK.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
        raise StorageError("The database is busy with another long change (an import, a restore or a sync); "
                           "nothing was changed. Try again in a minute.")
    try:
        cur.execute("BEGIN TRANSACTION")
        _TX_OPEN.add(id(cur))
        try:
            yield cur
        except BaseException as exc:
            _TX_OPEN.discard(id(cur))
            try:
                cur.execute("ROLLBACK")
            except duckdb.Error:
                log.exception("rollback failed")
            if _is_conflict(exc):
                raise WriteConflictError("Another change touched the same data at the same moment; nothing was "
                                         "changed.") from exc
            if isinstance(exc, duckdb.IOException | duckdb.OutOfMemoryException):
                raise StorageError(f"Saving failed; nothing was changed ({_storage_reason(exc)})") from None
            raise
        else:
            _TX_OPEN.discard(id(cur))
            try:
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                if _is_conflict(exc):
                    raise WriteConflictError("Another change touched the same data at the same moment; nothing "
                                             "was changed.") from None
                raise StorageError(f"Saving failed; nothing was changed ({_storage_reason(exc)})") from None
    finally:
        WRITE_LOCK.release()


def _storage_reason(exc: BaseException) -> str:
    text = str(exc)
    if "No space left" in text or "File too large" in text:
        return f"the disk is full or the file may not grow: {text[-160:]}"
    if isinstance(exc, duckdb.OutOfMemoryException):
        return "not enough memory"
    return text[:240]


# ids of cursors inside transaction(); DuckDB cursors take no attributes and expose no "in transaction" flag.
_TX_OPEN: set[int] = set()

T = TypeVar("T")


def retrying(cur, operation: Callable[[], T], *, attempts: int = 3, pause_s: float = 0.05) -> T:
    """Run ``operation`` (a whole unit of work that opens its own transaction on ``cur``) again when it ends in a
    write conflict; the last conflict is raised. Inside an open transaction it runs once: the conflict must undo
    the outer unit, which its own caller may retry."""
    if id(cur) in _TX_OPEN:
        return operation()
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except WriteConflictError:
            if attempt == attempts:
                raise
            log.info("write conflict; trying again (%d/%d)", attempt, attempts - 1)
            time.sleep(pause_s * attempt)
    raise AssertionError("unreachable")


def like_pattern(text: str) -> str:
    """'%text%' for ``ILIKE ? ESCAPE '\\'`` with the rider's %, _ and \\ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def bump_data_version(cur: duckdb.DuckDBPyConnection) -> None:
    """Mark that aggregates changed (imports, edits, deletes); cached page reads key on data_version().

    An append, not an update of one shared row: concurrent writers never conflict on it (migration 007). The command
    line's kept answers of this database go too (core.answers): they would be missed anyway, but a deleted ride's
    figures should not wait on disk for the next command."""
    cur.execute("INSERT INTO data_changes DEFAULT VALUES")
    path = database_file(cur)
    if path is not None:
        forget_answers(path)


def data_version(cur: duckdb.DuckDBPyConnection) -> int:
    """A number that grows with every committed change of aggregated data (a cache key)."""
    return cur.execute("SELECT count(*) FROM data_changes").fetchone()[0]


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
    """Every dangling link, as readable lines. Empty when the database is consistent. One query for all the links
    (a query per link was ~35 round trips: the health page and every test's teardown run it)."""
    counts = " UNION ALL ".join(
        f"SELECT {i} AS link, count(*) AS n FROM {child} c WHERE c.{column} IS NOT NULL "  # noqa: S608 — constants
        f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column})"
        for i, (child, column, parent) in enumerate(LINKS))
    found = dict(cur.execute(f"SELECT link, n FROM ({counts}) WHERE n > 0").fetchall())  # noqa: S608 — constants
    return [f"{found[i]} row(s) of {child}.{column} point at a missing {parent}"
            for i, (child, column, parent) in enumerate(LINKS) if i in found]


def table_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table but the data_changes log (data_version() reads it): tests use it to prove a failed
    operation changed nothing."""
    names = [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database() AND table_type = 'BASE TABLE' AND table_name <> 'data_changes' "
        "ORDER BY 1").fetchall()]
    return {name: cur.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608 — identifiers from module constants


def get_one(cur, sql: str, params: list, what: str) -> tuple:
    row = cur.execute(sql, params).fetchone()
    if row is None:
        raise NotFoundError(f"{what} was not found")
    return row
