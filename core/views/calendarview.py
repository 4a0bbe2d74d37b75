"""What the Calendar page shows, built without Streamlit: the month or week grid of a saved plan as an HTML table
(every rider string escaped with html_text), the status of each day in a colour-blind-safe colour *and* a symbol
*and* words, the legend (the dashboard's compliance bands, core.rides.dashboard.COMPLIANCE_BANDS_PCT), a day's
workout as a step chart (% FTP and watts at today's FTP), the matched rides and the per-interval compliance rows.

Colours: the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), chosen so that the three compliance
bands stay apart for colour-blind riders and differ in lightness; the status is always written in words as well.

Must never: write, or import streamlit.
"""

from __future__ import annotations

from datetime import date, timedelta

from core.rides.dashboard import COMPLIANCE_BANDS_PCT, ZONE_COLOURS
from core.views.text import html_text, plot_text

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Okabe–Ito: blue, yellow, vermillion for the bands; a neutral grey and white for the rest.
BAND_COLOURS = {"green": "#0072B2", "amber": "#F0E442", "red": "#D55E00"}
# status → (symbol, words, background, text colour). Symbols are plain text glyphs, never emoji, and never alone.
STATUS_STYLE = {
    "done": ("✓", "done as planned", BAND_COLOURS["green"], "#FFFFFF"),
    "partial": ("◐", "partly done", BAND_COLOURS["amber"], "#000000"),
    "over": ("▲", "more than planned", BAND_COLOURS["amber"], "#000000"),
    "off": ("✗", "far from the plan", BAND_COLOURS["red"], "#FFFFFF"),
    "missed": ("✗", "missed", BAND_COLOURS["red"], "#FFFFFF"),
    "extra": ("+", "unplanned ride", "#BBBBBB", "#000000"),
    "planned": ("○", "planned", "#FFFFFF", "#000000"),
    "rest": ("–", "rest", "#F2F2F2", "#555555"),
    "outside": ("", "not in this plan", "#FAFAFA", "#999999"),
}

SHORT_TYPES = {"rest": "Rest", "recovery": "Recovery", "endurance": "Endurance", "tempo": "Tempo",
               "sweet_spot": "Sweet spot", "threshold": "Threshold", "vo2max": "VO2max", "anaerobic": "Anaerobic",
               "long": "Long ride", "race": "Race", "sprint": "Sprints", "test": "FTP test", "group_ride": "Group ride",
               "commute": "Commute"}


def status_text(status: str, pct: float | None = None) -> str:
    """'✓ done as planned (96 %)': symbol, words and the share of the planned time ridden."""
    symbol, words, _, _ = STATUS_STYLE[status]
    share = f" ({pct:.0f} %)" if pct is not None and status in ("done", "partial", "over", "off") else ""
    return f"{symbol} {words}{share}".strip()


def legend() -> list[dict]:
    """The statuses with their colours and what they mean (the bands quoted from the dashboard's constants)."""
    g_low, g_high = COMPLIANCE_BANDS_PCT["green"]
    a_low, a_high = COMPLIANCE_BANDS_PCT["amber"]
    meaning = {"done": f"ridden {g_low}–{g_high} % of the planned time",
               "partial": f"ridden {a_low}–{g_low - 1} % of the planned time",
               "over": f"ridden {g_high + 1}–{a_high} % of the planned time",
               "off": f"ridden under {a_low} % or over {a_high} % of the planned time",
               "missed": "a past workout with no ride", "extra": "a ride on a rest day",
               "planned": "today or later, not ridden yet", "rest": "nothing planned"}
    return [{"status": s, "symbol": STATUS_STYLE[s][0], "words": STATUS_STYLE[s][1], "background": STATUS_STYLE[s][2],
             "colour": STATUS_STYLE[s][3], "meaning": text} for s, text in meaning.items()]


def workout_name(w: dict) -> str:
    return str((w.get("target") or {}).get("name") or SHORT_TYPES.get(w["type"], w["type"].replace("_", " ")))


def workout_line(w: dict) -> str:
    """'Sweet spot 3 × 12 · 65′' (rest: 'Rest')."""
    if w["type"] == "rest":
        return "Rest"
    indoor = " · indoors" if (w.get("target") or {}).get("indoor") else ""
    return f"{workout_name(w)} · {float(w['duration_min']):.0f}′{indoor}"


def grid(days: list[dict]) -> list[list[dict]]:
    """Days (Monday first, whole weeks) as rows of seven."""
    return [days[i:i + 7] for i in range(0, len(days), 7)]


_CSS = """<style>
table.vc-cal{border-collapse:collapse;width:100%;table-layout:fixed;font-size:0.85rem}
table.vc-cal th{padding:4px;text-align:left;font-weight:600;border-bottom:2px solid #888}
table.vc-cal td{vertical-align:top;border:1px solid #bbb;padding:4px;height:5.2em;overflow-wrap:anywhere}
table.vc-cal td.vc-week{width:7.5em;background:#FAFAFA;color:#333}
table.vc-cal td.vc-selected{outline:3px solid #000;outline-offset:-3px}
table.vc-cal td.vc-today .vc-num{text-decoration:underline;font-weight:700}
table.vc-cal .vc-num{font-weight:600}
table.vc-cal .vc-w{display:block}
table.vc-cal .vc-ride{display:block;font-style:italic}
table.vc-cal .vc-status{display:inline-block;margin-top:2px;padding:0 4px;border-radius:3px;border:1px solid #555}
table.vc-legend{border-collapse:collapse;font-size:0.8rem;margin-top:6px}
table.vc-legend td{padding:2px 6px}
</style>"""


def _cell(day: dict, *, selected: date | None, today: date, detailed: bool) -> str:
    symbol, words, background, colour = STATUS_STYLE[day["status"]]
    d: date = day["date"]
    classes = ["vc-day"] + (["vc-selected"] if d == selected else []) + (["vc-today"] if d == today else [])
    number = f"{d.day} {d:%b}" if d.day == 1 or detailed else str(d.day)
    parts = [f'<span class="vc-num">{html_text(number)}</span>']
    for w in day["workouts"]:
        if w["type"] == "rest" and len(day["workouts"]) > 1:
            continue
        line = workout_line(w) + (f" · TSS {float(w['tss']):.0f}" if detailed and w["type"] != "rest" else "")
        parts.append(f'<span class="vc-w">{html_text(line, 80)}</span>')
    if day["rides"]:
        rode = f"rode {day['done_min']:.0f}′"
        if detailed:
            rode += ": " + ", ".join(str(r["name"] or "ride") for r in day["rides"])
        parts.append(f'<span class="vc-ride">{html_text(rode, 120)}</span>')
    if day["status"] != "outside":
        label = status_text(day["status"], day.get("compliance_pct"))
        parts.append(f'<span class="vc-status" style="background:{background};color:{colour}">'
                     f"{html_text(label)}</span>")
    title = html_text(f"{d:%A %d %B %Y}: {words}")
    return (f'<td class="{" ".join(classes)}" title="{title}" style="background:{"#FAFAFA" if not day["in_plan"] else "#FFFFFF"}">'
            + "".join(parts) + "</td>")


def calendar_html(days: list[dict], *, selected: date | None = None, today: date | None = None,
                  detailed: bool = False) -> str:
    """The grid as one HTML table: a week column (plan week, phase, planned and ridden hours), then Monday to
    Sunday. Every piece of text is escaped; colours and classes are constants."""
    today = today or date.today()
    rows = []
    for week in grid(days):
        planned_h = sum(d["planned_min"] for d in week) / 60
        done_h = sum(d["done_min"] for d in week) / 60
        plan_day = next((d for d in week if d["in_plan"]), None)
        head = (f"Week {plan_day['week']}<br>{html_text(plan_day['phase'])}" if plan_day else
                f"{week[0]['date']:%d %b}")
        head += f"<br>{planned_h:.1f} h planned<br>{done_h:.1f} h ridden"
        cells = "".join(_cell(d, selected=selected, today=today, detailed=detailed) for d in week)
        rows.append(f'<tr><td class="vc-week">{head}</td>{cells}</tr>')
    header = "<tr><th class='vc-week'>Week</th>" + "".join(f"<th>{d}</th>" for d in WEEKDAYS) + "</tr>"
    caption = f"Training calendar, {days[0]['date']:%d %b %Y} to {days[-1]['date']:%d %b %Y}" if days else ""
    return (_CSS + f'<table class="vc-cal" aria-label="{html_text(caption)}"><thead>{header}</thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def legend_html() -> str:
    cells = "".join(f'<td><span class="vc-status" style="background:{item["background"]};color:{item["colour"]};'
                    f'border:1px solid #555;padding:0 4px;white-space:nowrap">{html_text(item["symbol"] + " " + item["words"])}</span> '
                    f"{html_text(item['meaning'])}</td>" for item in legend())
    return f'<table class="vc-legend"><tr>{cells}</tr></table>'


def week_summary(days: list[dict]) -> str:
    """'Week of 12 Apr: 6.5 h planned, 4.0 h ridden; 3 of 5 training days so far done as planned, 1 missed; 2 to
    come.' A week not started says only what is planned."""
    planned = [d for d in days if d["planned_min"] > 0]
    to_come = sum(1 for d in planned if d["status"] == "planned")
    judged = len(planned) - to_come
    head = f"Week of {days[0]['date']:%d %b}: {sum(d['planned_min'] for d in days) / 60:.1f} h planned"
    if judged == 0 and not any(d["done_min"] for d in days):
        return f"{head} over {len(planned)} training days, none ridden yet."
    done = sum(1 for d in planned if d["status"] == "done")
    missed = sum(1 for d in planned if d["status"] == "missed")
    return (f"{head}, {sum(d['done_min'] for d in days) / 60:.1f} h ridden; {done} of {judged} training days "
            f"{'so far ' if to_come else ''}done as planned" + (f", {missed} missed" if missed else "") +
            (f"; {to_come} to come" if to_come else "") + ".")


def day_choice_label(day: dict) -> str:
    """'Tue 14 Apr · Sweet spot 3 × 12 · 65′ · ✓ done as planned' for the day picker."""
    riding = [w for w in day["workouts"] if w["type"] != "rest"]
    what = " + ".join(workout_line(w) for w in riding) or ("ride" if day["rides"] else "rest")
    return f"{day['date']:%a %d %b} · {what} · {status_text(day['status'], day.get('compliance_pct'))}"


# ----------------------------------------------------------------------------------------------------------------
# A day: the step chart, the rides, the intervals
# ----------------------------------------------------------------------------------------------------------------

def _zone_colour(pct: float) -> str:
    from core.rides.metrics import POWER_ZONE_PCT

    zone = sum(1 for low in POWER_ZONE_PCT if pct >= low) - 1
    return ZONE_COLOURS[max(0, min(zone, len(ZONE_COLOURS) - 1))]


def step_blocks(steps) -> list[dict]:
    """The workout as blocks to draw: {start_s, duration_s, pct, low_pct, high_pct, kind, text}; ramps (warm-up,
    cool-down, ramp) cut into slices of at most a minute so their slope shows; free riding at 50 % FTP."""
    from core.coach.workouts import FREE_RIDE_PCT, STEPS, flatten

    blocks, t = [], 0
    for step in flatten(STEPS.validate_python(steps)):
        low, high = step.power_low_pct, step.power_high_pct
        if step.kind in ("warmup", "cooldown", "ramp"):
            n = max(1, min(30, step.duration_s // 60))
            edges = [round(step.duration_s * i / n) for i in range(n + 1)]
            for a, b in zip(edges, edges[1:], strict=False):
                mid = low + (high - low) * ((a + b) / 2) / step.duration_s
                blocks.append({"start_s": t + a, "duration_s": b - a, "pct": mid, "low_pct": low, "high_pct": high,
                               "kind": step.kind, "text": step.text or ""})
        else:
            pct = FREE_RIDE_PCT if step.kind == "free" else (low + high) / 2
            blocks.append({"start_s": t, "duration_s": step.duration_s, "pct": pct, "low_pct": low,
                           "high_pct": high, "kind": step.kind, "text": step.text or ""})
        t += step.duration_s
    return blocks


def _clock(seconds: float) -> str:
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def step_figure(steps, ftp_w: float | None, title: str = ""):
    """Power over time: one bar per step (ramps in slices) at its target in % FTP, coloured by Coggan zone; the
    right-hand axis reads the same heights in watts at ``ftp_w`` (today's FTP)."""
    import plotly.graph_objects as go

    blocks = step_blocks(steps)
    fig = go.Figure()
    if not blocks:
        return fig
    hover = []
    for b in blocks:
        rng = (f"{b['low_pct']:g} % FTP" if b["low_pct"] == b["high_pct"] else
               f"{b['low_pct']:g}–{b['high_pct']:g} % FTP") if b["kind"] != "free" else "ride as you feel"
        watts = ""
        if ftp_w and b["kind"] != "free":
            lo, hi = round(b["low_pct"] * ftp_w / 100), round(b["high_pct"] * ftp_w / 100)
            watts = f" · {lo} W" if lo == hi else f" · {min(lo, hi)}–{max(lo, hi)} W"
        hover.append(plot_text(f"{_clock(b['start_s'])}–{_clock(b['start_s'] + b['duration_s'])} · {b['kind']} · "
                               f"{rng}{watts}" + (f" · {b['text']}" if b["text"] else ""), 200))
    fig.add_bar(x=[(b["start_s"] + b["duration_s"] / 2) / 60 for b in blocks], y=[b["pct"] for b in blocks],
                width=[b["duration_s"] / 60 for b in blocks], marker_color=[_zone_colour(b["pct"]) for b in blocks],
                marker_line_width=0, hovertext=hover, hoverinfo="text", name="Target")
    top = max(110.0, max(b["pct"] for b in blocks) * 1.1)
    fig.add_hline(y=100, line_dash="dot", line_color="#555", annotation_text="FTP", annotation_position="top left")
    layout = dict(height=260, margin=dict(l=50, r=60, t=30 if title else 10, b=40), bargap=0, showlegend=False,
                  xaxis=dict(title="minutes", range=[0, (blocks[-1]["start_s"] + blocks[-1]["duration_s"]) / 60]),
                  yaxis=dict(title="% FTP", range=[0, top]), template="none")
    if title:
        layout["title"] = dict(text=plot_text(title, 120), font=dict(size=14))
    if ftp_w:
        # An invisible trace gives the second axis; its range is the first one's in watts, so the ticks line up.
        fig.add_scatter(x=[0], y=[0], yaxis="y2", mode="markers", marker_opacity=0, hoverinfo="skip",
                        showlegend=False)
        layout["yaxis2"] = dict(title=f"W at FTP {ftp_w:.0f}", overlaying="y", side="right",
                                range=[0, top * ftp_w / 100], showgrid=False)
    fig.update_layout(**layout)
    return fig


def ride_rows(day: dict) -> list[dict]:
    """The rides of a day as table rows; ``matched`` names the planned workout a ride completed."""
    matched = {w.get("completed_ride_id"): workout_name(w) for w in day["workouts"] if w.get("completed_ride_id")}
    return [{"id": r["id"], "name": str(r["name"] or "ride"), "sport": r["sport_type"],
             "minutes": round(float(r["moving_time_s"] or 0) / 60), "tss": None if r["tss"] is None else
             round(float(r["tss"])), "IF": None if r["intensity_factor"] is None else
             round(float(r["intensity_factor"]), 2), "completes": matched.get(r["id"], "")} for r in day["rides"]]


_POWER_WORDS = {"on target": "✓ on target", "under": "▼ under", "over": "▲ over", "missed": "✗ missed",
                "no power": "– no power data"}
_DURATION_WORDS = {"as planned": "✓ as planned", "short": "▼ short", "long": "▲ long", "missed": "✗ missed"}


def interval_rows(compliance: dict) -> list[dict]:
    """Per-interval compliance (core.coach.compliance) as rows: target and held power, planned and ridden time,
    each verdict with a symbol and words."""
    rows = []
    for s in compliance.get("steps", []):
        target = f"{s['target_low_pct']:g}–{s['target_high_pct']:g} % FTP"
        if s.get("target_w"):
            target += f" ({s['target_w'][0]}–{s['target_w'][1]} W)"
        bout = s.get("interval") or {}
        held = "" if s.get("achieved_pct") is None else f"{s['achieved_pct']:.0f} % FTP"
        if bout.get("avg_power_w") is not None:
            held += f" ({bout['avg_power_w']:.0f} W)"
        rows.append({"Interval": s["step"], "Target": target, "Held": held or "–",
                     "Power": _POWER_WORDS.get(s["power"], s["power"]),
                     "Planned": _clock(s["planned_s"]),
                     "Ridden": _clock(bout["duration_s"]) if bout.get("duration_s") else "–",
                     "Duration": _DURATION_WORDS.get(s["duration"], s["duration"])})
    return rows


def span_label(first: date, last: date, view: str) -> str:
    if view == "week":
        return f"Week of {first:%a %d %b %Y}"
    middle = first + timedelta(days=10)
    return f"{middle:%B %Y}"


# ----------------------------------------------------------------------------------------------------------------
# The calendar's controls and the edit form
# ----------------------------------------------------------------------------------------------------------------

EDIT_ACTIONS = {"move": "Move to another day", "swap": "Swap with another day", "skip": "Skip this day",
                "replace": "Replace with a library workout", "duration": "Change its duration"}


def view_span(view: str, anchor: date) -> tuple[date, date]:
    """The days the month or week view shows around ``anchor`` (whole weeks, Monday first)."""
    from core.coach.plans.calendar import month_span, week_span

    return week_span(anchor) if view == "week" else month_span(anchor)


def shift_anchor(view: str, anchor: date, step: int) -> date:
    from core.coach.plans.calendar import shift_month

    return anchor + timedelta(weeks=step) if view == "week" else shift_month(anchor, step)


def default_anchor(plan_row: dict, today: date) -> date:
    """Today when the plan runs today, else its first or last day."""
    from core.coach.plans.calendar import plan_span

    first, last = plan_span(plan_row)
    return min(max(today, first), last)


def library_choices() -> dict[str, str]:
    """Library workouts for the replace picker, by type then level: id → 'Sweet spot · Sweet spot 3 × 12 · 65′'."""
    from core.coach.library import library

    workouts = sorted(library().workouts.values(), key=lambda w: (w.type, w.level, w.name))
    return {w.id: f"{SHORT_TYPES.get(w.type, w.type.replace('_', ' ').capitalize())} · {w.name} · "
                  f"{w.duration_min:.0f}′ · TSS {w.tss:.0f}" for w in workouts}


def editable_days(days: list[dict], today: date) -> list[dict]:
    """Days of the plan an edit may touch: in the plan, today or later, not the event day."""
    return [d for d in days if d["in_plan"] and d["date"] >= today and
            not any(w["type"] == "race" and (w.get("target") or {}).get("event") for w in d["workouts"])]


def rule_check_text(result) -> str:
    """What the rule check said about a saved edit, for the rider (plain text: the page escapes it)."""
    if result.override:
        return "Saved with your override of: " + "; ".join(result.broken) + "."
    n = result.rules_checked
    return f"Rule check: all {n} rule{'s' if n != 1 else ''} of this plan kept." if n else \
        "Rule check: this plan has no rules to keep."


def edit_message(result) -> str:
    """'Saved version v2: Moved … Rule check: all 3 rules of this plan kept.' (plain text)."""
    return f"Saved version v{result.version}: {result.summary}. {rule_check_text(result)}"
