"""Plan generation with the database: the athlete's FTP, fitness today and recent load, the rules, a goal route's
climbs, and optionally the AI (validated, given structured steps, repaired, or replaced by the engine). Every plan
is checked against its rules with the one checker (``RuleContext.check``): the event is exempt from every rule (a
rule that falls on the event day is a conflict shown before saving; the event stays on its day); anything else left
broken refuses the plan, naming the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import ValidationError

from core.coach.plans.check import RuleContext, violations
from core.coach.plans.engine import (
    Climb,
    OtherRace,
    _assemble,
    climb_power,
    climb_share,
    phase_plan,
    plan_engine,
    refusal,
    rule_context,
)
from core.coach.plans.periodisation import ASSUMED_CTL, Fitness, advance, current_weekly_load
from core.coach.plans.projection import project
from core.coach.plans.repair import repair
from core.coach.plans.schema import (
    DEFAULT_FTP_W,
    HOURS_BY_LEVEL,
    TSS_PER_HOUR,
    PlanModel,
    PlanRequest,
    validate_request,
)
from core.coach.plans.weekbuild import make_workout, workout_maker
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
    projection: dict = field(default_factory=dict)
    engine: dict = field(default_factory=dict)     # the engine's figures: target and sustainable CTL, taper …
    conflicts: list[str] = field(default_factory=list)  # rules the event day breaks (shown before saving)
    rule_check: dict = field(default_factory=dict)  # what the rules were checked with (saved with the plan)
    ai_call_id: int | None = None  # the AI answer behind the plan: saving it records that the rider kept it

    def summary(self) -> dict:
        return {"generator": self.generator, "notes": self.notes, "ftp_w": self.ftp_w, "ctl": self.ctl,
                "weekly_ctl": self.weekly_ctl, "rules": self.rules, "route_pacing": self.route_pacing,
                "start_date": self.request.start_date.isoformat(), "duration_weeks": self.request.duration_weeks,
                "conflicts": self.conflicts, "engine": self.engine}


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
                            climb_power(ftp_w, est_time_s / 60), climb_share(est_time_s / 60)))
    return row[0], climbs


def start_fitness(cur, athlete_id: int, today: date, start: date, level: str) -> tuple[Fitness, float | None]:
    """The fitness the plan starts from (the evening before ``start``) and the recent weekly hours.

    From the rides (the dashboard's CTL/ATL with the athlete's time constants); the days between today and the
    plan's first day are assumed ridden at the recent average load. A rider without any ride starts from the
    level's assumed CTL (``ASSUMED_CTL``)."""
    from core.rides.dashboard import first_ride_day, fitness_on, time_constants

    ctl_days, atl_days = time_constants(cur, athlete_id)
    if first_ride_day(cur, athlete_id) is None:
        ctl = ASSUMED_CTL.get(level, ASSUMED_CTL["intermediate"])
        return Fitness(ctl, ctl, 7 * ctl, ctl_days, atl_days, assumed=True), None
    now = fitness_on(cur, athlete_id, today, today=today)
    recent = recent_load(cur, athlete_id, today + timedelta(days=1))  # the 4 weeks up to today, today included
    weekly_tss, weekly_hours = recent["tss"] or 0.0, recent["hours"] or 0.0
    ctl, atl = float(now["ctl"]), float(now["atl"])
    gap = (start - today).days - 1
    if gap > 0:
        c, a = advance(ctl, atl, [weekly_tss / 7] * gap, ctl_days, atl_days)
        ctl, atl = float(c[-1]), float(a[-1])
    return Fitness(ctl, atl, weekly_tss, ctl_days, atl_days), weekly_hours


def _hours(goals, fitness: Fitness, recent_hours: float | None, level: str) -> float:
    if goals.weekly_hours:
        return goals.weekly_hours
    if goals.target_ctl:
        return goals.target_ctl * 7 / TSS_PER_HOUR
    if recent_hours:
        return max(3.0, min(20.0, max(recent_hours, fitness.weekly_tss / TSS_PER_HOUR) * 1.15))
    return HOURS_BY_LEVEL.get(level, 7.0)


def generate_plan(cur, athlete_id: int, request: dict | PlanRequest, *, today: date | None = None,
                  settings=None, service=None) -> PlanResult:
    """Validate the request, gather athlete/rules/route, and produce a plan that honours every rule.

    With AI configured (``settings.ai_enabled`` or a ``service``) the model proposes; its plan is validated
    against PlanModel and the rules, given structured steps, repaired or replaced by the engine. ``generator``
    and ``notes`` say which."""
    from core.athletes import ftp_on, get_athlete, hard_includes_sweet_spot

    today = today or date.today()
    request = validate_request(request, today=today)
    athlete = get_athlete(cur, athlete_id)
    level = athlete.get("fitness_level") or "intermediate"
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
    prefs = request.user_preferences
    ftp = ftp_on(cur, athlete_id, today) or athlete.get("ftp_w")
    if not ftp:
        ftp = DEFAULT_FTP_W
        notes.append(f"No FTP in your profile: power targets assume {DEFAULT_FTP_W:.0f} W. Set it in Settings.")
    if goals.target_ftp_w and goals.target_ftp_w < ftp:
        raise PlanGenerationError(f"Contradictory goals: the target FTP ({goals.target_ftp_w:g} W) is below your "
                                  f"current FTP ({ftp:g} W).")
    fitness, recent_hours = start_fitness(cur, athlete_id, today, request.start_date, level)
    if fitness.assumed:
        notes.append(f"No rides yet: the plan assumes the fitness of a typical {level} rider (CTL "
                     f"{fitness.ctl:.0f}); import rides for a plan from your real load.")
    recent = recent_load(cur, athlete_id, today)
    ctx = rule_context(constraints, ctl=fitness.ctl, preferences=prefs, event_date=goals.event_date,
                       hard_includes_sweet_spot=sweet_spot_is_hard, names=names, speed_kmh=recent["speed_kmh"],
                       baseline_tss=current_weekly_load(fitness, level), baseline_hours=recent["hours"])
    if all(ctx.rest_only(request.start_date + timedelta(days=d), None) for d in range(7)):
        raise PlanGenerationError("No available day is left once the rest days in your rules are taken out.")
    hours = _hours(goals, fitness, recent_hours, level)
    max_hours = ctx.weekly_bounds("build")["max_hours"]
    if max_hours is not None and hours > max_hours:
        if goals.target_ctl:
            notes.append(f"A CTL of {goals.target_ctl:g} needs about {hours:.0f} h a week; your rule caps it at "
                         f"{max_hours:g} h, so the target may not be reached.")
        hours = max_hours
    for other in goals.other_events:
        if not ctx.allowed(other.date, None, "race"):
            raise PlanGenerationError(
                f"Your {other.priority} race on {other.date:%a %d %b %Y} falls on a day your rules keep free "
                f"({_rules_naming(ctx, other.date)}); move the race or change the rule.")
    route_name, climbs = None, []
    if goals.route_id is not None:
        route_name, climbs = route_climbs(cur, athlete_id, goals.route_id, ftp)
        if not climbs:
            notes.append(f"Route “{route_name}” has no climbs recorded: the plan uses standard intervals.")
    kwargs = dict(fitness=fitness, weekly_hours=hours, preferences=prefs, level=level,
                  event_date=goals.event_date, event_type=goals.event_type,
                  other_races=[OtherRace(o.date, o.priority, o.event_type, o.name) for o in goals.other_events],
                  climbs=climbs, route_name=route_name, target_ctl=goals.target_ctl)
    plan = None
    engine_summary: dict = {}
    generator = "engine"
    if service is None and settings is not None and settings.ai_enabled:
        from core.coach.ai import AIService

        service = AIService(cur, settings)
    if service is not None:
        plan, generator, note = _ai_plan(service, request, kwargs, ctx)
        notes.append(note)
    elif settings is not None:
        notes.append("No AI service configured: the plan comes from the built-in periodisation engine.")
    if plan is None:
        result = plan_engine(request.start_date, request.duration_weeks, ctx, **kwargs)
        plan, engine_summary = result.plan, result.summary
    broken = ctx.check(plan)
    if broken:  # never expected: the engine ends with its own check; refuse rather than save a rule-breaking plan
        raise refusal(ctx, broken)
    conflicts = [c.message for c in against_goal if not c.blocking]  # the event is kept on its day
    pacing = [{"name": c.name, "duration_min": round(c.duration_min, 1), "avg_grade_pct": c.avg_grade_pct,
               "distance_m": c.distance_m, "power_w": c.power_w} for c in climbs]
    projection = project(plan, fitness, event_date=goals.event_date)
    weekly_ctl = [w["ctl_end"] for w in projection["weeks"]]
    ai_call = getattr(service, "last_call_id", None) if generator.startswith("ai") else None
    return PlanResult(plan, request, constraints,
                      [{"id": r["id"], "version": r["version"], "name": r["name"]} for r in rules], generator,
                      notes, float(ftp), round(fitness.ctl, 1), weekly_ctl, pacing, projection, engine_summary,
                      conflicts, rule_check_of(ctx), ai_call_id=ai_call)


def rule_check_of(ctx: RuleContext) -> dict:
    """What the rules were checked with, saved with the plan so later edits are checked the same way."""
    return {"hard_includes_sweet_spot": ctx.hard_includes_sweet_spot, "baseline_tss": ctx.baseline_tss,
            "baseline_hours": ctx.baseline_hours, "ctl0": ctx.ctl0, "speed_kmh": ctx.speed_kmh}


def _rules_naming(ctx: RuleContext, day: date) -> str:
    """The rules whose own context keeps ``day`` free of a race."""
    names = [ctx.label(i) for i, c in enumerate(ctx.constraints)
             if not RuleContext([c], available=ctx.available, event_date=ctx.event_date,
                                hard_includes_sweet_spot=ctx.hard_includes_sweet_spot).allowed(day, None, "race")]
    return ", ".join(dict.fromkeys(names)) or "a rule"


def event_conflicts(plan: dict, constraints, event_date: date | None) -> tuple[list[str], list[str]]:
    """(conflicts, broken): the checker exempts the event from every rule, so nothing is broken only because the
    event is on its day; ``broken`` is every rule the plan breaks."""
    return [], violations(plan, constraints, event_date=event_date)


def attach_steps(plan: dict, ctx: RuleContext, event_date: date | None, event_type: str | None) -> None:
    """Give every workout of a plan that has none (an AI proposal) the library's steps for its type and duration,
    its TSS computed from them, and put the event on its day as a race."""
    from core.coach.plans.engine import _race_workout

    for week in plan["weeks"]:
        for i, w in enumerate(week["workouts"]):
            day = date.fromisoformat(str(w["date"])[:10])
            if event_date is not None and day == event_date:
                week["workouts"][i] = _race_workout(day, event_type, "A", False)
            elif not w.get("steps") and w["type"] != "rest":
                week["workouts"][i] = make_workout(day, w["type"], w["duration_min"], ctx, phase=week["phase"])
        if event_date is not None and not any(str(w["date"])[:10] == event_date.isoformat()
                                              for w in week["workouts"]):
            start = date.fromisoformat(str(week["start_date"])[:10])
            if start <= event_date < start + timedelta(days=7):
                week["workouts"].append(_race_workout(event_date, event_type, "A", False))
        week["workouts"].sort(key=lambda w: str(w["date"]))
        week["planned_hours"] = round(sum(w["duration_min"] for w in week["workouts"]) / 60, 2)
        week["planned_tss"] = round(sum(w["tss"] for w in week["workouts"]), 1)


def _ai_plan(service, request: PlanRequest, kwargs: dict, ctx: RuleContext):
    """(plan or None, generator, note). None means: use the engine."""
    start, weeks = request.start_date, request.duration_weeks
    fitness = kwargs["fitness"]
    payload = {
        "start_date": start.isoformat(), "duration_weeks": weeks,
        "phases": phase_plan(weeks, kwargs["level"], kwargs["event_type"], kwargs["event_date"] is not None, ctx),
        "athlete": {"ctl": round(fitness.ctl, 1), "atl": round(fitness.atl, 1),
                    "weekly_tss": round(fitness.weekly_tss), "weekly_hours": kwargs["weekly_hours"]},
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
        proposed = PlanModel(**reply.data).plan_json()
    except (ValidationError, TypeError) as exc:
        first = str(exc).splitlines()[0][:160]
        return None, "engine", f"The AI's plan did not fit the plan format ({first}); the built-in engine made " \
                               "this plan instead."
    problem = _shape_problem(proposed, start, weeks)
    if problem:
        return None, "engine", f"The AI's plan {problem}; the built-in engine made this plan instead."
    attach_steps(proposed, ctx, kwargs["event_date"], kwargs["event_type"])
    broken = ctx.violations(proposed)
    if not broken:
        return proposed, "ai", "Plan proposed by the AI coach, with structured workouts from the library; it " \
                               "honours every rule."
    weeks_list = [w["workouts"] for w in proposed["weeks"]]
    phases = [w["phase"] for w in proposed["weeks"]]
    repair(weeks_list, phases, ctx, workout_maker(ctx, kwargs["event_type"]),
           targets_h=[w["planned_hours"] for w in proposed["weeks"]])
    repaired = _assemble(weeks_list, phases, start)
    if ctx.check(repaired):
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
