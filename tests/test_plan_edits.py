"""Plan edits as versions (move, swap, skip, replace, duration) re-checked against the plan's rules, refused naming
the rule or saved with a recorded override; scenarios side by side; templates; the CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest

from core.cli import main
from core.coach.library import LibraryError, library
from core.coach.plans.edits import change_line, edit_plan, preview_edit
from core.coach.plans.generate import generate_plan
from core.coach.plans.scenarios import compare_two
from core.coach.plans.store import branch_plan, get_plan, plan_from_template, plan_versions, save_plan
from core.coach.rules.store import save_rule
from core.coach.workouts import STEPS, total_seconds
from core.errors import PlanGenerationError, RuleBreakError, ValidationError
from core.store.db import connect, integrity_problems, table_counts

TODAY = date(2027, 1, 1)
# The plan below (rest on Mondays, 2 weeks from Mon 4 Jan 2027): Tue threshold, Wed endurance, Thu VO2max,
# Fri rest, Sat long, Sun rest; week 2: Tue recovery, Thu endurance, Sat long.
TUE, WED, THU, FRI, SAT, SUN = (date(2027, 1, d) for d in (5, 6, 7, 8, 9, 10))
MON2 = date(2027, 1, 11)


@pytest.fixture
def plan_id(cur, athlete_id):
    rule = save_rule(cur, athlete_id, "rest on Mondays", name="Monday off")
    result = generate_plan(cur, athlete_id, {"duration_weeks": 2, "rule_ids": [rule["id"]]}, today=TODAY)
    return save_plan(cur, athlete_id, result, activate=True)


def day_of(plan: dict, day: date) -> list[dict]:
    return [w for wk in plan["weeks"] for w in wk["workouts"] if w["date"] == day.isoformat()]


def riding(plan: dict, day: date) -> list[dict]:
    return [w for w in day_of(plan, day) if w["type"] != "rest"]


def test_moving_a_workout_saves_a_new_active_version_and_keeps_the_old(cur, athlete_id, plan_id):
    before = get_plan(cur, plan_id)["plan"]
    moved = riding(before, WED)[0]
    result = edit_plan(cur, athlete_id, plan_id, {"kind": "move", "day": WED, "to": FRI}, today=TODAY)
    new = get_plan(cur, result.plan_id)
    assert (new["version"], new["active"], new["parent_plan_id"]) == (2, True, plan_id)
    assert not get_plan(cur, plan_id)["active"] and get_plan(cur, plan_id)["plan"] == before
    assert riding(new["plan"], FRI)[0]["steps"] == moved["steps"] and riding(new["plan"], WED) == []
    assert new["plan"]["weeks"][0]["planned_tss"] == before["weeks"][0]["planned_tss"]
    assert new["change"]["kind"] == "move" and new["change"]["override"] is False
    assert "checked against 1 rule, all kept" in change_line(new["change"])
    assert cur.execute("SELECT count(*) FROM planned_workouts WHERE plan_id = ? AND date = ? AND type <> 'rest'",
                       [result.plan_id, FRI]).fetchone()[0] == 1
    assert integrity_problems(cur) == []


def test_an_edit_that_breaks_a_rule_is_refused_naming_it_and_saves_nothing(cur, athlete_id, plan_id):
    before = table_counts(cur)
    with pytest.raises(RuleBreakError, match="week 2 Monday 2027-01-11: vo2max on a rest day — breaks “Monday off”") as exc:
        edit_plan(cur, athlete_id, plan_id, {"kind": "move", "day": THU, "to": MON2}, today=TODAY)
    assert len(exc.value.breaks) == 1
    assert exc.value.breaks[0].startswith("week 2 Monday 2027-01-11: vo2max on a rest day — breaks “Monday off”")
    assert table_counts(cur) == before


def test_an_override_saves_the_break_and_records_it_in_the_version(cur, athlete_id, plan_id):
    result = edit_plan(cur, athlete_id, plan_id, {"kind": "move", "day": THU, "to": MON2}, today=TODAY, override=True)
    change = get_plan(cur, result.plan_id)["change"]
    assert change["override"] is True and change["broken"] == result.broken and "Monday off" in result.broken[0]
    assert "saved with an override" in change_line(change)
    # A later edit elsewhere is not refused for the break the rider already accepted.
    later = edit_plan(cur, athlete_id, result.plan_id, {"kind": "skip", "day": SAT}, today=TODAY)
    assert later.override is False and later.version == 3


def test_swapping_days_across_weeks_moves_the_hours_between_weeks(cur, athlete_id, plan_id):
    before = get_plan(cur, plan_id)["plan"]
    result = edit_plan(cur, athlete_id, plan_id, {"kind": "swap", "day": SAT, "to": date(2027, 1, 14)}, today=TODAY)
    after = get_plan(cur, result.plan_id)["plan"]
    assert riding(after, SAT)[0]["steps"] == riding(before, date(2027, 1, 14))[0]["steps"]
    assert riding(after, date(2027, 1, 14))[0]["type"] == "long"
    moved = riding(before, SAT)[0]["duration_min"] - riding(before, date(2027, 1, 14))[0]["duration_min"]
    assert after["weeks"][0]["planned_hours"] == pytest.approx(before["weeks"][0]["planned_hours"] - moved / 60,
                                                               abs=0.01)
    assert sum(w["planned_hours"] for w in after["weeks"]) == pytest.approx(
        sum(w["planned_hours"] for w in before["weeks"]), abs=0.02)


def test_skip_replace_and_duration_change_the_day_and_its_totals(cur, athlete_id, plan_id):
    skipped = get_plan(cur, edit_plan(cur, athlete_id, plan_id, {"kind": "skip", "day": TUE}, today=TODAY).plan_id)
    assert day_of(skipped["plan"], TUE)[0]["type"] == "rest" and "Skipped" in day_of(skipped["plan"], TUE)[0][
        "description"]
    lib = library().get("sst-3x12") if "sst-3x12" in library().workouts else next(iter(library().of_type("tempo")))
    replaced = edit_plan(cur, athlete_id, plan_id, {"kind": "replace", "day": WED, "workout_id": lib.id}, today=TODAY)
    w = riding(get_plan(cur, replaced.plan_id)["plan"], WED)[0]
    assert w["target"]["workout_id"] == lib.id and w["duration_min"] == pytest.approx(lib.duration_min, abs=0.1)
    assert w["tss"] == pytest.approx(lib.tss, abs=0.1)
    longer = edit_plan(cur, athlete_id, plan_id, {"kind": "duration", "day": SAT, "minutes": 150}, today=TODAY)
    w = riding(get_plan(cur, longer.plan_id)["plan"], SAT)[0]
    assert w["duration_min"] == 150 and total_seconds(STEPS.validate_python(w["steps"])) == 150 * 60
    assert w["tss"] > riding(get_plan(cur, plan_id)["plan"], SAT)[0]["tss"]


@pytest.mark.parametrize("edit, message", [
    ({"kind": "move", "day": date(2026, 12, 30), "to": FRI}, "not a day of this plan"),
    ({"kind": "move", "day": WED, "to": THU}, "swap the two days instead"),
    ({"kind": "move", "day": FRI, "to": SUN}, "no workout to move"),
    ({"kind": "swap", "day": FRI, "to": SUN}, "both rest days"),
    ({"kind": "skip", "day": FRI}, "rest day"),
    ({"kind": "duration", "day": SAT, "minutes": 5}, "duration|minutes|greater"),
    ({"kind": "duration", "day": SAT, "minutes": 10_000}, "minutes|less"),
    ({"kind": "move", "day": WED}, "needs the other day"),
    ({"kind": "teleport", "day": WED}, "Kind input should be .move."),
])
def test_bad_edits_get_a_clear_message_and_save_nothing(cur, athlete_id, plan_id, edit, message):
    before = table_counts(cur)
    with pytest.raises(ValidationError, match=message):
        edit_plan(cur, athlete_id, plan_id, edit, today=TODAY)
    assert table_counts(cur) == before


def test_past_days_and_unknown_or_hostile_library_ids_are_refused(cur, athlete_id, plan_id):
    with pytest.raises(ValidationError, match="past"):
        edit_plan(cur, athlete_id, plan_id, {"kind": "skip", "day": TUE}, today=date(2027, 1, 7))
    for bad in ("no-such-workout", "<script>alert(1)</script>", "../../etc/passwd"):
        with pytest.raises(LibraryError, match="no workout"):
            edit_plan(cur, athlete_id, plan_id, {"kind": "replace", "day": WED, "workout_id": bad}, today=TODAY)
    assert [v["version"] for v in plan_versions(cur, athlete_id, plan_id)] == [1]


def test_another_athletes_plan_cannot_be_edited(cur, athlete_id, plan_id):
    from core.athletes import AthleteProfile, create_athlete
    from core.errors import NotFoundError

    other = create_athlete(cur, AthleteProfile(name="Other"))
    with pytest.raises(NotFoundError):
        edit_plan(cur, other, plan_id, {"kind": "skip", "day": SAT}, today=TODAY)


def test_preview_shows_the_break_without_saving(cur, athlete_id, plan_id):
    preview = preview_edit(cur, athlete_id, plan_id, {"kind": "swap", "day": THU, "to": MON2}, today=TODAY)
    assert preview["broken"] and preview["rules_checked"] == 1
    assert [v["version"] for v in plan_versions(cur, athlete_id, plan_id)] == [1]


def test_two_versions_compare_side_by_side_with_race_day_figures(cur, athlete_id, plan_id):
    v2 = edit_plan(cur, athlete_id, plan_id, {"kind": "skip", "day": SAT}, today=TODAY).plan_id
    result = compare_two(cur, athlete_id, plan_id, v2, today=TODAY)
    assert [(d["date_a"], d["b"]) for d in result["days"]] == [(SAT.isoformat(), "rest")]
    assert result["weeks"][0]["tss_a"] > result["weeks"][0]["tss_b"]
    assert result["weeks"][1]["tss_a"] == result["weeks"][1]["tss_b"]
    assert result["a"]["race"]["ctl"] > result["b"]["race"]["ctl"]  # less load: less fitness at the end
    assert result["a"]["tss"] - result["b"]["tss"] == pytest.approx(
        riding(get_plan(cur, plan_id)["plan"], SAT)[0]["tss"], abs=1)


def test_a_template_starts_a_plan_on_new_dates_that_compares_equal(cur, athlete_id, plan_id):
    template = branch_plan(cur, athlete_id, plan_id, "Two-week block", template=True)
    new = plan_from_template(cur, athlete_id, template, date(2027, 3, 3))
    assert get_plan(cur, new)["start_date"] == date(2027, 3, 1)
    assert get_plan(cur, new)["change"]["kind"] == "from_template"
    assert compare_two(cur, athlete_id, template, new, today=TODAY)["days"] == []  # aligned by week and weekday
    with pytest.raises(PlanGenerationError, match="not a template"):
        plan_from_template(cur, athlete_id, plan_id, date(2027, 3, 3))


# ------------------------------------------------------------------------------------------------------- CLI
def run(capsys, db_path, *argv):
    code = main(["--db", str(db_path), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def cli_plan(db_path, capsys):
    db = connect(db_path)
    cur = db.cursor()
    from core.athletes import AthleteProfile, create_athlete

    athlete = create_athlete(cur, AthleteProfile(name="Rider", ftp_w=250))
    rule = save_rule(cur, athlete, "rest on Mondays", name="Monday off")
    today = date.today()
    start = date.fromordinal(today.toordinal() + 7 - today.weekday())  # next Monday: every day editable
    plan = save_plan(cur, athlete, generate_plan(cur, athlete, {"duration_weeks": 2, "rule_ids": [rule["id"]],
                                                                "start_date": start}, today=today))
    db.close()
    return plan, start


def test_cli_edit_prints_one_json_object_and_refuses_a_rule_break_with_exit_1(capsys, db_path, cli_plan):
    plan_id, monday = cli_plan
    days = [date.fromordinal(monday.toordinal() + i).isoformat() for i in range(14)]
    code, out, err = run(capsys, db_path, "plan", "edit", str(plan_id), "skip", days[5], "--json")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["version"] == 2 and json.loads(lines[0])["saved"] is True
    v2 = json.loads(lines[0])["plan_id"]
    code, out, err = run(capsys, db_path, "plan", "edit", str(v2), "move", days[1], days[7], "--json")
    assert code == 1 and json.loads(out)["saved"] is False and "Monday off" in err
    code, out, _ = run(capsys, db_path, "plan", "edit", str(v2), "move", days[1], days[7], "--override", "--json")
    assert code == 0 and json.loads(out)["override"] is True
    code, _, err = run(capsys, db_path, "plan", "edit", str(v2), "move", days[1], "tomorrow")
    assert code == 2 and "YYYY-MM-DD" in err
    code, out, _ = run(capsys, db_path, "plan", "versions", str(v2), "--json")
    assert [json.loads(line)["version"] for line in out.strip().splitlines()] == [1, 2, 3]


def test_cli_compare_branch_template_and_rollback_after_confirmation(capsys, db_path, cli_plan):
    plan_id, monday = cli_plan
    code, out, _ = run(capsys, db_path, "plan", "branch", str(plan_id), "--name", "Hard option", "--json")
    branch = json.loads(out)["plan_id"]
    sat = date.fromordinal(monday.toordinal() + 5).isoformat()
    code, out, err = run(capsys, db_path, "plan", "edit", str(branch), "skip", sat, "--json")
    v2 = json.loads(out)["plan_id"]
    code, out, _ = run(capsys, db_path, "plan", "compare", str(plan_id), str(v2), "--json")
    data = json.loads(out)
    assert code == 0 and len(out.strip().splitlines()) == 1
    assert data["a"]["id"] == plan_id and [d["b"] for d in data["days"]] == ["rest"]
    code, out, _ = run(capsys, db_path, "plan", "template", "save", str(plan_id), "--json")
    template = json.loads(out)["template_id"]
    code, out, err = run(capsys, db_path, "plan", "generate", "--template", str(template), "--start", "2030-06-05",
                         "--json")
    assert code == 0 and json.loads(out)["weeks"][0]["start_date"] == "2030-06-03"
    code, _, err = run(capsys, db_path, "plan", "rollback", str(v2))
    assert code == 2 and "--yes" in err
    code, out, _ = run(capsys, db_path, "plan", "rollback", str(v2), "--yes", "--json")
    assert code == 0 and json.loads(out)["version"] == 3
    db = connect(db_path)
    try:
        body = get_plan(db.cursor(), json.loads(out)["plan_id"])["plan"]
        assert body == get_plan(db.cursor(), branch)["plan"]
        assert integrity_problems(db.cursor()) == []
    finally:
        db.close()


def test_rides_already_matched_stay_matched_in_the_new_version_and_after_a_roll_back(cur, athlete_id, plan_id):
    from core.coach.matching import link_completed_rides
    from core.coach.plans.store import rollback_plan
    from tests.test_dashboard_fitness import insert_ride

    tue = riding(get_plan(cur, plan_id)["plan"], TUE)[0]
    ride = insert_ride(cur, athlete_id, TUE, 60, moving_time_s=tue["duration_min"] * 60)
    link_completed_rides(cur, athlete_id, plan_id)
    v2 = edit_plan(cur, athlete_id, plan_id, {"kind": "skip", "day": SAT}, today=TODAY).plan_id
    v3 = rollback_plan(cur, athlete_id, v2)
    for version in (v2, v3):
        assert cur.execute("SELECT completed_ride_id FROM planned_workouts WHERE plan_id = ? AND date = ?",
                           [version, TUE]).fetchone()[0] == ride
