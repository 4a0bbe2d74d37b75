"""What the Plans page's versions and scenarios section shows, built without Streamlit: version rows with what made
each one, the choices of plans and templates to compare, and the side-by-side comparison as tables (rider text made
plain for tables; Markdown escaped where it is Markdown).

Must never: write, or import streamlit.
"""

from __future__ import annotations

import pandas as pd

from core.coach.plans.edits import change_line
from core.views.text import md, plain


def version_rows(versions: list[dict]) -> pd.DataFrame:
    """One row per version: version, plan id, active, when, what made it."""
    rows = [{"Version": f"v{v['version']}", "Plan id": v["id"], "Active": "active" if v["active"] else "",
             "Saved": f"{v['created_at']:%d %b %Y %H:%M}" if v.get("created_at") else "",
             "What changed": plain(change_line(v.get("change")), 300)} for v in versions]
    return pd.DataFrame(rows, columns=["Version", "Plan id", "Active", "Saved", "What changed"])


def compare_choices(plans: list[dict], templates: list[dict]) -> dict[int, str]:
    """Every plan and template to compare: id → 'Spring build · v2 · 2027-01-04' ('template' marked)."""
    out = {p["id"]: f"{plain(p['name'])} · v{p['version']} · {p['start_date']}" for p in plans}
    out |= {t["id"]: f"Template: {plain(t['name'])} · {t['duration_weeks']} weeks" for t in templates}
    return out


def _race(summary: dict) -> str:
    race = summary["race"]
    if race["ctl"] is None:
        return "–"
    where = "race day" if race["on_race_day"] else "end of plan"
    return f"CTL {race['ctl']:.0f}, TSB {race['tsb']:+.0f} ({where} {race['date']})"


def summary_frame(result: dict) -> pd.DataFrame:
    """The two plans' totals side by side, a row per figure."""
    a, b = result["a"], result["b"]
    rows = [("Plan", f"{plain(a['name'])} v{a['version']}", f"{plain(b['name'])} v{b['version']}"),
            ("Starts", a["start_date"], b["start_date"]), ("Weeks", str(a["weeks"]), str(b["weeks"])),
            ("Hours", f"{a['hours']:.1f}", f"{b['hours']:.1f}"), ("TSS", str(a["tss"]), str(b["tss"])),
            ("Projected fitness and form", _race(a), _race(b))]
    return pd.DataFrame(rows, columns=["", "A", "B"])


def weeks_compare_frame(result: dict) -> pd.DataFrame:
    def num(value, fmt):
        return "–" if value is None else format(value, fmt)

    rows = [{"Week": w["week"], "Phase A": w["phase_a"] or "–", "Phase B": w["phase_b"] or "–",
             "Hours A": num(w["hours_a"], ".1f"), "Hours B": num(w["hours_b"], ".1f"),
             "TSS A": num(w["tss_a"], ".0f"), "TSS B": num(w["tss_b"], ".0f"),
             "CTL A": num(w["ctl_end_a"], ".0f"), "CTL B": num(w["ctl_end_b"], ".0f")} for w in result["weeks"]]
    return pd.DataFrame(rows)


def days_compare_frame(result: dict) -> pd.DataFrame:
    rows = [{"Week": d["week"], "Day": d["weekday"], "A": plain(d["a"], 160), "B": plain(d["b"], 160)}
            for d in result["days"]]
    return pd.DataFrame(rows, columns=["Week", "Day", "A", "B"])


def compare_caption(result: dict) -> str:
    a, b = result["a"], result["b"]
    n = len(result["days"])
    differ = "1 day differs" if n == 1 else f"{n} days differ"
    return (f"{differ}. Hours {a['hours']:.1f} → {b['hours']:.1f}, TSS {a['tss']} → "
            f"{b['tss']}. Projected: A {md(_race(a))}; B {md(_race(b))}.")


def rollback_question(plan_row: dict, versions: list[dict]) -> str:
    parent = next((v for v in versions if v["id"] == plan_row["parent_plan_id"]), None)
    target = f"v{parent['version']}" if parent else "the previous version"
    return (f"Roll “{md(plan_row['name'])}” v{plan_row['version']} back to {target}? This saves a new version with "
            f"{target}'s workouts; v{plan_row['version']} is kept and you can return to it.")
