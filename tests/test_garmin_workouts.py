"""Sending a plan to Garmin Connect: the real garminconnect client against the fake Garmin (workouts, schedule,
calendar); a second send updates instead of duplicating; edits, moves, deletions in Garmin Connect, failures."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from core.coach.devices import planned_rides
from core.coach.plans.generate import generate_plan
from core.coach.plans.store import get_plan, save_plan
from core.errors import GarminAuthError, GarminSyncError, ValidationError
from core.garmin import accounts as garmin_accounts
from core.garmin.client import RetryPolicy
from core.garmin.workouts import content_hash, send_plan, sent_workouts, workout_json
from core.store.db import table_counts
from tests.fakes.garmin_server import SCHEDULE_PATH, WORKOUT_PATH, FakeGarmin, workout_problems

FAST = RetryPolicy(attempts=2, first_wait_s=0.001, max_wait_s=0.01)
TODAY = date(2027, 2, 26)
FTP = 250.0


@pytest.fixture
def fake(monkeypatch):
    with FakeGarmin() as server:
        server.install(monkeypatch)
        yield server


@pytest.fixture
def account_id(cur, athlete_id, fake, tmp_path):
    return garmin_accounts.sign_in(cur, athlete_id, "Edge 1040", fake.email, fake.password,
                                   files_dir=tmp_path / "files")


@pytest.fixture
def plan(cur, athlete_id):
    result = generate_plan(cur, athlete_id, {"duration_weeks": 2, "goals": {"weekly_hours": 8}}, today=TODAY)
    return get_plan(cur, save_plan(cur, athlete_id, result, name="Two <weeks>"), athlete_id)


def send(cur, athlete_id, plan, **options):
    options.setdefault("today", TODAY)
    options.setdefault("retry", FAST)
    options.setdefault("ftp_w", FTP)
    return send_plan(cur, athlete_id, plan, **options)


def riding(plan):
    return [w for wk in plan["plan"]["weeks"] for w in wk["workouts"] if w["type"] != "rest"]


def test_every_riding_workout_lands_on_its_day_with_power_targets_in_watts(cur, athlete_id, account_id, plan, fake):
    results = send(cur, athlete_id, plan)
    assert fake.errors == []
    rides = riding(plan)
    assert [(r["date"], r["type"], r["status"]) for r in results] == [(w["date"], w["type"], "created")
                                                                      for w in rides]
    calendar = fake.calendar()
    assert [day for day, _ in calendar] == [w["date"] for w in rides]
    day, threshold = next((d, wk) for d, wk in calendar if "Threshold" in wk["workoutName"] or
                          "Sweet" in wk["workoutName"])
    assert threshold["sportType"]["sportTypeKey"] == "cycling"
    (repeat,) = [s for s in threshold["workoutSegments"][0]["workoutSteps"] if s["type"] == "RepeatGroupDTO"]
    work = repeat["workoutSteps"][0]
    assert work["targetType"]["workoutTargetTypeKey"] == "power.zone"
    planned = next(w for w in rides if w["date"] == day)  # the plan's own steps, in % FTP: watts at 250 W
    first_work = next(s for item in planned["steps"] if item["kind"] == "repeat" for s in item["steps"])
    assert (work["targetValueOne"], work["targetValueTwo"]) == (round(first_work["power_low_pct"] * 2.5),
                                                                round(first_work["power_high_pct"] * 2.5))
    rows = sent_workouts(cur, account_id, date(2027, 3, 1), date(2027, 3, 14))
    assert [r["garmin_schedule_id"] for r in rows] == [r["garmin_schedule_id"] for r in results]
    assert all(r["plan_name"] == "Two <weeks>" for r in rows)


def test_the_uploaded_json_is_exactly_what_velocoach_built(cur, athlete_id, account_id, plan, fake):
    send(cur, athlete_id, plan)
    ride = planned_rides(plan)[0]
    built = workout_json(ride, FTP)
    (uploaded,) = [w for w in fake.workouts.values() if w["workoutName"] == built["workoutName"]]
    # all of it as built; the library adds only its empty "author"
    assert {k: v for k, v in uploaded.items() if k not in ("workoutId", "ownerId", "createdDate", "author")} == built
    assert workout_problems(built) == []


def test_sending_again_changes_nothing_and_costs_only_calendar_reads(cur, athlete_id, account_id, plan, fake):
    first = send(cur, athlete_id, plan)
    fake.requests.clear()
    again = send(cur, athlete_id, plan)
    assert {r["status"] for r in again} == {"unchanged"}
    assert [r["garmin_workout_id"] for r in again] == [r["garmin_workout_id"] for r in first]
    assert len(fake.calendar()) == len(first)
    assert {r.path.split("/")[1] for r in fake.requests if r.host == "connectapi.garmin.com"} == {"calendar-service"}


def test_an_edited_plan_updates_its_days_and_removes_a_day_that_became_rest(cur, athlete_id, account_id, plan, fake):
    first = {r["date"]: r for r in send(cur, athlete_id, plan)}
    edited = copy.deepcopy(plan)
    rides = [w for wk in edited["plan"]["weeks"] for w in wk["workouts"] if w["type"] != "rest"]
    longer, dropped = rides[0], rides[1]
    longer["duration_min"] += 15
    dropped.update(type="rest", duration_min=0)
    edited["version"] = 2
    results = {r["date"]: r for r in send(cur, athlete_id, edited)}
    assert results[longer["date"]]["status"] == "updated"
    assert results[dropped["date"]]["status"] == "removed"
    assert {r["status"] for d, r in results.items() if d not in (longer["date"], dropped["date"])} == {"unchanged"}
    calendar = fake.calendar()
    assert len(calendar) == len(rides) - 1 and dropped["date"] not in [d for d, _ in calendar]
    assert first[longer["date"]]["garmin_workout_id"] not in fake.workouts  # the old copy is gone, not kept
    (new,) = [w for d, w in calendar if d == longer["date"]]
    assert new["estimatedDurationInSecs"] == longer["duration_min"] * 60
    assert fake.errors == []


def test_a_new_ftp_resends_with_new_watts(cur, athlete_id, account_id, plan, fake):
    send(cur, athlete_id, plan)
    results = send(cur, athlete_id, plan, ftp_w=300)
    assert {r["status"] for r in results} == {"updated"}
    watts = [s.get("targetValueTwo") for _, w in fake.calendar() for s in w["workoutSegments"][0]["workoutSteps"]
             if s["type"] == "ExecutableStepDTO" and s["stepType"]["stepTypeKey"] == "warmup"]
    ends = {round(3 * s["power_high_pct"]) for w in riding(plan) for s in w["steps"] if s["kind"] == "warmup"}
    assert set(watts) == ends  # each warm-up's end in % FTP, now at 300 W


def test_workouts_removed_in_garmin_connect_are_put_back(cur, athlete_id, account_id, plan, fake):
    first = send(cur, athlete_id, plan)
    unscheduled, deleted = first[0], first[1]
    fake.schedules.pop(unscheduled["garmin_schedule_id"])           # taken off the calendar only
    del fake.workouts[deleted["garmin_workout_id"]]                  # deleted from the library (and calendar)
    fake.schedules.pop(deleted["garmin_schedule_id"], None)
    results = {r["date"]: r for r in send(cur, athlete_id, plan)}
    assert results[unscheduled["date"]]["status"] == "rescheduled"
    assert results[unscheduled["date"]]["garmin_workout_id"] == unscheduled["garmin_workout_id"]
    assert results[deleted["date"]]["status"] == "updated"
    assert len(fake.calendar()) == len(first)


def test_a_date_range_sends_only_those_days(cur, athlete_id, account_id, plan, fake):
    results = send(cur, athlete_id, plan, date_from=date(2027, 3, 8), date_to=date(2027, 3, 10))
    assert results and all("2027-03-08" <= r["date"] <= "2027-03-10" for r in results)
    assert {d for d, _ in fake.calendar()} == {r["date"] for r in results}
    with pytest.raises(ValidationError, match="start is after the end"):
        send(cur, athlete_id, plan, date_from=date(2027, 3, 10), date_to=date(2027, 3, 8))
    with pytest.raises(ValidationError, match="no riding workout"):
        send(cur, athlete_id, plan, date_from=date(2028, 1, 1), date_to=date(2028, 1, 2))


def test_by_default_days_before_today_are_left_alone(cur, athlete_id, account_id, plan, fake):
    results = send(cur, athlete_id, plan, today=date(2027, 3, 9))
    assert results and min(r["date"] for r in results) >= "2027-03-09"


def test_without_an_ftp_or_a_signed_in_account_nothing_is_sent(cur, athlete_id, plan, fake, tmp_path):
    with pytest.raises(GarminAuthError, match="No Garmin account is signed in"):
        send(cur, athlete_id, plan)
    garmin_accounts.sign_in(cur, athlete_id, "A", fake.email, fake.password, files_dir=tmp_path / "f")
    garmin_accounts.sign_in(cur, athlete_id, "B", fake.email, fake.password, files_dir=tmp_path / "f")
    with pytest.raises(ValidationError, match=r"Several Garmin accounts are signed in \(A, B\)"):
        send(cur, athlete_id, plan)
    before = table_counts(cur)
    with pytest.raises(ValidationError, match="set your FTP"):
        send(cur, athlete_id, plan, account_label="A", ftp_w=None)
    assert table_counts(cur) == before and fake.workouts == {}


def test_a_failure_half_way_keeps_what_was_sent_and_the_next_send_resumes(cur, athlete_id, account_id, plan, fake):
    rides = riding(plan)
    fake.fail_next(SCHEDULE_PATH, 500, times=10)  # the first schedule fails every retry
    with pytest.raises(GarminSyncError, match="send the plan again later"):
        send(cur, athlete_id, plan)
    assert fake.calendar() == [] and len(fake.workouts) == 1  # uploaded, remembered, not scheduled
    fake.clear_faults()
    results = send(cur, athlete_id, plan)
    assert len(fake.workouts) == len(rides) and len(fake.calendar()) == len(rides)  # no second copy of the first
    assert results[0]["status"] == "rescheduled"


def test_revoked_tokens_say_sign_in_again(cur, athlete_id, account_id, plan, fake):
    fake.revoke_tokens()
    with pytest.raises(GarminAuthError, match="sign in again"):
        send(cur, athlete_id, plan)


def test_removing_the_account_forgets_what_was_sent(cur, athlete_id, account_id, plan, fake):
    send(cur, athlete_id, plan)
    garmin_accounts.remove_account(cur, account_id)
    assert cur.execute("SELECT count(*) FROM garmin_workouts").fetchone()[0] == 0


def test_hostile_names_reach_garmin_cleaned_and_within_its_limits(cur, athlete_id, account_id, plan, fake):
    hostile = copy.deepcopy(plan)
    hostile["name"] = "\x00<script>alert(1)</script>" + "x" * 600
    for wk in hostile["plan"]["weeks"]:
        for w in wk["workouts"]:
            w["name"] = "Over\x1b[0m-unders & <b>" + "y" * 200
            w["description"] = "\x07" + "z" * 2000
    send(cur, athlete_id, hostile)
    assert fake.errors == []
    for w in fake.workouts.values():
        assert len(w["workoutName"]) <= 80 and len(w["description"]) <= 512
        assert "\x00" not in w["description"] and "\x1b" not in w["workoutName"]


def test_content_hash_follows_the_json_not_key_order():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_workout_json_nests_repeats_and_numbers_steps_in_order():
    plan_row = {"id": 1, "name": "x", "plan": {"weeks": [{"week": 1, "phase": "build", "workouts": [
        {"date": "2027-03-04", "type": "vo2max", "duration_min": 60, "tss": 1,
         "target": {"zone": "Z5", "power_w": [265, 300], "intervals": "5 × 4 min"}}]}]}}
    (ride,) = planned_rides(plan_row)
    steps = workout_json(ride, 250)["workoutSegments"][0]["workoutSteps"]
    assert [s["stepOrder"] for s in steps] == [1, 2, 5, 6]
    assert [s["stepOrder"] for s in steps[1]["workoutSteps"]] == [3, 4]
    assert steps[1]["numberOfIterations"] == 5
    assert steps[1]["workoutSteps"][0]["secondaryTargetType"]["workoutTargetTypeKey"] == "cadence"
    assert date.fromisoformat(ride.date) - timedelta(days=3) == date(2027, 3, 1)
    assert WORKOUT_PATH == "/workout-service/workout"


def test_the_summary_counts_each_outcome():
    from core.garmin.workouts import send_summary

    results = [{"status": s} for s in ("created", "created", "unchanged", "removed", "rescheduled")]
    assert send_summary(results, "Edge") == ("Garmin Connect (Edge): 2 new, 1 put back on the calendar, "
                                             "1 unchanged, 1 removed.")
    assert send_summary([]) == "Garmin Connect: nothing to do."
