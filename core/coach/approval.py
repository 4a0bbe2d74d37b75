"""Approval: an analysis' suggestions become a NEW plan version only when the rider approves (re-checked against
the plan's rules, weakened or skipped when they would break one); rejection changes nothing else."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

from core.coach.analysis import get_analysis
from core.coach.matching import link_completed_rides, plan_id_or_active
from core.coach.suggestions import (
    ScaleWeek,
    SwapToRecovery,
    find_workout,
    parse_suggestion,
    retotal_weeks,
    validate_suggestions,
)
from core.errors import ValidationError
from core.store.db import audit, bump_data_version, transaction

# ------------------------------------------------------------------------------------------------------------
# Approval
# ------------------------------------------------------------------------------------------------------------

def _apply(body: dict, s, *, today: date, ctx, factor: float | None = None,
           recovery_kind: str = "recovery") -> str | None:
    """Apply one suggestion to ``body`` in place; returns why it could not be applied (None: applied)."""
    from core.coach.plans.weekbuild import make_workout, scale_week  # the plan engine's own workout builders

    if isinstance(s, ScaleWeek):
        week = next((w for w in body["weeks"] if str(w["start_date"])[:10] == s.week_start.isoformat()), None)
        if week is None:
            return "that week is not in the plan"
        keep = [w for w in week["workouts"] if date.fromisoformat(str(w["date"])[:10]) < today]
        future = [w for w in week["workouts"] if date.fromisoformat(str(w["date"])[:10]) >= today]
        if not any(w["type"] != "rest" for w in future):
            return "no workout of that week is left to change"
        scale_week(future, factor if factor is not None else s.factor, ctx)
        week["workouts"] = keep + future
    elif isinstance(s, SwapToRecovery):
        found = find_workout(body, s.date.isoformat())
        if found is None:
            return "that day is not in the plan"
        week, i = found
        old = week["workouts"][i]
        if old["type"] in ("rest", "recovery"):
            return "that day is already easy"
        minutes = 0 if recovery_kind == "rest" else min(45.0, max(30.0, float(old["duration_min"])))
        week["workouts"][i] = make_workout(s.date, recovery_kind, minutes, ctx, phase=week["phase"])
    else:
        a, b = find_workout(body, s.from_.isoformat()), find_workout(body, s.to.isoformat())
        if a is None or b is None:
            return "one of the days is not in the plan"
        (wa, ia), (wb, ib) = a, b
        first, second = wa["workouts"][ia], wb["workouts"][ib]
        first["date"], second["date"] = second["date"], first["date"]
    retotal_weeks(body)
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
    from core.coach.plans.store import get_plan, rule_context_for_plan, save_version

    today = today or date.today()
    analysis = get_analysis(cur, athlete_id, analysis_id)
    if analysis["approved"] is not None:
        when = f" on {analysis['approved_at']:%d %b %Y %H:%M}" if analysis["approved_at"] else ""
        raise ValidationError(f"Analysis {analysis_id} was already {analysis['status']}{when}; it cannot be "
                              "approved again. Analyse the ride again for a new proposal.")
    plan_id = plan_id_or_active(cur, athlete_id, None)
    applied: list[str] = []
    skipped: list[str] = []
    new_id = None
    version = None
    suggestions = analysis["suggestions"]
    if suggestions and plan_id is None:
        raise ValidationError("There is no active plan to apply this analysis to: make a plan active first.")
    if plan_id is not None and suggestions:
        plan = get_plan(cur, plan_id, athlete_id)
        ctx = rule_context_for_plan(cur, plan)
        body = copy.deepcopy(plan["plan"])
        baseline = set(ctx.violations(body))
        valid, dropped = validate_suggestions(suggestions, body, today=today)
        skipped += [d[0].upper() + d[1:] for d in dropped]
        for item in valid:
            s = parse_suggestion(item)
            outcome = None
            for n, extra in enumerate(_attempts(s)):
                trial = copy.deepcopy(body)
                problem = _apply(trial, s, today=today, ctx=ctx, **extra)
                if problem:
                    outcome = f"{s.describe()}: skipped, {problem}"
                    break
                broken = [v for v in ctx.violations(trial) if v not in baseline]
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
