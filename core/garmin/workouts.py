"""Planned workouts sent to Garmin Connect: each riding workout of a plan becomes a Garmin cycling workout (power
targets in watts at the FTP of the sending day) scheduled on its day of the rider's Garmin calendar, through the
real ``garminconnect`` client (``upload_cycling_workout``, ``schedule_workout``, ``get_scheduled_workouts``,
``unschedule_workout``, ``delete_workout``).

Sending again never adds a second copy. ``garmin_workouts`` keeps Garmin's ids per account, day and slot (the nth
riding workout of the day), with a hash of the workout JSON sent:

- same content and still on the calendar (one calendar read per month): nothing is sent (``unchanged``);
- same content, taken off the calendar in Garmin Connect: scheduled again (``rescheduled``; re-uploaded if the
  workout itself was deleted there);
- changed content (an edit, a new plan version, a new FTP): the new workout is uploaded and scheduled first, then
  the old one is unscheduled and deleted (``updated``), so a failure half-way never leaves the day empty;
- a day in the range that no longer has that workout (moved, made a rest day): unscheduled and deleted
  (``removed``).

Each workout's change is committed on its own, so a send stopped by the network resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import date, timedelta

from core.coach.devices import PlannedRide, clean_text, planned_rides
from core.coach.workouts import Repeat, Step, total_seconds
from core.errors import GarminAuthError, ValidationError
from core.garmin.accounts import account_by_label, list_accounts
from core.garmin.client import SIGNED_OUT, GarminConnectSource, RetryPolicy, _NotFound
from core.store.db import audit, transaction

log = logging.getLogger(__name__)

NAME_CHARS = 80          # Garmin Connect's workout name limit
DESCRIPTION_CHARS = 500  # its description holds 512
_STEP_TYPES = {"warmup": (1, "warmup"), "cooldown": (2, "cooldown"), "work": (3, "interval"),
               "recovery": (4, "recovery"), "steady": (3, "interval"), "ramp": (3, "interval"),
               "free": (3, "interval")}
_TIME = {"conditionTypeId": 2, "conditionTypeKey": "time", "displayOrder": 2, "displayable": True}
_POWER = {"workoutTargetTypeId": 2, "workoutTargetTypeKey": "power.zone", "displayOrder": 2}
_NO_TARGET = {"workoutTargetTypeId": 1, "workoutTargetTypeKey": "no.target", "displayOrder": 1}
_CADENCE = {"workoutTargetTypeId": 3, "workoutTargetTypeKey": "cadence", "displayOrder": 3}
CYCLING = {"sportTypeId": 2, "sportTypeKey": "cycling", "displayOrder": 2}


# ----------------------------------------------------------------------------------------------------------------
# Garmin's workout JSON (pure)
# ----------------------------------------------------------------------------------------------------------------
def _executable(step: Step, order: int, ftp_w: float) -> dict:
    type_id, type_key = _STEP_TYPES[step.kind]
    out = {"type": "ExecutableStepDTO", "stepOrder": order,
           "stepType": {"stepTypeId": type_id, "stepTypeKey": type_key, "displayOrder": type_id},
           "endCondition": dict(_TIME), "endConditionValue": float(step.duration_s)}
    if step.kind == "free":
        out["targetType"] = dict(_NO_TARGET)
    else:  # Garmin has no ramp: a ramp's range is its start and end
        low, high = sorted((step.power_low_pct, step.power_high_pct))
        out |= {"targetType": dict(_POWER), "targetValueOne": round(ftp_w * low / 100),
                "targetValueTwo": round(ftp_w * high / 100)}
    if step.cadence_rpm:
        out |= {"secondaryTargetType": dict(_CADENCE), "secondaryTargetValueOne": step.cadence_rpm - 5,
                "secondaryTargetValueTwo": step.cadence_rpm + 5}
    if step.text:
        out["description"] = clean_text(step.text, 200, single_line=True)
    return out


def workout_json(ride: PlannedRide, ftp_w: float) -> dict:
    """Garmin Connect's cycling workout for ``ride``: one segment, repeats as RepeatGroupDTO, power in watts."""
    if not ftp_w or ftp_w <= 0:
        raise ValidationError("Garmin workouts carry power targets in watts: set your FTP in Settings first.")
    order = 0
    steps: list[dict] = []
    for item in ride.steps:
        order += 1
        if isinstance(item, Repeat):
            group = {"type": "RepeatGroupDTO", "stepOrder": order,
                     "stepType": {"stepTypeId": 6, "stepTypeKey": "repeat", "displayOrder": 6},
                     "numberOfIterations": item.count, "smartRepeat": False,
                     "endCondition": {"conditionTypeId": 7, "conditionTypeKey": "iterations", "displayOrder": 7,
                                      "displayable": False},
                     "endConditionValue": float(item.count), "workoutSteps": []}
            for step in item.steps:
                order += 1
                group["workoutSteps"].append(_executable(step, order, ftp_w))
            steps.append(group)
        else:
            steps.append(_executable(item, order, ftp_w))
    name = clean_text(f"{ride.title} · {ride.date}", NAME_CHARS, single_line=True)
    about = clean_text(f"{ride.description}\nTargets at FTP {ftp_w:.0f} W. Sent by VeloCoach.", DESCRIPTION_CHARS)
    return {"workoutName": name, "description": about, "sportType": dict(CYCLING),
            "estimatedDurationInSecs": total_seconds(ride.steps),
            "workoutSegments": [{"segmentOrder": 1, "sportType": dict(CYCLING), "workoutSteps": steps}]}


def content_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# The Garmin calendar through the library
# ----------------------------------------------------------------------------------------------------------------
class GarminWorkoutCalendar(GarminConnectSource):
    """The account's Garmin Connect workouts and calendar (same tokens, retries and errors as the sync)."""

    try_again = "send the plan again later; it resumes where it stopped"

    def scheduled(self, year: int, month: int) -> list[dict]:
        """Workouts on the calendar in that month: [{"id" (schedule id), "workoutId", "date"}]."""
        data = self._call(f"reading the Garmin calendar of {year}-{month:02d}",
                          lambda: self._api.get_scheduled_workouts(year, month))
        items = data.get("calendarItems") if isinstance(data, dict) else None
        return [i for i in items or [] if isinstance(i, dict) and i.get("itemType") == "workout"]

    def upload(self, payload: dict) -> int:
        from garminconnect.workout import CyclingWorkout

        data = self._call("uploading a workout", lambda: self._api.upload_cycling_workout(CyclingWorkout(**payload)))
        workout_id = data.get("workoutId") if isinstance(data, dict) else None
        if not workout_id:
            raise ValidationError("Garmin Connect did not return the new workout's id; nothing was scheduled.")
        return int(workout_id)

    def schedule(self, workout_id: int, day: str) -> int | None:
        """Put the workout on ``day`` and return the schedule id (0 if Garmin did not say); None when Garmin has no
        such workout (deleted in Garmin Connect)."""
        try:
            data = self._call(f"scheduling a workout on {day}", lambda: self._api.schedule_workout(workout_id, day))
        except _NotFound:
            return None
        schedule_id = next((data.get(k) for k in ("workoutScheduleId", "scheduleId", "id")
                            if isinstance(data, dict) and data.get(k)), None)
        return int(schedule_id) if schedule_id else 0  # scheduled, id unknown: the calendar read finds it later

    def unschedule(self, schedule_id: int | None) -> None:
        if schedule_id:
            try:
                self._call("removing a workout from the calendar", lambda: self._api.unschedule_workout(schedule_id))
            except _NotFound:
                pass  # already gone

    def delete(self, workout_id: int) -> None:
        try:
            self._call("deleting a workout", lambda: self._api.delete_workout(workout_id))
        except _NotFound:
            pass


# ----------------------------------------------------------------------------------------------------------------
# Sending a plan
# ----------------------------------------------------------------------------------------------------------------
_ROW = ("workout_date", "slot", "garmin_workout_id", "garmin_schedule_id", "content_hash")


def signed_in_account(cur, athlete_id: int, label: str | None = None) -> dict:
    """The account to send to: the one labelled ``label``, else the only signed-in one."""
    if label:
        account = account_by_label(cur, athlete_id, label)
        if not account["signed_in"]:
            raise GarminAuthError(f"{SIGNED_OUT} ('{account['label']}')")
        return account
    signed = [a for a in list_accounts(cur, athlete_id) if a["signed_in"]]
    if not signed:
        raise GarminAuthError("No Garmin account is signed in: sign in on the Garmin sync page "
                              "(or `python -m core garmin login --email …`) first.")
    if len(signed) > 1:
        raise ValidationError("Several Garmin accounts are signed in (" + ", ".join(a["label"] for a in signed)
                              + "): choose one.")
    return signed[0]


def send_range(plan_row: dict, date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """The days to send: from today (or the plan's start if later) to the plan's end unless given."""
    start, end = _as_date(plan_row["start_date"]), _as_date(plan_row["end_date"])
    first = date_from or max(today, start)
    last = date_to or end
    if first > last:
        raise ValidationError(f"Nothing to send between {first} and {last}: the start is after the end "
                              f"(the plan runs {start} → {end}).")
    return first, last


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _months(first: date, last: date) -> list[tuple[int, int]]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append((day.year, day.month))
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _save(cur, account_id: int, ride: PlannedRide, slot: int, workout_id: int, schedule_id: int | None,
          digest: str, plan_row: dict, name: str) -> None:
    with transaction(cur):
        cur.execute(
            "INSERT INTO garmin_workouts (account_id, workout_date, slot, garmin_workout_id, garmin_schedule_id, "
            "content_hash, name, workout_type, plan_name, plan_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account_id, workout_date, slot) DO UPDATE SET garmin_workout_id = excluded.garmin_workout_id, "
            "garmin_schedule_id = excluded.garmin_schedule_id, content_hash = excluded.content_hash, "
            "name = excluded.name, workout_type = excluded.workout_type, plan_name = excluded.plan_name, "
            "plan_version = excluded.plan_version, sent_at = now()",
            [account_id, ride.date, slot, workout_id, schedule_id or None, digest, name, ride.type,
             str(plan_row.get("name") or ""), plan_row.get("version")])


def send_plan(cur, athlete_id: int, plan_row: dict, *, ftp_w: float | None, account_label: str | None = None,
              date_from: date | None = None, date_to: date | None = None, today: date | None = None,
              retry: RetryPolicy | None = None, progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Put the plan's riding workouts from ``date_from`` to ``date_to`` on the account's Garmin calendar (see the
    module docstring). Returns one result per workout: {date, type, title, status, garmin_workout_id,
    garmin_schedule_id}; ``progress`` gets each as it is done."""
    today = today or date.today()
    first, last = send_range(plan_row, date_from, date_to, today)
    account = signed_in_account(cur, athlete_id, account_label)
    rides = [r for r in planned_rides(plan_row) if first.isoformat() <= r.date <= last.isoformat()]
    wanted: dict[tuple[str, int], tuple[PlannedRide, dict]] = {}
    for ride in rides:
        slot = sum(1 for day, _ in wanted if day == ride.date)
        wanted[(ride.date, slot)] = (ride, workout_json(ride, ftp_w or 0))
    rows = cur.execute("SELECT workout_date, slot, garmin_workout_id, garmin_schedule_id, content_hash "
                       "FROM garmin_workouts WHERE account_id = ? AND workout_date BETWEEN ? AND ?",
                       [account["id"], first, last]).fetchall()
    sent = {(r[0].isoformat(), r[1]): dict(zip(_ROW, r, strict=True)) for r in rows}
    if not wanted and not sent:
        raise ValidationError(f"There is no riding workout between {first} and {last} to send.")
    calendar = GarminWorkoutCalendar(account["token_dir"], retry)
    # (day, Garmin workout id) -> schedule id of what is on the calendar now (the rider may have removed some)
    on_calendar = {(str(i.get("date"))[:10], int(i["workoutId"])): int(i.get("id") or 0)
                   for y, m in _months(first, last) for i in calendar.scheduled(y, m) if i.get("workoutId")}
    results = []

    def report(ride_date: str, kind: str, title: str, status: str, workout_id=None, schedule_id=None) -> None:
        item = {"date": ride_date, "type": kind, "title": title, "status": status,
                "garmin_workout_id": workout_id, "garmin_schedule_id": schedule_id}
        results.append(item)
        if progress:
            progress(item)

    for (day, slot), (ride, payload) in wanted.items():
        digest, old = content_hash(payload), sent.get((day, slot))
        if old and old["content_hash"] == digest:
            listed = on_calendar.get((day, old["garmin_workout_id"]))
            if listed is not None:
                if listed and listed != old["garmin_schedule_id"]:
                    _save(cur, account["id"], ride, slot, old["garmin_workout_id"], listed, digest, plan_row,
                          payload["workoutName"])
                report(day, ride.type, ride.title, "unchanged", old["garmin_workout_id"], listed or None)
                continue
            schedule_id = calendar.schedule(old["garmin_workout_id"], day)
            if schedule_id is not None:
                _save(cur, account["id"], ride, slot, old["garmin_workout_id"], schedule_id, digest, plan_row,
                      payload["workoutName"])
                report(day, ride.type, ride.title, "rescheduled", old["garmin_workout_id"], schedule_id or None)
                continue
        workout_id = calendar.upload(payload)
        _save(cur, account["id"], ride, slot, workout_id, None, digest, plan_row, payload["workoutName"])
        schedule_id = calendar.schedule(workout_id, day)
        _save(cur, account["id"], ride, slot, workout_id, schedule_id, digest, plan_row, payload["workoutName"])
        if old and old["garmin_workout_id"] != workout_id:
            calendar.unschedule(old["garmin_schedule_id"])
            calendar.delete(old["garmin_workout_id"])
        report(day, ride.type, ride.title, "updated" if old else "created", workout_id, schedule_id or None)
    for (day, slot), old in sorted(sent.items()):
        if (day, slot) in wanted:
            continue
        calendar.unschedule(old["garmin_schedule_id"])
        calendar.delete(old["garmin_workout_id"])
        with transaction(cur):
            cur.execute("DELETE FROM garmin_workouts WHERE account_id = ? AND workout_date = ? AND slot = ?",
                        [account["id"], day, slot])
        report(day, "rest", "", "removed", old["garmin_workout_id"], old["garmin_schedule_id"])
    counts = {s: sum(1 for r in results if r["status"] == s) for s in {r["status"] for r in results}}
    with transaction(cur):
        audit(cur, "send", "garmin_workouts", account["id"], athlete_id, plan_id=plan_row.get("id"),
              first=first, last=last, **counts)
    log.info("plan %s sent to garmin account %s: %s", plan_row.get("id"), account["id"], counts)
    return results


def send_summary(results: list[dict], label: str = "") -> str:
    """'Garmin Connect (Edge): 3 new, 2 updated, 5 unchanged, 1 removed.'"""
    words = {"created": "new", "updated": "updated", "rescheduled": "put back on the calendar",
             "unchanged": "unchanged", "removed": "removed"}
    parts = [f"{sum(1 for r in results if r['status'] == s)} {w}" for s, w in words.items()
             if any(r["status"] == s for r in results)]
    return f"Garmin Connect{f' ({label})' if label else ''}: {', '.join(parts) or 'nothing to do'}."


def sent_workouts(cur, account_id: int, first: date, last: date) -> list[dict]:
    """What VeloCoach last sent to this account for these days."""
    rows = cur.execute("SELECT workout_date, slot, name, workout_type, plan_name, plan_version, garmin_workout_id, "
                       "garmin_schedule_id, sent_at FROM garmin_workouts WHERE account_id = ? AND workout_date "
                       "BETWEEN ? AND ? ORDER BY workout_date, slot", [account_id, first, last]).fetchall()
    keys = ("date", "slot", "name", "type", "plan_name", "plan_version", "garmin_workout_id", "garmin_schedule_id",
            "sent_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]
