"""The deterministic periodisation engine (pure: no database). From the athlete's fitness today it lays out the
phases (core.coach.plans.periodisation), sets each week's load within the bounds, builds the week from the workout
library (core.coach.plans.weekbuild), tunes the taper so race-day form lands in the event's band, places the event
on its day, ends with the repair pass (core.coach.plans.repair) and the checker, and explains each week in a
sentence. It reads the rules only through ``RuleContext``; a plan that still breaks a rule is refused, naming it.

A week's load (weekly TSS):
- loading week: the largest of the plan's bounds allows — week 1 ≤ 115 % of the current weekly load; later
  weeks ≤ 110 % of the last loading week; CTL up at most the level's bound a week; the rider's target CTL when
  one is set; the hours available (the week built at full hours); a weekly TSS maximum;
- recovery week: ``RECOVERY_RATIO`` of the last loading week;
- taper week: a share of the last loading week's riding time (30–60 % less), short intensity kept, chosen so
  that race-day TSB lands in the event's band with the most CTL kept.
A rule on the same thing replaces the default: a TSS ramp limit the 15 %/10 % (an hours limit caps the hours, a
CTL limit the CTL bound), a recovery-cadence rule the blocks and the recovery share, a taper rule the taper's
length and its least drop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from core.coach.library import library
from core.coach.plans.check import RuleContext, _date, ramp_cap
from core.coach.plans.periodisation import (
    CTL_RAMP_BOUND,
    FIRST_WEEK_RAMP,
    LOAD_WEEKS,
    LOADING_PHASES,
    LOADING_RAMP,
    RECOVERY_RATIO,
    Fitness,
    advance,
    choose_taper,
    current_weekly_load,
    layout,
    taper_options,
    taper_weeks,
    tsb_band,
    weekly_tss_for_ctl,
    with_recovery_weeks,
)
from core.coach.plans.projection import projected_ctl
from core.coach.plans.repair import fixed_workout, repair
from core.coach.plans.schema import UserPreferences
from core.coach.plans.sessions import (
    EVENT_KEY,
    LEVEL_CAP,
    LONG_MAX,
    RACE_IDS,
    START_LEVEL,
    Climb,
    _explain,
    climb_power,
    climb_share,
    key_sessions,
    progression_group,
)
from core.coach.plans.weekbuild import (
    Skeleton,
    WeekSpec,
    build_to_load,
    climbs_session,
    counted,
    from_library,
    is_hard,
    make_workout,
    rest_day,
    scale_week,
    skeleton,
    week_tss,
    workout_maker,
)
from core.coach.rules.conflicts import rule_conflicts
from core.coach.rules.model import DAY_NAMES, DAYS
from core.errors import PlanGenerationError

# ----------------------------------------------------------------------------------------------------------------
# Inputs and outputs
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class OtherRace:
    date: date
    priority: str = "B"          # B: a short mini-taper around it; C: raced as a hard training day
    event_type: str | None = None
    name: str | None = None


@dataclass
class History:
    """What came before the weeks to plan (a re-plan keeps the completed weeks)."""

    last_loading_tss: float | None = None
    last_loading_min: float | None = None
    best_tss: float | None = None
    loading_streak: int = 0
    uses: dict[str, int] = field(default_factory=dict)
    weeks_before: int = 0
    long_minutes: float | None = None


@dataclass
class EngineResult:
    plan: dict
    summary: dict


def _race_workout(day: date, event_type: str | None, priority: str, indoor: bool) -> dict:
    lib = library()
    workout = lib.get(f"race-{event_type}") if event_type in RACE_IDS else lib.get("race-event")
    label = {"A": "Goal event", "B": "B race", "C": "C race"}[priority]
    return from_library(day, workout, None, indoor=indoor, kind="race",
                        extra={"event": priority == "A", "priority": priority, "name": f"{label}: {workout.name}"})


def _openers(day: date, ctx: RuleContext, event_type: str | None, weekly_tss: float, phase: str | None) -> dict:
    """The day before a race: openers (shorter for a rider with a light weekly load, whose form they would dent)."""
    lib = library()
    if ctx.allowed(day, phase, "tempo"):
        workout = lib.get("openers-tt" if event_type == "time_trial" else "openers")
        minutes = None if weekly_tss >= 350 else 30
        if (minutes or workout.duration_min) > ctx.max_minutes(day, phase, "tempo"):
            minutes = ctx.max_minutes(day, phase, "tempo")
        return from_library(day, workout, minutes, indoor=ctx.indoor(day, phase, "tempo"), kind="tempo")
    for kind in ("recovery", "endurance"):
        if ctx.allowed(day, phase, kind):
            return make_workout(day, kind, min(40, ctx.max_minutes(day, phase, kind)), ctx, phase="taper")
    return rest_day(day)


# ----------------------------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------------------------

class _Sim:
    """CTL/ATL stepped day by day from the plan's first day (the dashboard's model)."""

    def __init__(self, fitness: Fitness, first_day: date):
        self.fitness = fitness
        self.first = first_day
        self.ctl, self.atl = fitness.ctl, fitness.atl

    def run(self, workouts: list[dict], ctl: float, atl: float) -> tuple[float, float, np.ndarray, np.ndarray]:
        days = sorted({str(w["date"])[:10] for w in workouts if date.fromisoformat(str(w["date"])[:10]) >= self.first})
        if not days:
            return ctl, atl, np.array([ctl]), np.array([atl])
        first = date.fromisoformat(days[0])
        n = (date.fromisoformat(days[-1]) - first).days + 1
        daily = np.zeros(n)
        for w in workouts:
            day = date.fromisoformat(str(w["date"])[:10])
            if day >= self.first:
                daily[(day - first).days] += float(w["tss"])
        c, a = advance(ctl, atl, daily, self.fitness.ctl_days, self.fitness.atl_days)
        return float(c[-1]), float(a[-1]), c, a


@dataclass
class _State:
    ctl: float
    atl: float
    last_tss: float | None
    last_min: float | None
    best: float | None
    loading_days: int | None
    prev_tail: dict[date, set[str]]
    long_now: float
    loading_seen: int
    uses: dict[str, int]

    def copy(self) -> _State:
        return replace(self, uses=dict(self.uses), prev_tail=dict(self.prev_tail))


@dataclass
class _Setup:
    start: date
    ctx: RuleContext
    fitness: Fitness
    level: str
    event_date: date | None
    event_type: str | None
    distribution: str
    with_tests: bool
    hours_cap: float
    ramp: float
    first_ramp: float
    current: float
    races: dict
    locked: dict[str, dict]
    first_day: date
    long_pref: int | None
    long_max: float
    n_loading_total: int
    target_ctl: float | None
    climbs: list[Climb] | None
    sim: _Sim
    route_name: str | None = None
    phases: list[str] = field(default_factory=list)
    recovery_ratio: float = RECOVERY_RATIO
    ctl_bound: float = 5.0

    def phase_on(self, day: date) -> str | None:
        n = (day - self.start).days // 7
        return self.phases[n] if 0 <= n < len(self.phases) else None

    def hours_for(self, phase: str) -> float:
        """The hours a week of this phase may hold: the hours asked for, at most a weekly-volume rule's."""
        cap = self.ctx.weekly_bounds(phase)["max_hours"]
        return min(self.hours_cap, cap) if cap is not None else self.hours_cap

    def ramp_limit(self, reference: float, first: bool = False) -> float:
        """The most TSS a loading week may carry over ``reference`` (the last loading week's, or week 1's current
        load): a TSS ramp rule replaces the engine's 10 % (15 % for week 1)."""
        rules = [c for c in self.ctx.ramps if c.metric == "tss"]
        if rules:
            base = (self.ctx.baseline_tss or reference) if first else reference
            return min(ramp_cap(c, base) for c in rules)
        return reference * (1 + (self.first_ramp if first else self.ramp))


def rule_context(constraints, *, ctl: float = 0.0, preferences: UserPreferences | None = None,
                 event_date: date | None = None, **options) -> RuleContext:
    """A RuleContext for the pure engine: the form's days and venue, and the recent load guessed from CTL (a week
    at CTL × 7 TSS) unless ``options`` give it. A RuleContext given stays as it is (its event date set if none)."""
    if isinstance(constraints, RuleContext):
        if constraints.event_date is None and event_date is not None:
            constraints.event_date = event_date
        return constraints
    preferences = preferences or UserPreferences()
    options.setdefault("baseline_tss", 7 * ctl if ctl >= 15 else None)
    options.setdefault("ctl0", ctl)
    return RuleContext(list(constraints), event_date=event_date, available={DAYS.index(d) for d in
                                                                             preferences.available_days},
                       indoor_pref=preferences.indoor_outdoor, **options)


def refusal(ctx: RuleContext, broken: list) -> PlanGenerationError:
    """The error when no plan honours every rule: the rules that could not all be kept, and one example."""
    labels = list(dict.fromkeys(ctx.label(v.constraint) for v in broken))
    return PlanGenerationError("No plan can follow all of these rules together: " + "; ".join(labels[:6])
                               + f". For example: {broken[0].message.split(' — ')[0]}. Change or disable one of them.")


def refuse_contradictions(ctx: RuleContext) -> None:
    """PlanGenerationError naming the rules when they contradict each other or name no day the rider can ride."""
    long_days = ctx.long_ride_days
    if long_days is not None and not long_days & ctx.available:
        i = next(i for i, c in enumerate(ctx.constraints) if c.kind == "long_ride_days")
        raise PlanGenerationError(f"{ctx.label(i)} names no day you can ride (the form's days): add the day to "
                                  "your days or change the rule.")
    blocking = [c for c in rule_conflicts(ctx.constraints, names=ctx.names,
                                          hard_includes_sweet_spot=ctx.hard_includes_sweet_spot) if c.blocking]
    if blocking:
        raise PlanGenerationError("The chosen rules contradict each other: " + " ".join(c.message for c in blocking))


def plan_engine(start: date, weeks: int, constraints, *, fitness: Fitness, weekly_hours: float,
                preferences: UserPreferences | None = None, level: str = "intermediate",
                event_date: date | None = None, event_type: str | None = None,
                other_races: list[OtherRace] | None = None, climbs: list[Climb] | None = None,
                route_name: str | None = None, target_ctl: float | None = None, first_day: date | None = None,
                locked: dict[str, dict] | None = None, history: History | None = None) -> EngineResult:
    """Build the plan. ``constraints`` is a list of constraints or a RuleContext. ``first_day`` (a re-plan: today)
    and ``locked`` (date → workout kept from the old plan) leave the days before it as they were; ``history``
    carries the completed weeks' load and progression. Raises PlanGenerationError naming the rules it cannot keep."""
    preferences = preferences or UserPreferences()
    history = history or History()
    level = level if level in CTL_RAMP_BOUND else "intermediate"
    current = current_weekly_load(fitness, level)
    ctx = rule_context(constraints, ctl=fitness.ctl, preferences=preferences, event_date=event_date,
                       baseline_tss=current)
    refuse_contradictions(ctx)
    first_day = max(first_day or start, start)
    has_event = event_date is not None
    # taper lengths to try: the default for the plan's length and event, and one week more or less (a rule's
    # length replaces them)
    default_taper = taper_weeks(weeks + history.weeks_before, event_type) if has_event else 0
    tapers = sorted({t for t in (default_taper - 1, default_taper, default_taper + 1) if 1 <= t <= 2}
                    if has_event and weeks >= 5 else {min(default_taper, weeks)} - {0})
    if has_event and ctx.of("taper"):
        tapers = [min(weeks, ctx.taper_weeks(default_taper))]
    t_min = tapers[0] if tapers else 0
    cadence = ctx.recovery_cadence
    phases = phase_plan(weeks, level, event_type, has_event, ctx, taper=t_min, carry_loading=history.loading_streak,
                        offset=history.weeks_before)
    long_max = LONG_MAX[level] + (30 if event_type in ("gran_fondo", "stage_race", "climbing_event") else 0)
    if event_type in ("criterium", "time_trial"):
        long_max = min(long_max, 180.0)
    ctl_rules = [c.limit for c in ctx.ramps if c.metric == "ctl"]
    setup = _Setup(start, ctx, fitness, level, event_date, event_type,
                   getattr(preferences, "intensity_distribution", "pyramidal") or "pyramidal",
                   bool(getattr(preferences, "ftp_tests", False)), weekly_hours, LOADING_RAMP, FIRST_WEEK_RAMP,
                   current, {}, locked or {}, first_day,
                   DAYS.index(preferences.long_ride_day) if preferences.long_ride_day else None, long_max,
                   sum(p in LOADING_PHASES for p in phases), target_ctl, climbs, _Sim(fitness, first_day),
                   route_name, phases,
                   cadence.recovery_load_pct / 100 if cadence and cadence.recovery_load_pct else RECOVERY_RATIO,
                   min(ctl_rules) if ctl_rules else CTL_RAMP_BOUND[level])
    setup.hours_cap = max(setup.hours_for(p) for p in set(phases) | {"build"})
    setup.races = _fixed_races(setup, weeks, other_races or [])
    state = _State(fitness.ctl, fitness.atl, history.last_loading_tss,
                   history.last_loading_min if history.last_loading_tss is not None else current / 50 * 60,
                   history.best_tss, None, {}, history.long_minutes or 120.0, 0, dict(history.uses))
    built: list[list[dict]] = []
    reasons: list[dict] = []
    snapshots = [state.copy()]
    for n, phase in enumerate(phases):
        if phase == "taper":
            break
        workouts, reason = _week(setup, state, n, phase, phases)
        built.append(workouts)
        reasons.append(reason)
        snapshots.append(state.copy())
    chosen = None
    if tapers:
        band = tsb_band(event_type)
        drop = ctx.taper_drop_pct
        options = []
        for t in tapers:
            base = weeks - t
            if base < 0 or base >= len(snapshots):
                continue
            st = snapshots[base]
            for depth in (0, 1, 2):
                found = []
                for option in dict.fromkeys(tuple(min(s, 0.98 - drop / 100) if drop else s for s in o)
                                            for o in taper_options(t, depth=depth)):
                    trial = _taper_weeks(setup, st, base, option, depth=depth)
                    race_ctl, race_tsb = _race_form(setup, st, trial)
                    found.append((option, race_ctl, race_tsb, trial, base, depth))
                options += found
                if any(band[0] <= o[2] <= band[2] for o in found):
                    break
        pick = choose_taper([(o[0], o[1], o[2]) for o in options], band)
        chosen = next(o for o in options if o[:3] == tuple(pick))
        base = chosen[4]
        built, reasons, phases = built[:base], reasons[:base], phases[:base] + ["taper"] * len(chosen[0])
        ref_min = snapshots[base].last_min
        for i, workouts in enumerate(chosen[3]):
            built.append(workouts)
            reasons.append({"kind": "taper", "share": chosen[0][i], "ref_min": ref_min})
    plan = _finish(setup, built, phases, history)
    sustainable = _sustainable_tss(setup)
    load_weeks = cadence.load_weeks if cadence else LOAD_WEEKS.get(level, 3)
    tss_ramps = [c for c in ctx.ramps if c.metric == "tss"]
    summary = {"level": level, "weekly_hours": round(setup.hours_cap, 2), "distribution": setup.distribution,
               "current_weekly_tss": round(current, 1), "start_ctl": round(fitness.ctl, 1),
               "start_atl": round(fitness.atl, 1), "ctl_assumed": fitness.assumed,
               "loading_week_tss": round(sustainable, 1),
               "sustainable_ctl": round(sustainable * (load_weeks + setup.recovery_ratio) / (load_weeks + 1) / 7, 1),
               "tss_per_hour": round(sustainable / max(0.1, setup.hours_cap), 1),
               "ramp_pct": round(min(c.limit for c in tss_ramps) if tss_ramps and all(c.unit == "pct" for c in
                                                                                      tss_ramps)
                                 else setup.ramp * 100, 1), "ctl_ramp_bound": setup.ctl_bound,
               "taper_weeks": len(chosen[0]) if chosen else 0, "taper_shares": list(chosen[0]) if chosen else [],
               "tsb_band": list(tsb_band(event_type)) if has_event else None,
               "target_ctl": round(chosen[1], 1) if chosen else None}
    _explain(plan, reasons, summary)
    return EngineResult(plan, summary)


def _finish(setup: _Setup, built: list[list[dict]], phases: list[str], history: History) -> dict:
    """The repair pass with the engine's hours as the draft's intent and its own ramp guard where no rule replaces
    it, then the checker: a plan that still breaks a rule is refused, naming the rules."""
    ctx = setup.ctx
    guard = None if any(c.metric == "tss" for c in ctx.ramps) else \
        (setup.ramp, setup.current * (1 + setup.first_ramp), history.last_loading_tss)
    targets = [sum(w["duration_min"] for w in week if not _is_event(w, setup.event_date)) / 60 for week in built]
    repair(built, phases, ctx, workout_maker(ctx, setup.event_type), targets_h=targets, keep=set(setup.locked),
           guard=guard)
    plan = _assemble(built, phases, setup.start)
    broken = ctx.check(plan)
    if broken:
        raise refusal(ctx, broken)
    return plan


def _is_event(w: dict, event_date: date | None) -> bool:
    return w["type"] == "race" and event_date is not None and str(w["date"])[:10] == event_date.isoformat()


def _week(setup: _Setup, state: _State, n: int, phase: str, phases: list[str]) -> tuple[list[dict], dict]:
    """Build week ``n`` (loading or recovery) and move ``state`` past it."""
    ctx, fitness = setup.ctx, setup.fitness
    wstart = setup.start + timedelta(weeks=n)
    locked_days = {d for d in range(7) if wstart + timedelta(days=d) < setup.first_day}
    fixed, rest, extras = _week_fixed(setup, n, phase, locked_days)
    hours_cap = setup.hours_for(phase)
    if phase in LOADING_PHASES:
        caps = {}
        if state.loading_seen == 0:  # the first week planned starts from what the rider rides now
            caps["first"] = setup.ramp_limit(setup.current, first=True)
        if state.last_tss is not None:
            caps["ramp"] = setup.ramp_limit(state.last_tss)
        max_tss = ctx.weekly_bounds(phase)["max_tss"]
        if max_tss is not None:
            caps["rule"] = max_tss
        caps["ctl"] = weekly_tss_for_ctl(state.ctl, state.ctl + setup.ctl_bound, fitness.ctl_days)
        for c in ctx.ramps:  # an hours ramp rule caps the week's hours
            reference = ctx.baseline_hours if state.loading_seen == 0 else (state.last_min or 0) / 60
            if c.metric == "hours" and reference:
                hours_cap = min(hours_cap, ramp_cap(c, reference))
        if setup.target_ctl:
            caps["target"] = max(weekly_tss_for_ctl(state.ctl, setup.target_ctl * 1.04, fitness.ctl_days),
                                 0.6 * setup.current)
        binding = min(caps, key=caps.get)
        target = caps[binding] * 0.998
        locked_tss = sum(w["tss"] for d, w in setup.locked.items()
                         if wstart <= date.fromisoformat(d) < wstart + timedelta(days=7))
        hours_est = min(hours_cap, target / 50)
        progress = state.loading_seen / max(1, setup.n_loading_total - 1)
        state.long_now = min(setup.long_max, max(state.long_now, 120 + (setup.long_max - 120) * progress))
        group = progression_group(phase)
        levels = {k: min(library().max_level(k, setup.event_type), LEVEL_CAP[setup.level],
                         START_LEVEL[setup.level] + state.uses.get(f"{group}:{k}", 0))
                  for k in ("sweet_spot", "tempo", "threshold", "vo2max", "anaerobic", "sprint", "long")}
        keys = key_sessions(phase, setup.distribution, setup.event_type, hours_est, setup.level)
        climbs_steps = climbs_extra = None
        if setup.climbs and phase in ("build", "peak") and keys:
            climbs_steps, climbs_extra = climbs_session(setup.climbs, phase)
            keys = ["climbs"] + keys[1:]
        keys = keys[: max(0, len(keys) - sum(1 for w in fixed.values() if w["type"] == "race"))]
        n_days = max(3, min(6, math.ceil(hours_est / 1.5)))
        taken = [w for w in fixed.values() if w["type"] != "rest"]
        if taken:  # the rider's own sessions take their days; the rest of the week's hours need days of their own
            free_h = max(0.0, hours_est - sum(w["duration_min"] for w in taken) / 60)
            n_days = max(n_days, min(6, len(taken) + math.ceil(free_h / 1.5)))
        spec = WeekSpec(wstart, phase, keys, state.long_now, n_days, setup.event_type, levels, state.loading_seen,
                        fixed, rest, locked_days, False, setup.long_pref, state.prev_tail, extras=extras,
                        climbs_steps=climbs_steps, climbs_extra=climbs_extra,
                        climbs_kind="threshold" if setup.climbs and max(c.share for c in setup.climbs) >= 0.95
                        else "sweet_spot", route_name=setup.route_name, distribution=setup.distribution)
        sk, workouts, reached = _within(spec, ctx, max(0.0, target - locked_tss), hours_cap)
        workouts = _with_locked(workouts, setup.locked, wstart)
        tss = week_tss(workouts)
        if not reached:
            binding = "hours"
        for kind in {k.split(":")[1] for k in sk.kinds.values() if k.startswith("key:")} | {"long"}:
            state.uses[f"{group}:{kind}"] = state.uses.get(f"{group}:{kind}", 0) + 1
        reason = {"kind": "loading", "binding": binding, "ref": state.last_tss, "current": setup.current,
                  "keys": _key_names(workouts)}
        away = any(ctx.unavailable(wstart + timedelta(days=d)) for d in range(7))
        if away and state.last_tss is None and tss < target:  # a first week cut short by days away: the next
            state.last_tss = target                            # one ramps from what it was meant to be
            state.last_min = max(_training_minutes(workouts), 60 * min(hours_cap, target / 50))
        elif not (away and state.last_tss is not None and tss < state.last_tss):  # a week away is no reference
            state.last_tss, state.last_min = tss, _training_minutes(workouts)
        state.loading_days = sum(1 for w in workouts if w["type"] != "rest")
        state.loading_seen += 1
    else:  # a recovery week
        target = setup.recovery_ratio * (state.last_tss or setup.current)
        test = setup.with_tests and "build" in phases[:n] and n > 0 and phases[n - 1] in LOADING_PHASES
        n_days = max(3, (state.loading_days or 4) - 1)
        spec = WeekSpec(wstart, "recovery", [], state.long_now * 0.6, n_days, setup.event_type, {}, n, fixed, rest,
                        locked_days, test, setup.long_pref, state.prev_tail, recovery_days=1, extras=extras,
                        distribution=setup.distribution, key_max=75.0)
        # less riding as well as less load: at most 95 % of the last loading week's time (the load falls more,
        # the intervals go)
        cap = min(hours_cap, 0.95 * (state.last_min or setup.current / 50 * 60) / 60)
        workouts = _with_locked(_within(spec, ctx, target, cap)[1], setup.locked, wstart)
        reason = {"kind": "recovery", "ref": state.last_tss or setup.current, "test": test}
    state.best = max(state.best or 0.0, week_tss(workouts))
    state.ctl, state.atl, _, _ = setup.sim.run(workouts, state.ctl, state.atl)
    state.prev_tail = _tail(workouts, ctx)
    return workouts, reason


def _within(spec: WeekSpec, ctx: RuleContext, target: float, hours_cap: float):
    """The week built to ``target`` TSS; when even its shortest form is above the target, with one key session
    fewer, then one day fewer, then a shorter long ride, until it fits."""
    while True:
        sk = skeleton(spec, ctx)
        workouts, reached = build_to_load(sk, ctx, target_tss=target, minutes=None, hours_cap=hours_cap)
        if week_tss(workouts) <= target * 1.002:
            return sk, workouts, reached
        if spec.keys:
            spec = replace(spec, keys=spec.keys[:-1])
        elif spec.n_days > len(spec.fixed):
            spec = replace(spec, n_days=spec.n_days - 1)
        elif spec.long_minutes > 60:
            spec = replace(spec, long_minutes=60.0)
        elif spec.long_minutes > 0:
            spec = replace(spec, long_minutes=0.0)
        else:
            return sk, workouts, reached


def _race_form(setup: _Setup, state: _State, weeks: list[list[dict]]) -> tuple[float, float]:
    """CTL and TSB on the morning of the event after ``weeks`` (from ``state``)."""
    c, a = state.ctl, state.atl
    for workouts in weeks:
        before = [w for w in workouts if setup.event_date is None or _day(w) < setup.event_date]
        if len(before) < len(workouts) or not before:
            if before:
                c, a, _, _ = setup.sim.run(before, c, a)
            return c, c - a
        c, a, _, _ = setup.sim.run(workouts, c, a)
    return c, c - a


def _with_locked(workouts: list[dict], locked: dict[str, dict], wstart: date) -> list[dict]:
    kept = [locked[d] for d in sorted(locked) if wstart <= date.fromisoformat(d) < wstart + timedelta(days=7)]
    return sorted(kept + workouts, key=lambda w: str(w["date"]))


def _training_minutes(workouts: list[dict]) -> float:
    return sum(w["duration_min"] for w in workouts if not (w["type"] == "race" and w["target"].get("event")))


def _key_names(workouts: list[dict]) -> list[str]:
    return [w["target"].get("name", w["type"]) for w in workouts if w["type"] not in ("rest", "endurance", "long",
                                                                                   "recovery")]


def _tail(workouts: list[dict], ctx: RuleContext) -> dict[date, set[str]]:
    """The types ridden on each day of a week (rest, commutes and the event left out): what the next week's rules on
    days in a row and days after read."""
    out: dict[date, set[str]] = {}
    for w in workouts:
        if counted(w, ctx):
            out.setdefault(_day(w), set()).add(w["type"])
    return out


def _day(w: dict) -> date:
    return _date(w["date"])


def _week_fixed(setup: _Setup, n: int, phase: str, locked_days: set[int]) -> tuple[dict, set, list]:
    """Week ``n``'s days made beforehand: (weekday → races, openers and the rider's fixed sessions; weekdays kept
    free; commutes beside the day's ride). A rider's fixed session takes the day (a race keeps it)."""
    fixed, rest = setup.races.get(n, ({}, set()))
    fixed = {d: w for d, w in fixed.items() if d not in locked_days}
    rest, extras = set(rest), []
    make = workout_maker(setup.ctx, setup.event_type)
    wstart = setup.start + timedelta(weeks=n)
    for d in range(7):
        day = wstart + timedelta(days=d)
        if d in locked_days:
            continue
        for c in setup.ctx.fixed_sessions(day):
            for _ in range(c.per_day):
                w = fixed_workout(setup.ctx, make, day, phase, c)
                if c.workout_type == "commute" or (d in fixed and fixed[d]["type"] in ("race", c.workout_type)):
                    extras.append(w)
                else:
                    fixed[d] = w
                    rest.discard(d)
    return fixed, rest, extras


def _sustainable_tss(setup: _Setup) -> float:
    """TSS of a build week ridden at the full hours available: what the hours can carry."""
    keys = key_sessions("build", setup.distribution, setup.event_type, setup.hours_cap, setup.level)
    spec = WeekSpec(setup.start, "build", keys, setup.long_max, max(3, min(6, math.ceil(setup.hours_cap / 1.5))),
                    setup.event_type, {k: 2 for k in keys}, 0, {}, set(), set(), False, setup.long_pref, {},
                    distribution=setup.distribution)
    sk = skeleton(spec, setup.ctx)
    return week_tss(build_to_load(sk, setup.ctx, target_tss=None, minutes=setup.hours_cap * 60,
                                  hours_cap=setup.hours_cap)[0])


def _fixed_races(setup: _Setup, weeks: int, others: list[OtherRace]) -> dict[int, tuple[dict, set]]:
    """Week index → (weekday → fixed workout, weekdays kept free): the event, openers the day before, rest two days
    before and after it; a B race with openers before and an easy day after; a C race alone."""
    out: dict[int, tuple[dict, set]] = {}
    start, ctx = setup.start, setup.ctx
    end = start + timedelta(weeks=weeks)

    def put(day: date, workout: dict | None):
        if not start <= day < end or day < setup.first_day:
            return
        n, d = (day - start).days // 7, day.weekday()
        fixed, rest = out.setdefault(n, ({}, set()))
        if workout is None:
            rest.add(d)
        elif d not in fixed:
            fixed[d] = workout

    events = [(setup.event_date, "A", setup.event_type)] if setup.event_date else []
    events += [(r.date, r.priority, r.event_type) for r in others]
    for day, priority, etype in sorted(events, key=lambda e: "ABC".index(e[1])):
        put(day, _race_workout(day, etype, priority, ctx.indoor(day, setup.phase_on(day), "race") and priority != "A"))
        if priority in ("A", "B"):
            eve = day - timedelta(days=1)
            put(eve, _openers(eve, ctx, etype, setup.current, setup.phase_on(eve)))
            put(day - timedelta(days=2), None)
            after = day + timedelta(days=1)
            if priority == "A":
                for k in range(1, 7):
                    put(day + timedelta(days=k), None)
            elif ctx.allowed(after, setup.phase_on(after), "recovery"):
                put(after, make_workout(after, "recovery", min(40, ctx.max_minutes(after, setup.phase_on(after),
                                                                                   "recovery")), ctx, phase="recovery"))
    return out


def _taper_weeks(setup: _Setup, state: _State, n0: int, option: tuple[float, ...],
                 depth: int = 0) -> list[list[dict]]:
    """The taper weeks from week ``n0``: each a share of the last loading week's riding time plus the event, with
    short intensity, openers the day before the event and rest two days before."""
    ctx = setup.ctx
    out = []
    prev_tail = state.prev_tail
    ref_min = state.last_min or setup.current / 50 * 60
    for i, share in enumerate(option):
        n = n0 + i
        wstart = setup.start + timedelta(weeks=n)
        locked_days = {d for d in range(7) if wstart + timedelta(days=d) < setup.first_day}
        fixed, rest, extras = _week_fixed(setup, n, "taper", locked_days)
        race_week = any(w["type"] == "race" and w["target"].get("event") for w in fixed.values())
        if depth >= 2:  # openers would dent the form of a rider whose fatigue runs ahead: an easy spin instead
            fixed = {d: (make_workout(_day(w), ctx.fallback(_day(w), "taper", ("recovery", "endurance")), 30, ctx,
                                      phase="taper")
                         if str(w["target"].get("workout_id", "")).startswith("openers") else w)
                     for d, w in fixed.items()}
        keys = ["threshold" if setup.event_type == "time_trial" else "vo2max"]
        if not race_week and len(option) > 1:
            second = EVENT_KEY.get(setup.event_type or "", "threshold")
            keys.append("threshold" if second in keys else second)
        if race_week and depth >= 1:
            keys = []
        keys = keys[: max(0, len(keys) - sum(1 for w in fixed.values() if w["type"] == "race"
                                             and not w["target"].get("event")))]
        event_min = sum(w["duration_min"] for w in fixed.values() if w["type"] == "race" and w["target"].get("event"))
        # riding frequency kept near the loading weeks' (Mujika & Padilla: ≥ 80 %) while the riding time allows,
        # sessions short
        budget = share * ref_min
        n_days = max(1, min(round(0.8 * (state.loading_days or 5)) - race_week, round(budget / 45))) + \
            sum(1 for w in fixed.values() if w["type"] != "rest")
        long_min = 0.0 if race_week or n_days < 3 else state.long_now * 0.6
        spec = WeekSpec(wstart, "taper", keys, long_min, n_days, setup.event_type,
                        {k: 1 for k in keys}, i, fixed, rest, locked_days, False, setup.long_pref, prev_tail,
                        recovery_days=0 if race_week else 1, distribution=setup.distribution, key_max=75.0,
                        support_min=30.0, extras=extras)
        sk = skeleton(spec, ctx)
        minutes = share * ref_min
        for _ in range(4):  # rounding to 5 minutes must not take the week above its share
            workouts = build_to_load(sk, ctx, target_tss=None, minutes=minutes + event_min,
                                     hours_cap=setup.hours_for("taper") + event_min / 60)[0]
            over = _training_minutes(workouts) - share * ref_min
            if over <= 0:
                break
            minutes -= over + 5
        out.append(_with_locked(workouts, setup.locked, wstart))
        prev_tail = _tail(workouts, ctx)
    return out


def _assemble(weeks: list[list[dict]], phases: list[str], start: date) -> dict:
    out = []
    for n, (workouts, phase) in enumerate(zip(weeks, phases, strict=False), start=1):
        workouts = sorted(workouts, key=lambda w: str(w["date"]))
        out.append({"week": n, "start_date": (start + timedelta(weeks=n - 1)).isoformat(), "phase": phase,
                    "planned_hours": round(sum(w["duration_min"] for w in workouts) / 60, 2),
                    "planned_tss": round(sum(w["tss"] for w in workouts), 1), "workouts": workouts})
    return {"weeks": out}


def phase_plan(weeks: int, fitness_level: str = "intermediate", event_type: str | None = None,
               has_event: bool = True, rules: RuleContext | None = None, *, taper: int | None = None,
               carry_loading: int = 0, offset: int = 0) -> list[str]:
    """The phase of each week of a plan of this length (see periodisation.layout); a taper or recovery-cadence rule
    in ``rules`` replaces the default length or cadence."""
    cadence = rules.recovery_cadence if rules is not None else None
    if taper is None and has_event and rules is not None and rules.of("taper"):
        taper = min(weeks, rules.taper_weeks(1))
    phases = layout(weeks, level=fitness_level, event_type=event_type, has_event=has_event, taper=taper,
                    load_weeks=cadence.load_weeks if cadence else None, carry_loading=carry_loading, offset=offset,
                    total=offset + weeks)
    return with_recovery_weeks(phases, cadence.recovery_weeks) if cadence and cadence.recovery_weeks > 1 else phases


def build_plan(start: date, weeks: int, constraints, *, ftp_w: float | None = None,
               ctl: float | None = None, weekly_hours: float = 7.0, preferences: UserPreferences | None = None,
               fitness_level: str = "intermediate", event_date: date | None = None,
               climbs: list[Climb] | None = None, route_name: str | None = None, **kw) -> dict:
    """The engine's plan JSON for a rider at steady fitness ``ctl`` (or ``fitness=``; without either, a rider who
    already rides most of the hours asked: CTL = 0.9 × hours × 50 TSS/h / 7); see ``plan_engine``. ``constraints``
    is a list of constraints or a RuleContext."""
    if ctl is None:
        ctl = 0.9 * weekly_hours * 50 / 7
    fitness = kw.pop("fitness", None) or Fitness.steady(ctl)
    return plan_engine(start, weeks, constraints, fitness=fitness, weekly_hours=weekly_hours,
                       preferences=preferences, level=fitness_level, event_date=event_date, climbs=climbs,
                       route_name=route_name, **kw).plan


__all__ = ["Climb", "EngineResult", "History", "OtherRace", "build_plan", "climb_power", "climb_share", "is_hard",
           "make_workout", "phase_plan", "plan_engine", "projected_ctl", "refusal", "rule_context", "scale_week",
           "DAY_NAMES", "Skeleton"]
