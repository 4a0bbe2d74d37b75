"""Plan exports: JSON and iCalendar."""

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


def export_ics(plan_row: dict) -> bytes:
    """iCalendar with one all-day event per training day (rest days left out)."""
    from icalendar import Calendar, Event

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
            event.add("description", f"{w.get('description', '')}\nWeek {week['week']} · {week['phase']}")
            event.add("categories", [week["phase"], w["type"]])
            cal.add_component(event)
    return cal.to_ical()
