"""A damaged database (issue 16: corrupt blocks showed "Something went wrong… your data is unchanged" on every page,
and a killed run could leave an 85 MB file with nothing in it). Blocks of a real database file (real rides imported
from tests/data) are overwritten, then: ``python -m core check`` finds and names them, the app says which file and
what to do, and what can still be read is saved to a new file that checks clean."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core.athletes import AthleteProfile, create_athlete
from core.errors import DatabaseDamagedError
from core.importer import import_file
from core.rides.store import delete_rides
from core.store import db as dbmodule
from core.store.check import check_database, salvage
from core.store.db import connect, integrity_problems
from tests.apptest_helpers import run_app_page, shown
from tests.conftest import DATA_DIR
from tests.test_cli import ROOT, run_cli

RIDES = ("gc__Garmin830_with_Stages.fit", "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit",
         "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit")
HEADERS = 3 * 4096  # DuckDB: two database headers and the main header, then blocks of BLOCK bytes
BLOCK = 262_144


@pytest.fixture(scope="module")
def healthy(tmp_path_factory) -> Path:
    """A database with three real rides (samples, routes, sections), closed cleanly."""
    path = tmp_path_factory.mktemp("damaged") / "healthy.duckdb"
    db = connect(path)
    cur = db.cursor()
    athlete = create_athlete(cur, AthleteProfile(name="Damaged Rider", ftp_w=250))
    for name in RIDES:
        import_file(cur, athlete, name, (DATA_DIR / "rides" / name).read_bytes())
    cur.execute("CHECKPOINT")
    db.close()
    return path


def damage(source: Path, target: Path, table: str) -> list[int]:
    """Copy ``source`` to ``target`` and overwrite, in the copy, the blocks holding ``table``'s data."""
    target.write_bytes(source.read_bytes())
    raw = duckdb.connect(str(source), read_only=True)
    blocks = sorted({r[0] for r in raw.execute(
        "SELECT block_id FROM pragma_storage_info(?) WHERE block_id >= 0", [table]).fetchall()})
    raw.close()
    assert blocks, f"{table} has no blocks of its own"
    with target.open("r+b") as handle:
        for block in blocks:
            handle.seek(HEADERS + block * BLOCK + 64)
            handle.write(os.urandom(4096))
    return blocks


def test_check_reads_every_table_and_exits_0_on_a_whole_database(healthy):
    result = run_cli("--db", str(healthy), "check", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["ok"]
    assert report["tables"]["ride_samples"]["rows"] == 19_583 and report["damaged_tables"] == []


def test_check_names_the_damaged_table_and_salvage_keeps_the_rest(healthy, tmp_path):
    broken = tmp_path / "broken.duckdb"
    damage(healthy, broken, "ride_samples")
    before = broken.read_bytes()
    saved = tmp_path / "saved.duckdb"
    result = run_cli("--db", str(broken), "check", "--salvage", str(saved))
    assert result.returncode == 1
    assert "DAMAGED  ride_samples" in result.stdout and "Corrupt database file" in result.stdout
    assert broken.read_bytes() == before  # a check never writes to the file it checks
    assert run_cli("--db", str(saved), "check").returncode == 0  # what was saved is whole
    salvaged = connect(saved)
    original = connect(healthy, read_only=True)
    try:
        for table in ("athletes", "rides", "routes", "sections", "route_points", "audit_log"):
            count = f"SELECT count(*) FROM {table}"
            assert salvaged.cursor().execute(count).fetchone() == original.cursor().execute(count).fetchone(), table
        assert salvaged.cursor().execute("SELECT count(*) FROM ride_samples").fetchone()[0] < \
            original.cursor().execute("SELECT count(*) FROM ride_samples").fetchone()[0]
        cur = salvaged.cursor()
        new_id = cur.execute("INSERT INTO tags (athlete_id, name) VALUES (1, 'after') RETURNING id").fetchone()[0]
        assert new_id > 0 and integrity_problems(cur) == []
        assert cur.execute("SELECT nextval('rides_id_seq')").fetchone()[0] > 3  # past the copied ids
    finally:
        salvaged.close()
        original.close()


def test_a_damaged_block_of_the_rides_table_removes_its_orphans_in_the_salvage(healthy, tmp_path):
    broken = tmp_path / "broken.duckdb"
    damage(healthy, broken, "rides")
    db = connect(broken, migrate_schema=False, read_only=True)
    try:
        report = check_database(db.cursor())
        assert "rides" in report["damaged_tables"] and not report["ok"]
        saved = salvage(db.cursor(), tmp_path / "saved.duckdb")
    finally:
        db.close()
    assert saved["tables"]["rides"]["lost_row_groups"] == 1
    assert saved["removed_orphans"].get("ride_samples", 0) == 19_583  # samples of lost rides mean nothing alone
    check = connect(tmp_path / "saved.duckdb")
    try:
        assert integrity_problems(check.cursor()) == []
    finally:
        check.close()


def test_a_damaged_header_is_refused_at_open_with_the_file_and_what_to_do(healthy, tmp_path):
    broken = tmp_path / "header.duckdb"
    broken.write_bytes(healthy.read_bytes())
    with broken.open("r+b") as handle:
        handle.seek(4096 + 64)
        handle.write(os.urandom(512))
    with pytest.raises(DatabaseDamagedError) as info:
        connect(broken)
    message = str(info.value)
    assert str(broken) in message and "is damaged" in message and str(tmp_path / "backups") in message
    result = run_cli("--db", str(broken), "check")
    assert result.returncode == 1 and "is damaged" in result.stderr


def test_the_app_names_the_damaged_file_and_the_backup_page_saves_what_can_be_read(healthy, db_path, monkeypatch):
    damage(healthy, db_path, "ride_samples")
    at = run_app_page("app_pages/ride_page.py", id=2)
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert any(str(db_path) in e and "is damaged" in e for e in errors), errors
    assert not any("Something went wrong" in e for e in errors)
    at = run_app_page("app_pages/backup_page.py")
    assert not at.exception
    at.button(key="backup_db_check").click().run()
    assert at.error and "Damaged: ride_samples" in shown(at.error[0].value)
    at.button(key="backup_salvage").click().run()
    assert at.success and "rows saved to" in shown(at.success[0].value)
    saved = list(db_path.parent.glob("test-salvaged-*.duckdb"))
    assert len(saved) == 1
    assert run_cli("--db", str(saved[0]), "check").returncode == 0


def test_a_killed_run_leaves_no_empty_bulk_behind(tmp_path):
    path = tmp_path / "killed.duckdb"
    env = {**os.environ, "VELOCOACH_SEED_DEMO": "0"}
    process = subprocess.Popen([sys.executable, "-m", "core", "--db", str(path), "demo", "--years", "2"], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 8 * 1024 * 1024):
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert path.stat().st_size >= 8 * 1024 * 1024  # the demo's transaction had written its blocks
    db = connect(path)
    try:
        assert db.cursor().execute("SELECT count(*) FROM rides").fetchone()[0] == 0
    finally:
        db.close()
    assert path.stat().st_size < 4 * 1024 * 1024


def test_a_large_delete_is_followed_by_a_checkpoint(healthy, tmp_path, monkeypatch):
    path = tmp_path / "delete.duckdb"
    path.write_bytes(healthy.read_bytes())
    monkeypatch.setattr(dbmodule, "LARGE_DELETE_ROWS", 1000)
    monkeypatch.setattr("core.rides.store.LARGE_DELETE_ROWS", 1000)
    db = connect(path)
    try:
        cur = db.cursor()
        delete_rides(cur, 1, [r[0] for r in cur.execute("SELECT id FROM rides").fetchall()])
        wal = path.with_name(path.name + ".wal")
        assert not wal.exists() or wal.stat().st_size == 0  # everything is in the file, the freed blocks too
    finally:
        db.close()
