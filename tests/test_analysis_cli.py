"""``python -m core analyze / analyses / analysis approve|reject|adjust``."""

from __future__ import annotations

import json
from datetime import timedelta

from core.athletes import AthleteProfile, create_athlete
from core.cli import main
from core.coach.plans.store import get_plan
from core.store.db import connect, table_counts
from tests.test_analysis import before_key, make_plan, planned, ride


def run(capsys, db_path, *argv):
    code = main(["--db", str(db_path), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def setup(db_path):
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="Cli Rider", ftp_w=250, max_hr=185, lthr=165))
    plan_id = make_plan(cur, athlete_id)
    day = planned(cur, plan_id, where=before_key)[0]
    ride_id = ride(cur, athlete_id, day, 300, 240)
    db.close()
    return plan_id, ride_id, day


def test_analyze_list_and_approve_from_the_command_line(capsys, db_path):
    plan_id, ride_id, day = setup(db_path)
    code, out, err = run(capsys, db_path, "analyze", str(ride_id), "--json")
    assert code == 0, err
    analysis = json.loads(out)
    assert analysis["status"] == "pending" and analysis["suggestions"]
    code, out, _ = run(capsys, db_path, "analyses", "--pending")
    tomorrow = day + timedelta(days=1)
    assert code == 0 and f"#{analysis['id']} workout" in out and \
        f"→ Make {tomorrow:%a %d %b} an easy recovery ride" in out
    code, out, err = run(capsys, db_path, "analysis", "approve", str(analysis["id"]))
    assert code == 0, err
    assert "plan version 2" in out and f"(#{plan_id}) is kept" in out
    code, _, err = run(capsys, db_path, "analysis", "approve", str(analysis["id"]))
    assert code == 1 and "already approved" in err
    code, out, _ = run(capsys, db_path, "analyses", "--pending", "--json")
    assert code == 0 and json.loads(out) == []


def test_reject_from_the_command_line_leaves_the_plan(capsys, db_path):
    plan_id, ride_id, _ = setup(db_path)
    code, out, _ = run(capsys, db_path, "analyze", str(ride_id), "--json")
    analysis_id = json.loads(out)["id"]
    code, out, _ = run(capsys, db_path, "analysis", "reject", str(analysis_id))
    assert code == 0 and "unchanged" in out
    db = connect(db_path)
    assert table_counts(db.cursor())["plans"] == 1 and get_plan(db.cursor(), plan_id)["active"]
    db.close()


def test_bad_ids_and_a_missing_plan_exit_1_with_a_reason(capsys, db_path):
    code, _, err = run(capsys, db_path, "analyze", "999")
    assert code == 1 and "Ride 999 was not found" in err
    code, _, err = run(capsys, db_path, "analysis", "approve", "999")
    assert code == 1 and "Analysis 999 was not found" in err
    code, _, err = run(capsys, db_path, "analysis", "adjust")
    assert code == 1 and "no active plan" in err
