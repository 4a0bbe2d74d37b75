"""What the Coach and Plans pages show, built without Streamlit: labels and captions (rider text escaped), the
plan's summary tiles and its weekly TSS / hours / projected CTL figure, the projection (daily CTL/ATL/TSB to race
day, race-day tiles, weeks with their sentence), a workout's steps in watts, version diffs, approval messages."""

from __future__ import annotations

import pandas as pd

from core.coach.plans.check import _as_dict, _day_of
from core.coach.rules.model import DAY_NAMES, DAYS
from core.views import fmt as show
from core.views.text import md, plain

GENERATOR_LABELS = {"engine": "built-in engine", "ai": "AI coach", "ai-repaired": "AI coach, repaired to fit your rules"}


def rule_label(rule: dict) -> str:
    """'Fridays off (v2)', marked when disabled (new plans leave it out)."""
    return f"{plain(rule['name'])} (v{rule['version']})" + ("" if rule.get("enabled", True) else " — disabled")


def rule_versions_caption(versions: list[dict]) -> str:
    return "Versions: " + " → ".join(f"v{v['version']} “{md(v['text'][:40])}”" for v in versions)


def plan_label(plan: dict) -> str:
    """'★ Spring build · v2 · 2027-01-04' (the star marks the active plan)."""
    return f"{'★ ' if plan['active'] else ''}{plain(plan['name'])} · v{plan['version']} · {plan['start_date']}"


def plan_caption(plan: dict) -> str:
    """Dates, goal, generator and the rules a saved plan follows (rule names escaped)."""
    rules = ", ".join(f"{md(r['name'])} (v{r['version']})" for r in plan["rules"]) or "none"
    return (f"{plan['start_date']} → {plan['end_date']} · goal: {md(plan['goal_type'])} · made by "
            f"{md(plan['generator'])} · rules: {rules}")


def plan_metrics(plan: dict, weekly_ctl: list[float] | None) -> list[tuple[str, str, str | None]]:
    """Summary tiles as (label, value, delta): weeks, hours, mean weekly TSS, projected CTL when known."""
    weeks = plan["weeks"]
    tiles = [("Weeks", str(len(weeks)), None),
             ("Total hours", f"{sum(w['planned_hours'] for w in weeks):.0f}", None),
             ("Mean weekly TSS", f"{sum(w['planned_tss'] for w in weeks) / max(1, len(weeks)):.0f}", None)]
    if weekly_ctl:
        tiles.append(("Projected CTL at the end", f"{weekly_ctl[-1]:.0f}", f"{weekly_ctl[-1] - weekly_ctl[0]:+.0f}"))
    return tiles


def plan_figure(plan, weekly_ctl=None):
    """Planned TSS bars and hours per week (second axis), with the projected CTL dashed when given."""
    from plotly.subplots import make_subplots

    frame = weekly_frame(plan, weekly_ctl)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=frame["start_date"], y=frame["tss"], name="Planned TSS", marker_color="#6baed6",
                customdata=frame[["phase", "hours"]], hovertemplate="%{x|%d %b}: TSS %{y:.0f}, "
                "%{customdata[1]:.1f} h (%{customdata[0]})<extra></extra>")
    fig.add_scatter(x=frame["start_date"], y=frame["hours"], name="Hours", mode="lines+markers",
                    line_color="#31a354", secondary_y=True)
    if "ctl" in frame:
        fig.add_scatter(x=frame["start_date"], y=frame["ctl"], name="Projected CTL", mode="lines",
                        line=dict(color="#e6550d", dash="dash"))
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12),
                      barmode="overlay")
    fig.update_yaxes(title_text="TSS / CTL" if "ctl" in frame else "TSS", secondary_y=False)
    step, top = hours_ticks(frame["hours"].max())
    fig.update_yaxes(title_text="Hours", secondary_y=True, range=[0, top], tick0=0, dtick=step, showgrid=False)
    fig.update_yaxes(range=[0, max(1.0, frame["tss"].max() * 1.15)], secondary_y=False)
    return fig


def hours_ticks(max_hours: float) -> tuple[float, float]:
    """(tick step, axis top) for an hours axis: whole hours (1, 2, 5 or 10 h apart, about five ticks) and a top a
    little above the highest week, on a tick."""
    import math

    highest = max(1.0, float(max_hours or 0) * 1.1)
    step = next(s for s in (1, 2, 5, 10, 20, 50) if highest / s <= 6)
    return float(step), float(step * math.ceil(highest / step))


def analysis_title(item: dict) -> str:
    kind = "Plan adjustment" if item["kind"] == "adjustment" else f"Ride {item['ride_id']}"
    return f"**#{item['id']} · {kind}**"


def approval_message(result: dict) -> str:
    """What approving an analysis did, for the rider."""
    text = (f"Approved: plan version v{result['version']} (#{result['plan_id']}) is now active; the previous "
            f"version (#{result['old_plan_id']}) is kept." if result["plan_id"] else
            "Approved: nothing in the plan needed to change.")
    return text + "".join(f" Skipped: {md(s)}." for s in result["skipped"])

_SHORT = {"rest": "–", "recovery": "Rec", "endurance": "End", "tempo": "Tempo", "sweet_spot": "SST",
          "threshold": "Thr", "vo2max": "VO2", "anaerobic": "Ana", "long": "Long", "race": "RACE", "sprint": "Spr",
          "test": "Test", "group_ride": "Group", "commute": "Commute"}


def calendar_frame(plan: dict) -> pd.DataFrame:
    """One row per week, one column per weekday: 'type minutes' (🏠 for indoors), plus phase, hours and TSS."""
    rows = []
    for week in _as_dict(plan)["weeks"]:
        row = {"Week": week["week"], "Starts": week["start_date"], "Phase": week["phase"]}
        for day in DAYS:
            row[DAY_NAMES[day][:3]] = ""
        for w in week["workouts"]:
            label = DAY_NAMES[DAYS[_day_of(w)]][:3]
            if w["type"] == "rest":
                text = "rest"
            else:
                text = f"{_SHORT.get(w['type'], w['type'])} {w['duration_min']:.0f}′" + \
                    (" 🏠" if (w.get("target") or {}).get("indoor") else "")
            row[label] = f"{row[label]} + {text}" if row[label] else text
        row["Hours"] = week["planned_hours"]
        row["TSS"] = week["planned_tss"]
        rows.append(row)
    return pd.DataFrame(rows)


def weekly_frame(plan: dict, weekly_ctl: list[float] | None = None) -> pd.DataFrame:
    """Week start, phase, hours, TSS and projected CTL (for the chart)."""
    weeks = _as_dict(plan)["weeks"]
    frame = pd.DataFrame({"week": [w["week"] for w in weeks],
                          "start_date": pd.to_datetime([w["start_date"] for w in weeks]),
                          "phase": [w["phase"] for w in weeks], "hours": [w["planned_hours"] for w in weeks],
                          "tss": [w["planned_tss"] for w in weeks]})
    if weekly_ctl is not None and len(weekly_ctl) == len(weeks):
        frame["ctl"] = weekly_ctl
    return frame


# ----------------------------------------------------------------------------------------------------------------
# Projection: fitness to race day, the weeks and their sentence, a workout's steps in watts
# ----------------------------------------------------------------------------------------------------------------

def projection_tiles(projection: dict, engine: dict | None = None) -> list[tuple[str, str, str | None]]:
    """(label, value, delta): CTL today, race-day (or end-of-plan) CTL and TSB, and what the hours can sustain."""
    if not projection or not projection.get("start"):
        return []
    start = projection["start"]
    race = projection.get("race_day")
    end = race or projection["end"]
    where = "on race day" if race else "at the end"
    tiles = [("CTL at the start", f"{start['ctl']:.0f}", None),
             (f"CTL {where}", f"{end['ctl']:.0f}", f"{end['ctl'] - start['ctl']:+.0f}"),
             (f"Form (TSB) {where}", f"{end['tsb']:+.0f}", None)]
    if engine and engine.get("sustainable_ctl") is not None:
        tiles.append(("CTL your hours sustain", f"{engine['sustainable_ctl']:.0f}", None))
    return tiles


def projection_figure(projection: dict):
    """Daily CTL (fitness), ATL (fatigue) and TSB (form, bars) to race day, the race marked."""
    import plotly.graph_objects as go

    days = pd.DataFrame(projection.get("days") or [])
    fig = go.Figure()
    if days.empty:
        return fig
    days["date"] = pd.to_datetime(days["date"])
    fig.add_bar(x=days["date"], y=days["tsb"], name="Form (TSB)", marker_color="#bdbdbd", opacity=0.6)
    fig.add_scatter(x=days["date"], y=days["ctl"], name="Fitness (CTL)", mode="lines", line_color="#3182bd")
    fig.add_scatter(x=days["date"], y=days["atl"], name="Fatigue (ATL)", mode="lines",
                    line=dict(color="#e6550d", width=1))
    race = projection.get("race_day")
    if race:
        fig.add_vline(x=pd.Timestamp(race["date"]).timestamp() * 1000, line_dash="dot", line_color="#31a354",
                      annotation_text=f"race: CTL {race['ctl']:.0f}, TSB {race['tsb']:+.0f}")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.15))
    return fig


def weeks_frame(projection: dict) -> pd.DataFrame:
    """One row per week: phase, hours, TSS, CTL at the week's end and the sentence saying why."""
    rows = [{"Week": w["week"], "Starts": w["start_date"], "Phase": w["phase"],
             "Time (h:mm)": show.duration(w["hours"] * 3600), "TSS": show.number(w["tss"]),
             "CTL at end": show.number(w["ctl_end"]), "Why": w.get("why", "")}
            for w in (projection or {}).get("weeks", [])]
    return pd.DataFrame(rows, columns=["Week", "Starts", "Phase", "Time (h:mm)", "TSS", "CTL at end", "Why"])


def workout_choices(plan: dict) -> dict[str, str]:
    """Riding days of a plan for a picker: date → 'Tue 12 Jan · Threshold 2 × 15 (65′)'."""
    out = {}
    for week in _as_dict(plan)["weeks"]:
        for w in week["workouts"]:
            if w["type"] == "rest":
                continue
            day = pd.Timestamp(str(w["date"])[:10])
            name = (w.get("target") or {}).get("name") or w["type"].replace("_", " ")
            out[str(w["date"])[:10]] = f"{day:%a %d %b} · {name} ({w['duration_min']:.0f}′)"
    return out


def steps_frame(plan: dict, day: str, ftp_w: float) -> pd.DataFrame:
    """The day's workout step by step, targets in watts with ``ftp_w`` (the FTP of the day it is viewed)."""
    from core.coach.workouts import STEPS, in_watts

    cols = ["Step", "Duration", "Power (W)", "% FTP", "Cadence", "Cue"]
    for week in _as_dict(plan)["weeks"]:
        for w in week["workouts"]:
            if str(w["date"])[:10] != day or not w.get("steps"):
                continue
            steps = STEPS.validate_python(w["steps"])
            rows = []
            for n, (step, flat) in enumerate(zip(in_watts(steps, ftp_w), _flat(steps), strict=True), start=1):
                watts = "free" if step["power_low_w"] is None else (
                    f"{step['power_low_w']}" if step["power_low_w"] == step["power_high_w"] else
                    f"{step['power_low_w']}–{step['power_high_w']}")
                pct = "" if step["power_low_w"] is None else f"{flat.power_low_pct:g}–{flat.power_high_pct:g}"
                minutes, seconds = divmod(step["duration_s"], 60)
                rows.append({"Step": f"{n}. {step['kind']}", "Duration": f"{minutes}:{seconds:02d}",
                             "Power (W)": watts, "% FTP": pct,
                             "Cadence": f"{step['cadence_rpm']} rpm" if step["cadence_rpm"] else "",
                             "Cue": step["text"] or ""})
            return pd.DataFrame(rows, columns=cols)
    return pd.DataFrame(columns=cols)


def _flat(steps):
    from core.coach.workouts import flatten

    return flatten(steps)


def conflict_lines(conflicts: list[str]) -> list[str]:
    return [md(c) for c in conflicts]


# ---------------------------------------------------------------------------------------- device downloads
DEVICE_LABELS = {"zwo": ".zwo · Zwift, TrainerRoad", "fit": ".fit · Garmin, Wahoo",
                 "mrc": ".mrc · ERG, % FTP", "erg": ".erg · ERG, watts"}


_DEVICE_HELP = {"zwo": "Zwift, TrainerRoad, MyWhoosh and other trainer apps: one .zwo per riding workout",
                "fit": "Garmin Edge/Forerunner, Wahoo, Hammerhead and Garmin Connect: one .fit per riding workout",
                "mrc": "ERG-mode trainer apps (GoldenCheetah, PerfPRO …), targets in % FTP",
                "erg": "ERG-mode trainer apps, targets in watts at your FTP of today"}


def export_weeks(plan_row: dict) -> list[int | None]:
    """Choices for a device download: None (the whole plan), then every week number."""
    return [None, *[int(w["week"]) for w in _as_dict(plan_row["plan"])["weeks"]]]


def export_week_label(plan_row: dict, week: int | None) -> str:
    if week is None:
        return "Whole plan"
    wk = next(w for w in _as_dict(plan_row["plan"])["weeks"] if int(w["week"]) == week)
    return f"Week {week} · {wk['start_date']} · {wk['phase']}"


def device_downloads(plan_row: dict, week: int | None, ftp_w: float | None) -> list[dict]:
    """One ZIP per device format for the whole plan or one week: {fmt, label, file_name, data, count, help}.
    ``data`` is None (button disabled, ``help`` says why) when there is nothing to put in it."""
    from core.coach.device_files import DEVICE_FORMATS, device_files, zip_bytes
    from core.coach.devices import slug

    scope = f"week-{week:02d}" if week is not None else "plan"
    out = []
    for fmt in DEVICE_FORMATS:
        item = {"fmt": fmt, "label": DEVICE_LABELS[fmt], "data": None, "count": 0,
                "file_name": f"velocoach-{slug(plan_row['name'])}-{scope}-{fmt}.zip",
                "help": _DEVICE_HELP[fmt]}
        if fmt == "erg" and not ftp_w:
            item["help"] = ".erg files are in watts: set your FTP in Settings first (or use .mrc, in % FTP)"
            out.append(item)
            continue
        files = device_files(plan_row, fmt, ftp_w=ftp_w, week=week)
        if files:
            item |= {"data": zip_bytes(files), "count": len(files)}
        else:
            item["help"] = "No riding workout in this selection"
        out.append(item)
    return out


def device_caption(ftp_w: float | None, today) -> str:
    watts = (f".erg files and the watts shown use your FTP of {ftp_w:.0f} W on {today}" if ftp_w else
             "Set your FTP in Settings to get .erg files and watts beside each step")
    return ("One file per riding workout, zipped. .zwo, .fit and .mrc keep targets in % FTP, so your trainer app "
            f"or head unit applies your current FTP; {watts}.")


# ---------------------------------------------------------------------------------------- Garmin Connect
def garmin_send_defaults(plan_row: dict, today) -> tuple:
    """(first, last) day offered for sending: from today (or the plan's start) to its end, inside the plan."""
    from datetime import date

    start, end = (v if isinstance(v, date) else date.fromisoformat(str(v)[:10])
                  for v in (plan_row["start_date"], plan_row["end_date"]))
    return min(max(today, start), end), end


def garmin_send_caption(ftp_w: float | None) -> str:
    if not ftp_w:
        return "Garmin workouts carry power targets in watts: set your FTP in Settings before sending."
    return (f"Each riding workout goes to your Garmin calendar on its day, power targets in watts at your FTP of "
            f"{ftp_w:.0f} W. Sending again updates what changed and never adds a second copy.")


STATUS_LABELS = {"understood": "Understood", "partial": "Partly understood", "refused": "Not understood"}


def constraint_lines(constraints: list, *, hard_includes_sweet_spot: bool = True) -> list[str]:
    """Markdown lines for the constraints of a rule: each in words (escaped), with what its groups cover under it
    (e.g. "hard = sweet spot, threshold, VO2max, …")."""
    from core.coach.rules.model import covers, describe

    lines = []
    for c in constraints:
        lines.append(f"- {md(describe(c))}")
        lines += [f"    - {md(text)}" for text in covers(c, hard_includes_sweet_spot=hard_includes_sweet_spot)]
    return lines


# ----------------------------------------------------------------------------------------------------------------
# Plan progress and upcoming workouts (Dashboard): status in words and colour, never an emoji alone
# ----------------------------------------------------------------------------------------------------------------

# compliance colour -> (word, background, text colour); Okabe–Ito hues (told apart with colour-blindness) and a word.
STATUS = {"green": ("On plan", "#CDE8F6", "#0B4F71"), "amber": ("Partly", "#FBE3B8", "#6B4100"),
          "red": ("Off plan", "#F6CFC0", "#7A2100"), None: ("Not yet", "#ECEFF1", "#37474F")}
UNDER_WAY = ("Under way", "#ECEFF1", "#37474F")  # this week: judged when it has ended
STATUS_LEGEND = ("Status: On plan = within ±20 % of the planned duration · Partly = 50–79 % or 121–150 % · "
                 "Off plan = otherwise · Under way = this week, judged when it ends · Not yet = nothing planned or "
                 "the week has not started")
_STATUS_BY_WORD = {word: (background, colour) for word, background, colour in (*STATUS.values(), UNDER_WAY)}


def status_style(word: str) -> str:
    """CSS for a status cell (pandas Styler.map)."""
    background, colour = _STATUS_BY_WORD.get(word, ("", ""))
    return f"background-color: {background}; color: {colour}; font-weight: 600" if background else ""


def progress_frame(progress: pd.DataFrame) -> pd.DataFrame:
    """Planned against done per week: status word, hours as h:mm, compliance %, TSS."""
    rows = [{**r, "status": UNDER_WAY[0] if r.get("current") else STATUS.get(r["colour"], STATUS[None])[0]}
            for r in progress.to_dict("records")]
    return show.table(rows, [
        show.Column("period_start", "Week of", show.day), show.Column("status", "Status", str),
        show.Column("planned_s", "Planned (h:mm)", show.duration), show.Column("done_s", "Done (h:mm)", show.duration),
        show.Column("compliance_pct", "Done of planned (%)", lambda v: show.pct(v, 0, unit=False)),
        show.Column("planned_tss", "Planned TSS", show.number), show.Column("done_tss", "Done TSS", show.number)])


def upcoming_frame(workouts: list[dict]) -> pd.DataFrame:
    """The next planned workouts: day, type, duration as h:mm, TSS, description."""
    rows = [{**w, "duration_s": None if w["duration_min"] is None else w["duration_min"] * 60,
             "kind": str(w["type"]).replace("_", " ").capitalize()} for w in workouts]
    return show.table(rows, [
        show.Column("date", "Day", show.day), show.Column("kind", "Workout"),
        show.Column("duration_s", "Duration (h:mm)", show.duration), show.Column("tss", "TSS", show.number),
        show.Column("description", "Description", lambda v: show.text(v, 160))])
