"""``plan export ID --format zwo|fit|mrc|erg --output FOLDER [--week N] [--json]``: one file per riding workout,
one JSON line per file; bad folders, unknown plans and plans without rides fail with one line."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from icalendar import Calendar

from core.athletes import AthleteProfile, create_athlete
from core.cli import main
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import _insert_plan, get_plan, save_plan
from core.store.db import connect, integrity_problems, transaction
from tests.device_helpers import course_points, decode_fit

TODAY = date(2027, 2, 26)


def run(capsys, db_path, *argv):
    code = main(["--db", str(db_path), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def store(db_path, write):
    """Run ``write(cur, athlete_id)`` on the file the CLI will open (closed again before the CLI runs)."""
    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete_id = create_athlete(cur, AthleteProfile(name="Rider", ftp_w=250))
        result = write(cur, athlete_id)
        assert integrity_problems(cur) == []
        return result
    finally:
        db.close()


@pytest.fixture
def plan_id(db_path):
    def write(cur, athlete_id):
        result = generate_plan(cur, athlete_id, {"duration_weeks": 3, "goals": {"weekly_hours": 8}}, today=TODAY)
        return save_plan(cur, athlete_id, result, name="Three weeks")
    return store(db_path, write)


def riding(db_path, plan_id, week=None):
    db = connect(db_path)
    try:
        plan = get_plan(db.cursor(), plan_id)
    finally:
        db.close()
    return [w for wk in plan["plan"]["weeks"] if week in (None, wk["week"]) for w in wk["workouts"]
            if w["type"] != "rest"]


def test_device_export_writes_one_file_per_riding_workout_and_a_json_line_each(capsys, db_path, plan_id, tmp_path):
    out_dir = tmp_path / "new" / "folder"
    code, out, err = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "fit", "--output",
                         str(out_dir), "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    rides = riding(db_path, plan_id)
    assert len(lines) == len(rides) and {tuple(d) for d in lines} == {("file", "date", "type")}
    assert [(d["date"], d["type"]) for d in lines] == [(w["date"], w["type"]) for w in rides]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(d["file"].rsplit("/", 1)[1] for d in lines)
    for d in lines:
        assert decode_fit(open(d["file"], "rb").read())[1] == []


def test_one_week_as_erg_uses_the_ftp_of_the_export_day(capsys, db_path, plan_id, tmp_path):
    tmp_path = tmp_path / "out"
    code, out, err = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "erg", "--output",
                         str(tmp_path), "--week", "2")
    assert code == 0, err
    files = sorted(tmp_path.glob("*.erg"))
    assert len(files) == len(riding(db_path, plan_id, week=2)) == len(out.splitlines())
    fields, units, _ = course_points(files[0].read_bytes())
    assert fields["FTP"] == "250" and units == "MINUTES WATTS"  # the athlete fixture's FTP


def test_a_device_format_needs_a_folder_and_ics_keeps_one_file(capsys, db_path, plan_id, tmp_path):
    code, out, err = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "zwo")
    assert code == 2 and "--output FOLDER" in err and out == ""
    target = tmp_path / "plan.ics"
    code, out, err = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "ics", "--output",
                         str(target), "--json")
    assert code == 0 and json.loads(out) == {"file": str(target), "format": "ics"}
    events = Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert any("W)" in str(e["description"]) and "Steps (watts at your FTP of 250 W" in str(e["description"])
               for e in events)


@pytest.mark.parametrize("make_bad", ["is_a_file", "parent_is_a_file", "proc"])
def test_an_unusable_folder_fails_with_one_line_and_writes_nothing(capsys, db_path, plan_id, tmp_path, make_bad):
    work = tmp_path / "work"
    work.mkdir()
    blocker = work / "blocker"
    blocker.write_text("x")
    target = {"is_a_file": blocker, "parent_is_a_file": blocker / "sub",
              "proc": "/proc/velocoach-cannot-write-here"}[make_bad]
    code, out, err = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "zwo", "--output",
                         str(target), "--json")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in work.iterdir()) == ["blocker"]


def test_unknown_plans_and_weeks_fail_with_one_line(capsys, db_path, plan_id, tmp_path):
    tmp_path = tmp_path / "out"
    code, _, err = run(capsys, db_path, "plan", "export", "424242", "--format", "fit", "--output", str(tmp_path))
    assert code == 1 and err == "error: Plan 424242 was not found\n"
    code, _, err = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "fit", "--output",
                       str(tmp_path), "--week", "9")
    assert code == 1 and "no week 9" in err and not tmp_path.exists()
    with pytest.raises(SystemExit) as usage:
        run(capsys, db_path, "plan", "export", str(plan_id), "--format", "tcx", "--output", str(tmp_path))
    assert usage.value.code == 2 and "invalid choice: 'tcx'" in capsys.readouterr().err


def test_a_plan_without_riding_workouts_says_so(capsys, db_path, tmp_path):
    start = date(2027, 3, 1)
    week = {"week": 1, "start_date": start.isoformat(), "phase": "recovery", "planned_hours": 0, "planned_tss": 0,
            "workouts": [{"date": (start + timedelta(days=d)).isoformat(), "type": "rest", "duration_min": 0,
                          "tss": 0, "target": {}, "description": "Rest day"} for d in range(7)]}

    def write(cur, athlete_id):
        with transaction(cur):
            return _insert_plan(cur, athlete_id, name="All rest", description=None, plan={"weeks": [week]},
                                goal_type=None, goals={}, preferences={}, version=1, parent_plan_id=None,
                                is_template=False, generator="engine", rules=[])
    plan_id = store(db_path, write)
    code, out, err = run(capsys, db_path, "plan", "export", str(plan_id), "--format", "mrc", "--output",
                         str(tmp_path / "out"))
    assert code == 1 and out == "" and "no riding workout" in err
    assert not (tmp_path / "out").exists()
