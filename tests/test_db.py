"""Storage: migrations, refusal of foreign or newer files, transactions, cascading deletes, integrity."""

from pathlib import Path

import duckdb
import pytest

from core.errors import DatabaseLockedError, DatabaseTooNewError, StorageError
from core.store.db import (
    Migration,
    available_migrations,
    connect,
    delete_with_children,
    integrity_problems,
    migrate,
    schema_version,
    table_counts,
    transaction,
)


def test_a_new_file_gets_every_migration_recorded(db_path):
    db = connect(db_path)
    cur = db.cursor()
    versions = [r[0] for r in cur.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    assert versions == [m.version for m in available_migrations()]
    assert {"athletes", "rides", "ride_samples", "routes", "route_points", "sections", "plans", "planned_workouts",
            "rules", "plan_rules", "analyses", "prompts", "ai_calls", "garmin_accounts", "sync_log", "tags",
            "ride_tags", "audit_log"} <= set(table_counts(cur))
    db.close()


def test_reconnecting_applies_nothing_twice(db_path):
    connect(db_path).close()
    db = connect(db_path)
    assert migrate(db.cursor()) == []
    assert db.cursor().execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(available_migrations())
    db.close()


def test_a_pending_migration_is_applied_on_connect(db_path, tmp_path):
    db = connect(db_path)
    extra = available_migrations() + [Migration(999, "999_probe", "CREATE TABLE probe (x INTEGER);")]
    assert migrate(db.cursor(), extra) == [999]
    assert schema_version(db.cursor()) == 999
    db.close()


def test_a_database_newer_than_the_code_is_refused_and_left_untouched(db_path):
    db = connect(db_path)
    db.cursor().execute("INSERT INTO schema_migrations (version, name) VALUES (998, '998_future')")
    db.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseTooNewError, match="newer VeloCoach"):
        connect(db_path)
    assert db_path.read_bytes() == before


def test_a_file_that_is_not_duckdb_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_bytes(b"SQLite format 3\x00 not ours at all" * 10)
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a VeloCoach"):
        connect(path)
    assert path.read_bytes() == before


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(StorageError, match="folder"):
        connect(tmp_path)


def test_a_locked_database_says_another_process_holds_it(db_path):
    import subprocess
    import sys

    connect(db_path).close()
    holder = subprocess.Popen([sys.executable, "-c",
                               f"import duckdb,sys,time; c=duckdb.connect({str(db_path)!r}); print('ok', flush=True);"
                               " sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseLockedError, match="in use by another VeloCoach process"):
            connect(db_path)
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_a_second_connection_in_this_process_keeps_the_file_locked_against_other_processes(db_path):
    """The app opens its database for forwarded commands and again for browser sessions; reading the header
    again (open + close) would drop DuckDB's POSIX lock and let a command line open the file behind its back."""
    import subprocess
    import sys

    first = connect(db_path)
    second = connect(db_path)
    second.close()
    try:
        other = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(db_path)!r})"],
                               capture_output=True, text=True, timeout=60)
        assert other.returncode != 0 and "lock" in other.stderr
    finally:
        first.close()
    bad = db_path.with_name("bad.duckdb")
    bad.write_text("not a database")
    with pytest.raises(StorageError, match="not a VeloCoach"):  # a file this process does not hold is checked
        connect(bad)


def test_a_failed_transaction_leaves_nothing_behind(cur):
    before = table_counts(cur)
    with pytest.raises(duckdb.Error):
        with transaction(cur):
            cur.execute("INSERT INTO athletes (name) VALUES ('ghost')")
            cur.execute("INSERT INTO athletes (name) VALUES (NULL)")  # NOT NULL violation
    assert table_counts(cur) == before


def test_nested_transactions_join_the_outer_one(cur):
    before = table_counts(cur)["athletes"]
    with pytest.raises(RuntimeError):
        with transaction(cur):
            with transaction(cur):
                cur.execute("INSERT INTO athletes (name) VALUES ('inner')")
            raise RuntimeError("outer fails after the inner block finished")
    assert table_counts(cur)["athletes"] == before


def test_deleting_a_route_takes_its_points_and_sections(cur, athlete_id):
    with transaction(cur):
        route_id = cur.execute("INSERT INTO routes (athlete_id, name, kind) VALUES (?, 'r', 'planned') RETURNING id",
                               [athlete_id]).fetchone()[0]
        cur.execute("INSERT INTO route_points VALUES (?, 0, 45.0, 6.0, 100, 0), (?, 1, 45.001, 6.0, 101, 111)",
                    [route_id, route_id])
        cur.execute("INSERT INTO sections (route_id, seq, kind, start_m, end_m, distance_m) "
                    "VALUES (?, 0, 'flat', 0, 111, 111)", [route_id])
    with transaction(cur):
        assert delete_with_children(cur, "routes", [route_id]) == 1
    counts = table_counts(cur)
    assert counts["routes"] == counts["route_points"] == counts["sections"] == 0


def test_integrity_check_reports_a_dangling_link(cur, athlete_id):
    cur.execute("INSERT INTO ride_samples (ride_id, t_s) VALUES (424242, 0)")
    assert integrity_problems(cur) == ["1 row(s) of ride_samples.ride_id point at a missing rides"]
    cur.execute("DELETE FROM ride_samples")


# Numbers handed to work in progress on other branches (002, 003, 009): a branch given 010 has a gap until they
# land. The integrator empties this set when merging, so main stays contiguous.
RESERVED_MIGRATIONS = {2, 3, 9}


def test_migration_files_are_numbered_and_never_edited_in_place():
    names = [p.name for p in sorted(Path("core/store/migrations").glob("*.sql"))]
    assert names and names[0] == "001_initial.sql"
    numbers = [int(n[:3]) for n in names]
    assert not RESERVED_MIGRATIONS & set(numbers), "a reserved number has landed: take it out of the set"
    assert sorted(set(numbers) | RESERVED_MIGRATIONS) == list(range(1, max(numbers) + 1))
