"""Plan generation with the database: the athlete's FTP, fitness today and recent load, the rules, a goal route's
climbs, and optionally the AI (validated, given structured steps, repaired, or replaced by the engine). Every plan
is checked against its rules with ``check.violations``: a rule the event day breaks is a conflict shown before
saving (the event stays on its day); anything else left broken refuses the plan, naming the rules."""

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
)
from core.coach.plans.periodisation import ASSUMED_CTL, Fitness, advance
from core.coach.plans.projection import project
from core.coach.plans.repair import enforce
from core.coach.plans.schema import (
    DEFAULT_FTP_W,
    HOURS_BY_LEVEL,
    TSS_PER_HOUR,
    PlanModel,
    PlanRequest,
    validate_request,
)
from core.coach.plans.weekbuild import make_workout
from core.coach.rules import (
    DAYS,
    Constraint,
    constraints_of,
    find_conflicts,
)
from core.errors import AIServiceError, PlanGenerationError

RECENT_DAYS = 28

# ----------------------------------------------------------------------------------------------------------------
# Generation with the database (athlete, rules, route) and optionally the AI
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class PlanResult:
    plan: dict
    request: PlanRequest
    constraints: list[Constraint]
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


def _recent_load(cur, athlete_id: int, day: date) -> tuple[float, float, int]:
    """(weekly TSS, weekly hours, rides) over the 28 days up to ``day``, as the dashboard counts rides."""
    row = cur.execute(
        "SELECT coalesce(sum(coalesce(tss, 0)), 0), coalesce(sum(coalesce(moving_time_s, elapsed_time_s, 0)), 0), "
        "count(*) FROM rides WHERE athlete_id = ? AND duplicate_of IS NULL AND started_at IS NOT NULL "
        "AND CAST(started_at AS DATE) BETWEEN ? AND ?",
        [athlete_id, day - timedelta(days=RECENT_DAYS - 1), day]).fetchone()
    weeks = RECENT_DAYS / 7
    return float(row[0]) / weeks, float(row[1]) / 3600 / weeks, int(row[2])


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
    weekly_tss, weekly_hours, _ = _recent_load(cur, athlete_id, today)
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
    from core.athletes import ftp_on, get_athlete

    today = today or date.today()
    request = validate_request(request, today=today)
    athlete = get_athlete(cur, athlete_id)
    level = athlete.get("fitness_level") or "intermediate"
    constraints, rules = constraints_of(cur, athlete_id, request.rule_ids)
    notes: list[str] = []
    blocking = [c for c in find_conflicts(constraints)
                if "conflicts" in c or "no day left" in c or "forbids" in c or "no room" in c]
    if blocking:
        raise PlanGenerationError("The chosen rules contradict each other: " + " ".join(blocking))
    prefs = request.user_preferences
    ctx = RuleContext(constraints, {DAYS.index(d) for d in prefs.available_days}, prefs.indoor_outdoor)
    if not any(ctx.allowed(d, k) for d in range(7) for k in ("endurance", "recovery", "long")):
        raise PlanGenerationError("No available day is left once the rest days in your rules are taken out.")
    ftp = ftp_on(cur, athlete_id, today) or athlete.get("ftp_w")
    if not ftp:
        ftp = DEFAULT_FTP_W
        notes.append(f"No FTP in your profile: power targets assume {DEFAULT_FTP_W:.0f} W. Set it in Settings.")
    goals = request.goals
    if goals.target_ftp_w and goals.target_ftp_w < ftp:
        raise PlanGenerationError(f"Contradictory goals: the target FTP ({goals.target_ftp_w:g} W) is below your "
                                  f"current FTP ({ftp:g} W).")
    fitness, recent_hours = start_fitness(cur, athlete_id, today, request.start_date, level)
    if fitness.assumed:
        notes.append(f"No rides yet: the plan assumes the fitness of a typical {level} rider (CTL "
                     f"{fitness.ctl:.0f}); import rides for a plan from your real load.")
    hours = _hours(goals, fitness, recent_hours, level)
    if ctx.max_hours is not None and hours > ctx.max_hours:
        if goals.weekly_hours:
            raise PlanGenerationError(f"Contradictory goals: {goals.weekly_hours:g} hours a week is more than the "
                                      f"rule's limit of {ctx.max_hours:g} hours.")
        if goals.target_ctl:
            notes.append(f"A CTL of {goals.target_ctl:g} needs about {hours:.0f} h a week; your rule caps it at "
                         f"{ctx.max_hours:g} h, so the target may not be reached.")
        hours = ctx.max_hours
    for other in goals.other_events:
        if not ctx.allowed(other.date.weekday(), "race"):
            raise PlanGenerationError(
                f"Your {other.priority} race on {other.date:%a %d %b %Y} falls on a day your rules keep free "
                f"({_rules_naming(rules, other.date)}); move the race or change the rule.")
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
        plan, generator, note = _ai_plan(service, request, constraints, kwargs, ctx)
        notes.append(note)
    elif settings is not None:
        notes.append("No AI service configured: the plan comes from the built-in periodisation engine.")
    if plan is None:
        result = plan_engine(request.start_date, request.duration_weeks, constraints, **kwargs)
        plan, engine_summary = result.plan, result.summary
    conflicts = checked(plan, constraints, rules, goals.event_date)
    pacing = [{"name": c.name, "duration_min": round(c.duration_min, 1), "avg_grade_pct": c.avg_grade_pct,
               "distance_m": c.distance_m, "power_w": c.power_w} for c in climbs]
    projection = project(plan, fitness, event_date=goals.event_date)
    weekly_ctl = [w["ctl_end"] for w in projection["weeks"]]
    ai_call = getattr(service, "last_call_id", None) if generator.startswith("ai") else None
    return PlanResult(plan, request, constraints,
                      [{"id": r["id"], "version": r["version"], "name": r["name"]} for r in rules], generator,
                      notes, float(ftp), round(fitness.ctl, 1), weekly_ctl, pacing, projection, engine_summary,
                      conflicts, ai_call_id=ai_call)


def _rules_naming(rules: list[dict], day: date) -> str:
    """The rules whose own context keeps ``day`` free of a race."""
    names = [f"“{r['name']}”" for r in rules
             if not RuleContext(list(r.get("constraints") or [])).allowed(day.weekday(), "race")]
    return ", ".join(dict.fromkeys(names)) or "a rule"


def event_conflicts(plan: dict, constraints: list[Constraint], event_date: date | None) -> tuple[list[str], list[str]]:
    """(conflicts, broken): what the rules say about the plan, split into the lines that exist only because the
    event is on its day (the event is never moved: these are shown before saving) and everything else."""
    left = violations(plan, constraints)
    if not left or event_date is None:
        return [], left
    day = event_date.isoformat()
    without = {"weeks": [week | {"workouts": [w | {"type": "rest", "duration_min": 0, "tss": 0}
                                              if str(w["date"])[:10] == day and w["type"] == "race" else w
                                              for w in week["workouts"]]} for week in plan["weeks"]]}
    real = violations(without, constraints)
    return [v for v in left if v not in set(real)], real


def checked(plan: dict, constraints: list[Constraint], rules: list[dict], event_date: date | None) -> list[str]:
    """The plan's event conflicts as sentences naming the rules; PlanGenerationError naming the rules when any
    other rule is broken (never expected: the engine ends with its repair pass)."""
    conflicts, broken = event_conflicts(plan, constraints, event_date)
    if broken:
        named = []
        for c in constraints:
            if violations(plan, [c]):
                rule = next((r for r in rules if any(rc == c for rc in r.get("constraints") or [])), None)
                named.append(f"“{rule['name']}”" if rule else c.describe())
        raise PlanGenerationError("No plan could satisfy every rule (" + ", ".join(dict.fromkeys(named)) + "): "
                                  + "; ".join(broken[:3]))
    out = []
    for line in conflicts:
        named = [f"“{r['name']}”" for r in rules
                 if any(violations(plan, [c]) for c in r.get("constraints") or [])]
        out.append(f"The event on {event_date:%a %d %b %Y} stays on its day, but {', '.join(named) or 'a rule'} "
                   f"does not allow it ({line}). Change the rule or the date, or save the plan with this "
                   "conflict.")
    return list(dict.fromkeys(out))


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


def _ai_plan(service, request: PlanRequest, constraints: list[Constraint], kwargs: dict, ctx: RuleContext):
    """(plan or None, generator, note). None means: use the engine."""
    start, weeks = request.start_date, request.duration_weeks
    fitness = kwargs["fitness"]
    payload = {
        "start_date": start.isoformat(), "duration_weeks": weeks,
        "phases": phase_plan(weeks, kwargs["level"], kwargs["event_type"], kwargs["event_date"] is not None),
        "athlete": {"ctl": round(fitness.ctl, 1), "atl": round(fitness.atl, 1),
                    "weekly_tss": round(fitness.weekly_tss), "weekly_hours": kwargs["weekly_hours"]},
        "goals": request.goals.model_dump(mode="json"),
        "preferences": request.user_preferences.model_dump(mode="json"),
        "rules": [c.model_dump(mode="json") for c in constraints],
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
    conflicts, broken = event_conflicts(proposed, constraints, kwargs["event_date"])
    if not broken:
        return proposed, "ai", "Plan proposed by the AI coach, with structured workouts from the library; it " \
                               "honours every rule."
    weeks_list = [w["workouts"] for w in proposed["weeks"]]
    enforce(weeks_list, ctx, protect=kwargs["event_date"])
    repaired = _assemble(weeks_list, [w["phase"] for w in proposed["weeks"]], start)
    if event_conflicts(repaired, constraints, kwargs["event_date"])[1]:
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
