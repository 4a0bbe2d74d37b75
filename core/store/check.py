"""Is the database whole? ``check_database`` reads every table to the end (DuckDB has no integrity pragma: a damaged
block shows only when it is read, as "Corrupt database file: computed checksum … does not match"), then checks
the links between tables and the schema version. ``salvage`` copies whatever can still be read into a new
database file, row group by row group, and mends the links, so a rider with a damaged file keeps everything
that is not in a damaged block (issue 16: a damaged database showed "Something went wrong" on every page)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb

from core.errors import StorageError
from core.store.db import (
    CHILDREN,
    LINKS,
    available_migrations,
    connect,
    database_bytes,
    database_file,
    integrity_problems,
    is_damage,
    schema_version,
    transaction,
)

log = logging.getLogger(__name__)

ROW_GROUP = 122_880  # DuckDB's rows per row group: the unit a damaged block takes with it


def _tables(cur) -> list[str]:
    return [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = "
        "current_database() AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_database(cur) -> dict:
    """{"ok", "db", "size_bytes", "schema_version", "known_schema_version", "tables": {name: {"rows", "ok",
    "error"}}, "damaged_tables", "integrity_problems", "seconds"}: every table read fully, batch by batch."""
    started = time.perf_counter()
    path = database_file(cur)
    report = {"db": str(path) if path else None, "size_bytes": database_bytes(path), "tables": {}, "damaged_tables": [],
              "integrity_problems": []}
    report["schema_version"] = schema_version(cur)
    report["known_schema_version"] = max(m.version for m in available_migrations())
    for table in _tables(cur):
        rows = 0
        try:
            for batch in cur.sql(f"SELECT * FROM {_q(table)}").to_arrow_reader(ROW_GROUP):  # noqa: S608
                rows += batch.num_rows
            report["tables"][table] = {"rows": rows, "ok": True, "error": None}
        except (duckdb.Error, OSError) as exc:  # through Arrow a damaged block is an OSError
            report["tables"][table] = {"rows": rows, "ok": False, "error": str(exc).splitlines()[0][:200]}
            report["damaged_tables"].append(table)
    if not report["damaged_tables"]:
        try:
            report["integrity_problems"] = integrity_problems(cur)
        except duckdb.Error as exc:
            report["integrity_problems"] = [f"the links could not be checked ({str(exc)[:120]})"]
    report["ok"] = (not report["damaged_tables"] and not report["integrity_problems"]
                    and report["schema_version"] == report["known_schema_version"])
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report



def salvage(cur, target: Path) -> dict:
    """Copy every readable row group of every table into a new database ``target`` (same schema), then mend the
    links: rows that mean nothing without a lost parent are removed, optional links to a lost row cleared, and the
    id sequences moved past the copied ids. Returns {"file", "tables": {name: {"copied", "lost_row_groups"}},
    "removed_orphans", "cleared_links"}. Never writes to the damaged database."""
    target = Path(target).expanduser()
    if target.exists():
        raise StorageError(f"{target} already exists; choose a new file name for the salvaged database")
    connect(target, migrate_schema=True).close()  # the schema this VeloCoach knows
    alias = "velocoach_salvage"
    cur.execute(f"ATTACH {_literal(target)} AS {alias} (READ_WRITE)")  # also from a read-only connection
    report: dict = {"file": str(target), "tables": {}, "removed_orphans": {}, "cleared_links": {}}
    try:
        wanted = set(_tables(cur)) & set(_attached_tables(cur, alias)) - {"schema_migrations"}
        for table in sorted(wanted):
            report["tables"][table] = _copy_table(cur, alias, table)
        _mend_links(cur, alias, report)
        _advance_sequences(cur, alias)
    finally:
        cur.execute(f"DETACH {alias}")
    log.info("salvaged %s into %s", database_file(cur), target)
    return report


def salvage_path(db_path: Path) -> Path:
    """A new file next to the database for what a salvage keeps: <name>-salvaged-<UTC time>.duckdb."""
    from datetime import UTC, datetime

    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}-salvaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.duckdb")


def _literal(path: Path) -> str:
    text = str(path)
    if "'" in text:
        raise StorageError(f"{path}: choose a file name without a quote")
    return "'" + text + "'"


def _attached_tables(cur, alias: str) -> list[str]:
    return [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'main' "
        "AND table_type = 'BASE TABLE'", [alias]).fetchall()]


def _copy_table(cur, alias: str, table: str) -> dict:
    source = {r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_catalog = "
                                        "current_database() AND table_name = ?", [table]).fetchall()}
    columns = [r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_catalog = ? "
                                         "AND table_name = ? ORDER BY ordinal_position", [alias, table]).fetchall()]
    names = ", ".join(_q(c) for c in columns if c in source)
    copied = lost = 0
    try:
        last = cur.execute(f"SELECT max(rowid) FROM {_q(table)}").fetchone()[0]  # noqa: S608
    except duckdb.Error:
        last = None
    if last is None:
        return {"copied": 0, "lost_row_groups": 0}
    for start in range(0, int(last) + 1, ROW_GROUP):
        try:
            with transaction(cur):
                count = cur.execute(
                    f"INSERT INTO {alias}.main.{_q(table)} ({names}) SELECT {names} FROM {_q(table)} "  # noqa: S608
                    "WHERE rowid >= ? AND rowid < ?", [start, start + ROW_GROUP]).fetchone()[0]
            copied += count
        except (duckdb.Error, OSError) as exc:
            if not is_damage(exc):
                raise
            lost += 1
    return {"copied": copied, "lost_row_groups": lost}


def _mend_links(cur, alias: str, report: dict) -> None:
    children = {(child, column) for _parent, kids in CHILDREN.items() for child, column in kids}
    owners = {(child, column) for child, column, _parent in LINKS}  # a row's owner: without it the row is nothing
    changed = True
    while changed:
        changed = False
        for child, column, parent in LINKS:
            where = (f"{_q(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {alias}.main.{_q(parent)} p "  # noqa: S608
                     f"WHERE p.id = {alias}.main.{_q(child)}.{_q(column)})")
            nullable = cur.execute("SELECT is_nullable FROM information_schema.columns WHERE table_catalog = ? AND "
                                   "table_name = ? AND column_name = ?", [alias, child, column]).fetchone()[0]
            with transaction(cur):
                if nullable == "YES" and (child, column) not in children:
                    count = cur.execute(f"UPDATE {alias}.main.{_q(child)} SET {_q(column)} = NULL "  # noqa: S608
                                        f"WHERE {where}").fetchone()[0]
                    key = "cleared_links"
                else:
                    count = cur.execute(f"DELETE FROM {alias}.main.{_q(child)} WHERE {where}").fetchone()[0]  # noqa: S608
                    key = "removed_orphans"
            if count:
                name = f"{child}.{column}" if key == "cleared_links" else child
                report[key][name] = report[key].get(name, 0) + count
                changed = changed or (child, column) in owners


def _advance_sequences(cur, alias: str) -> None:
    """Copied ids keep their values: each table's sequence must hand out ids after the highest one."""
    rows = cur.execute("SELECT table_name, column_default FROM information_schema.columns WHERE table_catalog = ? AND "
                       "column_name = 'id' AND column_default LIKE 'nextval(%'", [alias]).fetchall()
    for table, default in rows:
        sequence = default.split("'")[1]
        highest = cur.execute(f"SELECT coalesce(max(id), 0) FROM {alias}.main.{_q(table)}").fetchone()[0]  # noqa: S608
        if highest:
            cur.execute(f"SELECT max(nextval('{alias}.main.{sequence}')) FROM range(?)", [highest])  # noqa: S608
