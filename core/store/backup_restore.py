"""Restore a validated backup in ONE transaction as a NEW athlete with fresh ids: a mapping temp table per table
(old id -> nextval of the table's own sequence), links rewritten through the mappings, bulk ``INSERT ... SELECT``.
Any failure rolls everything back. Rides already in the database (same source, account and external id) refuse
the restore with a message naming the athlete who has them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.errors import DuplicateError, ExportImportError
from core.store.backup_format import (
    DEFAULT_LIMITS,
    ROOT_TABLE,
    SCRUBBED_COLUMNS,
    Limits,
    _links_of,
    _q,
    backup_tables,
    live_columns,
    log,
)
from core.store.backup_validate import Backup, _fail, _id_column, _Registered, open_backup, read_backup
from core.store.db import audit, bump_data_version, database_file, transaction
from core.store.snapshots import snapshot

# -------------------------------------------------------------------------------------------------------- restore


@dataclass
class RestoreResult:
    athlete_id: int
    athlete_name: str
    rows: dict[str, int]
    filename: str

    def as_dict(self) -> dict:
        return {"athlete_id": self.athlete_id, "athlete": self.athlete_name, "rows": self.rows,
                "file": self.filename}


def restore_backup(cur, data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> RestoreResult:
    """Validate then restore a backup held in memory as a new athlete, in one transaction."""
    backup = read_backup(cur, data, filename, limits)
    try:
        return restore(cur, backup)
    finally:
        backup.close()


def restore_file(cur, path: Path, limits: Limits = DEFAULT_LIMITS) -> RestoreResult:
    """Validate then restore a backup file from disk (any size: bounded memory) as a new athlete."""
    backup = open_backup(cur, path, limits=limits)
    try:
        return restore(cur, backup)
    finally:
        backup.close()


def restore(cur, backup: Backup) -> RestoreResult:
    """Restore a validated backup as a new athlete, in one transaction, after a safety copy of the database."""
    snapshot(cur, database_file(cur), "restore")
    tables = backup_tables()
    maps: dict[str, str] = {}
    try:
        # Views are unregistered after the transaction ends (an aborted transaction accepts no statement); the
        # mapping temp tables are created inside it, so a rollback removes them and success drops them.
        with _Registered(cur, backup) as views, transaction(cur):
            for table in tables:
                id_col = _id_column(live_columns(cur, table, backup.schema))
                if id_col is None or backup.tables[table].num_rows == 0:
                    continue
                maps[table] = f"_backup_map_{table}"
                cur.execute(
                    f"CREATE TEMP TABLE {_q(maps[table])} AS SELECT CAST(id AS BIGINT) AS old_id, "  # noqa: S608
                    f"{id_col.default} AS new_id FROM {_q(views[table])}")
            _refuse_duplicate_rides(cur, backup, views, maps)
            rows = {table: _insert_table(cur, backup, table, views[table], maps) for table in tables}
            new_id = cur.execute(f"SELECT new_id FROM {_q(maps[ROOT_TABLE])}").fetchall()[0][0]  # noqa: S608
            name = cur.execute("SELECT name FROM athletes WHERE id = ?", [new_id]).fetchall()[0][0]
            for map_table in maps.values():
                cur.execute(f"DROP TABLE temp.main.{_q(map_table)}")
            audit(cur, "restore", "athlete", new_id, new_id, file=backup.filename[:200],
                  exported_at=backup.manifest.get("exported_at"), rows=rows)
            bump_data_version(cur)
    except (ExportImportError, DuplicateError):
        raise
    except duckdb.ConstraintException as exc:
        raise _fail(backup.filename, f"its data conflicts with data already in this database ({str(exc)[:160]})") \
            from None
    except duckdb.Error as exc:
        log.exception("restore of %s failed", backup.filename)
        raise _fail(backup.filename, f"the database refused it ({str(exc)[:160]})") from None
    log.info("restored %s as athlete %s", backup.filename, new_id)
    return RestoreResult(new_id, name, rows, backup.filename)


def _mapped(alias: str, column: str, parent: str, soft: bool, maps: dict[str, str], joins: list[str],
            view_alias: str = "s") -> str:
    src = f"CAST({view_alias}.{_q(column)} AS BIGINT)"
    if parent not in maps:
        return src if soft else "CAST(NULL AS BIGINT)"
    joins.append(f"LEFT JOIN {_q(maps[parent])} {alias} ON {alias}.old_id = {src}")
    return f"COALESCE({alias}.new_id, {src})" if soft else f"{alias}.new_id"


def _insert_table(cur, backup: Backup, table: str, view: str, maps: dict[str, str]) -> int:
    source = backup.tables[table]
    if source.num_rows == 0:
        return 0
    present = set(source.column_names)
    columns = live_columns(cur, table, backup.schema)
    id_col = _id_column(columns)
    links = {c: (p, soft) for c, p, soft in _links_of(table)}
    targets, exprs, joins = [], [], []
    for col in columns:
        if col.name not in present:
            continue  # the column's default applies
        if col is id_col:
            joins.append(f"JOIN {_q(maps[table])} m_id ON m_id.old_id = CAST(s.id AS BIGINT)")
            expr = "m_id.new_id"
        elif col.name in links:
            parent, soft = links[col.name]
            expr = _mapped(f"m_{len(joins)}", col.name, parent, soft, maps, joins)
        elif (table, col.name) in SCRUBBED_COLUMNS:
            expr = f"CAST(NULL AS {col.type})"
        else:
            expr = f"CAST(s.{_q(col.name)} AS {col.type})"
        targets.append(_q(col.name))
        exprs.append(expr)
    sql = (f"INSERT INTO {_q(table)} ({', '.join(targets)}) SELECT {', '.join(exprs)} "  # noqa: S608
           f"FROM {_q(view)} s {' '.join(joins)}")
    cur.execute(sql)
    return source.num_rows


def _refuse_duplicate_rides(cur, backup: Backup, views: dict[str, str], maps: dict[str, str]) -> None:
    rides = backup.tables.get("rides")
    if rides is None or rides.num_rows == 0 or not {"source", "external_id"} <= set(rides.column_names):
        return
    joins: list[str] = []
    account = "CAST(0 AS BIGINT)"
    if "account_id" in rides.column_names:
        account = _mapped("m_acc", "account_id", "garmin_accounts", True, maps, joins)
    row = cur.execute(
        f"SELECT count(*), min(r.athlete_id) FROM {_q(views['rides'])} s {' '.join(joins)} "  # noqa: S608
        f"JOIN rides r ON r.source = CAST(s.source AS VARCHAR) AND r.external_id = CAST(s.external_id AS VARCHAR) "
        f"AND r.account_id = {account}").fetchall()[0]
    if row[0]:
        holder = cur.execute("SELECT name FROM athletes WHERE id = ?", [row[1]]).fetchall()
        who = f"athlete #{row[1]} ({holder[0][0]})" if holder else f"athlete #{row[1]}"
        raise DuplicateError(
            f"{backup.filename}: {row[0]} of its {rides.num_rows} rides are already in this database, stored for "
            f"{who} — it was probably restored before. Rides are kept once per database; delete that athlete "
            "or restore into another database file. Nothing was restored.")
