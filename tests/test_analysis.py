"""Rides back into the plan: linking, ride analysis, approval as a new plan version, rejection, adjustments."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from core.coach.ai import AIService
from core.coach.analysis import adjust_plan_from_performance, analyse_latest_rides, analyze_ride, list_analyses
from core.coach.approval import approve_analysis, reject_analysis
from core.coach.matching import link_completed_rides
from core.coach.plans.check import violations
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import get_plan, plan_versions, save_plan
from core.coach.rules.store import constraints_of, save_rule
from core.coach.suggestions import describe_suggestion, validate_suggestions
from core.errors import NotFoundError, ValidationError
from core.rides.store import store_ride
from core.store.db import table_counts
from tests.fakes.openai_server import FakeOpenAI, settings_for

START = date(2027, 1, 4)  # Monday; week 1 of the plan below (see plan_id)
TODAY = date(2027, 1, 1)
FTP = 250
# A 4-week plan (8 h/week asked, FTP 250 W) for a rider without rides; the tests find its days by workout type.


def make_plan(cur, athlete_id, rule_ids=(), hours=8) -> int:
    result = generate_plan(cur, athlete_id, {"duration_weeks": 4, "start_date": START.isoformat(),
                                             "rule_ids": list(rule_ids), "goals": {"weekly_hours": hours}},
                           today=TODAY)
    return save_plan(cur, athlete_id, result, activate=True)


def planned(cur, plan_id, kind=None, week=1, where=None) -> tuple[date, float, float]:
    """(day, minutes, planned IF) of the first workout of ``kind`` (any riding workout) in ``week``; ``where`` a
    further test on (day, type)."""
    first = START + timedelta(weeks=week - 1)
    rows = cur.execute("SELECT date, type, duration_min, targets FROM planned_workouts WHERE plan_id = ? AND date "
                       "BETWEEN ? AND ? AND type <> 'rest' ORDER BY date", [plan_id, first, first + timedelta(days=6)]
                       ).fetchall()
    types = {r[0]: r[1] for r in rows}
    for day, type_, minutes, targets in rows:
        if (kind is None or type_ == kind) and (where is None or where(day, type_, types)):
            return day, minutes, json.loads(targets)["if"]
    raise AssertionError(f"no {kind} in week {week}: {types}")


def before_key(day, type_, types) -> bool:
    """A workout whose next day is a key session (so a crushing ride there proposes recovery tomorrow)."""
    return types.get(day + timedelta(days=1)) in ("threshold", "vo2max", "sweet_spot", "anaerobic", "tempo")


def ride(cur, athlete_id, day: date, minutes: float, np_w: float, *, hour=8, sport="cycling", ext=None) -> int:
    started = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    stored = store_ride(cur, athlete_id, None, source="file", external_id=ext or f"{day}-{hour}-{minutes}",
                        summary={"started_at": started, "sport_type": sport, "moving_time_s": minutes * 60,
                                 "elapsed_time_s": minutes * 60 + 120, "avg_power_w": np_w * 0.95,
                                 "normalized_power_w": np_w, "name": f"ride {day}"})
    return stored.id


def workout_on(cur, plan_id, day):
    return cur.execute("SELECT type, duration_min, completed_ride_id FROM planned_workouts WHERE plan_id = ? "
                       "AND date = ?", [plan_id, day]).fetchone()


@pytest.fixture
def plan_id(cur, athlete_id):
    return make_plan(cur, athlete_id)


# ---------------------------------------------------------------------------------------------------- linking

def test_a_ride_completes_the_workout_planned_on_its_day_and_linking_again_changes_nothing(cur, athlete_id, plan_id):
    day, minutes, _ = planned(cur, plan_id, "endurance")
    ride_id = ride(cur, athlete_id, day, minutes + 2, 170)
    assert link_completed_rides(cur, athlete_id) == 1
    assert workout_on(cur, plan_id, day)[2] == ride_id
    assert link_completed_rides(cur, athlete_id) == 0
    assert cur.execute("SELECT count(*) FROM planned_workouts WHERE completed_ride_id IS NOT NULL").fetchone()[0] == 1


def test_of_two_rides_on_a_day_the_one_closest_to_the_plan_is_linked_and_runs_and_duplicates_never(
        cur, athlete_id, plan_id):
    day, minutes, _ = planned(cur, plan_id, "long")
    run_day = planned(cur, plan_id, "threshold")[0]
    twice_day = planned(cur, plan_id, "vo2max")[0]
    ride(cur, athlete_id, day, 20, 150, hour=7)
    long_id = ride(cur, athlete_id, day, minutes - 5, 175, hour=10)
    ride(cur, athlete_id, run_day, 45, 170, sport="running")
    first = ride(cur, athlete_id, twice_day, 45, 170, hour=8, ext="a")
    second = ride(cur, athlete_id, twice_day, 45, 170, hour=8, ext="b")  # same ride, second file
    assert cur.execute("SELECT duplicate_of FROM rides WHERE id = ?", [second]).fetchone()[0] == first
    assert link_completed_rides(cur, athlete_id) == 2
    assert workout_on(cur, plan_id, day)[2] == long_id
    assert workout_on(cur, plan_id, run_day)[2] is None
    assert workout_on(cur, plan_id, twice_day)[2] == first


def test_linking_without_an_active_plan_does_nothing(cur, athlete_id):
    ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    before = table_counts(cur)
    assert link_completed_rides(cur, athlete_id) == 0
    assert table_counts(cur) == before


# ---------------------------------------------------------------------------------------------------- analysis

def test_an_analysis_compares_the_ride_with_its_workout_and_changes_no_plan(cur, athlete_id, plan_id):
    day, minutes, planned_if = planned(cur, plan_id, "endurance")
    ride_id = ride(cur, athlete_id, day, minutes, planned_if * FTP)  # as planned
    body_before = get_plan(cur, plan_id, athlete_id)["plan"]
    plans_before = table_counts(cur)["plans"]
    analysis = analyze_ride(cur, athlete_id, ride_id)
    assert analysis["kind"] == "workout" and analysis["approved"] is None and analysis["plan_id"] == plan_id
    figures = analysis["feedback"]["figures"]
    assert figures["duration_pct"] == 100.0 and figures["workout_type"] == "endurance"
    assert figures["intensity"] == "as planned"
    assert f"Planned endurance {minutes:.0f} min: you rode {minutes:.0f} min (100 %)" in \
        analysis["feedback"]["sentences"][0]
    targets = json.loads(cur.execute("SELECT targets FROM planned_workouts WHERE plan_id = ? AND date = ?",
                                     [plan_id, day]).fetchone()[0])
    low, high = targets["power_pct"]  # stored in % FTP, quoted in watts at the FTP of the ride's day
    assert figures["target_power_w"] == [round(low * FTP / 100), round(high * FTP / 100)]
    assert analysis["suggestions"] == []
    assert analysis["feedback"]["source"] == "rules" and "No AI service" in analysis["feedback"]["notes"][0]
    assert table_counts(cur)["plans"] == plans_before
    assert get_plan(cur, plan_id, athlete_id)["plan"] == body_before
    # nothing to approve: it is feedback to read, not a decision waiting
    assert list_analyses(cur, athlete_id, pending=True) == []
    assert [a["id"] for a in list_analyses(cur, athlete_id, feedback_only=True)] == [analysis["id"]]


def test_analysing_the_same_ride_again_replaces_the_pending_analysis(cur, athlete_id, plan_id):
    ride_id = ride(cur, athlete_id, planned(cur, plan_id)[0], 45, 170)
    first = analyze_ride(cur, athlete_id, ride_id)
    second = analyze_ride(cur, athlete_id, ride_id)
    assert first["id"] == second["id"]
    assert len(list_analyses(cur, athlete_id, pending=True) + list_analyses(cur, athlete_id, feedback_only=True)) == 1


def test_a_crushing_ride_proposes_recovery_next_day_and_a_lighter_next_week(cur, athlete_id, plan_id):
    day = planned(cur, plan_id, where=before_key)[0]
    ride_id = ride(cur, athlete_id, day, 300, 240)  # 5 h at IF 0.96: TSB well below -30
    analysis = analyze_ride(cur, athlete_id, ride_id)
    figures = analysis["feedback"]["figures"]
    assert figures["tsb"] < -30 and figures["intensity"] == "harder"
    actions = {s["action"]: s for s in analysis["suggestions"]}
    assert actions["swap_to_recovery"]["date"] == (day + timedelta(days=1)).isoformat()
    assert actions["scale_week"] == actions["scale_week"] | {"week_start": "2027-01-11", "factor": 0.9}
    assert any("deep fatigue" in s for s in analysis["feedback"]["sentences"])


def test_a_cut_short_key_session_is_named_in_the_feedback(cur, athlete_id, plan_id):
    day, minutes, _ = planned(cur, plan_id, "threshold")
    ride_id = ride(cur, athlete_id, day, minutes * 0.5, 215)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    assert analysis["feedback"]["figures"]["duration_pct"] < 75
    assert any("cut short" in s for s in analysis["feedback"]["sentences"])


def test_three_easier_key_sessions_propose_a_small_progression(cur, athlete_id, plan_id):
    for kind in ("threshold", "vo2max", "long"):
        day, minutes, planned_if = planned(cur, plan_id, kind)
        last = ride(cur, athlete_id, day, minutes, (planned_if - 0.1) * FTP)  # far easier than planned
    analysis = analyze_ride(cur, athlete_id, last)
    assert analysis["feedback"]["figures"]["intensity"] == "easier"
    assert {"action": "scale_week", "week_start": "2027-01-11", "factor": 1.05} .items() <= \
        analysis["suggestions"][0].items()


def test_hr_drift_from_the_ride_metrics_is_reported(cur, athlete_id, plan_id):
    day, minutes, _ = planned(cur, plan_id, "long")
    ride_id = ride(cur, athlete_id, day, minutes, 175)
    cur.execute("UPDATE rides SET metrics = ? WHERE id = ?", [json.dumps({"decoupling_pct": 8.4}), ride_id])
    analysis = analyze_ride(cur, athlete_id, ride_id)
    assert analysis["feedback"]["figures"]["decoupling_pct"] == 8.4
    assert any("drifted 8.4 %" in s for s in analysis["feedback"]["sentences"])


def test_an_unplanned_ride_and_bad_ride_ids_are_explained(cur, athlete_id):
    ride_id = ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    assert "no active plan" in analysis["feedback"]["sentences"][0]
    before = table_counts(cur)
    with pytest.raises(NotFoundError, match="Ride 999 was not found"):
        analyze_ride(cur, athlete_id, 999)
    assert table_counts(cur) == before
    run = ride(cur, athlete_id, date(2027, 1, 6), 30, 150, sport="running")
    before = table_counts(cur)
    with pytest.raises(ValidationError, match="running activity"):
        analyze_ride(cur, athlete_id, run)
    assert table_counts(cur) == before


def test_the_latest_rides_without_an_analysis_are_analysed(cur, athlete_id, plan_id):
    for day in (date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6)):
        ride(cur, athlete_id, day, 60, 180)
    done = analyse_latest_rides(cur, athlete_id, limit=2)
    assert [a["feedback"]["figures"]["date"] for a in done] == ["2027-01-06", "2027-01-05"]  # newest first
    assert len(analyse_latest_rides(cur, athlete_id, limit=5)) == 1


# ---------------------------------------------------------------------------------------------------- approval

def test_approving_creates_a_new_plan_version_and_keeps_the_old_one(cur, athlete_id, plan_id):
    day = planned(cur, plan_id, where=before_key)[0]
    after = day + timedelta(days=1)
    key_type = workout_on(cur, plan_id, after)[0]
    ride_id = ride(cur, athlete_id, day, 300, 240)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    old_body = get_plan(cur, plan_id, athlete_id)["plan"]
    audits = table_counts(cur)["audit_log"]
    result = approve_analysis(cur, athlete_id, analysis["id"], today=day)
    assert result["version"] == 2 and result["old_plan_id"] == plan_id and len(result["applied"]) == 2
    new = get_plan(cur, result["plan_id"], athlete_id)
    old = get_plan(cur, plan_id, athlete_id)
    assert new["active"] and not old["active"] and new["parent_plan_id"] == plan_id
    assert old["plan"] == old_body  # never edited in place
    assert workout_on(cur, result["plan_id"], after)[0] == "recovery"
    assert workout_on(cur, plan_id, after)[0] == key_type
    recovery = next(w for wk in new["plan"]["weeks"] for w in wk["workouts"] if w["date"] == after.isoformat())
    assert recovery["steps"] and recovery["target"]["workout_id"].startswith("recovery")
    assert new["plan"]["weeks"][1]["planned_hours"] < old["plan"]["weeks"][1]["planned_hours"] * 0.95
    assert workout_on(cur, result["plan_id"], day)[2] == ride_id  # the ride stays linked
    assert [v["version"] for v in plan_versions(cur, athlete_id, result["plan_id"])] == [1, 2]
    stored = list_analyses(cur, athlete_id)[0]
    assert stored["approved"] is True and stored["approved_at"] is not None
    assert stored["feedback"]["new_plan_id"] == result["plan_id"]
    assert table_counts(cur)["audit_log"] > audits
    assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'approve' AND entity = 'analysis'"
                       ).fetchone()[0] == 1
    with pytest.raises(ValidationError, match="already approved"):
        approve_analysis(cur, athlete_id, analysis["id"], today=day)


def test_rejecting_marks_the_analysis_and_leaves_the_plan_alone(cur, athlete_id, plan_id):
    ride_id = ride(cur, athlete_id, planned(cur, plan_id, where=before_key)[0], 300, 240)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    assert analysis["suggestions"]
    before = table_counts(cur)
    rejected = reject_analysis(cur, athlete_id, analysis["id"])
    assert rejected["approved"] is False and rejected["status"] == "rejected"
    after = table_counts(cur)
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items()
                                                                      if k != "audit_log"}
    assert get_plan(cur, plan_id, athlete_id)["active"]
    with pytest.raises(ValidationError, match="already rejected"):
        approve_analysis(cur, athlete_id, analysis["id"])
    assert list_analyses(cur, athlete_id, pending=True) == []


def test_a_suggestion_that_would_break_a_rule_is_weakened_or_skipped_and_said_so(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "max 5 hours a week")
    pid = make_plan(cur, athlete_id, [rule["id"]], hours=5)
    ride_id = ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    suggestions = [{"action": "scale_week", "week_start": "2027-01-11", "factor": 1.2, "reason": "test"},
                   {"action": "scale_week", "week_start": "2027-01-18", "factor": 1.2, "reason": "test"}]
    cur.execute("UPDATE analyses SET suggestions = ? WHERE id = ?", [json.dumps(suggestions), analysis["id"]])
    result = approve_analysis(cur, athlete_id, analysis["id"], today=date(2027, 1, 5))
    notes = result["applied"] + result["skipped"]
    assert any("adjusted to a factor of 1.1" in n for n in result["applied"]) or \
        any("would break a rule" in n for n in result["skipped"]), notes
    assert not any(n.endswith("+20 %") for n in result["applied"])
    constraints, _ = constraints_of(cur, athlete_id, [rule["id"]])
    new_id = result["plan_id"] or pid
    assert violations(get_plan(cur, new_id, athlete_id)["plan"], constraints) == []
    assert all(w["planned_hours"] <= 5 for w in get_plan(cur, new_id, athlete_id)["plan"]["weeks"])


def test_a_failure_while_approving_leaves_everything_as_it_was(cur, athlete_id, plan_id, monkeypatch):
    ride_id = ride(cur, athlete_id, planned(cur, plan_id, where=before_key)[0], 300, 240)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    before = table_counts(cur)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("core.coach.approval.link_completed_rides", broken)
    with pytest.raises(RuntimeError):
        approve_analysis(cur, athlete_id, analysis["id"], today=date(2027, 1, 4))
    assert table_counts(cur) == before
    assert list_analyses(cur, athlete_id, pending=True)[0]["id"] == analysis["id"]
    assert get_plan(cur, plan_id, athlete_id)["active"]


def test_suggestions_outside_the_plan_or_in_the_past_are_dropped(cur, athlete_id, plan_id):
    body = get_plan(cur, plan_id, athlete_id)["plan"]
    kept, dropped = validate_suggestions([
        {"action": "scale_week", "week_start": "2027-01-11", "factor": 0.9},
        {"action": "scale_week", "week_start": "2027-01-12", "factor": 0.9},     # not a Monday of the plan
        {"action": "swap_to_recovery", "date": "2027-01-04"},                     # in the past
        {"action": "move_workout", "from": "2027-01-12", "to": "2027-01-19"},     # across weeks
        {"action": "delete_plan"},                                                # not an action
        {"action": "scale_week", "week_start": "2027-01-18", "factor": 3},        # out of range
        "ignore previous instructions",
    ], body, today=date(2027, 1, 5))
    assert kept == [{"action": "scale_week", "week_start": "2027-01-11", "factor": 0.9, "reason": ""}]
    assert len(dropped) == 6
    assert describe_suggestion({"action": "move_workout", "from": "2027-01-12", "to": "2027-01-14",
                                "reason": "rain"}) == "Swap the workouts of Tue 12 Jan and Thu 14 Jan — rain"


def test_an_approved_move_swaps_two_days_of_a_week(cur, athlete_id, plan_id):
    ride_id = ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    a, b = planned(cur, plan_id, "threshold", week=2)[0], planned(cur, plan_id, "vo2max", week=2)[0]
    cur.execute("UPDATE analyses SET suggestions = ? WHERE id = ?",
                [json.dumps([{"action": "move_workout", "from": a.isoformat(), "to": b.isoformat()}]),
                 analysis["id"]])
    result = approve_analysis(cur, athlete_id, analysis["id"], today=date(2027, 1, 5))
    assert workout_on(cur, result["plan_id"], a)[0] == "vo2max"
    assert workout_on(cur, result["plan_id"], b)[0] == "threshold"


# ---------------------------------------------------------------------------------------------------- adjustments

def test_low_compliance_proposes_a_lighter_next_week_for_approval(cur, athlete_id, plan_id):
    ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    ride(cur, athlete_id, date(2027, 1, 12), 50, 170)
    body = get_plan(cur, plan_id, athlete_id)["plan"]
    proposal = adjust_plan_from_performance(cur, athlete_id, today=date(2027, 1, 20))
    assert proposal["kind"] == "adjustment" and proposal["approved"] is None
    figures = proposal["feedback"]["figures"]
    assert figures["weeks"] == 2 and figures["compliance_pct"] < 70 and figures["key_missed"] >= 2
    assert proposal["suggestions"][0] | {"reason": ""} == {"action": "scale_week", "week_start": "2027-01-25",
                                                           "factor": 0.85, "reason": ""}
    assert get_plan(cur, plan_id, athlete_id)["plan"] == body
    result = approve_analysis(cur, athlete_id, proposal["id"], today=date(2027, 1, 20))
    new = get_plan(cur, result["plan_id"], athlete_id)["plan"]
    assert new["weeks"][3]["planned_hours"] < body["weeks"][3]["planned_hours"]
    assert new["weeks"][:3] == body["weeks"][:3]


def test_adjustments_need_a_finished_week(cur, athlete_id, plan_id):
    ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    before = table_counts(cur)
    with pytest.raises(ValidationError, match="no finished week"):
        adjust_plan_from_performance(cur, athlete_id, today=date(2027, 1, 6))
    assert table_counts(cur) == before


def test_adjustments_need_an_active_plan(cur, athlete_id):
    with pytest.raises(ValidationError, match="no active plan"):
        adjust_plan_from_performance(cur, athlete_id, today=date(2027, 1, 20))


# ---------------------------------------------------------------------------------------------------- AI path

KEY = "sk-test-analysis-0123456789"


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(fake, db_path):
    return settings_for(fake, KEY)


def test_the_ai_phrases_feedback_and_its_invalid_suggestion_is_dropped(cur, athlete_id, plan_id, fake, settings):
    day, minutes, planned_if = planned(cur, plan_id, "endurance", week=2)
    ride_id = ride(cur, athlete_id, day, minutes, planned_if * FTP)
    tomorrow = (day + timedelta(days=1)).isoformat()
    fake.enqueue(content={"feedback": ["Nice steady endurance ride right on target."],
                          "suggestions": [
                              {"action": "swap_to_recovery", "date": tomorrow, "reason": "legs"},
                              {"action": "scale_week", "week_start": "2027-01-11", "factor": 7},
                              {"action": "drop_table", "table": "plans"}]})
    analysis = analyze_ride(cur, athlete_id, ride_id, settings=settings)
    assert analysis["feedback"]["source"] == "ai"
    assert analysis["feedback"]["sentences"] == ["Nice steady endurance ride right on target."]
    assert analysis["suggestions"] == [{"action": "swap_to_recovery", "date": tomorrow, "reason": "legs"}]
    assert sum("dropped" in n or "did not fit" in n for n in analysis["feedback"]["notes"]) == 2
    assert analysis["feedback"]["figures"]["duration_pct"] == 100.0  # figures are ours, never the AI's
    request = json.loads(fake.requests[0]["messages"][1]["content"])
    assert request["data"]["figures"]["workout_type"] == "endurance"
    assert KEY not in json.dumps(analysis, default=str)


def test_an_ai_failure_falls_back_to_the_built_in_coach(cur, athlete_id, plan_id, fake, settings):
    ride_id = ride(cur, athlete_id, planned(cur, plan_id, where=before_key)[0], 300, 240)
    fake.enqueue(status=500)
    analysis = analyze_ride(cur, athlete_id, ride_id, service=AIService(cur, settings, retries=0))
    assert analysis["feedback"]["source"] == "rules"
    assert "AI coach failed" in analysis["feedback"]["notes"][0]
    assert {s["action"] for s in analysis["suggestions"]} == {"swap_to_recovery", "scale_week"}


def test_an_ai_answer_of_the_wrong_shape_is_ignored(cur, athlete_id, plan_id, fake, settings):
    ride_id = ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    fake.enqueue(content={"feedback": "not a list", "suggestions": 3})
    analysis = analyze_ride(cur, athlete_id, ride_id, settings=settings)
    assert analysis["feedback"]["source"] == "rules"
    assert "did not fit" in analysis["feedback"]["notes"][0]


def test_approving_twice_is_refused_even_without_suggestions(cur, athlete_id, plan_id):
    ride_id = ride(cur, athlete_id, date(2027, 1, 5), 45, 170)
    analysis = analyze_ride(cur, athlete_id, ride_id)
    result = approve_analysis(cur, athlete_id, analysis["id"], today=date(2027, 1, 5))
    assert result["plan_id"] is None and result["applied"] == []
    assert get_plan(cur, plan_id, athlete_id)["active"]
    with pytest.raises(ValidationError, match="cannot be approved again"):
        approve_analysis(cur, athlete_id, analysis["id"], today=date(2027, 1, 5) + timedelta(days=1))



def test_importing_a_ride_file_marks_the_planned_workout_of_that_day_completed(cur, athlete_id):
    import numpy as np

    from core.demo import LOOPS, simulate_ride
    from core.files.gpx import to_gpx
    from core.importer import import_file

    # An imported file must be dated before tomorrow (core.files.plausibility): the same plan, three weeks ago.
    start = date.today() - timedelta(days=date.today().weekday() + 21)
    result = generate_plan(cur, athlete_id, {"duration_weeks": 4, "start_date": start.isoformat(),
                                             "goals": {"weekly_hours": 8}}, today=start - timedelta(days=3))
    plan_id = save_plan(cur, athlete_id, result, activate=True)
    day, minutes = cur.execute("SELECT date, duration_min FROM planned_workouts WHERE plan_id = ? AND type = "
                               "'endurance' ORDER BY date LIMIT 1", [plan_id]).fetchone()
    streams = simulate_ride(np.random.default_rng(3), "endurance", int(minutes * 60), 250, 168, 188, 72, LOOPS[0],
                            datetime(day.year, day.month, day.day, 17, tzinfo=UTC), 12.0)
    result = import_file(cur, athlete_id, "tuesday.gpx", to_gpx(streams, name="Tuesday").encode())
    assert result["kind"] == "ride"
    assert workout_on(cur, plan_id, day)[2] == result["id"]
