"""One week of a plan from the workout library (pure: no database): which days to ride, which key sessions on which
day, the long ride, and durations that bring the week to the load the periodisation asks for.

The rules are read only through ``RuleContext`` queries (what a date allows in a week of a phase, the longest session,
venue rules, fixed sessions, caps per type or group, training days, sequences); what a rule means is the checker's
business (core.coach.plans.check), and whatever the week builder cannot place within the rules, the repair pass
(core.coach.plans.repair) enforces afterwards. A planned workout is::

    {"date", "type", "duration_min", "tss", "target", "description", "steps"}

``type`` is the plan's (and the rules') workout type; ``steps`` the library workout fitted to ``duration_min``
(targets in % FTP); ``tss`` is computed from the steps; ``target`` holds ``workout_id``, ``name``, ``zone``,
``power_pct`` (the main set's range), ``if``, ``intervals`` (the main set in words) and ``indoor`` (and ``fixed`` for
a rider's fixed session: a group ride, a commute). Several workouts may share a date (a commute next to a ride).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.coach.library import LibraryWorkout, library
from core.coach.plans.check import RuleContext
from core.coach.plans.schema import MIN_SESSION_MIN, ZONES
from core.coach.rules.model import WORKOUT_TYPES
from core.coach.workouts import (
    STEPS,
    Repeat,
    Step,
    Steps,
    fit_duration,
    intensity_factor,
    main_set,
    steps_json,
    stress_score,
    total_seconds,
)

STRUCTURED = {"tempo", "sweet_spot", "threshold", "vo2max", "anaerobic", "sprint", "test"}
SUPPORT_MIN = (45.0, 180.0)   # an endurance day: at least 45 min, at most 3 h
KEY_MAX_MIN = 135.0           # a key session grows with endurance riding up to 2 h 15 when the week has hours to spare
RECOVERY_MIN = 40.0
_DURATION_IN_NAME = re.compile(r"\s+\d+(\s*h(\s*\d+)?)?$")
# The sessions the engine spaces out (its own coaching, whatever the rider's rules call "hard"): work at or above
# threshold, sprints, tests, races and group rides.
ENGINE_HARD = frozenset({"threshold", "vo2max", "anaerobic", "sprint", "test", "race", "group_ride"})
NOT_TRAINING = ("rest", "commute")


def plan_type(library_type: str) -> str:
    """The plan's workout type for a library type: the rule language's own type (sprint, test, group ride, commute
    included), openers are tempo; a library type the rules do not know would ride as its nearest one."""
    if library_type in WORKOUT_TYPES:
        return library_type
    return {"openers": "tempo", "sprint": "anaerobic", "test": "threshold"}.get(library_type, "endurance")


def library_type(kind: str) -> str:
    return {"rest": "recovery"}.get(kind, kind)


def is_hard(kind: str) -> bool:
    return kind in ENGINE_HARD


def fits_sequences(ctx: RuleContext, types_on: dict[date, set[str]], day: date, kind: str) -> bool:
    """Would a workout of ``kind`` on ``day`` keep the rules on days in a row (max_consecutive) and on the days
    after a streak (day_after), given the types already on each date (commutes, rest and the event left out)?"""
    if not (ctx.runs or ctx.after_rules):
        return True
    on = dict(types_on)
    on[day] = set(on.get(day, set())) | {kind}

    def hit(d: date, types: frozenset[str]) -> bool:
        return bool(on.get(d, set()) & types)

    for trigger, streak, allowed, following in ctx.after_rules:
        if kind not in allowed:  # a streak ending just before may forbid this day
            for back in range(1, following + 1):
                end = day - timedelta(days=back)
                if all(hit(end - timedelta(days=k), trigger) for k in range(streak)):
                    return False
        if kind in trigger:  # a streak this day completes forbids what is already on the days after it
            for offset in range(streak):
                first = day - timedelta(days=offset)
                if all(hit(first + timedelta(days=k), trigger) for k in range(streak)):
                    after = [first + timedelta(days=streak - 1 + k) for k in range(1, following + 1)]
                    if any(on.get(d, set()) - allowed for d in after):
                        return False
    for types, limit in ctx.runs:
        if kind in types:
            run = 1
            for step in (-1, 1):
                d = day + timedelta(days=step)
                while hit(d, types):
                    run += 1
                    d += timedelta(days=step)
            if run > limit:
                return False
    return True


# ----------------------------------------------------------------------------------------------------------------
# One workout
# ----------------------------------------------------------------------------------------------------------------

def rest_day(day: date) -> dict:
    return {"date": day.isoformat(), "type": "rest", "duration_min": 0.0, "tss": 0.0, "target": {"indoor": False},
            "description": "Rest day", "steps": []}


def _main_range(steps: Steps) -> list[float]:
    best = None
    for item in steps:
        for step in (item.steps if isinstance(item, Repeat) else [item]):
            if step.kind in ("work", "steady") and (best is None or step.mean_pct > best.mean_pct):
                best = step
    if best is None:
        return [0.0, 0.0]
    return [round(best.power_low_pct, 1), round(best.power_high_pct, 1)]


def workout_from_steps(day: date, kind: str, steps: Steps, *, name: str, indoor: bool, workout_id: str | None = None,
                       extra: dict | None = None, note: str = "") -> dict:
    """A planned workout from its steps: duration, TSS and IF computed from them."""
    minutes = round(total_seconds(steps) / 60, 1)
    target = {"workout_id": workout_id, "name": name, "zone": ZONES.get(kind, ("Z2",))[0],
              "power_pct": _main_range(steps), "if": round(intensity_factor(steps), 3),
              "intervals": main_set(steps), "indoor": bool(indoor)} | (extra or {})
    where = "indoors" if indoor else "outdoors"
    text = f"{name} {minutes:.0f} min: {target['intervals']}" if target["intervals"] else f"{name} {minutes:.0f} min"
    return {"date": day.isoformat(), "type": kind, "duration_min": minutes, "tss": round(stress_score(steps), 1),
            "target": target, "description": f"{text}; {where}." + (f" {note}" if note else ""),
            "steps": steps_json(steps)}


def from_library(day: date, workout: LibraryWorkout, minutes: float | None, *, indoor: bool, kind: str | None = None,
                 extra: dict | None = None) -> dict:
    """A library workout fitted to ``minutes`` (its own length when None) on ``day``."""
    steps = list(workout.steps)
    name = workout.name
    if minutes is not None:
        steps = fit_duration(steps, int(round(minutes * 60)))
        if workout.type in ("endurance", "long", "recovery") and \
                abs(total_seconds(steps) / 60 - workout.duration_min) > 5:  # "Endurance 60" fitted to 95 min
            name = _DURATION_IN_NAME.sub("", name) or name
    return workout_from_steps(day, kind or plan_type(workout.type), steps, name=name, indoor=indoor,
                              workout_id=workout.id, extra=extra, note=workout.description)


def _whole(minutes: float, exact: bool) -> float:
    """Minutes of a planned workout: whole 5 minutes (``exact``: as given, a rider's fixed session)."""
    return float(max(0.0, minutes)) if exact else float(max(0, math.floor(minutes / 5) * 5))


def make_workout(day: date, kind: str, minutes: float, ctx: RuleContext, *, phase: str = "build",
                 event: str | None = None, level: int = 2, indoor: bool | None = None, exact: bool = False) -> dict:
    """A workout of plan type ``kind`` lasting about ``minutes`` on ``day`` (rest when too short): the library's
    workout for that type and phase, fitted. The repair pass and plan adjustments use it."""
    minutes = _whole(minutes, exact)
    if kind == "rest" or minutes < MIN_SESSION_MIN:
        return rest_day(day)
    lib = library()
    choice = lib.pick(library_type(kind), phase=phase, event=event, level=level, max_minutes=minutes) or \
        lib.pick("endurance", phase=phase, max_minutes=minutes)
    indoor = ctx.indoor(day, phase, kind) if indoor is None else indoor
    return from_library(day, choice, minutes, indoor=indoor, kind=kind)


def refit(workout: dict, minutes: float, ctx: RuleContext, *, indoor: bool | None = None,
          exact: bool = False) -> dict:
    """The same workout (its own steps) stretched or shortened to ``minutes``; rest when too short."""
    day = date.fromisoformat(str(workout["date"])[:10])
    minutes = _whole(minutes, exact)
    if workout["type"] == "rest" or minutes < MIN_SESSION_MIN:
        return rest_day(day)
    target = dict(workout.get("target") or {})
    indoor = bool(target.get("indoor")) if indoor is None else indoor
    steps = STEPS.validate_python(workout.get("steps") or [])
    if not steps:
        return make_workout(day, workout["type"], minutes, ctx, indoor=indoor, exact=exact)
    fitted = fit_duration(steps, int(round(minutes * 60)))
    extra = {k: v for k, v in target.items() if k not in ("workout_id", "name", "zone", "power_pct", "if",
                                                           "intervals", "indoor")}
    return workout_from_steps(day, workout["type"], fitted, name=target.get("name") or workout["type"],
                              indoor=indoor, workout_id=target.get("workout_id"), extra=extra)


def workout_maker(ctx: RuleContext, event: str | None = None):
    """The repair pass's factory (core.coach.plans.repair.Make): library workouts, a workout's own steps kept when
    only its length or venue changes."""
    def make(day: date, kind: str, minutes: float, indoor: bool, *, phase: str = "build", like: dict | None = None,
             exact: bool = False) -> dict:
        if like is not None and like["type"] == kind and like.get("steps"):
            return refit(like, minutes, ctx, indoor=indoor, exact=exact)
        return make_workout(day, kind, minutes, ctx, phase=phase, event=event, indoor=indoor, exact=exact)
    return make


def movable(w: dict) -> bool:
    """May the engine lengthen or shorten this workout? Not rest, races or a rider's fixed session."""
    return w["type"] not in ("rest", "race", "commute") and not (w.get("target") or {}).get("fixed")


def scale_week(workouts: list[dict], factor: float, ctx: RuleContext) -> None:
    """Every movable workout (not rest, races or fixed sessions) lengthened or shortened by ``factor`` (in place),
    keeping its steps."""
    for i, w in enumerate(workouts):
        if movable(w):
            workouts[i] = refit(w, w["duration_min"] * factor, ctx)


# ----------------------------------------------------------------------------------------------------------------
# One week
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class WeekSpec:
    start: date
    phase: str
    keys: list[str]                              # library types of the key sessions, most important first
    long_minutes: float = 0.0                    # 0: no long ride this week
    n_days: int = 5
    event: str | None = None
    levels: dict[str, int] = field(default_factory=dict)
    rotate: int = 0
    fixed: dict[int, dict] = field(default_factory=dict)   # weekday → a workout made beforehand (races, openers,
    #                                                        the rider's fixed session): the day is taken
    rest: set[int] = field(default_factory=set)            # weekdays kept free (around a race)
    locked: set[int] = field(default_factory=set)          # weekdays already past (a re-plan keeps them)
    test_day: bool = False
    long_pref: int | None = None
    before: dict[date, set[str]] = field(default_factory=dict)  # types ridden on the days before the week
    support_kind: str = "endurance"
    recovery_days: int = 0                                 # support days that are recovery spins
    climbs_steps: Steps | None = None                      # the goal route's climbs as a key session ("climbs")
    climbs_extra: dict | None = None
    climbs_kind: str = "threshold"
    route_name: str | None = None
    key_max: float = 135.0                                 # a key session's longest (with endurance riding added)
    support_min: float = SUPPORT_MIN[0]
    distribution: str = "pyramidal"
    extras: list[dict] = field(default_factory=list)       # workouts beside a day's ride (commutes), counted in load

    def day(self, d: int) -> date:
        return self.start + timedelta(days=d)


@dataclass
class Skeleton:
    """Who rides what on which weekday; durations come later (``fill``)."""

    spec: WeekSpec
    kinds: dict[int, str]                       # weekday → "key:<library type>" | "long" | "support" | "recovery"
    choice: dict[int, LibraryWorkout]
    plan_kinds: dict[int, str]


def _own_minutes(sk: Skeleton, d: int) -> float:
    if sk.kinds.get(d) == "key:climbs" and sk.spec.climbs_steps:
        return total_seconds(sk.spec.climbs_steps) / 60
    return sk.choice[d].duration_min if d in sk.choice else 60.0


def _cap(ctx: RuleContext, spec: WeekSpec, d: int, kind: str) -> float:
    return ctx.max_minutes(spec.day(d), spec.phase, kind)


def counted(w: dict, ctx: RuleContext) -> bool:
    """Does a workout count for the rules on sessions and days (not rest, a commute or the event)?"""
    return w["type"] not in NOT_TRAINING and not (w["type"] == "race" and str(w["date"])[:10] ==
                                                  (ctx.event_date.isoformat() if ctx.event_date else None))


def _trainable(ctx: RuleContext, d: int, spec: WeekSpec) -> bool:
    if d in spec.rest or d in spec.fixed or d in spec.locked or spec.day(d) == ctx.event_date:
        return False
    return bool(ctx.types_allowed(spec.day(d), spec.phase))


def _hard_next_to(d: int, hard: set[int]) -> bool:
    return (d - 1) in hard or (d + 1) in hard


def _furthest(chosen: list[int], pool: list[int]) -> int:
    """The day of ``pool`` furthest from the chosen ones (the earliest among equals)."""
    def gap(d):
        return min((abs(d - c) for c in chosen), default=7)
    return min(pool, key=lambda d: (-gap(d), d))


_SUBSTITUTES = {"vo2max": ["threshold", "sweet_spot"], "threshold": ["sweet_spot", "tempo"],
                "anaerobic": ["vo2max", "threshold"], "sprint": ["endurance"], "sweet_spot": ["tempo"],
                "tempo": ["endurance"], "test": []}


class _Placer:
    """What the week holds so far, and whether one more session fits the rules (the date's types, caps per type
    or group, training days per week, days in a row and days after)."""

    def __init__(self, spec: WeekSpec, ctx: RuleContext):
        self.spec, self.ctx, self.phase = spec, ctx, spec.phase
        self.types_on: dict[date, set[str]] = {k: set(v) for k, v in spec.before.items()}
        self.kinds: dict[int, str] = {}          # weekday → plan type of what the builder placed
        self.taken: list[tuple[int, str]] = []   # (weekday, plan type) of the fixed workouts that count
        for w in list(spec.fixed.values()) + spec.extras:
            if counted(w, ctx):
                d = date.fromisoformat(str(w["date"])[:10])
                self.types_on.setdefault(d, set()).add(w["type"])
                self.taken.append(((d - spec.start).days, w["type"]))
        self.fixed_days = {d for d, _ in self.taken}

    def trained(self) -> set[int]:
        return set(self.kinds) | self.fixed_days

    def ok(self, d: int, kind: str) -> bool:
        ctx, day = self.ctx, self.spec.day(d)
        if not ctx.allowed(day, self.phase, kind):
            return False
        for types, days, _, high in ctx.type_caps(self.phase):
            if high is not None and kind in types and d in days:
                held = [t for x, t in list(self.kinds.items()) + self.taken if x in days]
                if sum(1 for t in held if t in types) >= high:
                    return False
        if d not in self.trained():
            for days, _, high in ctx.training_day_limits(self.phase):
                if high is not None and d in days and len({x for x in self.trained() if x in days}) >= high:
                    return False
        return fits_sequences(ctx, self.types_on, day, kind)

    def put(self, d: int, kind: str) -> None:
        self.kinds[d] = kind
        self.types_on.setdefault(self.spec.day(d), set()).add(kind)


def skeleton(spec: WeekSpec, ctx: RuleContext) -> Skeleton:
    """Place the long ride, the key sessions and the support rides on the week's days, within the rules."""
    lib = library()
    phase = spec.phase
    place = _Placer(spec, ctx)
    candidates = [d for d in range(7) if _trainable(ctx, d, spec)]
    fixed_train = sum(1 for w in spec.fixed.values() if w["type"] != "rest")  # days taken (the event too)
    least = max((low for days, low, _ in ctx.training_day_limits(phase) if low is not None and len(days) == 7),
                default=0)
    counted_days = len(place.fixed_days)  # what the rules count (not the event, not commutes)
    room = max(spec.n_days - fixed_train, least - counted_days)
    room = max(0, min(room, ctx.max_training_days(phase) - counted_days, len(candidates)))
    hard = {d for d, t in place.taken if is_hard(t)}
    kinds: dict[int, str] = {}
    choice: dict[int, LibraryWorkout] = {}

    # the long ride: a rule's day, the rider's day, the weekend, then the latest free day
    long_day = None
    if spec.long_minutes > 0 and room > 0:
        rule_days = ctx.long_ride_days
        order = sorted(rule_days, key=lambda d: (d not in (5, 6), d)) if rule_days is not None else \
            ([spec.long_pref] if spec.long_pref is not None else []) + [5, 6] + sorted(candidates, reverse=True)
        options = [d for d in dict.fromkeys(order) if d in candidates and place.ok(d, "long")]
        if options:
            long_day = max(options[:3], key=lambda d: (_cap(ctx, spec, d, "long") >= spec.long_minutes,
                                                       -options.index(d)))
            kinds[long_day] = "long"
            place.put(long_day, "long")
            room -= 1
    # key sessions, hardest-to-place first on their best day
    keys = list(spec.keys)
    if spec.test_day:
        keys = ["test"] + keys
    tail_hard = any(is_hard(t) for t in spec.before.get(spec.start - timedelta(days=1), ()))
    for key in keys:
        if room <= 0:
            break
        for kind in [key] + _SUBSTITUTES.get(key, []):
            if kind == "endurance":
                break
            pk = spec.climbs_kind if kind == "climbs" else plan_type(kind)
            best = None
            for d in candidates:
                if d in kinds or not place.ok(d, pk):
                    continue
                keyed = hard | {d2 for d2, k in kinds.items() if k.startswith("key")}
                score = (2 * _hard_next_to(d, keyed) + (long_day is not None and abs(d - long_day) == 1)
                         + 3 * (spec.phase == "taper" and d >= 4),  # a taper's intensity early in its week
                         d == 0 and tail_hard,
                         _cap(ctx, spec, d, pk) < 60,
                         d in (0, 4),   # Monday and Friday stay easy around the weekend when they can
                         -min((abs(d - k) for k in kinds), default=7), d)
                if best is None or score < best[0]:
                    best = (score, d)
            if best is None:
                continue
            d = best[1]
            if kind == "climbs":
                if not spec.climbs_steps:
                    continue
                kinds[d] = "key:climbs"
            else:
                same = sum(1 for k in kinds.values() if k == f"key:{kind}")  # a second one of a kind differs
                workout = lib.pick(kind, phase=spec.phase, event=spec.event, level=spec.levels.get(kind, 1),
                                   rotate=spec.rotate + same, max_minutes=_cap(ctx, spec, d, pk))
                if workout is None:
                    continue
                kinds[d], choice[d] = f"key:{kind}", workout
            place.put(d, pk)
            room -= 1
            if is_hard(pk):
                hard.add(d)
            break
    # support rides fill the remaining days, spread out, each where the rules let it ride
    recovery_left = spec.recovery_days
    pool = [d for d in candidates if d not in kinds]
    while room > 0 and pool:
        d = _furthest(list(kinds), pool)
        pool.remove(d)
        options = (["recovery"] if recovery_left > 0 and _hard_next_to(d, hard) else []) + \
            [spec.support_kind, "recovery"]
        pk = next((k for k in options if place.ok(d, k)), None)
        if pk is None:
            continue
        if pk == "recovery":
            recovery_left -= 1
        kinds[d] = "recovery" if pk == "recovery" else "support"
        place.put(d, pk)
        room -= 1
    support = sorted(d for d, k in kinds.items() if k == "support")
    for d in support[:max(0, recovery_left)]:  # recovery spins asked for and not yet given
        if ctx.allowed(spec.day(d), phase, "recovery"):
            kinds[d] = "recovery"
            place.kinds[d] = "recovery"
    return Skeleton(spec, kinds, choice, dict(place.kinds))


def _support_workout(minutes: float, spec: WeekSpec, n: int) -> LibraryWorkout:
    lib = library()
    plain = sorted((w for w in lib.of_type("endurance") if not w.events and "spin" not in w.id
                    and "cadence" not in w.id), key=lambda w: abs(w.duration_min - minutes))
    drills = [w for w in lib.of_type("endurance") if w not in plain and spec.phase in w.phases and
              (not w.events or spec.event in w.events)]
    if drills and n == 0 and spec.phase in ("base", "build") and minutes <= 100:
        return drills[spec.rotate % len(drills)]
    return plain[0]


def _fixed_minutes(spec: WeekSpec) -> float:
    return sum(w["duration_min"] for w in list(spec.fixed.values()) + spec.extras)


def _indoor(ctx: RuleContext, spec: WeekSpec, d: int, kind: str, workout: LibraryWorkout | None) -> bool:
    """A venue rule decides; else the form's choice; with "both", structured sessions on weekdays (and workouts
    made for the trainer) go indoors."""
    venue = ctx.venue(spec.day(d), spec.phase, kind)
    if venue:
        return venue == "indoor"
    if ctx.indoor_pref != "both" or workout is None:
        return ctx.indoor_pref == "indoor"
    return (d < 5 and workout.type in STRUCTURED) or workout.venue == "indoor"


def fill(sk: Skeleton, ctx: RuleContext, total_minutes: float) -> list[dict]:
    """The week's workouts with ``total_minutes`` of riding shared out: key sessions at their own length, the long
    ride at about a third of the week, support rides sharing the rest (45 min–3 h); spare time lengthens key
    sessions (to 2 h) and the long ride. Fixed, extra and locked days are kept as given."""
    spec = sk.spec
    lib = library()
    budget = max(0.0, total_minutes - _fixed_minutes(spec))
    minutes: dict[int, float] = {}

    def cap(d: int) -> float:
        return _cap(ctx, spec, d, sk.plan_kinds[d])

    for d, kind in sk.kinds.items():
        if kind.startswith("key"):
            minutes[d] = min(cap(d), _own_minutes(sk, d))
        elif kind == "recovery":
            minutes[d] = min(cap(d), RECOVERY_MIN)
    long_day = next((d for d, k in sk.kinds.items() if k == "long"), None)
    support = [d for d, k in sk.kinds.items() if k == "support"]
    left = budget - sum(minutes.values())
    if long_day is not None:
        # the long ride aims at its length for the plan (up to 40 % of the week, never shorter than a key
        # session), leaving the support rides their minimum
        reach = min(cap(long_day), spec.long_minutes)
        longest_key = max((m for d, m in minutes.items() if sk.kinds[d].startswith("key")), default=0.0)
        want = min(reach, max(60.0, 0.4 * budget, longest_key + 15, left / (len(support) + 1)))
        room = left - len(support) * spec.support_min
        minutes[long_day] = max(0.0, min(want, max(room, min(60.0, left))))
        left -= minutes[long_day]
    if support:
        # support rides share the rest (45 min–3 h); when it is too little for all, fewer of them ride
        riding = support[: max(0, min(len(support), int(left // spec.support_min)))] if left > 0 else []
        for d in support:
            each = left / len(riding) if d in riding else 0.0
            minutes[d] = min(cap(d), SUPPORT_MIN[1], each)
        left = budget - sum(minutes.values())
    # spare time: the long ride up to its length, then key sessions (with endurance riding) up to key_max,
    # then support rides up to 4 h
    if left > 0 and long_day is not None:
        grow = min(left, min(cap(long_day), spec.long_minutes) - minutes[long_day])
        if grow > 0:
            minutes[long_day] += grow
            left -= grow
    if left > 0:
        keys = [d for d, k in sk.kinds.items() if k.startswith("key") and k != "key:test"]
        for d in keys:
            grow = min(left / max(1, len(keys)), min(cap(d), max(spec.key_max, minutes[d])) - minutes[d])
            if grow > 0:
                minutes[d] += grow
        left = budget - sum(minutes.values())
    if left > 0 and support:
        for d in support:
            grow = min(left / len(support), cap(d) - minutes[d], 240 - minutes[d])
            if grow > 0 and minutes[d] > 0:
                minutes[d] += grow
    # over budget (keys and a short long ride do not fit): the long ride shrinks, then goes
    over = sum(minutes.values()) - budget
    if over > 0 and long_day is not None:
        cut = min(over, minutes[long_day])
        minutes[long_day] -= cut
        if minutes[long_day] < 45:
            minutes[long_day] = 0.0
    # whole 5-minute steps that still add up to the budget (rounding day by day would move in jumps)
    rounded = {d: math.floor(m / 5) * 5 for d, m in minutes.items()}
    units = int(round((sum(minutes.values()) - sum(rounded.values())) / 5))
    for d in sorted(minutes, key=lambda d: -(minutes[d] - rounded[d]))[:max(0, units)]:
        if rounded[d] + 5 <= cap(d):
            rounded[d] += 5
    out = list(spec.extras)
    n_support = 0
    for d in range(7):
        day = spec.day(d)
        if d in spec.locked:
            continue
        if d in spec.fixed:
            out.append(spec.fixed[d])
            continue
        kind = sk.kinds.get(d)
        m = rounded.get(d, 0.0)
        if kind is None or m < MIN_SESSION_MIN:
            out.append(rest_day(day))
            continue
        pk = sk.plan_kinds[d]
        if kind == "key:climbs" and spec.climbs_steps:
            steps = fit_duration(spec.climbs_steps, int(m * 60))
            name = f"Climbs of {spec.route_name}" if spec.route_name else "Route climbs"
            out.append(workout_from_steps(day, pk, steps, name=name[:80], indoor=_indoor(ctx, spec, d, pk, None),
                                          workout_id=None, extra=spec.climbs_extra))
            continue
        if kind.startswith("key"):
            w = sk.choice[d]
        elif kind == "long":
            w = lib.pick("long", phase=spec.phase, event=spec.event, level=spec.levels.get("long", 1),
                         rotate=spec.rotate)
            if spec.distribution == "polarised" and w.events:
                w = lib.pick("long", phase=spec.phase, event=None, level=spec.levels.get("long", 1))
        elif kind == "recovery":
            w = lib.pick("recovery", phase=spec.phase, level=2, rotate=spec.rotate + d)
        else:
            w = _support_workout(m, spec, n_support)
            n_support += 1
        out.append(from_library(day, w, m, indoor=_indoor(ctx, spec, d, pk, w), kind=pk))
    return sorted(out, key=lambda w: (str(w["date"]), w["type"] == "commute"))


def week_minutes_range(sk: Skeleton, ctx: RuleContext, hours_cap: float) -> tuple[float, float]:
    """The least and most riding the skeleton can hold (minutes), the most within ``hours_cap``."""
    spec = sk.spec
    low = high = _fixed_minutes(spec)
    for d, kind in sk.kinds.items():
        cap = _cap(ctx, spec, d, sk.plan_kinds[d])
        if kind.startswith("key"):
            own = _own_minutes(sk, d)
            low += min(cap, own)
            high += min(cap, max(own, spec.key_max if kind != "key:test" else own))
        elif kind == "long":
            low += min(cap, 60.0)
            high += min(cap, spec.long_minutes)
        elif kind == "recovery":
            low += min(cap, RECOVERY_MIN)
            high += min(cap, RECOVERY_MIN)
        else:
            low += min(cap, spec.support_min)
            high += min(cap, 240.0)
    return low, max(low, min(high, hours_cap * 60))


def week_tss(workouts: list[dict]) -> float:
    return sum(w["tss"] for w in workouts)


def build_to_load(sk: Skeleton, ctx: RuleContext, *, target_tss: float | None, minutes: float | None,
                  hours_cap: float) -> tuple[list[dict], bool]:
    """Fill the skeleton either to ``minutes`` of riding, or (``target_tss``) to the riding time whose load is
    closest to the target without passing it, within ``hours_cap``. Returns (workouts, whether the target or the
    minutes were reached)."""
    low, high = week_minutes_range(sk, ctx, hours_cap)
    if target_tss is None:
        wanted = minutes or low
        return fill(sk, ctx, min(high, max(low, wanted))), wanted <= high + 5
    best = fill(sk, ctx, low)
    if week_tss(best) >= target_tss:
        return best, True
    top = fill(sk, ctx, high)
    if week_tss(top) <= target_tss:
        return top, week_tss(top) >= target_tss * 0.99
    lo, hi = low, high
    for _ in range(12):
        mid = (lo + hi) / 2
        trial = fill(sk, ctx, mid)
        if week_tss(trial) <= target_tss:
            best, lo = trial, mid
        else:
            hi = mid
        if hi - lo < 2:
            break
    return best, True


def climbs_session(climbs, phase: str) -> tuple[Steps, dict]:
    """The goal route's climbs as one key session: each climb at its pacing share of FTP, easy between (twice in
    the peak phase)."""
    steps: list = [Step(kind="warmup", duration_s=900, power_low_pct=50, power_high_pct=80)]
    rounds = 2 if phase == "peak" else 1
    for _ in range(rounds):
        for c in climbs:
            share = c.share * 100
            steps.append(Step(kind="work", duration_s=int(max(3.0, c.duration_min) * 60),
                              power_low_pct=round(share - 2, 1), power_high_pct=round(share + 2, 1),
                              text=f"{c.name}, {c.avg_grade_pct:.1f} %"[:200]))
            steps.append(Step(kind="recovery", duration_s=300, power_low_pct=50, power_high_pct=60))
    steps.append(Step(kind="cooldown", duration_s=600, power_low_pct=65, power_high_pct=45))
    extra = {"climbs": [{"name": c.name, "duration_min": round(c.duration_min, 1),
                         "avg_grade_pct": round(c.avg_grade_pct, 1), "power_pct": round(c.share * 100, 1)}
                        for c in climbs]}
    return steps, extra
