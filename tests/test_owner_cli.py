"""`python -m core owner ...` and the files the command line creates: owner-only whatever the caller's umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def run_cli(db: Path, *args, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "VELOCOACH_SEED_DEMO": "0"}
    env.pop("VELOCOACH_DATA_DIR", None)
    # A permissive umask in the caller: the CLI must still create owner-only files.
    return subprocess.run(["sh", "-c", 'umask 022 && exec "$0" "$@"', sys.executable, "-m", "core", "--db", str(db),
                           *args], cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=300, env=env)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_set_password_reads_the_password_twice_from_stdin_and_keeps_only_a_hash(tmp_path):
    db = tmp_path / "data" / "v.duckdb"
    result = run_cli(db, "owner", "set-password", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    stored = tmp_path / "data" / "owner-password.json"
    assert mode(stored) == 0o600 and mode(stored.parent) == 0o700
    assert PASSWORD not in stored.read_text() and PASSWORD not in result.stdout
    assert not db.exists()  # the owner account never touches the database (the running app may hold it)
    status = run_cli(db, "owner", "status", "--json")
    assert json.loads(status.stdout)["password_set"] is True


def test_a_mismatched_or_weak_password_changes_nothing(tmp_path):
    db = tmp_path / "v.duckdb"
    mismatch = run_cli(db, "owner", "set-password", stdin=f"{PASSWORD}\n{PASSWORD}x\n")
    weak = run_cli(db, "owner", "set-password", stdin="short\nshort\n")
    assert mismatch.returncode == 1 and "differ" in mismatch.stderr
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    assert not (tmp_path / "owner-password.json").exists()
    assert "No owner password" in run_cli(db, "owner", "status").stdout


def test_the_password_is_never_taken_as_an_argument(tmp_path):
    result = run_cli(tmp_path / "v.duckdb", "owner", "set-password", PASSWORD)
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr


def test_remove_password_turns_sign_in_off(tmp_path):
    db = tmp_path / "v.duckdb"
    run_cli(db, "owner", "set-password", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert "removed" in run_cli(db, "owner", "remove-password").stdout
    assert json.loads(run_cli(db, "owner", "status", "--json").stdout)["password_set"] is False


def test_the_database_and_backups_the_cli_creates_are_owner_only(tmp_path):
    db = tmp_path / "new" / "v.duckdb"
    assert run_cli(db, "init").returncode == 0
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    # the .wal too, when there is one; folders (the log's) owner-only as well
    assert all(mode(p) == (0o700 if p.is_dir() else 0o600) for p in db.parent.iterdir())
    backup = tmp_path / "out" / "backup.zip"
    result = run_cli(db, "export", "--format", "zip", "--out", str(backup))
    assert result.returncode == 0, result.stderr
    assert mode(backup) == 0o600


def test_a_backup_written_by_a_library_caller_is_owner_only_whatever_its_umask(tmp_path):
    from core.store.backup_export import write_file_atomically

    previous = os.umask(0o022)
    try:
        write_file_atomically(tmp_path / "b.zip", b"data")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "b.zip") == 0o600
