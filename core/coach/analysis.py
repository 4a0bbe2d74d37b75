"""The loop from real rides back to the plan: link rides to planned workouts, analyse them, propose changes,
and apply a change only when the rider approves it (as a NEW plan version; the old one is kept).

Flow::

    link_completed_rides(cur, athlete_id)            # planned_workouts.completed_ride_id (idempotent)
    a = analyze_ride(cur, athlete_id, ride_id)        # an ``analyses`` row, kind 'workout', approved NULL
    p = adjust_plan_from_performance(cur, athlete_id) # an ``analyses`` row, kind 'adjustment', approved NULL
    approve_analysis(cur, athlete_id, a["id"])        # -> new plan version via core.coach.plans.store.save_version
    reject_analysis(cur, athlete_id, a["id"])         # -> approved = false, nothing else changes

Matching rides to workouts
--------------------------
Each planned non-rest workout of the plan is matched with a cycling ride (not a linked duplicate) started on
the same day. When a day has several workouts or rides, pairs are chosen greedily by the smallest cost
``|ln(ride minutes / planned minutes)| + 2 · |ride IF − the workout type's session IF|`` (IF term only when the
ride has one). A ride completes at most one workout of a plan; existing links are kept (idempotent).

Rules of thumb (the deterministic coach; documented thresholds below)
--------------------------------------------------------------------
* A *key* session (tempo, sweet spot, threshold, VO2max, anaerobic, long, race) ridden for less than
  ``CUT_SHORT_PCT`` % of its planned duration counts as cut short; a planned key session without a ride is
  missed.
* Ride intensity is judged against the workout type's average session IF (core.coach.plans.schema.SESSION_IF) ±
  ``IF_TOLERANCE``: below is "easier than planned", above is "harder than planned". The power range of the
  workout's target zone is quoted in the feedback.
* Form after the ride (TSB, core.rides.dashboard.fitness_on) below ``VERY_NEGATIVE_TSB`` (−30), or a cut-short key
  session with TSB below ``TIRED_TSB`` (−15), or a harder-than-planned ride with TSB below ``TIRED_TSB``:
  → ``swap_to_recovery`` for the next day's planned key session.
* TSB below −30 together with a CTL ramp above ``HIGH_RAMP`` (7 CTL/week) → ``scale_week`` next week × 0.9.
* The last ``EASY_STREAK`` (3) completed key sessions all easier than planned, at ≥ 90 % of their duration and
  with TSB above −15 (not tired) → small progression: ``scale_week`` next week × 1.05.
* Aerobic decoupling (Pw:HR) above ``DECOUPLING_HIGH_PCT`` (5 %) on a steady ride → a sentence about
  endurance/fuelling (no plan change).
* Adjustments (2–4 finished weeks, core.rides.dashboard.plan_progress): mean compliance < 70 %, or ≥ 2 missed key
  sessions, → next week × 0.85 (× 0.9 when only sessions were missed); compliance > 110 % with no missed key
  session and TSB > −10 → next week × 1.05; TSB < −30 → tomorrow's key session becomes recovery.

Suggestions are pydantic objects (``Suggestion``); an AI proposal is validated against the same schema and the
plan's dates, and whatever does not fit is dropped with a note. Approval re-checks the plan's rules with
core.coach.plans.check.violations: a suggestion that would break a rule is weakened (smaller factor, rest instead of
recovery) or skipped, and the feedback says which.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from core.coach.ai import DEFAULT_PROMPTS
from core.coach.rules import HARD_TYPES, MODERATE_TYPES
from core.errors import AIServiceError, NotFoundError, ValidationError
from core.store.db import audit, bump_data_version, transaction

CUT_SHORT_PCT = 75.0
IF_TOLERANCE = 0.05
VERY_NEGATIVE_TSB = -30.0
TIRED_TSB = -15.0
FRESH_TSB = -10.0
HIGH_RAMP = 7.0
EASY_STREAK = 3
DECOUPLING_HIGH_PCT = 5.0
LOW_COMPLIANCE_PCT = 70.0
HIGH_COMPLIANCE_PCT = 110.0
KEY_TYPES = frozenset(HARD_TYPES | MODERATE_TYPES | {"long"})
MAX_SUGGESTIONS = 10

# The prompt for the AI coach's phrasing (seeded by core.coach.ai.ensure_prompts like the others).
DEFAULT_PROMPTS.setdefault("analyze_workout", [
    ("A", "You are a cycling coach. The data holds one ride compared with its planned workout (or a few weeks of "
          "plan compliance), the rider's form (TSB, ramp) and the built-in coach's suggestions. Write 2–5 short, "
          "plain sentences of feedback quoting the figures, and propose at most 3 plan changes using only the "
          "actions in the schema (scale_week with a Monday week_start and a factor 0.5–1.2, swap_to_recovery, "
          "move_workout), only on dates listed in upcoming_workouts. Propose nothing if nothing should change."),
])


# ------------------------------------------------------------------------------------------------------------
# Suggestion schema
# ------------------------------------------------------------------------------------------------------------

class _Suggestion(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reason: str = Field("", max_length=500)


class ScaleWeek(_Suggestion):
    action: Literal["scale_week"]
    week_start: date
    factor: float = Field(ge=0.5, le=1.2)

    def describe(self) -> str:
        change = f"{(self.factor - 1) * 100:+.0f} %"
        return f"Scale the week of {self.week_start:%d %b} by {change}"


class SwapToRecovery(_Suggestion):
    action: Literal["swap_to_recovery"]
    date: date

    def describe(self) -> str:
        return f"Make {self.date:%a %d %b} an easy recovery ride"


class MoveWorkout(_Suggestion):
    action: Literal["move_workout"]
    from_: date = Field(alias="from")
    to: date

    def describe(self) -> str:
        return f"Swap the workouts of {self.from_:%a %d %b} and {self.to:%a %d %b}"


Suggestion = Annotated[ScaleWeek | SwapToRecovery | MoveWorkout, Field(discriminator="action")]
_ONE = TypeAdapter(Suggestion)


class AIAnalysis(BaseModel):
    """What the AI may answer: feedback sentences and suggestions (each re-validated one by one)."""

    model_config = ConfigDict(extra="ignore")

    feedback: list[str] = Field(min_length=1, max_length=8)
    suggestions: list = Field(max_length=MAX_SUGGESTIONS)


def _ai_schema() -> dict:
    return {"type": "object", "properties": {
        "feedback": {"type": "array", "items": {"type": "string", "maxLength": 500}, "maxItems": 8},
        "suggestions": {"type": "array", "maxItems": MAX_SUGGESTIONS, "items": _ONE.json_schema()}},
        "required": ["feedback", "suggestions"]}


def suggestion_dump(s) -> dict:
    return s.model_dump(mode="json", by_alias=True)


def parse_suggestion(data) -> ScaleWeek | SwapToRecovery | MoveWorkout:
    """A validated suggestion, or pydantic.ValidationError."""
    return _ONE.validate_python(data)


def describe_suggestion(data: dict) -> str:
    """One line for the page / CLI, e.g. “Scale the week of 12 Apr by −10 % — reason”."""
    try:
        s = parse_suggestion(data)
    except PydanticValidationError:
        return str(data)
    return s.describe() + (f" — {s.reason}" if s.reason else "")


def validate_suggestions(items, plan_body: dict | None, *, today: date) -> tuple[list[dict], list[str]]:
    """Keep the suggestions that fit the schema and the plan (dates inside it, not before ``today``, a Monday
    for scale_week, both days in the same week for move_workout). Returns (kept, reasons for the dropped)."""
    kept, dropped = [], []
    if not isinstance(items, list):
        return [], ["the suggestions were not a list"]
    weeks = {date.fromisoformat(str(w["start_date"])): w for w in (plan_body or {}).get("weeks", [])}
    days = {str(wo["date"])[:10] for w in weeks.values() for wo in w["workouts"]}
    for n, item in enumerate(items[:MAX_SUGGESTIONS], start=1):
        try:
            s = parse_suggestion(item)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            dropped.append(f"suggestion {n} did not fit the format ({'.'.join(map(str, first['loc']))}: "
                           f"{first['msg']})")
            continue
        problem = None
        if plan_body is None:
            problem = "there is no active plan"
        elif isinstance(s, ScaleWeek):
            if s.week_start not in weeks:
                problem = f"the week of {s.week_start} is not a week of the plan"
            elif s.week_start + timedelta(days=6) < today:
                problem = f"the week of {s.week_start} is over"
        else:
            for day in ((s.date,) if isinstance(s, SwapToRecovery) else (s.from_, s.to)):
                if day.isoformat() not in days:
                    problem = f"{day} is not a day of the plan"
                elif day < today:
                    problem = f"{day} is in the past"
            if isinstance(s, MoveWorkout) and problem is None and \
                    s.from_ - timedelta(days=s.from_.weekday()) != s.to - timedelta(days=s.to.weekday()):
                problem = "a workout can only move within its week"
        if problem:
            dropped.append(f"suggestion {n} ({s.action}) was dropped: {problem}")
        else:
            kept.append(suggestion_dump(s))
    return kept, dropped


# ------------------------------------------------------------------------------------------------------------
# Matching rides to planned workouts
# ------------------------------------------------------------------------------------------------------------

def _plan_id(cur, athlete_id: int, plan_id: int | None) -> int | None:
    from core.rides.dashboard import active_plan

    if plan_id is not None:
        row = cur.execute("SELECT id FROM plans WHERE id = ? AND athlete_id = ?", [plan_id, athlete_id]).fetchone()
        if row is None:
            raise NotFoundError(f"Plan {plan_id} was not found")
        return plan_id
    plan = active_plan(cur, athlete_id)
    return plan["id"] if plan else None


def _match_cost(ride_min: float, ride_if: float | None, planned_min: float, kind: str) -> float:
    from core.coach.plans.schema import SESSION_IF

    cost = abs(math.log(max(ride_min, 1.0) / max(planned_min, 1.0)))
    if ride_if is not None and kind in SESSION_IF:
        cost += 2 * abs(ride_if - SESSION_IF[kind])
    return cost


def link_completed_rides(cur, athlete_id: int, plan_id: int | None = None) -> int:
    """Set ``planned_workouts.completed_ride_id`` for the plan's (default: the active plan's) workouts on days
    with a cycling ride. Returns the number of new links; existing links are kept, so it is idempotent. Call it
    after an import or a sync, and before analysing a ride."""
    from core.rides.store import CYCLING_TYPES

    plan_id = _plan_id(cur, athlete_id, plan_id)
    if plan_id is None:
        return 0
    workouts = cur.execute(
        "SELECT id, date, type, duration_min, completed_ride_id FROM planned_workouts "
        "WHERE plan_id = ? AND type <> 'rest' ORDER BY date, id", [plan_id]).fetchall()
    if not workouts:
        return 0
    first, last = workouts[0][1], workouts[-1][1]
    rides = cur.execute(
        "SELECT id, CAST(started_at AS DATE) AS day, coalesce(moving_time_s, elapsed_time_s, 0) / 60.0, "
        "intensity_factor FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL "
        "AND sport_type IN (SELECT unnest(?)) AND CAST(started_at AS DATE) BETWEEN ? AND ? ORDER BY started_at, id",
        [athlete_id, list(CYCLING_TYPES), first, last]).fetchall()
    used = {w[4] for w in workouts if w[4] is not None}
    rides_by_day: dict[date, list] = {}
    for ride in rides:
        if ride[0] not in used:
            rides_by_day.setdefault(ride[1], []).append(ride)
    open_by_day: dict[date, list] = {}
    for w in workouts:
        if w[4] is None and w[1] in rides_by_day:
            open_by_day.setdefault(w[1], []).append(w)
    links: list[tuple[int, int]] = []
    for day, open_workouts in open_by_day.items():
        pairs = sorted((_match_cost(r[2], r[3], w[3], w[2]), w[0], r[0])
                       for w in open_workouts for r in rides_by_day[day])
        taken_w: set[int] = set()
        taken_r: set[int] = set()
        for _, wid, rid in pairs:
            if wid not in taken_w and rid not in taken_r:
                taken_w.add(wid)
                taken_r.add(rid)
                links.append((wid, rid))
    if links:
        with transaction(cur):
            for wid, rid in links:  # a handful of rows per import: plain UPDATEs are fine
                cur.execute("UPDATE planned_workouts SET completed_ride_id = ? WHERE id = ? AND "
                            "completed_ride_id IS NULL", [rid, wid])
            bump_data_version(cur)
    return len(links)


# ------------------------------------------------------------------------------------------------------------
# Reading analyses
# ------------------------------------------------------------------------------------------------------------

_COLUMNS = ("id", "ride_id", "plan_id", "kind", "feedback", "suggestions", "approved", "approved_at", "created_at")
_SELECT = ("SELECT a.id, a.ride_id, a.plan_id, a.kind, a.feedback, a.suggestions, a.approved, a.approved_at, "
           "a.created_at FROM analyses a JOIN rides r ON r.id = a.ride_id WHERE r.athlete_id = ?")


def _row(row) -> dict:
    data = dict(zip(_COLUMNS, row, strict=True))
    for key in ("feedback", "suggestions"):
        if isinstance(data[key], str):
            data[key] = json.loads(data[key])
    data["status"] = {None: "pending", True: "approved", False: "rejected"}[data["approved"]]
    return data


def get_analysis(cur, athlete_id: int, analysis_id: int) -> dict:
    row = cur.execute(_SELECT + " AND a.id = ?", [athlete_id, analysis_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Analysis {analysis_id} was not found")
    return _row(row)


def list_analyses(cur, athlete_id: int, *, pending: bool = False, limit: int = 50) -> list[dict]:
    """The athlete's analyses, newest first (only those awaiting a decision with ``pending``)."""
    rows = cur.execute(_SELECT + " AND (NOT ? OR a.approved IS NULL) ORDER BY a.id DESC LIMIT ?",
                       [athlete_id, pending, int(limit)]).fetchall()
    return [_row(r) for r in rows]


# ------------------------------------------------------------------------------------------------------------
# Analysing a ride
# ------------------------------------------------------------------------------------------------------------

def _pct(done, planned) -> float | None:
    if done is None or not planned:
        return None
    return round(100.0 * float(done) / float(planned), 1)


def _plan_body(cur, athlete_id: int, plan_id: int | None) -> dict | None:
    from core.coach.plans.store import get_plan

    return get_plan(cur, plan_id, athlete_id)["plan"] if plan_id else None


def _next_key_day(body: dict | None, after: date) -> str | None:
    """The date of the next day's workout when it is a key session (the day after ``after``)."""
    if not body:
        return None
    target = (after + timedelta(days=1)).isoformat()
    for week in body["weeks"]:
        for w in week["workouts"]:
            if str(w["date"])[:10] == target and w["type"] in KEY_TYPES and w["type"] != "race":
                return target
    return None


def _next_week(body: dict | None, day: date) -> str | None:
    if not body:
        return None
    monday = day - timedelta(days=day.weekday()) + timedelta(days=7)
    starts = {str(w["start_date"])[:10] for w in body["weeks"]}
    return monday.isoformat() if monday.isoformat() in starts else None


def _intensity_verdict(ride_if: float | None, kind: str) -> str | None:
    from core.coach.plans.schema import SESSION_IF

    if ride_if is None or kind not in SESSION_IF or kind == "rest":
        return None
    expected = SESSION_IF[kind]
    if ride_if < expected - IF_TOLERANCE:
        return "easier"
    if ride_if > expected + IF_TOLERANCE:
        return "harder"
    return "as planned"


def _recent_key_verdicts(cur, athlete_id: int, plan_id: int, up_to: date, n: int) -> list[tuple[str | None, float]]:
    rows = cur.execute(
        "SELECT w.type, r.intensity_factor, coalesce(r.moving_time_s, r.elapsed_time_s, 0) / 60.0, w.duration_min "
        "FROM planned_workouts w JOIN rides r ON r.id = w.completed_ride_id WHERE w.plan_id = ? AND w.date <= ? "
        "AND r.athlete_id = ? AND w.type IN (SELECT unnest(?)) ORDER BY w.date DESC LIMIT ?",
        [plan_id, up_to, athlete_id, sorted(KEY_TYPES), n]).fetchall()
    return [(_intensity_verdict(r[1], r[0]), _pct(r[2], r[3]) or 0.0) for r in rows]


def _form_after(cur, athlete_id: int, day: date) -> dict:
    """TSB going into the next day (so it includes the ride) and the CTL ramp on the ride's day."""
    from core.rides.dashboard import fitness_on

    on_day = fitness_on(cur, athlete_id, day, today=day)
    after = fitness_on(cur, athlete_id, day + timedelta(days=1), today=day)
    return {"ctl": on_day["ctl"], "atl": on_day["atl"], "tsb": after["tsb"], "ramp": on_day["ramp"]}


def _ride_day(cur, ride: dict) -> date:
    """The ride's day as the dashboard sees it (CAST(started_at AS DATE) in the session time zone)."""
    if ride["started_at"] is None:
        raise ValidationError(f"Ride {ride['id']} has no start time, so it cannot be compared with the plan.")
    return cur.execute("SELECT CAST(started_at AS DATE) FROM rides WHERE id = ?", [ride["id"]]).fetchone()[0]


def _workout_analysis(cur, athlete_id: int, ride: dict, plan_id: int | None, body: dict | None):
    """(figures, sentences, suggestions) by the rules of thumb in the module docstring."""
    day = _ride_day(cur, ride)
    workout = None
    if plan_id is not None:
        row = cur.execute("SELECT id, date, type, duration_min, tss, targets, description FROM planned_workouts "
                          "WHERE plan_id = ? AND completed_ride_id = ? ORDER BY id LIMIT 1",
                          [plan_id, ride["id"]]).fetchone()
        if row is not None:
            workout = dict(zip(("id", "date", "type", "duration_min", "tss", "targets", "description"), row,
                               strict=True))
            workout["targets"] = json.loads(workout["targets"] or "{}")
    ride_min = (ride["moving_time_s"] or ride["elapsed_time_s"] or 0) / 60
    form = _form_after(cur, athlete_id, day)
    decoupling = (ride["metrics"] or {}).get("decoupling_pct")
    figures = {"ride_minutes": round(ride_min, 1), "ride_tss": ride["tss"], "ride_if": ride["intensity_factor"],
               "np_w": ride["normalized_power_w"], "decoupling_pct": decoupling, "tsb": form["tsb"],
               "ctl": form["ctl"], "ramp": form["ramp"], "date": day.isoformat()}
    sentences: list[str] = []
    suggestions: list = []
    verdict = None
    if workout is None:
        planned = _find(body, day.isoformat()) if body else None
        if plan_id is None:
            why = " (there is no active plan)."
        elif planned is None:
            why = ": the day is outside the active plan."
        elif planned[0]["workouts"][planned[1]]["type"] == "rest":
            why = ": it was a planned rest day."
        else:
            why = ": an extra ride beside the day's planned workout."
        sentences.append(f"This {ride_min:.0f}-minute ride on {day:%a %d %b} was not in the plan{why}")
    else:
        kind = workout["type"]
        duration_pct = _pct(ride_min, workout["duration_min"])
        tss_pct = _pct(ride["tss"], workout["tss"])
        verdict = _intensity_verdict(ride["intensity_factor"], kind)
        figures |= {"workout_id": workout["id"], "workout_type": kind, "planned_minutes": workout["duration_min"],
                    "planned_tss": workout["tss"], "duration_pct": duration_pct, "tss_pct": tss_pct,
                    "intensity": verdict, "zone": workout["targets"].get("zone"),
                    "target_power_w": workout["targets"].get("power_w")}
        label = kind.replace("_", " ")
        text = f"Planned {label} {workout['duration_min']:.0f} min: you rode {ride_min:.0f} min ({duration_pct:.0f} %)"
        if tss_pct is not None:
            text += f" and TSS {ride['tss']:.0f} of {workout['tss']:.0f} ({tss_pct:.0f} %)"
        sentences.append(text + ".")
        if verdict and ride["intensity_factor"] is not None:
            zone = workout["targets"].get("zone")
            power = workout["targets"].get("power_w")
            where = f" (target {zone}" + (f", {power[0]}–{power[1]} W" if power else "") + ")" if zone else ""
            words = {"easier": "easier than planned", "harder": "harder than planned"}.get(verdict, verdict)
            sentences.append(f"Intensity factor {ride['intensity_factor']:.2f} was {words} for a {label} session"
                             f"{where}.")
        cut_short = kind in KEY_TYPES and duration_pct is not None and duration_pct < CUT_SHORT_PCT
        if cut_short:
            sentences.append(f"This key session was cut short (under {CUT_SHORT_PCT:.0f} % of the planned time).")
        tired = form["tsb"] < TIRED_TSB
        nxt = _next_key_day(body, day)
        if nxt and (form["tsb"] < VERY_NEGATIVE_TSB or (cut_short and tired) or (verdict == "harder" and tired)):
            suggestions.append(SwapToRecovery(action="swap_to_recovery", date=date.fromisoformat(nxt),
                                              reason=f"form (TSB) is {form['tsb']:.0f} after this ride"))
        if plan_id is not None and form["tsb"] > TIRED_TSB and kind in KEY_TYPES:
            streak = _recent_key_verdicts(cur, athlete_id, plan_id, day, EASY_STREAK)
            if len(streak) == EASY_STREAK and all(v == "easier" and pct >= 90 for v, pct in streak):
                week = _next_week(body, day)
                if week:
                    suggestions.append(ScaleWeek(action="scale_week", week_start=date.fromisoformat(week),
                                                 factor=1.05, reason=f"your last {EASY_STREAK} key sessions were "
                                                 "easier than planned: a small progression"))
    if decoupling is not None and decoupling > DECOUPLING_HIGH_PCT:
        sentences.append(f"Heart rate drifted {decoupling:.1f} % against power (aerobic decoupling above "
                         f"{DECOUPLING_HIGH_PCT:.0f} %): more steady endurance riding and fuelling will help.")
    elif decoupling is not None:
        sentences.append(f"Heart-rate drift was {decoupling:.1f} %: good aerobic durability.")
    sentences.append(f"Form after the ride: TSB {form['tsb']:.0f}, CTL {form['ctl']:.0f} "
                     f"(ramp {form['ramp']:+.1f} per week).")
    if form["tsb"] < VERY_NEGATIVE_TSB:
        sentences.append(f"TSB below {VERY_NEGATIVE_TSB:.0f} means deep fatigue: recover before the next key "
                         "session.")
        week = _next_week(body, day)
        if week and form["ramp"] > HIGH_RAMP:
            suggestions.append(ScaleWeek(action="scale_week", week_start=date.fromisoformat(week), factor=0.9,
                                         reason=f"fitness is ramping {form['ramp']:.1f} per week with TSB "
                                                f"{form['tsb']:.0f}"))
    if not suggestions:
        sentences.append("No change to the plan is needed.")
    return figures, sentences, [suggestion_dump(s) for s in suggestions]


def _service(service, settings, cur):
    if service is not None:
        return service
    if settings is not None and settings.ai_enabled:
        from core.coach.ai import AIService

        return AIService(cur, settings)
    return None


def _ai_pass(service, payload: dict, body: dict | None, today: date, sentences: list[str], suggestions: list[dict]):
    """(sentences, suggestions, source, notes): the AI's phrasing and proposals when valid, else ours."""
    if service is None:
        return sentences, suggestions, "rules", ["No AI service configured: the built-in coach wrote this analysis."]
    try:
        reply = service.complete_json("analyze_workout", payload, schema=_ai_schema(), schema_name="workout_analysis")
        answer = AIAnalysis(**reply.data)
    except AIServiceError as exc:
        return sentences, suggestions, "rules", [f"The AI coach failed ({exc}); the built-in coach wrote this "
                                                 "analysis."]
    except (PydanticValidationError, TypeError):
        return sentences, suggestions, "rules", ["The AI's answer did not fit the analysis format; the built-in "
                                                 "coach wrote this analysis."]
    kept, dropped = validate_suggestions(answer.suggestions, body, today=today)
    notes = ["Feedback phrased by the AI coach; its suggestions were checked against the plan format."]
    notes += [f"AI {d}." for d in dropped]
    feedback = [s.strip()[:500] for s in answer.feedback if s.strip()] or sentences
    return feedback, kept, "ai", notes


def _upcoming(body: dict | None, start: date, days: int = 14) -> list[dict]:
    if not body:
        return []
    end = start + timedelta(days=days)
    return [{"date": str(w["date"])[:10], "type": w["type"], "duration_min": w["duration_min"], "tss": w["tss"]}
            for week in body["weeks"] for w in week["workouts"]
            if start <= date.fromisoformat(str(w["date"])[:10]) <= end]


def _store(cur, athlete_id: int, ride_id: int, plan_id: int | None, kind: str, feedback: dict,
           suggestions: list[dict]) -> int:
    """Insert (or replace the pending one of the same ride and kind) in one transaction."""
    with transaction(cur):
        row = cur.execute("SELECT id FROM analyses WHERE ride_id = ? AND kind = ? AND approved IS NULL "
                          "ORDER BY id DESC LIMIT 1", [ride_id, kind]).fetchone()
        if row is not None:
            analysis_id = row[0]
            cur.execute("UPDATE analyses SET plan_id = ?, feedback = ?, suggestions = ?, created_at = current_timestamp"
                        " WHERE id = ?", [plan_id, json.dumps(feedback, default=str),
                                          json.dumps(suggestions, default=str), analysis_id])
        else:
            analysis_id = cur.execute(
                "INSERT INTO analyses (ride_id, plan_id, kind, feedback, suggestions) VALUES (?, ?, ?, ?, ?) "
                "RETURNING id", [ride_id, plan_id, kind, json.dumps(feedback, default=str),
                                 json.dumps(suggestions, default=str)]).fetchone()[0]
        audit(cur, "analyse", "analysis", analysis_id, athlete_id, ride_id=ride_id, kind=kind)
        bump_data_version(cur)
    return analysis_id


def analyze_ride(cur, athlete_id: int, ride_id: int, *, service=None, settings=None) -> dict:
    """Compare a ride with its planned workout and the athlete's form; store a pending ``analyses`` row (kind
    'workout') with feedback and suggestions. Nothing in the plan changes until the rider approves it.

    ``service`` (an AIService) or ``settings`` with an AI key lets the AI phrase the feedback and propose
    suggestions; they are validated like ours and dropped when invalid. Without AI the rules decide."""
    from core.rides.store import CYCLING_TYPES, get_ride

    ride = get_ride(cur, athlete_id, ride_id)
    if ride["duplicate_of"] is not None:
        raise ValidationError(f"Ride {ride_id} is a second copy of ride {ride['duplicate_of']}; analyse that one.")
    if ride["sport_type"] not in CYCLING_TYPES:
        raise ValidationError(f"Ride {ride_id} is a {ride['sport_type']} activity; only rides are analysed.")
    day = _ride_day(cur, ride)
    plan_id = _plan_id(cur, athlete_id, None)
    link_completed_rides(cur, athlete_id, plan_id)
    body = _plan_body(cur, athlete_id, plan_id)
    figures, sentences, suggestions = _workout_analysis(cur, athlete_id, ride, plan_id, body)
    payload = {"kind": "workout", "figures": figures, "built_in_feedback": sentences,
               "built_in_suggestions": suggestions, "upcoming_workouts": _upcoming(body, day)}
    sentences, suggestions, source, notes = _ai_pass(_service(service, settings, cur), payload, body, day,
                                                     sentences, suggestions)
    feedback = {"summary": sentences[0], "sentences": sentences, "figures": figures, "source": source,
                "notes": notes}
    analysis_id = _store(cur, athlete_id, ride_id, plan_id, "workout", feedback, suggestions)
    return get_analysis(cur, athlete_id, analysis_id)


def analyse_latest_rides(cur, athlete_id: int, *, limit: int = 3, service=None, settings=None) -> list[dict]:
    """Analyse the most recent cycling rides (up to ``limit``) that have no analysis yet."""
    from core.rides.store import CYCLING_TYPES

    rows = cur.execute(
        "SELECT r.id FROM rides r WHERE r.athlete_id = ? AND r.duplicate_of IS NULL AND r.started_at IS NOT NULL "
        "AND r.sport_type IN (SELECT unnest(?)) AND NOT EXISTS (SELECT 1 FROM analyses a WHERE a.ride_id = r.id "
        "AND a.kind = 'workout') ORDER BY r.started_at DESC, r.id DESC LIMIT ?",
        [athlete_id, list(CYCLING_TYPES), int(limit)]).fetchall()
    return [analyze_ride(cur, athlete_id, r[0], service=service, settings=settings) for r in rows]


# ------------------------------------------------------------------------------------------------------------
# Adjustments from recent weeks
# ------------------------------------------------------------------------------------------------------------

def adjust_plan_from_performance(cur, athlete_id: int, *, today: date | None = None, weeks: int = 3,
                                 service=None, settings=None) -> dict:
    """A proposal (pending ``analyses`` row of kind 'adjustment'), from the compliance of the last 2–4 finished
    weeks of the active plan (core.rides.dashboard.plan_progress), missed key sessions and form. Not applied until
    approved. The row is attached to the athlete's latest ride (``analyses.ride_id`` is required)."""
    from core.rides.dashboard import fitness_on, plan_progress

    today = today or date.today()
    weeks = max(2, min(4, int(weeks)))
    plan_id = _plan_id(cur, athlete_id, None)
    if plan_id is None:
        raise ValidationError("There is no active plan to adjust: make a plan active on the Coach page first.")
    link_completed_rides(cur, athlete_id, plan_id)
    this_monday = today - timedelta(days=today.weekday())
    progress = plan_progress(cur, athlete_id, today=today)
    finished = progress[progress["period_start"] < this_monday].tail(weeks)
    finished = finished[finished["planned_s"] > 0]
    if finished.empty:
        raise ValidationError("The active plan has no finished week yet: propose adjustments after its first week.")
    ride = cur.execute("SELECT id FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL "
                       "AND CAST(started_at AS DATE) <= ? ORDER BY started_at DESC, id DESC LIMIT 1",
                       [athlete_id, today]).fetchone()
    if ride is None:
        raise ValidationError("No ride is stored yet: import or sync your rides before asking for adjustments.")
    first = finished["period_start"].min()
    planned_s, done_s = float(finished["planned_s"].sum()), float(finished["done_s"].sum())
    compliance = round(100.0 * done_s / planned_s, 1)
    key_planned, key_missed = cur.execute(
        "SELECT count(*), count(*) FILTER (WHERE completed_ride_id IS NULL) FROM planned_workouts "
        "WHERE plan_id = ? AND date >= ? AND date < ? AND type IN (SELECT unnest(?))",
        [plan_id, first, this_monday, sorted(KEY_TYPES)]).fetchone()
    form = fitness_on(cur, athlete_id, today, today=today)
    body = _plan_body(cur, athlete_id, plan_id)
    n_weeks = len(finished)
    figures = {"weeks": n_weeks, "from": first.isoformat(), "compliance_pct": compliance,
               "planned_hours": round(planned_s / 3600, 1), "done_hours": round(done_s / 3600, 1),
               "key_sessions": int(key_planned), "key_missed": int(key_missed), "tsb": form["tsb"],
               "ctl": form["ctl"], "ramp": form["ramp"],
               "weekly": [{"week": r.period_start.isoformat(), "compliance_pct": round(float(r.compliance_pct), 1),
                           "colour": r.colour} for r in finished.itertuples()]}
    sentences = [f"Over the last {n_weeks} finished week(s) you rode {done_s / 3600:.1f} h of the "
                 f"{planned_s / 3600:.1f} h planned ({compliance:.0f} %), and {key_planned - key_missed} of "
                 f"{key_planned} key sessions.",
                 f"Form today: TSB {form['tsb']:.0f}, CTL {form['ctl']:.0f} (ramp {form['ramp']:+.1f} per week)."]
    suggestions: list = []
    next_monday = this_monday + timedelta(days=7)
    week = next_monday.isoformat() if body and any(str(w["start_date"])[:10] == next_monday.isoformat()
                                                   for w in body["weeks"]) else None
    if week and (compliance < LOW_COMPLIANCE_PCT or key_missed >= 2):
        factor = 0.85 if compliance < LOW_COMPLIANCE_PCT else 0.9
        why = (f"you rode {compliance:.0f} % of the planned time" if compliance < LOW_COMPLIANCE_PCT
               else f"{key_missed} key sessions were missed")
        suggestions.append(ScaleWeek(action="scale_week", week_start=next_monday, factor=factor,
                                     reason=f"{why}: a lighter week you can complete"))
    elif week and compliance > HIGH_COMPLIANCE_PCT and key_missed == 0 and form["tsb"] > FRESH_TSB:
        suggestions.append(ScaleWeek(action="scale_week", week_start=next_monday, factor=1.05,
                                     reason=f"you rode {compliance:.0f} % of the plan and are fresh: a small "
                                            "progression"))
    if form["tsb"] < VERY_NEGATIVE_TSB:
        nxt = _next_key_day(body, today)
        if nxt:
            suggestions.append(SwapToRecovery(action="swap_to_recovery", date=date.fromisoformat(nxt),
                                              reason=f"form (TSB) is {form['tsb']:.0f}"))
    if not suggestions:
        sentences.append("You are on track: no change to the plan is needed.")
    suggestions = [suggestion_dump(s) for s in suggestions]
    payload = {"kind": "adjustment", "figures": figures, "built_in_feedback": sentences,
               "built_in_suggestions": suggestions, "upcoming_workouts": _upcoming(body, today)}
    sentences, suggestions, source, notes = _ai_pass(_service(service, settings, cur), payload, body, today,
                                                     sentences, suggestions)
    feedback = {"summary": sentences[0], "sentences": sentences, "figures": figures, "source": source,
                "notes": notes}
    analysis_id = _store(cur, athlete_id, ride[0], plan_id, "adjustment", feedback, suggestions)
    return get_analysis(cur, athlete_id, analysis_id)


# ------------------------------------------------------------------------------------------------------------
# Approval
# ------------------------------------------------------------------------------------------------------------

def _find(body: dict, day: str) -> tuple[dict, int] | None:
    for week in body["weeks"]:
        for i, w in enumerate(week["workouts"]):
            if str(w["date"])[:10] == day:
                return week, i
    return None


def _retotal(body: dict) -> None:
    for week in body["weeks"]:
        week["workouts"].sort(key=lambda w: str(w["date"]))
        week["planned_hours"] = round(sum(w["duration_min"] for w in week["workouts"]) / 60, 2)
        week["planned_tss"] = round(sum(w["tss"] for w in week["workouts"]), 1)


def _apply(body: dict, s, *, today: date, ftp: float, ctx, factor: float | None = None,
           recovery_kind: str = "recovery") -> str | None:
    """Apply one suggestion to ``body`` in place; returns why it could not be applied (None: applied)."""
    from core.coach.plans.engine import _make, _scale_week  # the plan engine's own workout builders

    if isinstance(s, ScaleWeek):
        week = next((w for w in body["weeks"] if str(w["start_date"])[:10] == s.week_start.isoformat()), None)
        if week is None:
            return "that week is not in the plan"
        keep = [w for w in week["workouts"] if date.fromisoformat(str(w["date"])[:10]) < today]
        future = [w for w in week["workouts"] if date.fromisoformat(str(w["date"])[:10]) >= today]
        if not any(w["type"] != "rest" for w in future):
            return "no workout of that week is left to change"
        _scale_week(future, factor if factor is not None else s.factor, ftp, ctx)
        week["workouts"] = keep + future
    elif isinstance(s, SwapToRecovery):
        found = _find(body, s.date.isoformat())
        if found is None:
            return "that day is not in the plan"
        week, i = found
        old = week["workouts"][i]
        if old["type"] in ("rest", "recovery"):
            return "that day is already easy"
        minutes = 0 if recovery_kind == "rest" else min(45.0, max(30.0, float(old["duration_min"])))
        week["workouts"][i] = _make(s.date, recovery_kind, minutes, ftp, ctx)
    else:
        a, b = _find(body, s.from_.isoformat()), _find(body, s.to.isoformat())
        if a is None or b is None:
            return "one of the days is not in the plan"
        (wa, ia), (wb, ib) = a, b
        first, second = wa["workouts"][ia], wb["workouts"][ib]
        first["date"], second["date"] = second["date"], first["date"]
    _retotal(body)
    return None


def _attempts(s) -> list[dict]:
    """The suggestion as asked, then weaker forms that may fit the rules."""
    if isinstance(s, ScaleWeek) and s.factor > 1:
        return [{}, {"factor": round(1 + (s.factor - 1) / 2, 3)}]
    if isinstance(s, SwapToRecovery):
        return [{}, {"recovery_kind": "rest"}]
    return [{}]


def approve_analysis(cur, athlete_id: int, analysis_id: int, *, today: date | None = None) -> dict:
    """Apply an analysis' suggestions to the active plan as a NEW version (core.coach.plans.store.save_version; the old
    version is kept), re-checking the plan's rules after each; mark the analysis approved. One transaction.

    Returns {"analysis_id", "plan_id" (new version or None when nothing changed), "old_plan_id", "version",
    "applied": [..], "skipped": [..]}."""
    from core.athletes import ftp_on
    from core.coach.plans.check import RuleContext, violations
    from core.coach.plans.schema import DEFAULT_FTP_W
    from core.coach.plans.store import get_plan, save_version
    from core.coach.rules import DAYS, constraints_of

    today = today or date.today()
    analysis = get_analysis(cur, athlete_id, analysis_id)
    if analysis["approved"] is not None:
        when = f" on {analysis['approved_at']:%d %b %Y %H:%M}" if analysis["approved_at"] else ""
        raise ValidationError(f"Analysis {analysis_id} was already {analysis['status']}{when}; it cannot be "
                              "approved again. Analyse the ride again for a new proposal.")
    plan_id = _plan_id(cur, athlete_id, None)
    applied: list[str] = []
    skipped: list[str] = []
    new_id = None
    version = None
    suggestions = analysis["suggestions"]
    if suggestions and plan_id is None:
        raise ValidationError("There is no active plan to apply this analysis to: make a plan active first.")
    if plan_id is not None and suggestions:
        plan = get_plan(cur, plan_id, athlete_id)
        constraints, _ = constraints_of(cur, athlete_id, [r["id"] for r in plan["rules"]])
        prefs = plan["preferences"] or {}
        ctx = RuleContext(constraints, {DAYS.index(d) for d in prefs.get("available_days") or DAYS},
                          prefs.get("indoor_outdoor") or "both")
        ftp = ftp_on(cur, athlete_id, today) or DEFAULT_FTP_W
        body = copy.deepcopy(plan["plan"])
        baseline = set(violations(body, constraints))
        valid, dropped = validate_suggestions(suggestions, body, today=today)
        skipped += [d[0].upper() + d[1:] for d in dropped]
        for item in valid:
            s = parse_suggestion(item)
            outcome = None
            for n, extra in enumerate(_attempts(s)):
                trial = copy.deepcopy(body)
                problem = _apply(trial, s, today=today, ftp=ftp, ctx=ctx, **extra)
                if problem:
                    outcome = f"{s.describe()}: skipped, {problem}"
                    break
                broken = [v for v in violations(trial, constraints) if v not in baseline]
                if not broken:
                    body = trial
                    note = ""
                    if n:
                        note = (f" (adjusted to a factor of {extra['factor']:g}" if "factor" in extra
                                else " (adjusted to a rest day") + " to keep your rules)"
                    applied.append(s.describe() + note)
                    outcome = None
                    break
                outcome = f"{s.describe()}: skipped, it would break a rule ({broken[0]})"
            if outcome:
                skipped.append(outcome)
    with transaction(cur):
        if applied:
            new_id = save_version(cur, athlete_id, plan_id, body,
                                  note=f"Adjusted from analysis #{analysis_id}: " + "; ".join(applied)[:300])
            version = cur.execute("SELECT version FROM plans WHERE id = ?", [new_id]).fetchone()[0]
            link_completed_rides(cur, athlete_id, new_id)
        feedback = dict(analysis["feedback"]) | {"applied": applied, "skipped": skipped, "new_plan_id": new_id}
        cur.execute("UPDATE analyses SET approved = true, approved_at = ?, feedback = ? WHERE id = ?",
                    [datetime.now(UTC), json.dumps(feedback, default=str), analysis_id])
        audit(cur, "approve", "analysis", analysis_id, athlete_id, plan_id=plan_id, new_plan_id=new_id,
              applied=len(applied), skipped=len(skipped))
        bump_data_version(cur)
    return {"analysis_id": analysis_id, "plan_id": new_id, "old_plan_id": plan_id, "version": version,
            "applied": applied, "skipped": skipped}


def reject_analysis(cur, athlete_id: int, analysis_id: int) -> dict:
    """Mark an analysis rejected (approved = false). The plan is not touched."""
    analysis = get_analysis(cur, athlete_id, analysis_id)
    if analysis["approved"] is not None:
        raise ValidationError(f"Analysis {analysis_id} was already {analysis['status']}; it cannot be rejected now.")
    with transaction(cur):
        cur.execute("UPDATE analyses SET approved = false WHERE id = ?", [analysis_id])
        audit(cur, "reject", "analysis", analysis_id, athlete_id)
        bump_data_version(cur)
    return get_analysis(cur, athlete_id, analysis_id)


__all__ = [
    "ScaleWeek", "SwapToRecovery", "MoveWorkout", "Suggestion", "parse_suggestion", "describe_suggestion",
    "validate_suggestions", "link_completed_rides", "analyze_ride", "analyse_latest_rides",
    "adjust_plan_from_performance", "approve_analysis", "reject_analysis", "get_analysis", "list_analyses",
]
