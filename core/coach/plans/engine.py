"""The deterministic periodisation engine (pure: no database): phases, weekly load, workouts per day, a repair
pass that enforces every rule, race placement and projected CTL. The engine ends by re-checking its own output."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from core.coach.plans.check import RuleContext, _date
from core.coach.plans.repair import TOP_UP_CEILING, repair
from core.coach.plans.schema import INTERVALS, MIN_SESSION_MIN, SESSION_IF, ZONES, UserPreferences
from core.coach.rules.conflicts import rule_conflicts
from core.coach.rules.model import DAYS
from core.errors import PlanGenerationError

_KEY_TYPES = frozenset({"tempo", "sweet_spot", "threshold", "vo2max", "anaerobic", "sprint", "test"})

# ----------------------------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class Climb:
    name: str
    duration_min: float
    avg_grade_pct: float
    distance_m: float
    power_w: float = 0.0


def climb_power(ftp_w: float, duration_min: float) -> float:
    """A steady pacing target for a climb of this duration (share of FTP falls as the effort gets longer)."""
    if duration_min < 5:
        share = 1.10
    elif duration_min < 10:
        share = 1.05
    elif duration_min < 20:
        share = 1.00
    elif duration_min < 40:
        share = 0.95
    elif duration_min < 60:
        share = 0.90
    else:
        share = 0.85
    return round(ftp_w * share)


def phase_plan(weeks: int, fitness_level: str = "intermediate", rules: RuleContext | None = None) -> list[str]:
    """Phase of each week: base → build → peak → taper, with a recovery week every 4th (3rd for beginners).
    A taper or recovery-cadence rule replaces the default length or cadence."""
    default_taper = 0 if weeks < 4 else (2 if weeks >= 20 else 1)
    taper = min(weeks, rules.taper_weeks(default_taper)) if rules else default_taper
    rest = weeks - taper
    if rest <= 2:
        phases = ["build"] * rest
    else:
        peak = max(1, round(rest * 0.15))
        build = max(1, round(rest * 0.35))
        base = max(0, rest - peak - build)
        phases = ["base"] * base + ["build"] * build + ["peak"] * peak
    cadence = rules.recovery_cadence if rules else None
    if cadence is not None:
        cycle = cadence.load_weeks + cadence.recovery_weeks
        for i in range(len(phases)):
            if i % cycle >= cadence.load_weeks:
                phases[i] = "recovery"
        return phases + ["taper"] * taper
    cycle = 3 if fitness_level == "beginner" else 4
    for i in range(len(phases)):
        if (i + 1) % cycle == 0 and i < len(phases) - 1:
            phases[i] = "recovery"
    return phases + ["taper"] * taper


_LOAD = {"base": (0.75, 0.92), "build": (0.9, 1.0), "peak": (1.0, 1.03), "recovery": (0.6, 0.6),
         "taper": (0.6, 0.45)}
_HARD_COUNT = {"base": 0, "build": 2, "peak": 2, "recovery": 0, "taper": 1}
_MODERATE_COUNT = {"base": 2, "build": 1, "peak": 1, "recovery": 0, "taper": 0}
_HARD_PREF = {"base": ["threshold"], "build": ["threshold", "vo2max"], "peak": ["vo2max", "threshold", "anaerobic"],
              "taper": ["vo2max", "threshold"], "recovery": []}
_MODERATE_PREF = {"base": ["sweet_spot", "tempo"], "build": ["sweet_spot", "tempo"], "peak": ["tempo", "sweet_spot"],
                  "taper": ["tempo"], "recovery": []}


def workout_tss(kind: str, duration_min: float) -> float:
    return round(duration_min / 60 * SESSION_IF[kind] ** 2 * 100, 1)


def _target(kind: str, ftp: float, indoor: bool, climbs: list[Climb] | None = None) -> dict:
    if kind == "rest":
        return {"indoor": False}
    zone, low, high = ZONES[kind]
    target = {"zone": zone, "power_w": [round(ftp * low), round(ftp * high)], "indoor": indoor}
    if kind not in ("endurance", "long", "recovery", "race", "group_ride", "commute"):
        target["intervals"] = INTERVALS[kind]
    if climbs:
        target["climbs"] = [{"name": c.name, "duration_min": round(c.duration_min, 1),
                             "avg_grade_pct": round(c.avg_grade_pct, 1), "power_w": c.power_w} for c in climbs]
        target["intervals"] = " + ".join(f"{c.duration_min:.0f} min @ {c.power_w:.0f} W" for c in climbs)
    return target


def _description(kind: str, target: dict, duration_min: float, route_name: str | None = None) -> str:
    if kind == "rest":
        return "Rest day"
    where = "indoors" if target.get("indoor") else "outdoors or indoors"
    lo, hi = target["power_w"]
    if target.get("climbs"):
        parts = ", ".join(f"{c['duration_min']:.0f} min at {c['power_w']} W (like {c['name']}, "
                          f"{c['avg_grade_pct']:.1f}%)" for c in target["climbs"])
        return (f"Climb intervals for {route_name or 'your route'}: {parts}, easy between; {where}")
    label = kind.replace("_", " ")
    extra = f": {target['intervals']} at {lo}–{hi} W" if target.get("intervals") else f" at {lo}–{hi} W"
    return f"{label.capitalize()} {duration_min:.0f} min{extra}; {where}"


def _make(day: date, kind: str, minutes: float, ftp: float, indoor: bool, climbs=None, route_name=None, *,
          exact: bool = False) -> dict:
    """One planned workout. Minutes are rounded down to 5 (``exact`` keeps them: a rider's fixed session)."""
    if not exact:
        minutes = 0.0 if kind == "rest" else float(max(0, math.floor(minutes / 5) * 5))
        if kind != "rest" and minutes < MIN_SESSION_MIN:
            kind, minutes = "rest", 0.0
    target = _target(kind, ftp, indoor, climbs if kind != "rest" else None)
    return {"date": day.isoformat(), "type": kind, "duration_min": float(minutes), "tss": workout_tss(kind, minutes),
            "target": target, "description": _description(kind, target, minutes, route_name)}


def workout_maker(ftp: float, route_name: str | None = None):
    """The repair pass's factory (core.coach.plans.repair): workouts built this engine's way, climbs kept when a
    climbing session only changes length."""
    def make(day: date, kind: str, minutes: float, indoor: bool, like: dict | None = None, exact: bool = False):
        climbs = None
        if like is not None and like.get("target", {}).get("climbs"):
            climbs = [Climb(**{k: c[k] for k in ("name", "duration_min", "avg_grade_pct")}, distance_m=0,
                            power_w=c["power_w"]) for c in like["target"]["climbs"]]
        return _make(day, kind, minutes, ftp, indoor, climbs, route_name, exact=exact)
    return make


def _spread(chosen: list[int], candidates: list[int], n: int) -> list[int]:
    """Add days from candidates to chosen, each time the one furthest (circularly) from the chosen ones."""
    chosen = list(chosen)
    pool = [d for d in candidates if d not in chosen]
    while len(chosen) < n and pool:
        def gap(d):
            return min((min(abs(d - c), 7 - abs(d - c)) for c in chosen), default=7)
        pool.sort(key=lambda d: (-gap(d), d))
        chosen.append(pool.pop(0))
    return sorted(chosen)


def _build_week(start: date, phase: str, hours: float, progress: float, ctx: RuleContext, ftp: float,
                climbs: list[Climb], route_name: str | None, long_pref: int | None) -> list[dict]:
    def allowed(d: int, kind: str) -> bool:
        return ctx.allowed(start + timedelta(days=d), phase, kind)

    # the rider's fixed sessions (placed by the repair pass) take their days and part of the budget
    fixed_days = {d for d in range(7) for c in ctx.fixed_sessions(start + timedelta(days=d))
                  if c.workout_type != "commute"}
    minutes_budget = hours * 60 - sum(c.duration_min * c.per_day for d in range(7)
                                      for c in ctx.fixed_sessions(start + timedelta(days=d)))
    candidates = [d for d in range(7) if not ctx.rest_only(start + timedelta(days=d), phase) and d not in fixed_days
                  and start + timedelta(days=d) != ctx.event_date]
    if not candidates:
        return [_make(start + timedelta(days=d), "rest", 0, ftp, False) for d in range(7)]
    n_days = max(2, min(6, math.ceil(max(0.0, minutes_budget) / 80)))
    if phase in ("recovery", "taper"):
        n_days = min(n_days, 4)
    n_days = min(n_days, ctx.max_training_days(phase) - len(fixed_days), len(candidates))
    if ctx.constraints and 0 < n_days < len(candidates):  # fewer days than allowed: ride the roomiest days
        room = {d: max((min(ctx.max_minutes(start + timedelta(days=d), phase, t), TOP_UP_CEILING.get(t, 0))
                        for t in ctx.types_allowed(start + timedelta(days=d), phase)), default=0) for d in candidates}
        enough = sorted(room.values(), reverse=True)[n_days - 1]
        candidates = [d for d in candidates if room[d] >= enough]
    # long ride
    long_days = ctx.long_ride_days
    order = sorted(long_days, key=lambda d: (d not in (5, 6), d)) if long_days is not None else \
        ([long_pref] if long_pref is not None else []) + [5, 6] + sorted(candidates, reverse=True)
    long_day = next((d for d in order if d in candidates and allowed(d, "long")), None) if n_days > 0 else None
    chosen = _spread([long_day] if long_day is not None else [], candidates, n_days)
    kinds: dict[int, str] = {d: "endurance" for d in chosen}
    if long_day is not None:
        kinds[long_day] = "long"
    # hard sessions
    n_hard = _HARD_COUNT[phase] if not (phase == "base" and progress > 0.5) else 1
    cap = ctx.max_sessions(ctx.hard, phase)
    if cap is not None:
        n_hard = min(n_hard, cap)
    strict = bool(ctx.runs or ctx.after_rules)

    def free(d):
        return d in kinds and kinds[d] == "endurance"

    def pick_type(d, prefs):
        for kind in prefs:
            if allowed(d, kind):
                return kind
        return None

    hard_days: list[int] = []
    prefs = _HARD_PREF[phase] + [k for k in ("threshold", "vo2max", "anaerobic") if k not in _HARD_PREF[phase]]
    for i in range(n_hard):
        options = []
        for d in chosen:
            if not free(d):
                continue
            kind = pick_type(d, prefs[i % max(1, len(_HARD_PREF[phase])):] + prefs)
            if kind is None:
                continue
            adjacent_hard = any(abs(d - h) == 1 for h in hard_days)
            if strict and adjacent_hard:
                continue
            next_to_long = long_day is not None and abs(d - long_day) == 1
            options.append((adjacent_hard, next_to_long, d, kind))
        if not options:
            break
        options.sort()
        _, _, d, kind = options[0]
        kinds[d] = kind
        hard_days.append(d)
    # moderate sessions
    key_days = list(hard_days)
    for _ in range(_MODERATE_COUNT[phase]):
        for d in chosen:
            if free(d) and not any(abs(d - h) <= 1 for h in key_days):
                kind = pick_type(d, _MODERATE_PREF[phase])
                if kind:
                    kinds[d] = kind
                    key_days.append(d)
                    break
    if phase == "recovery":
        # one easy spin instead of an endurance ride
        easy = [d for d in chosen if free(d)]
        if easy and allowed(easy[0], "recovery"):
            kinds[easy[0]] = "recovery"
    # a type not allowed on its day falls back
    for d in list(kinds):
        if not allowed(d, kinds[d]):
            kinds[d] = ctx.fallback(start + timedelta(days=d), phase)
    # durations
    durations: dict[int, float] = {}
    fixed = 0.0
    key_minutes = 60 if phase == "taper" else 75
    for d, kind in kinds.items():
        if kind in _KEY_TYPES:
            durations[d] = key_minutes
        elif kind == "recovery":
            durations[d] = 45
        elif kind == "long":
            share = 0.25 if phase in ("recovery", "taper") else 0.32
            durations[d] = min(300.0, max(90.0, minutes_budget * share))
        else:
            continue
        fixed += durations[d]
    fill = [d for d, kind in kinds.items() if kind in ("endurance", "tempo") and d not in durations]
    if fill:
        each = max(45.0, min(180.0, (minutes_budget - fixed) / len(fill)))
        for d in fill:
            durations[d] = each
    # route climbs shape the key sessions
    week_climbs = climbs[:3] if climbs else []
    out = []
    for d in range(7):
        day = start + timedelta(days=d)
        kind = kinds.get(d, "rest")
        cap = ctx.max_minutes(day, phase, kind)
        minutes = min(durations.get(d, 0.0), cap)
        use_climbs = None
        if week_climbs and (kind in ("threshold", "vo2max", "sweet_spot")) and phase != "recovery":
            use_climbs = week_climbs
            work = sum(c.duration_min for c in week_climbs) * (2 if phase == "peak" else 1)
            minutes = min(cap, max(minutes, 30 + work * 1.6))
        out.append(_make(day, kind, minutes, ftp, ctx.indoor(day, phase, kind), use_climbs, route_name))
    return out


def _scale_week(week: list[dict], factor: float, ftp: float, ctx: RuleContext, route_name=None) -> None:
    """Scale the week's sessions by ``factor`` (the rider's fixed sessions stay as they are)."""
    make = workout_maker(ftp, route_name)
    for i, w in enumerate(week):
        if w["type"] == "rest" or (w.get("target") or {}).get("fixed"):
            continue
        minutes = math.floor(w["duration_min"] * factor / 5) * 5
        week[i] = make(_date(w["date"]), w["type"], minutes, bool(w["target"].get("indoor")), like=w)


def enforce(weeks: list[list[dict]], ctx: RuleContext, ftp: float, *, phases: list[str],
            targets_h: list[float] | None = None, route_name: str | None = None) -> list[list[dict]]:
    """Repair pass (core.coach.plans.repair) with this engine's workouts: used on the engine's draft and on an AI
    proposal that breaks a rule."""
    return repair(weeks, phases, ctx, workout_maker(ftp, route_name), targets_h=targets_h)


def _assemble(weeks: list[list[dict]], phases: list[str], start: date) -> dict:
    out = []
    for n, (workouts, phase) in enumerate(zip(weeks, phases, strict=False), start=1):
        out.append({"week": n, "start_date": (start + timedelta(weeks=n - 1)).isoformat(), "phase": phase,
                    "planned_hours": round(sum(w["duration_min"] for w in workouts) / 60, 2),
                    "planned_tss": round(sum(w["tss"] for w in workouts), 1), "workouts": workouts})
    return {"weeks": out}


def rule_context(constraints, *, ctl: float = 0.0, preferences: UserPreferences | None = None,
                 event_date: date | None = None, **options) -> RuleContext:
    """A RuleContext for the pure engine: the form's days and venue, and the recent load guessed from CTL (a week
    at CTL × 7 TSS) unless ``options`` give it."""
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


def build_plan(start: date, weeks: int, constraints, *, ftp_w: float, ctl: float = 0.0,
               weekly_hours: float = 7.0, preferences: UserPreferences | None = None,
               fitness_level: str = "intermediate", event_date: date | None = None,
               climbs: list[Climb] | None = None, route_name: str | None = None) -> dict:
    """The deterministic engine (pure: no database). ``constraints`` is a list of constraints or a RuleContext.
    Returns plan JSON that satisfies every rule, or raises PlanGenerationError naming the rules it cannot keep."""
    preferences = preferences or UserPreferences()
    ctx = constraints if isinstance(constraints, RuleContext) else \
        rule_context(constraints, ctl=ctl, preferences=preferences, event_date=event_date)
    if ctx.event_date is None:
        ctx.event_date = event_date
    blocking = [c for c in rule_conflicts(ctx.constraints, names=ctx.names,
                                          hard_includes_sweet_spot=ctx.hard_includes_sweet_spot) if c.blocking]
    long_days = ctx.long_ride_days
    if long_days is not None and not long_days & ctx.available:
        i = next(i for i, c in enumerate(ctx.constraints) if c.kind == "long_ride_days")
        raise PlanGenerationError(f"{ctx.label(i)} names no day you can ride (the form's days): add the day to "
                                  "your days or change the rule.")
    if blocking:
        raise PlanGenerationError("The chosen rules contradict each other: " + " ".join(c.message for c in blocking))
    phases = phase_plan(weeks, fitness_level, ctx)
    long_pref = DAYS.index(preferences.long_ride_day) if preferences.long_ride_day else None
    drafts, targets = [], []
    for n, phase in enumerate(phases):
        lo, hi = _LOAD[phase]
        same = [i for i, p in enumerate(phases) if p == phase]
        progress = (same.index(n) / max(1, len(same) - 1)) if len(same) > 1 else 1.0
        hours = min(ctx.weekly_bounds(phase)["max_hours"] or 40, weekly_hours * (lo + (hi - lo) * progress))
        targets.append(hours)
        drafts.append(_build_week(start + timedelta(weeks=n), phase, hours, progress, ctx, ftp_w, climbs or [],
                                  route_name, long_pref))
    if event_date is not None:
        _place_race(drafts, phases, event_date, ctx, ftp_w)
    enforce(drafts, ctx, ftp_w, phases=phases, targets_h=targets, route_name=route_name)
    plan = _assemble(drafts, phases, start)
    broken = ctx.check(plan)
    if broken:
        raise refusal(ctx, broken)
    return plan


def _place_race(drafts: list[list[dict]], phases: list[str], event_date: date, ctx: RuleContext, ftp: float) -> None:
    """The event is a race on its date, always (it is exempt from every rule; conflicts are shown before)."""
    for wi, week in enumerate(drafts):
        for i, w in enumerate(week):
            if w["date"] == event_date.isoformat():
                week[i] = _make(event_date, "race", 180, ftp, ctx.indoor(event_date, phases[wi], "race"))
                if i > 0 and week[i - 1]["type"] != "rest":  # the day before: an easy opener
                    before = event_date - timedelta(days=1)
                    kind = ctx.fallback(before, phases[wi], ("recovery", "endurance"))
                    week[i - 1] = _make(before, kind, 45, ftp, ctx.indoor(before, phases[wi], kind))
                return


def projected_ctl(plan: dict, ctl0: float, ctl_days: float = 42.0) -> list[float]:
    """CTL at the end of each week if the plan is ridden as written."""
    from core.rides.dashboard import exponential_load

    daily: dict[str, float] = {}
    for week in plan["weeks"]:
        for w in week["workouts"]:
            daily[str(w["date"])] = daily.get(str(w["date"]), 0.0) + float(w["tss"])
    if not daily:
        return []
    first = date.fromisoformat(min(daily))
    days = (date.fromisoformat(max(daily)) - first).days + 1
    series = [daily.get((first + timedelta(days=i)).isoformat(), 0.0) for i in range(days)]
    ctl = exponential_load(series, ctl_days, ctl0)
    out = []
    for week in plan["weeks"]:
        last = date.fromisoformat(str(week["start_date"])) + timedelta(days=6)
        idx = min(len(ctl) - 1, (last - first).days)
        out.append(round(float(ctl[idx]), 1))
    return out
