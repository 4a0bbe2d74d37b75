"""Plan generation: the issue's rule set holds in 12- and 52-week plans; request validation; storage; export.
(Every rule kind, one by one, is in test_rule_check.py; random rule sets in test_rule_properties.py.)"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from core.coach.plans.check import violations
from core.coach.plans.engine import build_plan, climb_power, phase_plan, projected_ctl
from core.coach.plans.export import export_ics, export_json
from core.coach.plans.generate import generate_plan
from core.coach.plans.schema import validate_request
from core.coach.plans.store import (
    activate_plan,
    branch_plan,
    compare_plans,
    delete_plan,
    get_plan,
    list_plans,
    plan_from_template,
    plan_versions,
    rollback_plan,
    save_plan,
    save_version,
)
from core.coach.rules.model import hard_types, parse_constraint
from core.coach.rules.parser import DeterministicParser
from core.coach.rules.store import edit_rule, save_rule
from core.coach.workouts import STEPS, stress_score, total_seconds
from core.errors import NotFoundError, PlanGenerationError
from core.store.db import integrity_problems, table_counts

START = date(2027, 1, 4)  # a Monday
TODAY = date(2027, 1, 1)
WEEKLY_HOURS = 10.0

def make(weeks, constraints, **kw):
    kw.setdefault("ftp_w", 250)
    kw.setdefault("weekly_hours", WEEKLY_HOURS)
    kw.setdefault("ctl", 55)  # a rider whose current load fills about the ten hours asked
    return build_plan(START, weeks, constraints, **kw)


def all_workouts(plan):
    return [w for week in plan["weeks"] for w in week["workouts"]]


@pytest.mark.parametrize("weeks", [12, 52])
def test_the_issue_example_rules_all_hold_together(weeks):
    text = ("no intervals on Mondays, long ride at the weekend, max 9 hours a week, rest on Fridays, no more than "
            "2 hard sessions per week, rest day after 2 hard days, ramp no more than 8% per week, indoors on "
            "Tuesdays and Thursdays")
    constraints = DeterministicParser().parse(text).constraints
    assert len(constraints) == 8
    plan = make(weeks, constraints, ctl=45)
    assert violations(plan, constraints, baseline_tss=7 * 45, ctl0=45) == []
    assert any(w["type"] in hard_types() for w in all_workouts(plan))  # still a real plan
    assert any(w["type"] == "long" for w in all_workouts(plan))


def test_plan_json_has_exactly_the_documented_shape():
    plan = make(12, [])
    assert set(plan) == {"weeks"}
    for n, week in enumerate(plan["weeks"], start=1):
        assert set(week) == {"week", "start_date", "phase", "planned_hours", "planned_tss", "why", "workouts"}
        assert week["why"]
        assert week["week"] == n
        assert date.fromisoformat(week["start_date"]) == START + timedelta(weeks=n - 1)
        assert len(week["workouts"]) == 7
        assert week["planned_hours"] == pytest.approx(sum(w["duration_min"] for w in week["workouts"]) / 60,
                                                      abs=0.01)
        for w in week["workouts"]:
            assert set(w) == {"date", "type", "duration_min", "tss", "target", "description", "steps"}
            assert w["type"] in {"rest", "recovery", "endurance", "tempo", "sweet_spot", "threshold", "vo2max",
                                 "anaerobic", "long", "race"}
            steps = STEPS.validate_python(w["steps"])
            assert total_seconds(steps) == pytest.approx(w["duration_min"] * 60, abs=30)
            assert w["tss"] == pytest.approx(stress_score(steps), abs=0.06)
    json.dumps(plan)


def test_phases_run_base_build_peak_taper_with_recovery_weeks():
    phases = phase_plan(12)
    assert phases[0] == "base" and phases[-1] == "taper"
    loading = [p for p in phases if p != "recovery"]
    assert loading == sorted(loading, key=["base", "build", "peak", "taper"].index)
    gaps = [i for i, p in enumerate(phase_plan(52)) if p == "recovery"]
    assert all(3 <= b - a <= 4 for a, b in zip(gaps, gaps[1:], strict=False))
    assert phase_plan(12, "beginner").count("recovery") > phases.count("recovery")


def test_recovery_and_taper_weeks_are_lighter():
    plan = make(12, [], event_date=START + timedelta(weeks=12, days=-1))
    weeks = plan["weeks"]
    for i, week in enumerate(weeks):
        if week["phase"] == "recovery":
            assert week["planned_tss"] < weeks[i - 1]["planned_tss"]
    peak = max(w["planned_tss"] for w in weeks if w["phase"] == "peak")
    assert weeks[-1]["planned_tss"] < peak


def test_workouts_carry_targets_in_percent_of_ftp_and_no_watts():
    plan = make(12, [], ftp_w=300)
    threshold = next(w for w in all_workouts(plan) if w["type"] == "threshold")
    low, high = threshold["target"]["power_pct"]
    assert 90 <= low <= high <= 110
    assert threshold["tss"] > 0
    assert "% FTP" in threshold["description"] and " W" not in threshold["description"]
    assert "power_w" not in json.dumps(plan)  # watts are resolved where shown, with the FTP of the day


def test_projected_ctl_rises_through_the_build():
    plan = make(12, [])
    ctl = projected_ctl(plan, 20.0)
    assert len(ctl) == 12
    assert ctl[9] > ctl[0]


def test_a_52_week_plan_with_a_ramp_rule_never_jumps_above_the_last_loading_week():
    rule = parse_constraint({"kind": "ramp_limit", "metric": "tss", "limit": 5})
    plan = make(52, [rule], ctl=30)
    last = None
    for week in plan["weeks"]:
        if week["phase"] in ("base", "build", "peak"):
            assert last is None or week["planned_tss"] <= last * 1.05 + 0.5
            last = week["planned_tss"]


# ------------------------------------------------------------------------------------------- request checks


@pytest.mark.parametrize("request_data, message", [
    ({"goals": {"event_date": "2026-12-01"}}, "in the past"),
    ({"user_preferences": {"available_days": []}}, "no available days"),
    ({"duration_weeks": 0}, r"Duration \(weeks\)"),
    ({"duration_weeks": 53}, r"Duration \(weeks\)"),
    ({"goals": {"target_ctl": 120, "weekly_hours": 3}}, "Contradictory"),
    ({"goals": {"event_type": "general_fitness", "event_date": "2027-03-01"}}, "Contradictory"),
    ({"goals": {"event_date": "2027-03-01"}, "duration_weeks": 20}, "choose 9 weeks"),
    ({"user_preferences": {"available_days": ["mon"], "long_ride_day": "sat"}}, "not one of your available"),
    ({"goals": {"event_date": "2029-01-01"}}, "at most 52"),
    ({"bogus": 1}, "Bogus"),
    ({"name": "x" * 5000}, "Name"),
    ({"rule_ids": list(range(500))}, "Rules"),
    ({"user_preferences": {"available_days": ["someday"]}}, "Available days"),
    ({"goals": {"weekly_hours": -3}}, "Weekly hours"),
    ("not a dict", "not valid"),
])
def test_bad_requests_get_a_clear_message(request_data, message):
    with pytest.raises(PlanGenerationError, match=message):
        validate_request(request_data, today=TODAY)


def test_an_event_sets_the_duration_and_lands_in_the_last_week():
    request = validate_request({"goals": {"event_date": "2027-03-06"}}, today=TODAY)
    assert request.start_date == START
    assert request.duration_weeks == 9


# ------------------------------------------------------------------------------------ with the database


def test_generating_with_saved_rules_records_their_versions(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "rest on Fridays")
    rule2 = edit_rule(cur, rule["id"], "rest on Fridays and Mondays")
    result = generate_plan(cur, athlete_id, {"rule_ids": [rule2["id"]], "duration_weeks": 4}, today=TODAY)
    assert result.generator == "engine"
    assert all(w["type"] == "rest" for w in all_workouts(result.plan) if date.fromisoformat(w["date"]).weekday()
               in (0, 4))
    plan_id = save_plan(cur, athlete_id, result, name="Spring")
    stored = get_plan(cur, plan_id)
    assert [(r["id"], r["version"]) for r in stored["rules"]] == [(rule2["id"], 2)]
    assert stored["version"] == 1 and stored["generator"] == "engine"
    assert cur.execute("SELECT count(*) FROM planned_workouts WHERE plan_id = ?", [plan_id]).fetchone()[0] == 28
    assert stored["start_date"] == START and stored["end_date"] == START + timedelta(days=27)


def test_weekly_hours_above_the_rule_limit_contradict_naming_the_rule_and_the_goal(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "max 6 hours a week", name="Busy season")
    with pytest.raises(PlanGenerationError, match="contradict your goal") as info:
        generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]], "goals": {"weekly_hours": 10}}, today=TODAY)
    assert "Busy season" in str(info.value) and "10 hours" in str(info.value)


def test_an_unavailable_day_on_the_event_date_is_refused_naming_both(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "I can't ride on Saturdays", name="Family day")
    with pytest.raises(PlanGenerationError, match="Family day") as info:
        generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]], "goals": {"event_date": "2027-03-06"}},
                      today=TODAY)
    assert "Sat 06 Mar 2027" in str(info.value)


def test_a_rest_day_on_the_event_date_keeps_the_race_and_says_so(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "rest on Saturdays")
    result = generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]], "goals": {"event_date": "2027-03-06"}},
                           today=TODAY)
    assert [w["type"] for w in all_workouts(result.plan) if w["date"] == "2027-03-06"] == ["race"]
    assert any("race is kept" in n for n in result.conflicts)  # shown before saving


def test_conflicting_rules_stop_generation(cur, athlete_id):
    rest = save_rule(cur, athlete_id, "rest on Saturday")
    long_ride = save_rule(cur, athlete_id, "long ride on Saturday")
    with pytest.raises(PlanGenerationError, match="contradict"):
        generate_plan(cur, athlete_id, {"rule_ids": [rest["id"], long_ride["id"]]}, today=TODAY)


def test_rest_rules_covering_every_available_day_are_refused(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "rest on Mondays")
    with pytest.raises(PlanGenerationError, match="No available day"):
        generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]], "user_preferences": {"available_days": ["mon"]}},
                      today=TODAY)


def test_a_target_ftp_below_the_current_one_is_contradictory(cur, athlete_id):
    with pytest.raises(PlanGenerationError, match="below your current FTP"):
        generate_plan(cur, athlete_id, {"goals": {"target_ftp_w": 200}}, today=TODAY)


def test_another_athletes_rule_is_not_found(cur, athlete_id):
    from core.athletes import AthleteProfile, create_athlete

    other = create_athlete(cur, AthleteProfile(name="Other"))
    rule = save_rule(cur, other, "rest on Fridays")
    with pytest.raises(NotFoundError):
        generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]]}, today=TODAY)


def test_an_event_day_becomes_the_race(cur, athlete_id):
    result = generate_plan(cur, athlete_id, {"goals": {"event_date": "2027-03-06", "event_type": "road_race"}},
                           today=TODAY)
    race = [w for w in all_workouts(result.plan) if w["type"] == "race"]
    assert [w["date"] for w in race] == ["2027-03-06"]


def _route_with_climbs(cur, athlete_id):
    route_id = cur.execute("INSERT INTO routes (athlete_id, name, kind) VALUES (?, 'Col Loop', 'planned') "
                           "RETURNING id", [athlete_id]).fetchone()[0]
    for seq, (est_s, grade, dist) in enumerate([(1500, 7.5, 6000), (480, 9.0, 1800), (60, 3.0, 300)]):
        cur.execute("INSERT INTO sections (route_id, seq, kind, start_m, end_m, distance_m, avg_grade_pct, "
                    "est_time_s) VALUES (?, ?, 'climb', 0, ?, ?, ?, ?)", [route_id, seq, dist, dist, grade, est_s])
    cur.execute("INSERT INTO sections (route_id, seq, kind, start_m, end_m, distance_m, est_time_s) "
                "VALUES (?, 9, 'flat', 0, 1, 1, 3000)", [route_id])
    return route_id


def test_a_route_goal_shapes_key_workouts_after_its_climbs(cur, athlete_id):
    route_id = _route_with_climbs(cur, athlete_id)
    result = generate_plan(cur, athlete_id, {"goals": {"route_id": route_id}}, today=TODAY)
    assert [p["duration_min"] for p in result.route_pacing] == [25.0, 8.0, 3.0]
    assert [p["power_w"] for p in result.route_pacing] == [climb_power(250, 25), climb_power(250, 8),
                                                           climb_power(250, 1)]
    assert result.route_pacing[0]["power_w"] < result.route_pacing[1]["power_w"]  # longer climb, lower power
    keyed = [w for w in all_workouts(result.plan) if w["target"].get("climbs")]
    assert keyed, "no workout uses the route's climbs"
    first = keyed[0]["target"]["climbs"][0]
    assert first["duration_min"] == 25.0 and first["avg_grade_pct"] == 7.5
    assert "Col Loop" in keyed[0]["description"]
    assert keyed[0]["duration_min"] >= 25 + 8 + 3
    plan_id = save_plan(cur, athlete_id, result)
    assert get_plan(cur, plan_id)["goal_type"] == "route"


def test_someone_elses_route_is_refused(cur, athlete_id):
    with pytest.raises(PlanGenerationError, match="Route 999"):
        generate_plan(cur, athlete_id, {"goals": {"route_id": 999}}, today=TODAY)


def test_only_one_plan_is_active(cur, athlete_id):
    first = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 2}, today=TODAY),
                      activate=True)
    second = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 3}, today=TODAY))
    activate_plan(cur, athlete_id, second)
    active = [p["id"] for p in list_plans(cur, athlete_id) if p["active"]]
    assert active == [second]
    activate_plan(cur, athlete_id, first)
    assert [p["id"] for p in list_plans(cur, athlete_id) if p["active"]] == [first]


def test_a_failed_save_leaves_the_database_unchanged(cur, athlete_id):
    result = generate_plan(cur, athlete_id, {"duration_weeks": 2}, today=TODAY)
    result.plan["weeks"][1]["workouts"][3]["date"] = "not a date"
    before = table_counts(cur)
    with pytest.raises(ValueError):
        save_plan(cur, athlete_id, result)
    assert table_counts(cur) == before


def test_versions_compare_roll_back_and_branch(cur, athlete_id):
    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 3}, today=TODAY),
                        activate=True)
    body = get_plan(cur, plan_id)["plan"]
    edited = json.loads(json.dumps(body))
    edited["weeks"][0]["workouts"][0].update(type="rest", duration_min=0, tss=0)
    v2 = save_version(cur, athlete_id, plan_id, edited)
    assert get_plan(cur, v2)["version"] == 2 and get_plan(cur, v2)["active"]
    assert not get_plan(cur, plan_id)["active"]
    diff = compare_plans(body, get_plan(cur, v2)["plan"])
    assert [d["week"] for d in diff] == [1]
    assert diff[0]["changed"][0]["after"] == ("rest", 0)
    v3 = rollback_plan(cur, athlete_id, v2)
    assert get_plan(cur, v3)["version"] == 3
    assert compare_plans(body, get_plan(cur, v3)["plan"]) == []
    assert [v["version"] for v in plan_versions(cur, athlete_id, v3)] == [1, 2, 3]
    copy = branch_plan(cur, athlete_id, v3, "Copy")
    assert get_plan(cur, copy)["version"] == 1 and get_plan(cur, copy)["parent_plan_id"] == v3
    with pytest.raises(PlanGenerationError, match="nothing to roll back"):
        rollback_plan(cur, athlete_id, plan_id)


def test_an_edited_version_that_breaks_a_rule_is_refused(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "rest on Mondays")
    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]],
                                                                         "duration_weeks": 2}, today=TODAY))
    body = get_plan(cur, plan_id)["plan"]
    body["weeks"][0]["workouts"][0].update(type="vo2max", duration_min=60, tss=70)
    before = table_counts(cur)
    with pytest.raises(PlanGenerationError, match="breaks its rules"):
        save_version(cur, athlete_id, plan_id, body)
    assert table_counts(cur) == before


def test_a_template_makes_a_new_plan_on_new_dates(cur, athlete_id):
    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 2}, today=TODAY))
    template = branch_plan(cur, athlete_id, plan_id, "Base block", template=True)
    assert [p["id"] for p in list_plans(cur, athlete_id, templates=True)] == [template]
    new = plan_from_template(cur, athlete_id, template, date(2027, 6, 9))
    assert get_plan(cur, new)["start_date"] == date(2027, 6, 7)
    with pytest.raises(PlanGenerationError):
        activate_plan(cur, athlete_id, template)


def test_deleting_a_plan_removes_its_workouts_and_keeps_links_whole(cur, athlete_id):
    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 2}, today=TODAY))
    v2 = save_version(cur, athlete_id, plan_id, get_plan(cur, plan_id)["plan"])
    delete_plan(cur, athlete_id, plan_id)
    assert cur.execute("SELECT count(*) FROM planned_workouts WHERE plan_id = ?", [plan_id]).fetchone()[0] == 0
    assert get_plan(cur, v2)["parent_plan_id"] is None
    assert integrity_problems(cur) == []


def test_ical_export_has_one_event_per_training_day(cur, athlete_id):
    from icalendar import Calendar

    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 4}, today=TODAY),
                        name="Winter")
    row = get_plan(cur, plan_id)
    cal = Calendar.from_ical(export_ics(row))
    events = [c for c in cal.walk("VEVENT")]
    training = [w for w in all_workouts(row["plan"]) if w["type"] != "rest"]
    assert len(events) == len(training)
    assert events[0].decoded("dtstart") == date.fromisoformat(training[0]["date"])
    assert len({str(e["uid"]) for e in events}) == len(events)


def test_json_export_round_trips(cur, athlete_id):
    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"duration_weeks": 2}, today=TODAY))
    doc = json.loads(export_json(get_plan(cur, plan_id)))
    assert doc["weeks"] == get_plan(cur, plan_id)["plan"]["weeks"]
    assert doc["duration_weeks"] == 2


def test_fitness_from_past_rides_sets_the_starting_ctl(cur, athlete_id):
    for i in range(60):
        cur.execute("INSERT INTO rides (athlete_id, source, external_id, started_at, tss) VALUES (?, 'file', ?, ?, "
                    "80)", [athlete_id, f"r{i}", f"{TODAY - timedelta(days=i + 1)} 09:00:00+00"])
    result = generate_plan(cur, athlete_id, {"duration_weeks": 4}, today=TODAY)
    assert 40 < result.ctl < 80
    assert result.weekly_ctl[0] > 0


def test_a_saved_plan_is_rechecked_with_what_it_was_made_with(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "no hard workouts on Mondays")
    plan_id = save_plan(cur, athlete_id, generate_plan(cur, athlete_id, {"rule_ids": [rule["id"]],
                                                                         "duration_weeks": 3}, today=TODAY))
    assert get_plan(cur, plan_id)["goals"]["rule_check"]["hard_includes_sweet_spot"] is True
    body = get_plan(cur, plan_id)["plan"]
    body["weeks"][0]["workouts"][0].update(type="sweet_spot", duration_min=60, tss=70)
    with pytest.raises(PlanGenerationError, match="No hard on Monday"):
        save_version(cur, athlete_id, plan_id, body)
