"""python -m core export / export-gpx / restore."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect, table_counts, transaction

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _small_db(path: Path) -> int:
    from tests.test_backup_helpers import add_coach_rows

    db = connect(path)
    cur = db.cursor()
    with transaction(cur):
        athlete_id = create_athlete(cur, AthleteProfile(name="Cli Rider"))
        add_coach_rows(cur, athlete_id, None)
        # a small planned route with points, for export-gpx
        route_id = cur.execute("INSERT INTO routes (athlete_id, name, kind, point_count) VALUES (?, 'Loop', "
                               "'planned', 3) RETURNING id", [athlete_id]).fetchall()[0][0]
        cur.execute("INSERT INTO route_points VALUES (?, 0, 41.9, 2.8, 100, 0), (?, 1, 41.91, 2.8, 120, 1112), "
                    "(?, 2, 41.92, 2.81, 110, 2400)", [route_id] * 3)
    db.close()
    return route_id


def test_export_then_restore_into_another_database(tmp_path):
    source, target = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    _small_db(source)
    out = tmp_path / "backups" / "me.zip"
    exported = run_cli("--db", str(source), "export", "--format", "zip", "--out", str(out), "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["file"] == str(out) and zipfile.is_zipfile(out)
    restored = run_cli("--db", str(target), "restore", str(out), "--json")
    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert result["athlete"] == "Cli Rider" and result["rows"]["plans"] == 2 and result["rows"]["route_points"] == 3


def test_export_json_and_gpx_write_files(tmp_path):
    source = tmp_path / "a.duckdb"
    route_id = _small_db(source)
    out = tmp_path / "me.json"
    assert run_cli("--db", str(source), "export", "--format", "json", "--out", str(out)).returncode == 0
    assert json.loads(out.read_text())["format"] == "velocoach-backup"
    gpx = tmp_path / "loop.gpx"
    result = run_cli("--db", str(source), "export-gpx", "route", str(route_id), "--out", str(gpx))
    assert result.returncode == 0, result.stderr
    assert b"<trkpt" in gpx.read_bytes()


def test_restoring_a_bad_file_exits_1_with_one_line_and_changes_nothing(tmp_path):
    target = tmp_path / "b.duckdb"
    _small_db(target)
    db = connect(target)
    before = table_counts(db.cursor())
    db.close()
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../../etc/passwd", "root")
    for path, reason in ((bad, "not a plain file name"), (tmp_path / "missing.zip", "there is no such file")):
        result = run_cli("--db", str(target), "restore", str(path))
        assert result.returncode == 1
        assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
        assert reason in result.stderr
    db = connect(target)
    assert table_counts(db.cursor()) == before
    db.close()


def test_export_gpx_of_a_missing_ride_exits_1(tmp_path):
    source = tmp_path / "a.duckdb"
    _small_db(source)
    result = run_cli("--db", str(source), "export-gpx", "ride", "424242", "--out", str(tmp_path / "x.gpx"))
    assert result.returncode == 1 and "Ride #424242 was not found" in result.stderr
    assert not (tmp_path / "x.gpx").exists()
