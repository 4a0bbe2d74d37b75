"""`python -m core garmin send-plan PLAN_ID [--account] [--from] [--to] --json` in a subprocess, against the fake
Garmin: one JSON line per workout; a second send changes nothing; bad plans and missing accounts fail in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import save_plan
from core.store.db import connect
from tests.fakes.garmin_server import FakeGarmin

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2027, 2, 26)


@pytest.fixture
def fake():
    with FakeGarmin() as server:
        yield server


@pytest.fixture
def cli(tmp_path, fake):
    db_path = tmp_path / "cli.duckdb"
    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Rider", ftp_w=250))
        result = generate_plan(cur, athlete, {"duration_weeks": 2, "start_date": "2099-03-02",
                                              "goals": {"weekly_hours": 7}}, today=TODAY)
        plan_id = save_plan(cur, athlete, result, name="Send me")
    finally:
        db.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "VELOCOACH"))}
    env.update(fake.env(), VELOCOACH_DB=str(db_path), VELOCOACH_DATA_DIR=str(tmp_path / "files"),
               VELOCOACH_ENV="test", VELOCOACH_SEED_DEMO="0")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)

    run.plan_id = plan_id
    return run


def test_send_plan_prints_a_line_per_workout_and_a_resend_changes_nothing(cli, fake):
    assert cli("garmin", "send-plan", str(cli.plan_id)).returncode == 1  # not signed in yet
    assert cli("garmin", "login", "--email", fake.email, "--label", "Edge", stdin=f"{fake.password}\n").returncode == 0
    first = cli("garmin", "send-plan", str(cli.plan_id), "--json")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert lines and {d["status"] for d in lines} == {"created"}
    assert set(lines[0]) == {"date", "type", "title", "status", "garmin_workout_id", "garmin_schedule_id"}
    assert [d for d, _ in fake.calendar()] == [d["date"] for d in lines]
    again = cli("garmin", "send-plan", str(cli.plan_id), "--account", "Edge")
    assert again.returncode == 0, again.stderr
    assert f"Garmin Connect (Edge): {len(lines)} unchanged." in again.stderr
    assert len(fake.calendar()) == len(lines)


def test_send_plan_with_a_range_bad_dates_or_an_unknown_plan(cli, fake):
    assert cli("garmin", "login", "--email", fake.email, stdin=f"{fake.password}\n").returncode == 0
    week2 = cli("garmin", "send-plan", str(cli.plan_id), "--from", "2099-03-09", "--to", "2099-03-15", "--json")
    assert week2.returncode == 0, week2.stderr
    assert all("2099-03-09" <= json.loads(line)["date"] <= "2099-03-15" for line in week2.stdout.splitlines())
    missing = cli("garmin", "send-plan", "424242")
    assert missing.returncode == 1 and missing.stderr == "error: Plan 424242 was not found\n"
    bad = cli("garmin", "send-plan", str(cli.plan_id), "--from", "03/09/2099")
    assert bad.returncode == 2 and "invalid fromisoformat value" in bad.stderr
    other = cli("garmin", "send-plan", str(cli.plan_id), "--account", "Nope")
    assert other.returncode == 1 and "Nope" in other.stderr and other.stderr.count("\n") == 1
