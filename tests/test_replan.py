"""Saved plans against real rides: re-planning from today (completed weeks kept, actual CTL, every rule, a new
version), a saved plan's projection, the event-day conflict flow, and B/C races in the request."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from core.coach.plans.check import violations
from core.coach.plans.generate import event_conflicts, generate_plan
from core.coach.plans.replan import replan_from_today, saved_projection
from core.coach.plans.schema import parse_race_dates, validate_request
from core.coach.plans.store import get_plan, plan_versions, save_plan
from core.coach.rules.store import constraints_of, save_rule
from core.errors import PlanGenerationError
from core.rides.store import store_ride
from core.store.db import table_counts

TODAY = date(2027, 1, 1)
START = date(2027, 1, 4)
EVENT = date(2027, 3, 28)  # the Sunday of week 12


def ride(cur, athlete_id, day, minutes=90, np_w=185, ext=None):
    started = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return store_ride(cur, athlete_id, None, source="file", external_id=ext or f"r{day}",
                      summary={"started_at": started, "sport_type": "cycling", "moving_time_s": minutes * 60,
                               "elapsed_time_s": minutes * 60 + 60, "avg_power_w": np_w * 0.95,
                               "normalized_power_w": np_w, "name": "ride"}).id


def train(cur, athlete_id, first: date, last: date, minutes=90):
    """Five rides a week from ``first`` to ``last`` (Tuesdays and Fridays off)."""
    day = first
    while day <= last:
        if day.weekday() not in (1, 4):
            ride(cur, athlete_id, day, minutes)
        day += timedelta(days=1)


def saved(cur, athlete_id, rule_ids=(), **goals):
    request = {"start_date": START.isoformat(), "rule_ids": list(rule_ids),
               "goals": {"event_date": EVENT.isoformat(), "event_type": "road_race"} | goals}
    return save_plan(cur, athlete_id, generate_plan(cur, athlete_id, request, today=TODAY), activate=True)


def test_replanning_keeps_the_done_weeks_starts_from_the_real_ctl_and_saves_a_version(cur, athlete_id):
    train(cur, athlete_id, TODAY - timedelta(days=90), TODAY)
    rule = save_rule(cur, athlete_id, "rest on Fridays, max 2 hard sessions per week")
    plan_id = saved(cur, athlete_id, [rule["id"]])
    old = get_plan(cur, plan_id, athlete_id)
    # the rider stopped after week 3: on Wednesday of week 6 the plan is re-made from a lower fitness
    train(cur, athlete_id, START, START + timedelta(days=20))
    today = START + timedelta(weeks=5, days=2)
    result = replan_from_today(cur, athlete_id, plan_id, today=today)
    new = get_plan(cur, result.plan_id, athlete_id)
    assert new["version"] == 2 and new["parent_plan_id"] == plan_id and new["active"] and not get_plan(
        cur, plan_id, athlete_id)["active"]
    assert old["plan"]["weeks"][:5] == new["plan"]["weeks"][:5] == result.plan["weeks"][:5]  # completed weeks kept
    kept_days = [w for w in new["plan"]["weeks"][5]["workouts"] if date.fromisoformat(w["date"]) < today]
    assert kept_days == [w for w in old["plan"]["weeks"][5]["workouts"] if date.fromisoformat(w["date"]) < today]
    assert [w["week"] for w in new["plan"]["weeks"]] == list(range(1, 13))
    constraints, _ = constraints_of(cur, athlete_id, [rule["id"]])
    assert event_conflicts(new["plan"], constraints, EVENT)[1] == []
    races = [w for wk in new["plan"]["weeks"] for w in wk["workouts"] if w["type"] == "race"]
    assert [w["date"] for w in races] == [EVENT.isoformat()]
    # started from the fitness the rides left (lower than planned), so the new weeks are lighter than the old ones
    assert result.projection["start"]["ctl"] < result.projection["race_day"]["ctl"] + 40
    assert sum(w["planned_tss"] for w in new["plan"]["weeks"][6:9]) < \
        sum(w["planned_tss"] for w in old["plan"]["weeks"][6:9])
    assert "Re-planned from" in new["description"] and [v["version"] for v in plan_versions(
        cur, athlete_id, result.plan_id)] == [1, 2]


def test_replanning_a_finished_plan_or_a_template_is_refused_and_changes_nothing(cur, athlete_id):
    from core.coach.plans.store import branch_plan

    plan_id = saved(cur, athlete_id)
    before = table_counts(cur)
    with pytest.raises(PlanGenerationError, match="nothing left to re-plan"):
        replan_from_today(cur, athlete_id, plan_id, today=EVENT + timedelta(days=10))
    template = branch_plan(cur, athlete_id, plan_id, "Template", template=True)
    with pytest.raises(PlanGenerationError, match="template"):
        replan_from_today(cur, athlete_id, template, today=START)
    assert {k: v for k, v in table_counts(cur).items() if k != "audit_log"} == \
        {k: v for k, v in before.items() if k != "audit_log"} | {"plans": before["plans"] + 1,
                                                                 "planned_workouts": before["planned_workouts"] + 84}


def test_a_saved_plan_projects_from_the_rides_already_ridden(cur, athlete_id):
    plan_id = saved(cur, athlete_id)
    plan = get_plan(cur, plan_id, athlete_id)
    ahead = saved_projection(cur, athlete_id, plan, today=TODAY)
    assert ahead["race_day"]["date"] == EVENT.isoformat() and ahead["days"][-1]["date"] == EVENT.isoformat()
    train(cur, athlete_id, START, START + timedelta(days=13), minutes=180)  # much more than planned
    mid = saved_projection(cur, athlete_id, plan, today=START + timedelta(days=14))
    day = (START + timedelta(days=3)).isoformat()
    ridden = next(d for d in mid["days"] if d["date"] == day)
    assert ridden["tss"] > next(d for d in ahead["days"] if d["date"] == day)["tss"]
    assert mid["race_day"]["ctl"] > ahead["race_day"]["ctl"]


def test_an_event_on_a_rest_day_stays_on_its_day_and_is_saved_only_when_confirmed(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "rest on Sundays")
    result = generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]], "start_date": START.isoformat(),
                                             "goals": {"event_date": EVENT.isoformat()}}, today=TODAY)
    day = next(w for wk in result.plan["weeks"] for w in wk["workouts"] if w["date"] == EVENT.isoformat())
    assert day["type"] == "race" and day["target"]["event"]
    assert result.conflicts and "Rest: Sunday" in result.conflicts[0] and "stays on its day" in result.conflicts[0]
    others = [v for v in violations(result.plan, rule["constraints"]) if EVENT.isoformat() not in v]
    assert others == []  # only the event day disagrees with the rule
    before = table_counts(cur)
    with pytest.raises(PlanGenerationError, match="not saved"):
        save_plan(cur, athlete_id, result)
    assert table_counts(cur) == before
    plan_id = save_plan(cur, athlete_id, result, accept_conflicts=True, activate=True)
    assert get_plan(cur, plan_id, athlete_id)["goals"]["conflicts"] == result.conflicts
    replanned = replan_from_today(cur, athlete_id, plan_id, today=START + timedelta(weeks=4))
    assert replanned.conflicts  # still shown; the new version is saved (the rider accepted it)


def test_b_and_c_races_come_from_the_form_and_are_checked(cur, athlete_id):
    events = parse_race_dates("2027-02-13, 2027-03-06", "B") + parse_race_dates("", "C")
    assert [e["date"] for e in events] == [date(2027, 2, 13), date(2027, 3, 6)]
    result = generate_plan(cur, athlete_id, {"start_date": START.isoformat(), "goals": {
        "event_date": EVENT.isoformat(), "other_events": events}}, today=TODAY)
    by_day = {w["date"]: w for wk in result.plan["weeks"] for w in wk["workouts"]}
    assert by_day["2027-02-13"]["type"] == "race" and by_day["2027-02-13"]["target"]["priority"] == "B"
    rule = save_rule(cur, athlete_id, "rest on Saturdays")
    with pytest.raises(PlanGenerationError, match="B race on Sat 13 Feb 2027.*Rest.*Saturday"):
        generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]], "start_date": START.isoformat(), "goals": {
            "event_date": EVENT.isoformat(), "other_events": events}}, today=TODAY)


@pytest.mark.parametrize("text, message", [
    ("next saturday", "is not a date"),
    ("2027-02-30", "is not a date"),
    ("<script>alert(1)</script>", "is not a date"),
    ("2027-02-13" * 200, "is not a date"),
])
def test_bad_race_dates_get_a_clear_message(text, message):
    with pytest.raises(PlanGenerationError, match=message):
        parse_race_dates(text, "B")


@pytest.mark.parametrize("others, message", [
    ([{"date": "2027-05-01"}], "outside the plan"),
    ([{"date": "2027-03-28"}], "not before the goal event"),
    ([{"date": "2027-02-13"}, {"date": "2027-02-13", "priority": "C"}], "same day"),
    ([{"date": "2027-02-13", "priority": "A"}], "B/C races"),
])
def test_b_and_c_races_outside_the_plan_or_after_the_event_are_refused(others, message):
    with pytest.raises(PlanGenerationError, match=message):
        validate_request({"start_date": START.isoformat(), "goals": {"event_date": EVENT.isoformat(),
                                                                     "other_events": others}}, today=TODAY)


def test_the_plan_json_of_a_saved_plan_keeps_steps_in_percent_of_ftp(cur, athlete_id):
    plan_id = saved(cur, athlete_id)
    body = get_plan(cur, plan_id, athlete_id)["plan"]
    text = json.dumps(body)
    assert '"steps"' in text and "power_low_pct" in text and "power_w" not in text
    stored = cur.execute("SELECT targets FROM planned_workouts WHERE plan_id = ? AND type = 'threshold' LIMIT 1",
                         [plan_id]).fetchone()[0]
    assert "power_pct" in json.loads(stored)
