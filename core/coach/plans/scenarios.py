"""Scenarios: any two saved plans or versions side by side — each plan's totals and projected race-day (or
end-of-plan) CTL and TSB, week by week hours and TSS, and the workouts that differ, day by day. Plans on different
dates (a template against a plan) are aligned by week number and weekday. Branching, templates and roll-back live in
core.coach.plans.store; this module only reads.
"""

from __future__ import annotations

from datetime import date, timedelta

from core.coach.plans.replan import saved_projection
from core.coach.plans.store import get_plan

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _workout_text(workouts: list[dict]) -> str:
    riding = [w for w in workouts if w["type"] != "rest"]
    if not riding:
        return "rest"
    return " + ".join(f"{(w.get('target') or {}).get('name') or w['type'].replace('_', ' ')} "
                      f"{float(w['duration_min']):.0f} min" for w in riding)


def plan_summary(plan_row: dict, projection: dict) -> dict:
    """{id, name, version, is_template, start_date, weeks, hours, tss, race: {date, ctl, tsb, on_race_day}}."""
    weeks = plan_row["plan"]["weeks"]
    race = projection.get("race_day")
    end = race or projection.get("end") or {}
    return {"id": plan_row["id"], "name": plan_row["name"], "version": plan_row["version"],
            "is_template": bool(plan_row["is_template"]), "start_date": str(weeks[0]["start_date"])[:10],
            "weeks": len(weeks), "hours": round(sum(float(w["planned_hours"]) for w in weeks), 1),
            "tss": round(sum(float(w["planned_tss"]) for w in weeks)),
            "race": {"date": end.get("date"), "ctl": end.get("ctl"), "tsb": end.get("tsb"),
                     "on_race_day": race is not None}}


def _slots(plan: dict) -> dict[tuple[int, int], tuple[date, list[dict]]]:
    out = {}
    for n, week in enumerate(plan["weeks"], start=1):
        start = _day(week["start_date"])
        for i in range(7):
            out[(n, i)] = (start + timedelta(days=i), [])
        for w in week["workouts"]:
            day = _day(w["date"])
            out.setdefault((n, day.weekday()), (day, []))[1].append(w)
    return out


def compare_two(cur, athlete_id: int, a_id: int, b_id: int, *, today: date | None = None) -> dict:
    """{"a": summary, "b": summary, "weeks": [{week, phase_a, phase_b, hours_a, hours_b, tss_a, tss_b, ctl_end_a,
    ctl_end_b}], "days": [{week, weekday, date_a, date_b, a, b}] (only the days whose workouts differ)}."""
    today = today or date.today()
    a, b = get_plan(cur, a_id, athlete_id), get_plan(cur, b_id, athlete_id)
    proj_a, proj_b = saved_projection(cur, athlete_id, a, today=today), saved_projection(cur, athlete_id, b,
                                                                                         today=today)
    wa, wb = a["plan"]["weeks"], b["plan"]["weeks"]
    ctl_a = {w["week"]: w["ctl_end"] for w in proj_a.get("weeks", [])}
    ctl_b = {w["week"]: w["ctl_end"] for w in proj_b.get("weeks", [])}
    weeks = []
    for n in range(1, max(len(wa), len(wb)) + 1):
        x = wa[n - 1] if n <= len(wa) else None
        y = wb[n - 1] if n <= len(wb) else None
        weeks.append({"week": n, "phase_a": x and x["phase"], "phase_b": y and y["phase"],
                      "hours_a": x and x["planned_hours"], "hours_b": y and y["planned_hours"],
                      "tss_a": x and x["planned_tss"], "tss_b": y and y["planned_tss"],
                      "ctl_end_a": ctl_a.get(n) if x else None, "ctl_end_b": ctl_b.get(n) if y else None})
    sa, sb = _slots(a["plan"]), _slots(b["plan"])
    days = []
    for key in sorted(set(sa) | set(sb)):
        da, la = sa.get(key, (None, []))
        db_, lb = sb.get(key, (None, []))
        text_a = _workout_text(la) if da else "—"
        text_b = _workout_text(lb) if db_ else "—"
        if text_a != text_b:
            days.append({"week": key[0], "weekday": WEEKDAY_NAMES[key[1]],
                         "date_a": da.isoformat() if da else None, "date_b": db_.isoformat() if db_ else None,
                         "a": text_a, "b": text_b})
    return {"a": plan_summary(a, proj_a), "b": plan_summary(b, proj_b), "weeks": weeks, "days": days}
