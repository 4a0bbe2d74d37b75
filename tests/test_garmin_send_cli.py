"""`python -m core garmin send-plan PLAN_ID [--account] [--from] [--to] --json` against the fake Garmin (in process,
through core.cli.main): one JSON line per workout; a second send changes nothing; bad plans, dates and accounts
fail in one line."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.cli import main
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import save_plan
from core.store.db import connect
from tests.fakes.garmin_server import FakeGarmin

TODAY = date(2027, 2, 26)


@pytest.fixture
def fake(monkeypatch):
    with FakeGarmin() as server:
        server.install(monkeypatch)
        yield server


@pytest.fixture
def cli(db_path, fake, capsys, monkeypatch):
    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Rider", ftp_w=250))
        result = generate_plan(cur, athlete, {"duration_weeks": 2, "start_date": "2099-03-02",
                                              "goals": {"weekly_hours": 7}}, today=TODAY)
        plan_id = save_plan(cur, athlete, result, name="Send me")
    finally:
        db.close()

    def run(*args: str, stdin: str = ""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = main(["--db", str(db_path), *args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err

    run.plan_id = plan_id
    return run


def test_send_plan_prints_a_line_per_workout_and_a_resend_changes_nothing(cli, fake):
    code, _, err = cli("garmin", "send-plan", str(cli.plan_id))
    assert code == 1 and "No Garmin account is signed in" in err
    assert cli("garmin", "login", "--email", fake.email, "--label", "Edge", stdin=f"{fake.password}\n")[0] == 0
    code, out, err = cli("garmin", "send-plan", str(cli.plan_id), "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and {d["status"] for d in lines} == {"created"}
    assert set(lines[0]) == {"date", "type", "title", "status", "garmin_workout_id", "garmin_schedule_id"}
    assert [d for d, _ in fake.calendar()] == [d["date"] for d in lines]
    code, out, err = cli("garmin", "send-plan", str(cli.plan_id), "--account", "Edge")
    assert code == 0, err
    assert f"Garmin Connect (Edge): {len(lines)} unchanged." in err and out.count("unchanged") == len(lines)
    assert len(fake.calendar()) == len(lines)


def test_send_plan_with_a_range_bad_dates_or_an_unknown_plan(cli, fake):
    assert cli("garmin", "login", "--email", fake.email, stdin=f"{fake.password}\n")[0] == 0
    code, out, err = cli("garmin", "send-plan", str(cli.plan_id), "--from", "2099-03-09", "--to", "2099-03-15",
                         "--json")
    assert code == 0, err
    assert out and all("2099-03-09" <= json.loads(line)["date"] <= "2099-03-15" for line in out.splitlines())
    code, _, err = cli("garmin", "send-plan", "424242")
    assert code == 1 and err == "error: Plan 424242 was not found\n"
    code, _, err = cli("garmin", "send-plan", str(cli.plan_id), "--from", "03/09/2099")
    assert code == 2 and "invalid fromisoformat value" in err
    code, _, err = cli("garmin", "send-plan", str(cli.plan_id), "--account", "Nope")
    assert code == 1 and "Nope" in err and err.count("\n") == 1
