"""Plan generation with the database: the athlete's FTP and fitness, the rules, a goal route's climbs, and
optionally the AI (validated, repaired, or replaced by the engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import ValidationError

from core.coach.plans.check import RuleContext
from core.coach.plans.engine import (
    Climb,
    _assemble,
    build_plan,
    climb_power,
    enforce,
    phase_plan,
    projected_ctl,
    refusal,
    rule_context,
)
from core.coach.plans.schema import (
    DEFAULT_FTP_W,
    HOURS_BY_LEVEL,
    TSS_PER_HOUR,
    PlanModel,
    PlanRequest,
    validate_request,
)
from core.coach.rules.conflicts import goal_conflicts, rule_conflicts
from core.coach.rules.store import constraint_sources, constraints_of, recent_load
from core.errors import AIServiceError, PlanGenerationError

# ----------------------------------------------------------------------------------------------------------------
# Generation with the database (athlete, rules, route) and optionally the AI
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class PlanResult:
    plan: dict
    request: PlanRequest
    constraints: list
    rules: list[dict]              # [{"id", "version", "name"}]
    generator: str                 # engine | ai | ai-repaired
    notes: list[str]
    ftp_w: float
    ctl: float
    weekly_ctl: list[float]
    route_pacing: list[dict] = field(default_factory=list)
    rule_check: dict = field(default_factory=dict)  # what the rules were checked with (saved with the plan)

    def summary(self) -> dict:
        return {"generator": self.generator, "notes": self.notes, "ftp_w": self.ftp_w, "ctl": self.ctl,
                "weekly_ctl": self.weekly_ctl, "rules": self.rules, "route_pacing": self.route_pacing,
                "start_date": self.request.start_date.isoformat(), "duration_weeks": self.request.duration_weeks}


def route_climbs(cur, athlete_id: int, route_id: int, ftp_w: float) -> tuple[str, list[Climb]]:
    row = cur.execute("SELECT name FROM routes WHERE id = ? AND athlete_id = ?", [route_id, athlete_id]).fetchone()
    if row is None:
        raise PlanGenerationError(f"Route {route_id} was not found; pick one of your saved routes.")
    rows = cur.execute(
        "SELECT seq, category, distance_m, avg_grade_pct, est_time_s FROM sections WHERE route_id = ? "
        "AND kind = 'climb' AND est_time_s > 0 ORDER BY est_time_s DESC, seq LIMIT 5", [route_id]).fetchall()
    climbs = []
    for seq, category, distance_m, grade, est_time_s in rows:
        minutes = max(3.0, min(60.0, est_time_s / 60))
        label = f"climb {seq}" + (f" (cat {category})" if category else "")
        climbs.append(Climb(label, minutes, float(grade or 0), float(distance_m or 0),
                            climb_power(ftp_w, est_time_s / 60)))
    return row[0], climbs


def _current_fitness(cur, athlete_id: int, day: date) -> float:
    from core.rides.dashboard import fitness_on

    return float(fitness_on(cur, athlete_id, day, today=day)["ctl"])


def generate_plan(cur, athlete_id: int, request: dict | PlanRequest, *, today: date | None = None,
                  settings=None, service=None) -> PlanResult:
    """Validate the request, gather athlete/rules/route, and produce a plan that honours every rule.

    With AI configured (``settings.ai_enabled`` or a ``service``) the model proposes; its plan is validated
    against PlanModel and the rules, repaired or replaced by the engine. ``generator`` and ``notes`` say which."""
    from core.athletes import ftp_on, get_athlete, hard_includes_sweet_spot

    today = today or date.today()
    request = validate_request(request, today=today)
    athlete = get_athlete(cur, athlete_id)
    constraints, rules = constraints_of(cur, athlete_id, request.rule_ids)
    names = constraint_sources(rules)
    sweet_spot_is_hard = hard_includes_sweet_spot(cur, athlete_id)
    notes: list[str] = []
    goals = request.goals
    blocking = [c.message for c in rule_conflicts(constraints, names=names,
                                                  hard_includes_sweet_spot=sweet_spot_is_hard) if c.blocking]
    if blocking:
        raise PlanGenerationError("The chosen rules contradict each other: " + " ".join(blocking))
    against_goal = goal_conflicts(constraints, event_date=goals.event_date, weekly_hours=goals.weekly_hours,
                                  names=names, goal="the plan's goal", hard_includes_sweet_spot=sweet_spot_is_hard)
    if any(c.blocking for c in against_goal):
        raise PlanGenerationError("Your rules contradict your goal: " + " ".join(c.message for c in against_goal
                                                                               if c.blocking))
    notes += [c.message for c in against_goal]
    prefs = request.user_preferences
    ftp = ftp_on(cur, athlete_id, today) or athlete.get("ftp_w")
    if not ftp:
        ftp = DEFAULT_FTP_W
        notes.append(f"No FTP in your profile: power targets assume {DEFAULT_FTP_W:.0f} W. Set it in Settings.")
    if goals.target_ftp_w and goals.target_ftp_w < ftp:
        raise PlanGenerationError(f"Contradictory goals: the target FTP ({goals.target_ftp_w:g} W) is below your "
                                  f"current FTP ({ftp:g} W).")
    ctl = _current_fitness(cur, athlete_id, today)
    recent = recent_load(cur, athlete_id, today)
    ctx = rule_context(constraints, ctl=ctl, preferences=prefs, event_date=goals.event_date,
                       hard_includes_sweet_spot=sweet_spot_is_hard, names=names, speed_kmh=recent["speed_kmh"],
                       baseline_tss=recent["tss"] if recent["tss"] else (7 * ctl if ctl >= 15 else None),
                       baseline_hours=recent["hours"])
    start = request.start_date
    if all(ctx.rest_only(start + timedelta(days=d), None) for d in range(7)):
        raise PlanGenerationError("No available day is left once the rest days in your rules are taken out.")
    max_hours = ctx.weekly_bounds("build")["max_hours"]
    if goals.weekly_hours:
        hours = goals.weekly_hours
    elif goals.target_ctl:
        hours = goals.target_ctl * 7 / TSS_PER_HOUR
    elif ctl > 5:
        hours = max(4.0, min(14.0, ctl * 7 / TSS_PER_HOUR * 1.1))
    else:
        hours = HOURS_BY_LEVEL.get(athlete.get("fitness_level") or "intermediate", 7.0)
    if max_hours is not None and hours > max_hours:
        if goals.target_ctl:
            notes.append(f"A CTL of {goals.target_ctl:g} needs about {hours:.0f} h a week; your rule caps it at "
                         f"{max_hours:g} h, so the target may not be reached.")
        hours = max_hours
    route_name, climbs = None, []
    if goals.route_id is not None:
        route_name, climbs = route_climbs(cur, athlete_id, goals.route_id, ftp)
        if not climbs:
            notes.append(f"Route “{route_name}” has no climbs recorded: the plan uses standard intervals.")
    kwargs = dict(ftp_w=ftp, ctl=ctl, weekly_hours=hours, preferences=prefs,
                  fitness_level=athlete.get("fitness_level") or "intermediate", event_date=goals.event_date,
                  climbs=climbs, route_name=route_name)
    plan = None
    generator = "engine"
    if service is None and settings is not None and settings.ai_enabled:
        from core.coach.ai import AIService

        service = AIService(cur, settings)
    if service is not None:
        plan, generator, note = _ai_plan(service, request, ctx, kwargs)
        notes.append(note)
    elif settings is not None:
        notes.append("No AI service configured: the plan comes from the built-in periodisation engine.")
    if plan is None:
        plan = build_plan(request.start_date, request.duration_weeks, ctx, **kwargs)
    broken = ctx.check(plan)
    if broken:  # never expected: the engine ends with its own check; refuse rather than save a rule-breaking plan
        raise refusal(ctx, broken)
    pacing = [{"name": c.name, "duration_min": round(c.duration_min, 1), "avg_grade_pct": c.avg_grade_pct,
               "distance_m": c.distance_m, "power_w": c.power_w} for c in climbs]
    rule_check = {"hard_includes_sweet_spot": sweet_spot_is_hard, "baseline_tss": ctx.baseline_tss,
                  "baseline_hours": ctx.baseline_hours, "ctl0": ctx.ctl0, "speed_kmh": ctx.speed_kmh}
    return PlanResult(plan, request, constraints,
                      [{"id": r["id"], "version": r["version"], "name": r["name"]} for r in rules], generator,
                      notes, float(ftp), round(ctl, 1), projected_ctl(plan, ctl), pacing, rule_check)


def _ai_plan(service, request: PlanRequest, ctx: RuleContext, kwargs: dict):
    """(plan or None, generator, note). None means: use the engine."""
    start, weeks = request.start_date, request.duration_weeks
    payload = {
        "start_date": start.isoformat(), "duration_weeks": weeks, "phases": phase_plan(weeks, kwargs["fitness_level"], ctx),
        "athlete": {"ftp_w": kwargs["ftp_w"], "ctl": round(kwargs["ctl"], 1), "weekly_hours": kwargs["weekly_hours"]},
        "goals": request.goals.model_dump(mode="json"),
        "preferences": request.user_preferences.model_dump(mode="json"),
        "rules": [c.model_dump(mode="json") for c in ctx.constraints],
    }
    try:
        reply = service.complete_json("generate_plan", payload, schema=PlanModel.model_json_schema(),
                                      schema_name="training_plan")
    except AIServiceError as exc:
        return None, "engine", f"The AI service failed ({exc}); the built-in engine made this plan instead."
    try:
        proposed = PlanModel(**reply.data).model_dump(mode="json")
    except (ValidationError, TypeError) as exc:
        first = str(exc).splitlines()[0][:160]
        return None, "engine", f"The AI's plan did not fit the plan format ({first}); the built-in engine made " \
                               "this plan instead."
    problem = _shape_problem(proposed, start, weeks)
    if problem:
        return None, "engine", f"The AI's plan {problem}; the built-in engine made this plan instead."
    for week in proposed["weeks"]:  # derived totals are ours to compute
        week["planned_hours"] = round(sum(w["duration_min"] for w in week["workouts"]) / 60, 2)
        week["planned_tss"] = round(sum(w["tss"] for w in week["workouts"]), 1)
    broken = ctx.violations(proposed)
    if not broken:
        return proposed, "ai", "Plan proposed by the AI coach; it honours every rule."
    weeks_list = [w["workouts"] for w in proposed["weeks"]]
    for week in weeks_list:
        for w in week:
            w["target"] = dict(w.get("target") or {})
            w["target"].setdefault("indoor", False)
    phases = [w["phase"] for w in proposed["weeks"]]
    enforce(weeks_list, ctx, kwargs["ftp_w"], phases=phases, targets_h=[w["planned_hours"] for w in proposed["weeks"]],
            route_name=kwargs.get("route_name"))
    repaired = _assemble(weeks_list, phases, start)
    if ctx.violations(repaired):
        return None, "engine", "The AI's plan broke your rules and could not be repaired; the built-in engine " \
                               "made this plan instead."
    return repaired, "ai-repaired", (f"The AI's plan broke {len(broken)} rule check(s) (e.g. {broken[0]}); it was "
                                     "repaired to honour every rule.")


def _shape_problem(plan: dict, start: date, weeks: int) -> str | None:
    if len(plan["weeks"]) != weeks:
        return f"had {len(plan['weeks'])} weeks instead of {weeks}"
    for n, week in enumerate(plan["weeks"]):
        first = start + timedelta(weeks=n)
        if week["week"] != n + 1 or date.fromisoformat(week["start_date"]) != first:
            return f"has week {n + 1} starting on the wrong date"
        for w in week["workouts"]:
            day = date.fromisoformat(w["date"])
            if not first <= day < first + timedelta(days=7):
                return f"puts a workout on {day} outside week {n + 1}"
    return None
