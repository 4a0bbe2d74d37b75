"""The command line: exit codes 0 / 1 / 2, JSON output, the lock message."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def test_init_creates_the_database_and_prints_json(tmp_path):
    db = tmp_path / "x.duckdb"
    result = run_cli("--db", str(db), "init", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["schema_version"] >= 1 and db.exists()


def test_an_unknown_command_is_a_usage_error(tmp_path):
    result = run_cli("--db", str(tmp_path / "x.duckdb"), "fly-to-the-moon")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_a_failed_operation_exits_1_with_one_line(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_text("definitely not a database")
    result = run_cli("--db", str(bad), "athletes")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "not a VeloCoach" in result.stderr
    assert "Traceback" not in result.stderr


def test_athletes_json_lists_one_object_per_line(tmp_path):
    db = tmp_path / "x.duckdb"
    run_cli("--db", str(db), "init")
    result = run_cli("--db", str(db), "athletes", "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0 and [a["name"] for a in lines] == ["Rider"]


def test_a_database_held_by_the_app_says_so(tmp_path):
    db = tmp_path / "x.duckdb"
    run_cli("--db", str(db), "init")
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,sys; c=duckdb.connect({str(db)!r}); "
                               "print('ok', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = run_cli("--db", str(db), "athletes")
        assert result.returncode == 1
        assert "in use by another VeloCoach process" in result.stderr
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_demo_refuses_an_end_date_far_in_the_future_as_a_usage_error(tmp_path):
    result = run_cli("--db", str(tmp_path / "x.duckdb"), "demo", "--end", "9999-12-31")
    assert result.returncode == 2
    assert "--end must be a date" in result.stderr and "Traceback" not in result.stderr


def test_json_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    """`python -m core … --json | head -1`: the reader closes the pipe; the CLI stops without a BrokenPipeError."""
    db = tmp_path / "pipe.duckdb"
    assert run_cli("--db", str(db), "demo", "--years", "0.05", "--json").returncode == 0
    for args in (("rides", "--json"), ("routes", "--json")):
        reader_gone = subprocess.Popen([sys.executable, "-m", "core", "--db", str(db), *args], cwd=ROOT,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reader_gone.stdout.close()  # like `| head -0`: the reader is gone before the CLI writes its first line
        stderr = reader_gone.stderr.read().decode()
        assert reader_gone.wait(120) == 0, stderr
        assert "BrokenPipe" not in stderr and "error" not in stderr and "Exception ignored" not in stderr


def test_delete_athlete_asks_for_the_name_and_deletes_everything_of_theirs(tmp_path):
    db = tmp_path / "delete.duckdb"
    assert run_cli("--db", str(db), "demo", "--years", "0.05", "--json").returncode == 0
    from core.athletes import AthleteProfile, create_athlete
    from core.store.db import connect, integrity_problems

    database = connect(db)
    create_athlete(database.cursor(), AthleteProfile(name="Stays"))
    database.close()
    demo_id = json.loads(run_cli("--db", str(db), "athletes", "--json").stdout.splitlines()[0])["id"]
    refused = subprocess.run([sys.executable, "-m", "core", "--db", str(db), "delete-athlete", str(demo_id)],
                             cwd=ROOT, input="not the name\n", capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Type the athlete's name" in refused.stderr
    name = json.loads(run_cli("--db", str(db), "athletes", "--json").stdout.splitlines()[0])["name"]
    done = run_cli("--db", str(db), "delete-athlete", str(demo_id), "--confirm-name", name, "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert rows["athletes"] == 1 and rows["rides"] > 5 and rows["ride_samples"] > 1000
    remaining = [json.loads(line)["id"] for line in run_cli("--db", str(db), "athletes", "--json").stdout.splitlines()]
    assert demo_id not in remaining and len(remaining) == 1
    database = connect(db)
    try:
        assert integrity_problems(database.cursor()) == []
    finally:
        database.close()
