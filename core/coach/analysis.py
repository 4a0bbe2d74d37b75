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
* Ride intensity is judged against the planned workout's IF (computed from its steps; for plans saved before
  steps, the type's average session IF, core.coach.plans.schema.SESSION_IF) ± ``IF_TOLERANCE``: below is "easier
  than planned", above is "harder than planned". The main set's power range, in watts with the FTP of the ride's
  day, is quoted in the feedback.
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
recovery) or skipped, and the feedback says which."""

from __future__ import annotations

import json
from datetime import date, timedelta

from pydantic import ValidationError as PydanticValidationError

from core.coach.ai import DEFAULT_PROMPTS
from core.coach.matching import link_completed_rides, plan_id_or_active
from core.coach.rules.model import DEFAULT_GROUPS
from core.coach.suggestions import (
    AIAnalysis,
    ScaleWeek,
    SwapToRecovery,
    _ai_schema,
    find_workout,
    suggestion_dump,
    validate_suggestions,
)
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
KEY_TYPES = frozenset(DEFAULT_GROUPS["intensity"]) | {"long"}  # every session above endurance, and the long ride

# The prompt for the AI coach's phrasing (seeded by core.coach.ai.ensure_prompts like the others).
DEFAULT_PROMPTS.setdefault("analyze_workout", [
    ("A", "You are a cycling coach. The data holds one ride compared with its planned workout (or a few weeks of "
          "plan compliance), the rider's form (TSB, ramp) and the built-in coach's suggestions. Write 2–5 short, "
          "plain sentences of feedback quoting the figures, and propose at most 3 plan changes using only the "
          "actions in the schema (scale_week with a Monday week_start and a factor 0.5–1.2, swap_to_recovery, "
          "move_workout), only on dates listed in upcoming_workouts. Propose nothing if nothing should change."),
])


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


def list_analyses(cur, athlete_id: int, *, pending: bool = False, feedback_only: bool = False,
                  limit: int = 50) -> list[dict]:
    """The athlete's analyses, newest first. ``pending``: those awaiting a decision — undecided and proposing a
    change (an analysis that says "no change needed" has nothing to approve). ``feedback_only``: undecided ones
    without a suggestion (feedback to read)."""
    rows = cur.execute(_SELECT + " AND (NOT ? OR (a.approved IS NULL AND coalesce(json_array_length(a.suggestions), 0)"
                       " > 0)) AND (NOT ? OR (a.approved IS NULL AND coalesce(json_array_length(a.suggestions), 0)"
                       " = 0)) ORDER BY a.id DESC LIMIT ?", [athlete_id, pending, feedback_only, int(limit)]).fetchall()
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


def _intensity_verdict(ride_if: float | None, kind: str, planned_if: float | None = None) -> str | None:
    from core.coach.plans.schema import SESSION_IF

    if ride_if is None or kind not in SESSION_IF or kind == "rest":
        return None
    expected = planned_if or SESSION_IF[kind]
    if ride_if < expected - IF_TOLERANCE:
        return "easier"
    if ride_if > expected + IF_TOLERANCE:
        return "harder"
    return "as planned"


def _recent_key_verdicts(cur, athlete_id: int, plan_id: int, up_to: date, n: int) -> list[tuple[str | None, float]]:
    rows = cur.execute(
        "SELECT w.type, r.intensity_factor, coalesce(r.moving_time_s, r.elapsed_time_s, 0) / 60.0, w.duration_min, "
        "w.targets "
        "FROM planned_workouts w JOIN rides r ON r.id = w.completed_ride_id WHERE w.plan_id = ? AND w.date <= ? "
        "AND r.athlete_id = ? AND w.type IN (SELECT unnest(?)) ORDER BY w.date DESC LIMIT ?",
        [plan_id, up_to, athlete_id, sorted(KEY_TYPES), n]).fetchall()
    return [(_intensity_verdict(r[1], r[0], _planned_if(r[4])), _pct(r[2], r[3]) or 0.0) for r in rows]


def _planned_if(targets) -> float | None:
    if isinstance(targets, str):
        try:
            targets = json.loads(targets)
        except ValueError:
            return None
    value = (targets or {}).get("if")
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def _target_watts(cur, athlete_id: int, targets: dict, day: date) -> list[int] | None:
    """The main set's power range in watts with the FTP in force on ``day`` (targets are stored in % FTP)."""
    from core.athletes import ftp_on

    pct = targets.get("power_pct")
    if pct and len(pct) == 2 and max(pct) > 0:
        ftp = ftp_on(cur, athlete_id, day)
        return [round(pct[0] / 100 * ftp), round(pct[1] / 100 * ftp)] if ftp else None
    return targets.get("power_w")  # a plan saved before targets were stored in % FTP


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
        planned = find_workout(body, day.isoformat()) if body else None
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
        verdict = _intensity_verdict(ride["intensity_factor"], kind, _planned_if(workout["targets"]))
        watts = _target_watts(cur, athlete_id, workout["targets"], day)
        figures |= {"workout_id": workout["id"], "workout_type": kind, "planned_minutes": workout["duration_min"],
                    "planned_tss": workout["tss"], "duration_pct": duration_pct, "tss_pct": tss_pct,
                    "intensity": verdict, "zone": workout["targets"].get("zone"),
                    "target_power_w": watts}
        label = kind.replace("_", " ")
        text = f"Planned {label} {workout['duration_min']:.0f} min: you rode {ride_min:.0f} min ({duration_pct:.0f} %)"
        if tss_pct is not None:
            text += f" and TSS {ride['tss']:.0f} of {workout['tss']:.0f} ({tss_pct:.0f} %)"
        sentences.append(text + ".")
        if verdict and ride["intensity_factor"] is not None:
            zone = workout["targets"].get("zone")
            power = watts
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
    plan_id = plan_id_or_active(cur, athlete_id, None)
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
    plan_id = plan_id_or_active(cur, athlete_id, None)
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
