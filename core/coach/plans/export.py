"""Plan exports: JSON and iCalendar (each event carries the workout's steps in % FTP and in watts)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

# ----------------------------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------------------------

def export_json(plan_row: dict) -> str:
    """The plan as JSON: its metadata, the rule versions used and the weeks (no secrets: none are stored)."""
    keys = ("id", "name", "description", "start_date", "end_date", "goal_type", "goals", "preferences",
            "duration_weeks", "version", "generator", "rules")
    doc = {k: plan_row.get(k) for k in keys} | {"weeks": plan_row["plan"]["weeks"]}
    return json.dumps(doc, default=str, ensure_ascii=False, indent=2)


def export_ics(plan_row: dict, *, ftp_w: float | None = None, export_day: date | None = None) -> bytes:
    """iCalendar with one all-day event per training day (rest days left out). Each description lists the
    workout's steps in % FTP and, when ``ftp_w`` is known, in watts at that FTP (the FTP of ``export_day``)."""
    from icalendar import Calendar, Event

    from core.coach.devices import clean_text, step_lines, workout_steps

    cal = Calendar()
    cal.add("prodid", "-//VeloCoach//Training plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", plan_row["name"])
    stamp = datetime.now(UTC)
    for week in plan_row["plan"]["weeks"]:
        for n, w in enumerate(week["workouts"]):
            if w["type"] == "rest":
                continue
            day = date.fromisoformat(str(w["date"])[:10])
            event = Event()
            event.add("uid", f"velocoach-plan{plan_row['id']}-v{plan_row.get('version', 1)}-{day}-{n}"
                             f"-{uuid.uuid5(uuid.NAMESPACE_URL, plan_row['name']).hex[:8]}@velocoach.local")
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", f"{w['type'].replace('_', ' ').capitalize()} {w['duration_min']:.0f} min "
                                 f"(TSS {w['tss']:.0f})")
            steps = workout_steps(w)
            lines = [clean_text(w.get("description", ""), 1000), f"Week {week['week']} · {week['phase']}"]
            if steps:
                basis = (f"watts at your FTP of {ftp_w:.0f} W on {export_day or date.today()}" if ftp_w
                         else "set your FTP to see watts")
                lines += ["", f"Steps ({basis}):", *(f"• {line}" for line in step_lines(steps, ftp_w))]
            event.add("description", "\n".join(lines))
            event.add("categories", [week["phase"], w["type"]])
            cal.add_component(event)
    return cal.to_ical()
