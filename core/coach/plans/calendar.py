"""A saved plan day by day against the rides: what was planned, what was ridden, the ride matched to each workout
(``planned_workouts.completed_ride_id``) and the day's status in the dashboard's compliance bands
(core.rides.dashboard.compliance_colour: ridden against planned duration, all rides of the day counted as the
dashboard's plan progress counts them).

Statuses (the views give each a colour-blind-safe colour, a symbol and words):
``done`` (green band), ``partial`` (amber band, ridden less), ``over`` (amber band, ridden more), ``off`` (red band,
something ridden), ``missed`` (a past day with a workout and no ride), ``extra`` (a ride on a rest day), ``planned``
(today or later, not ridden yet), ``rest`` (nothing planned, nothing ridden), ``outside`` (not a day of the plan).
"""

from __future__ import annotations

from datetime import date, timedelta

from core.rides.dashboard import compliance_colour

STATUSES = ("done", "partial", "over", "off", "missed", "extra", "planned", "rest", "outside")


def day_status(planned_s: float, done_s: float, day: date, today: date, *, in_plan: bool = True) -> str:
    """The status of one day (see the module docstring)."""
    if not in_plan:
        return "outside"
    if planned_s <= 0:
        return "extra" if done_s > 0 else "rest"
    if done_s <= 0:
        return "planned" if day >= today else "missed"
    colour = compliance_colour(done_s, planned_s)
    if colour == "green":
        return "done"
    if colour == "amber":
        return "partial" if done_s < planned_s else "over"
    return "off"


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def plan_span(plan_row: dict) -> tuple[date, date]:
    """First Monday and last Sunday of a saved plan."""
    weeks = plan_row["plan"]["weeks"]
    return _day(weeks[0]["start_date"]), _day(weeks[-1]["start_date"]) + timedelta(days=6)


def plan_days(cur, athlete_id: int, plan_row: dict, first: date, last: date, *, today: date | None = None) -> list[dict]:
    """Every day from ``first`` to ``last``: {date, in_plan, week, phase, why, workouts (the plan's, each with
    ``planned_workout_id`` and ``completed_ride_id``), rides [{id, name, sport_type, moving_time_s, tss,
    intensity_factor}], planned_min, done_min, compliance_pct, status}."""
    today = today or date.today()
    start, end = plan_span(plan_row)
    by_date: dict[date, list[dict]] = {}
    week_of: dict[date, dict] = {}
    for week in plan_row["plan"]["weeks"]:
        monday = _day(week["start_date"])
        for i in range(7):
            week_of[monday + timedelta(days=i)] = week
        for w in week["workouts"]:
            by_date.setdefault(_day(w["date"]), []).append(dict(w))
    # The stored rows carry the ids and the matched rides; they follow the JSON's order within a day and type.
    rows = cur.execute("SELECT id, date, type, completed_ride_id FROM planned_workouts WHERE plan_id = ? "
                       "AND date BETWEEN ? AND ? ORDER BY date, id", [plan_row["id"], first, last]).fetchall()
    for workout_id, day, kind, ride_id in rows:
        slot = next((w for w in by_date.get(day, []) if w["type"] == kind and "planned_workout_id" not in w), None)
        if slot is not None:
            slot.update(planned_workout_id=workout_id, completed_ride_id=ride_id)
    rides: dict[date, list[dict]] = {}
    for row in cur.execute(
            "SELECT id, CAST(started_at AS DATE), name, sport_type, coalesce(moving_time_s, elapsed_time_s, 0), "
            "tss, intensity_factor FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT "
            "NULL AND CAST(started_at AS DATE) BETWEEN ? AND ? ORDER BY started_at, id",
            [athlete_id, first, last]).fetchall():
        rides.setdefault(row[1], []).append(dict(zip(("id", "date", "name", "sport_type", "moving_time_s", "tss",
                                                      "intensity_factor"), row, strict=True)))
    out = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        in_plan = start <= day <= end
        workouts = by_date.get(day, []) if in_plan else []
        planned_min = sum(float(w["duration_min"]) for w in workouts if w["type"] != "rest")
        ridden = rides.get(day, [])
        done_min = sum(float(r["moving_time_s"] or 0) for r in ridden) / 60
        week = week_of.get(day)
        out.append({"date": day, "in_plan": in_plan, "week": week["week"] if week and in_plan else None,
                    "phase": week["phase"] if week and in_plan else None,
                    "why": (week.get("why") or "") if week and in_plan else "",
                    "workouts": workouts, "rides": ridden, "planned_min": round(planned_min, 1),
                    "done_min": round(done_min, 1),
                    "compliance_pct": round(100 * done_min / planned_min) if planned_min > 0 else None,
                    "status": day_status(planned_min * 60, done_min * 60, day, today, in_plan=in_plan)})
    return out


def month_span(anchor: date) -> tuple[date, date]:
    """The Monday on or before the 1st of ``anchor``'s month to the Sunday on or after its last day."""
    first = anchor.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    last = nxt - timedelta(days=1)
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


def week_span(anchor: date) -> tuple[date, date]:
    monday = anchor - timedelta(days=anchor.weekday())
    return monday, monday + timedelta(days=6)


def shift_month(anchor: date, months: int) -> date:
    """The 1st of the month ``months`` away from ``anchor``'s."""
    index = anchor.year * 12 + anchor.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
