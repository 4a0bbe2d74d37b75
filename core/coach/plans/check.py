"""The one checker of the rule language (core.coach.rules.model): ``violations(plan, constraints)`` tests the exact
meaning of every kind, one function per kind (``_CHECKS``); ``RuleContext`` answers what a plan engine needs to know
(what a date allows, how long a session may be, fixed sessions, weekly bounds, caps per type or group, taper,
recovery cadence, ramp), so an engine never reads constraint JSON. Both share the scope rules below.

A plan is weeks (Monday–Sunday) with a ``phase`` and dated workouts (``type``, ``duration_min``, ``tss``,
``target.indoor``); several workouts may share a date (a commute next to a training ride). The *event* is the ``race``
on the event date (given, else the plan's last race): exempt from every kind. Commutes are exempt from every kind
except weekly_volume, ramp_limit, fixed_session and unavailable_dates. Minimums hold on loading weeks (base, build,
peak) unless the constraint names phases; maximums on every week in scope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from pydantic import BaseModel

from core.coach.rules.model import (
    DAY_NAMES,
    DAYS,
    LOADING_PHASES,
    WORKOUT_TYPES,
    describe,
    expand_types,
    group_members,
    parse_constraint,
)

DEFAULT_SPEED_KMH = 25.0  # distance of a planned session when the athlete's own average speed is unknown
KM_PER_MI = 1.609344
MAX_SESSION_MIN = 720.0
FIXED_TOLERANCE = 0.10  # a fixed session may be ±10 % of its stated length
_NOT_TRAINING = ("rest", "commute")
_EASIEST_FIRST = ("endurance", "recovery", "tempo", "long", "sweet_spot", "threshold", "vo2max", "anaerobic", "sprint")


def _as_dict(plan) -> dict:
    return plan.model_dump(mode="json") if isinstance(plan, BaseModel) else plan


def _date(value) -> date:
    return value if isinstance(value, date) else _iso_date(str(value)[:10])


@lru_cache(maxsize=4096)
def _iso_date(text: str) -> date:
    return date.fromisoformat(text)


def _day_of(workout: dict) -> int:
    return _date(workout["date"]).weekday()


@dataclass(frozen=True)
class Item:
    """One workout of a plan as the checker reads it."""

    day: date
    week: int          # 0-based index of its week
    phase: str
    type: str
    minutes: float
    tss: float
    indoor: bool
    event: bool        # the race on the event date: exempt from every kind


@dataclass
class PlanView:
    weeks: list[tuple[date, str, list[Item]]]   # (start, phase, items)
    event_date: date | None
    by_date: dict[date, list[Item]] = field(default_factory=dict)

    @property
    def dates(self) -> list[date]:
        return [start + timedelta(days=i) for start, _, _ in self.weeks for i in range(7)]

    def phase_of(self, day: date) -> str | None:
        for start, phase, _ in self.weeks:
            if start <= day < start + timedelta(days=7):
                return phase
        return None


def plan_view(plan, event_date: date | None = None) -> PlanView:
    plan = _as_dict(plan)
    if event_date is None:  # the goal event is the plan's last race
        races = [_date(x["date"]) for w in plan["weeks"] for x in w["workouts"] if x["type"] == "race"]
        event_date = max(races) if races else None
    weeks = []
    for n, week in enumerate(plan["weeks"]):
        start = _date(week["start_date"])
        items = [Item(_date(x["date"]), n, week["phase"], x["type"], float(x["duration_min"]), float(x["tss"]),
                      bool((x.get("target") or {}).get("indoor")),
                      x["type"] == "race" and _date(x["date"]) == event_date) for x in week["workouts"]]
        weeks.append((start, week["phase"], sorted(items, key=lambda i: i.day)))
    view = PlanView(weeks, event_date)
    for _, _, items in weeks:
        for item in items:
            view.by_date.setdefault(item.day, []).append(item)
    return view


def in_scope(c, day: date, phase: str | None, event_date: date | None) -> bool:
    """The scope rule shared by every kind: effective days, phases, and the window of N days before the event."""
    if DAYS[day.weekday()] not in c.effective_days():
        return False
    phases = getattr(c, "phases", None)
    if phases and phase not in phases:
        return False
    window = getattr(c, "before_event_days", None)
    if window:
        return event_date is not None and 1 <= (event_date - day).days <= window
    return True


def minimum_applies(c, phase: str | None) -> bool:
    """Minimums hold on loading weeks, or on the phases a constraint names."""
    phases = getattr(c, "phases", None)
    return phase in phases if phases else phase in LOADING_PHASES


@dataclass(frozen=True)
class Violation:
    constraint: int    # index into the constraints
    message: str

    def __str__(self) -> str:
        return self.message


class RuleContext:
    """The constraints of a plan with everything needed to read them: the event date, the athlete's setting for
    "hard", the recent load (the first ramp), CTL today, average speed, and the form's available days and venue."""

    def __init__(self, constraints, *, event_date: date | None = None, hard_includes_sweet_spot: bool = True,
                 baseline_tss: float | None = None, baseline_hours: float | None = None, ctl0: float | None = None,
                 speed_kmh: float | None = None, available: set[int] | None = None, indoor_pref: str = "both",
                 names: list[str] | None = None):
        self.constraints = [parse_constraint(c) for c in constraints]
        self._by_kind: dict[str, list] = {}
        for c in self.constraints:
            self._by_kind.setdefault(c.kind, []).append(c)
        self._memo: dict[tuple, object] = {}  # answers per (question, date, phase, kind): the rules do not change
        self._event_date = event_date
        self.hard_includes_sweet_spot = hard_includes_sweet_spot
        self.baseline_tss, self.baseline_hours, self.ctl0 = baseline_tss, baseline_hours, ctl0
        self.speed_kmh = speed_kmh or DEFAULT_SPEED_KMH
        self.available = set(range(7)) if available is None else set(available)
        self.indoor_pref = indoor_pref
        self.names = names

    @property
    def event_date(self) -> date | None:
        return self._event_date

    @event_date.setter
    def event_date(self, value: date | None) -> None:
        self._event_date = value
        self._memo.clear()  # windows before the event move with it

    def _cached(self, key: tuple, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # --- vocabulary ------------------------------------------------------------------------------------------
    def types(self, names) -> frozenset[str]:
        return self._cached(("types", tuple(names)), lambda: frozenset(
            expand_types(names, hard_includes_sweet_spot=self.hard_includes_sweet_spot)))

    @property
    def hard(self) -> frozenset[str]:
        return frozenset(group_members("hard", hard_includes_sweet_spot=self.hard_includes_sweet_spot))

    def of(self, *kinds: str) -> list:
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], [])
        return [c for c in self.constraints if c.kind in kinds]

    def label(self, index: int) -> str:
        said = describe(self.constraints[index])
        name = self.names[index] if self.names and index < len(self.names) else None
        return f"“{name}” ({said})" if name and name != said else f"“{said}”"

    def _scoped(self, kind: str, day: date, phase: str | None) -> list:
        if kind not in self._by_kind:
            return []
        return self._cached(("scoped", kind, day, phase), lambda: [
            c for c in self._by_kind[kind] if in_scope(c, day, phase, self.event_date)])

    # --- what a date allows -------------------------------------------------------------------------------------
    def unavailable(self, day: date) -> bool:
        return any(c.start <= day <= c.end for c in self.of("unavailable_dates"))

    def rest_only(self, day: date, phase: str | None) -> bool:
        """Only rest on this date (a rest or unavailable rule, or a day the form leaves out)."""
        return self._cached(("rest_only", day, phase), lambda: self._rest_only(day, phase))

    def _rest_only(self, day: date, phase: str | None) -> bool:
        return self.unavailable(day) or day.weekday() not in self.available or \
            bool(self._scoped("rest_days", day, phase))

    def allowed(self, day: date, phase: str | None, kind: str) -> bool:
        """May a workout of ``kind`` be planned on this date in a week of this phase?"""
        return self._cached(("allowed", day, phase, kind), lambda: self._allowed(day, phase, kind))

    def _allowed(self, day: date, phase: str | None, kind: str) -> bool:
        if kind == "rest":
            return True
        if self.rest_only(day, phase):
            return False
        if kind == "commute":
            return True
        for c in self._scoped("banned_types", day, phase):
            if kind in self.types(c.types):
                return False
        for c in self._scoped("allowed_types", day, phase):
            if kind not in self.types(c.types):
                return False
        long_days = self.long_ride_days
        return not (kind == "long" and long_days is not None and day.weekday() not in long_days)

    def types_allowed(self, day: date, phase: str | None) -> frozenset[str]:
        return self._cached(("types_allowed", day, phase), lambda: frozenset(
            t for t in WORKOUT_TYPES if t not in _NOT_TRAINING and self.allowed(day, phase, t)))

    def fallback(self, day: date, phase: str | None, order=("endurance", "recovery", "tempo", "long"),
                 avoid: frozenset[str] = frozenset()) -> str:
        """The first type of ``order`` the date allows (not in ``avoid``), else the easiest type it allows, else rest."""
        for kind in tuple(order) + _EASIEST_FIRST:
            if kind not in avoid and self.allowed(day, phase, kind):
                return kind
        return "rest"

    def _minutes(self, c, value: float) -> float:
        if c.unit == "min":
            return value
        km = value * (KM_PER_MI if c.unit == "mi" else 1.0)
        return km / self.speed_kmh * 60

    def max_minutes(self, day: date, phase: str | None, kind: str) -> float:
        """The longest a session of ``kind`` may be on this date (distance caps at the athlete's speed)."""
        return self._cached(("max_minutes", day, phase, kind), lambda: self._max_minutes(day, phase, kind))

    def _max_minutes(self, day: date, phase: str | None, kind: str) -> float:
        caps = [self._minutes(c, c.max) for c in self._scoped("session_length", day, phase)
                if c.max is not None and (not c.types or kind in self.types(c.types))]
        return min(caps, default=MAX_SESSION_MIN)

    def min_minutes(self, day: date, phase: str | None, kind: str) -> float:
        floors = [self._minutes(c, c.min) for c in self._scoped("session_length", day, phase)
                  if c.min is not None and minimum_applies(c, phase) and (not c.types or kind in self.types(c.types))]
        return max(floors, default=0.0)

    def venue(self, day: date, phase: str | None = None, kind: str | None = None) -> str | None:
        """"indoor" or "outdoor" when a venue rule decides for this session, else None (the engine's choice)."""
        for c in self._scoped("venue", day, phase):
            if not c.types or (kind is not None and kind in self.types(c.types)):
                return c.where
        return None

    def indoor(self, day: date, phase: str | None = None, kind: str | None = None) -> bool:
        """Indoors or not: a venue rule decides, else the form's preference."""
        venue = self.venue(day, phase, kind)
        return venue == "indoor" if venue else self.indoor_pref == "indoor"

    def fixed_sessions(self, day: date) -> list:
        """The fixed sessions to place on this date (none on unavailable dates or the event day)."""
        if self.unavailable(day) or day == self.event_date:
            return []
        return [c for c in self.of("fixed_session") if DAYS[day.weekday()] in c.days]

    def capacity_hours(self, start: date, phase: str | None, ceilings: dict[str, float] | None = None) -> float:
        """The most hours the rules leave for the week starting ``start``: the longest session each allowed day may
        hold (at most the engine's ``ceilings`` per type, 300 min by default), the training-day cap, fixed sessions
        and the weekly maximum.
        Rules that cap below the hours asked for (so the engine may plan less) show up here."""
        mains, fixed_total, fixed_days = [], 0.0, 0
        for d in range(7):
            day = start + timedelta(days=d)
            fixed = self.fixed_sessions(day)
            fixed_total += sum(c.duration_min * c.per_day for c in fixed)
            if any(c.workout_type != "commute" for c in fixed):
                fixed_days += 1
            elif not self.rest_only(day, phase):
                mains.append(max((min(self.max_minutes(day, phase, t), ceilings.get(t, 0.0) if ceilings else 300.0)
                                  for t in self.types_allowed(day, phase)), default=0.0))
        room = max(0, self.max_training_days(phase) - fixed_days)
        hours = (sum(sorted(mains, reverse=True)[:room]) + fixed_total) / 60
        cap = self.weekly_bounds(phase)["max_hours"]
        return min(hours, cap) if cap is not None else hours

    # --- weeks --------------------------------------------------------------------------------------------------
    def weekly_bounds(self, phase: str | None) -> dict:
        """Weekly volume for a week of this phase: min/max hours (km and mi at the athlete's speed) and TSS."""
        out = {"min_hours": None, "max_hours": None, "min_tss": None, "max_tss": None}
        for c in self.of("weekly_volume"):
            if c.phases and phase not in c.phases:
                continue
            scale = {"h": 1.0, "km": 1 / self.speed_kmh, "mi": KM_PER_MI / self.speed_kmh, "tss": 1.0}[c.unit]
            key = "tss" if c.unit == "tss" else "hours"
            if c.max is not None:
                out[f"max_{key}"] = min(filter(None, [out[f"max_{key}"], c.max * scale]), default=c.max * scale)
            if c.min is not None and minimum_applies(c, phase):
                out[f"min_{key}"] = max(out[f"min_{key}"] or 0, c.min * scale)
        return out

    def type_caps(self, phase: str | None) -> list[tuple[frozenset[str], set[int], int | None, int | None]]:
        """(types, weekdays counted, min, max) per type_count rule for a week of this phase."""
        out = []
        for c in self.of("type_count"):
            if c.phases and phase not in c.phases:
                continue
            low = c.min if minimum_applies(c, phase) else None
            out.append((self.types(c.types), {DAYS.index(d) for d in c.effective_days()}, low, c.max))
        return out

    def training_day_limits(self, phase: str | None) -> list[tuple[set[int], int | None, int | None]]:
        out = []
        for c in self.of("training_days"):
            if c.phases and phase not in c.phases:
                continue
            out.append(({DAYS.index(d) for d in c.effective_days()}, c.min if minimum_applies(c, phase) else None,
                        c.max))
        return out

    def max_training_days(self, phase: str | None) -> int:
        return min((hi for days, _, hi in self.training_day_limits(phase) if hi is not None and len(days) == 7),
                   default=7)

    def max_sessions(self, types: frozenset[str], phase: str | None) -> int | None:
        """The lowest weekly cap of any type_count rule covering one of ``types``."""
        return min((hi for covered, _, _, hi in self.type_caps(phase) if hi is not None and covered & types),
                   default=None)

    @property
    def runs(self) -> list[tuple[frozenset[str], int]]:
        return [(self.types(c.types), c.limit) for c in self.of("max_consecutive")]

    def after_rule(self, c) -> tuple[frozenset[str], int, frozenset[str], int]:
        """(trigger types, streak, types allowed on the following days, following days) of a day_after rule."""
        then = {"rest": frozenset({"rest", "commute"}), "recovery": frozenset({"rest", "commute", "recovery"}),
                "easy": frozenset({"rest", "commute"}) | self.types(["easy"])}[c.then]
        return self.types(c.trigger), c.streak, then, c.following_days

    @property
    def after_rules(self) -> list[tuple[frozenset[str], int, frozenset[str], int]]:
        return [self.after_rule(c) for c in self.of("day_after")]

    @property
    def long_ride_days(self) -> set[int] | None:
        rules = self.of("long_ride_days")
        if not rules:
            return None
        days = set(range(7))
        for c in rules:
            days &= {DAYS.index(d) for d in c.days}
        return days

    def taper_weeks(self, default: int) -> int:
        """Weeks of taper: the rule's (ceil(days / 7)) replaces the engine's default."""
        rules = self.of("taper")
        return math.ceil(rules[-1].length_days / 7) if rules else default

    @property
    def taper_drop_pct(self) -> float | None:
        return max((c.volume_drop_pct for c in self.of("taper") if c.volume_drop_pct), default=None)

    @property
    def recovery_cadence(self):
        """The recovery_cadence rule (load_weeks, recovery_weeks, recovery_load_pct) or None for the default."""
        rules = self.of("recovery_cadence")
        return rules[-1] if rules else None

    @property
    def ramps(self) -> list:
        return self.of("ramp_limit")

    def baseline(self, metric: str) -> float | None:
        return {"tss": self.baseline_tss, "hours": self.baseline_hours}.get(metric)

    # --- the checker --------------------------------------------------------------------------------------------
    def check(self, plan) -> list[Violation]:
        view = plan_view(plan, self.event_date)
        out: list[Violation] = []
        for i, c in enumerate(self.constraints):
            for message in _CHECKS[c.kind](self, c, view):
                out.append(Violation(i, f"{message} — breaks {self.label(i)}"))
        return out

    def violations(self, plan) -> list[str]:
        return [v.message for v in self.check(plan)]


def violations(plan, constraints, **context) -> list[str]:
    """Every place the plan breaks a constraint, as readable lines naming the rule (empty: every rule holds).
    ``context`` is RuleContext's keywords (event_date, hard_includes_sweet_spot, baseline_tss, …)."""
    return RuleContext(constraints, **context).violations(plan)


# ----------------------------------------------------------------------------------------------------------------
# One test per kind. Each yields the places the plan breaks the constraint (without the rule's name).
# ----------------------------------------------------------------------------------------------------------------

def _where(item: Item) -> str:
    return f"week {item.week + 1} {DAY_NAMES[DAYS[item.day.weekday()]]} {item.day}"


def _counted(item: Item, *, commutes: bool = False) -> bool:
    """Does this workout count for a kind (the event never; commutes only where the kind says)?"""
    return not item.event and (commutes or item.type != "commute")


def _per_item(ctx: RuleContext, c, view: PlanView, *, commutes: bool = False):
    for _, phase, items in view.weeks:
        for item in items:
            if _counted(item, commutes=commutes) and in_scope(c, item.day, phase, view.event_date):
                yield phase, item


def _check_rest_days(ctx, c, view):
    for _, item in _per_item(ctx, c, view):
        if item.type != "rest":
            yield f"{_where(item)}: {item.type} on a rest day"


def _check_unavailable_dates(ctx, c, view):
    for _, _, items in view.weeks:
        for item in items:
            if c.start <= item.day <= c.end and item.type != "rest" and not item.event:
                yield f"{_where(item)}: {item.type} while you are away"


def _check_allowed_types(ctx, c, view):
    allowed = ctx.types(c.types)
    for _, item in _per_item(ctx, c, view):
        if item.type != "rest" and item.type not in allowed:
            yield f"{_where(item)}: {item.type} is not one of the types allowed that day"


def _check_banned_types(ctx, c, view):
    banned = ctx.types(c.types)
    for _, item in _per_item(ctx, c, view):
        if item.type in banned:
            yield f"{_where(item)}: {item.type} is not allowed that day"


def _length(ctx: RuleContext, c, item: Item) -> float:
    if c.unit == "min":
        return item.minutes
    km = item.minutes / 60 * ctx.speed_kmh
    return km / KM_PER_MI if c.unit == "mi" else km


def _check_session_length(ctx, c, view):
    covered = ctx.types(c.types) if c.types else None
    for phase, item in _per_item(ctx, c, view):
        if item.type == "rest" or (covered is not None and item.type not in covered):
            continue
        value = _length(ctx, c, item)
        if c.max is not None and value > c.max + 0.5:
            yield f"{_where(item)}: {item.type} of {value:.0f} {c.unit}, more than {c.max:g}"
        if c.min is not None and minimum_applies(c, phase) and value < c.min - 0.5:
            yield f"{_where(item)}: {item.type} of {value:.0f} {c.unit}, less than {c.min:g}"


def week_total(ctx: RuleContext, items: list[Item], unit: str) -> float:
    """A week's volume in h, km, mi or TSS: every workout (commutes and fixed sessions included), the event not."""
    counted = [i for i in items if not i.event]
    if unit == "tss":
        return sum(i.tss for i in counted)
    hours = sum(i.minutes for i in counted) / 60
    return hours if unit == "h" else hours * ctx.speed_kmh / (KM_PER_MI if unit == "mi" else 1.0)


def _check_weekly_volume(ctx, c, view):
    tolerance = {"h": 0.01, "tss": 0.5, "km": 0.5, "mi": 0.5}[c.unit]
    for n, (_, phase, items) in enumerate(view.weeks):
        if c.phases and phase not in c.phases:
            continue
        total = week_total(ctx, items, c.unit)
        if c.max is not None and total > c.max + tolerance:
            yield f"week {n + 1}: {total:.1f} {c.unit}, more than {c.max:g}"
        if c.min is not None and minimum_applies(c, phase) and total < c.min - tolerance:
            yield f"week {n + 1}: {total:.1f} {c.unit}, less than {c.min:g}"


def _check_training_days(ctx, c, view):
    days = set(c.effective_days())
    for n, (_, phase, items) in enumerate(view.weeks):
        if c.phases and phase not in c.phases:
            continue
        trained = {i.day for i in items if _counted(i) and i.type not in _NOT_TRAINING and
                   DAYS[i.day.weekday()] in days}
        if c.max is not None and len(trained) > c.max:
            yield f"week {n + 1}: {len(trained)} training days, more than {c.max}"
        if c.min is not None and minimum_applies(c, phase) and len(trained) < c.min:
            yield f"week {n + 1}: {len(trained)} training days, fewer than {c.min}"


def _check_type_count(ctx, c, view):
    covered, days = ctx.types(c.types), set(c.effective_days())
    for n, (_, phase, items) in enumerate(view.weeks):
        if c.phases and phase not in c.phases:
            continue
        count = sum(1 for i in items if _counted(i) and i.type in covered and DAYS[i.day.weekday()] in days)
        if c.max is not None and count > c.max:
            yield f"week {n + 1}: {count} such sessions, more than {c.max}"
        if c.min is not None and minimum_applies(c, phase) and count < c.min:
            yield f"week {n + 1}: {count} such sessions, fewer than {c.min}"


def _hits(view: PlanView, day: date, types: frozenset[str]) -> bool:
    return any(_counted(i) and i.type in types for i in view.by_date.get(day, []))


def _check_max_consecutive(ctx, c, view):
    types, run = ctx.types(c.types), 0
    for day in view.dates:
        run = run + 1 if _hits(view, day, types) else 0
        if run == c.limit + 1:
            yield f"{day}: {run} days in a row, more than {c.limit}"


def _check_day_after(ctx, c, view):
    trigger, streak, allowed, following = ctx.after_rule(c)
    dates, run = view.dates, 0
    for n, day in enumerate(dates):
        run = run + 1 if _hits(view, day, trigger) else 0
        if run < streak:
            continue
        for nxt in dates[n + 1:n + 1 + following]:
            bad = [i for i in view.by_date.get(nxt, []) if _counted(i) and i.type not in allowed]
            if bad:
                yield f"{nxt}: {bad[0].type} after {run} such day(s) in a row"


def _check_long_ride_days(ctx, c, view):
    for _, _, items in view.weeks:
        for item in items:
            if item.type == "long" and _counted(item) and DAYS[item.day.weekday()] not in c.days:
                yield f"{_where(item)}: long ride outside the long-ride day"


def _check_fixed_session(ctx, c, view):
    away = ctx.of("unavailable_dates")
    for day in view.dates:
        if DAYS[day.weekday()] not in c.days or day == view.event_date or \
                any(a.start <= day <= a.end for a in away):
            continue
        found = [i for i in view.by_date.get(day, []) if i.type == c.workout_type and
                 abs(i.minutes - c.duration_min) <= c.duration_min * FIXED_TOLERANCE + 0.5 and
                 (not c.indoor or i.indoor)]
        if len(found) < c.per_day:
            yield f"{day}: the fixed {c.workout_type.replace('_', ' ')} ({c.duration_min:g} min) is missing"


def _week_hours(items: list[Item]) -> float:
    return sum(i.minutes for i in items if not i.event) / 60


def _check_taper(ctx, c, view):
    n_taper = min(len(view.weeks), math.ceil(c.length_days / 7))
    first_taper = len(view.weeks) - n_taper
    for n, (_, phase, _) in enumerate(view.weeks):
        if (phase == "taper") != (n >= first_taper):
            yield f"week {n + 1}: {'not ' if n >= first_taper else ''}a taper week"
    loading = [items for _, phase, items in view.weeks[:first_taper] if phase in LOADING_PHASES]
    if c.volume_drop_pct and loading:
        cap = _week_hours(loading[-1]) * (1 - c.volume_drop_pct / 100)
        for n in range(first_taper, len(view.weeks)):
            hours = _week_hours(view.weeks[n][2])
            if hours > cap + 0.01:
                yield f"week {n + 1}: {hours:.1f} h in the taper, more than {cap:.1f} h"


def _check_recovery_cadence(ctx, c, view):
    phases = [phase for _, phase, _ in view.weeks]
    end = phases.index("taper") if "taper" in phases else len(phases)
    n = 0
    while n < end:
        kind = "recovery" if phases[n] == "recovery" else "loading"
        run_end = n
        while run_end < end and ("recovery" if phases[run_end] == "recovery" else "loading") == kind:
            run_end += 1
        length = run_end - n
        if kind == "loading" and length > c.load_weeks:
            yield f"weeks {n + 1}–{run_end}: {length} loading weeks in a row, more than {c.load_weeks}"
        if kind == "recovery" and (length > c.recovery_weeks or (length < c.recovery_weeks and run_end < end)):
            yield f"weeks {n + 1}–{run_end}: {length} recovery week(s), not {c.recovery_weeks}"
        n = run_end
    if c.recovery_load_pct:
        last = None
        for n, (_, phase, items) in enumerate(view.weeks):
            tss = week_total(ctx, items, "tss")
            if phase in LOADING_PHASES:
                last = tss
            elif phase == "recovery" and last and tss > last * c.recovery_load_pct / 100 + 0.5:
                yield f"week {n + 1}: recovery TSS {tss:.0f}, more than {c.recovery_load_pct:g} % of {last:.0f}"


def ramp_cap(c, reference: float) -> float:
    return reference * (1 + c.limit / 100) if c.unit == "pct" else reference + c.limit


def weekly_ctl(view: PlanView, ctl0: float) -> list[float]:
    """Projected CTL at the end of each week (42-day constant), from ``ctl0`` the day before the plan."""
    from core.rides.dashboard import exponential_load

    daily = [sum(i.tss for i in view.by_date.get(d, []) if not i.event) for d in view.dates]  # the event is exempt
    ctl = exponential_load(daily, 42.0, ctl0)
    return [float(ctl[7 * n + 6]) for n in range(len(view.weeks))]


def _check_ramp_limit(ctx, c, view):
    if c.metric == "ctl":
        previous = ctx.ctl0 or 0.0
        for n, value in enumerate(weekly_ctl(view, previous)):
            if value - previous > c.limit + 0.05:
                yield f"week {n + 1}: CTL rises {value - previous:.1f} points, more than {c.limit:g}"
            previous = value
        return
    unit = "tss" if c.metric == "tss" else "h"
    reference = ctx.baseline(c.metric)
    for n, (_, phase, items) in enumerate(view.weeks):
        if phase not in LOADING_PHASES:
            continue
        value = week_total(ctx, items, unit)
        if reference is not None and value > ramp_cap(c, reference) + (0.5 if unit == "tss" else 0.01):
            yield f"week {n + 1}: {c.metric} {value:.1f} rises more than allowed over {reference:.1f}"
        reference = value


def _check_venue(ctx, c, view):
    covered = ctx.types(c.types) if c.types else None
    for _, item in _per_item(ctx, c, view):
        if item.type == "rest" or (covered is not None and item.type not in covered):
            continue
        if item.indoor != (c.where == "indoor"):
            yield f"{_where(item)}: {item.type} is not {c.where}s"


_CHECKS = {"rest_days": _check_rest_days, "unavailable_dates": _check_unavailable_dates,
           "allowed_types": _check_allowed_types, "banned_types": _check_banned_types,
           "session_length": _check_session_length, "weekly_volume": _check_weekly_volume,
           "training_days": _check_training_days, "type_count": _check_type_count,
           "max_consecutive": _check_max_consecutive, "day_after": _check_day_after,
           "long_ride_days": _check_long_ride_days, "fixed_session": _check_fixed_session, "taper": _check_taper,
           "recovery_cadence": _check_recovery_cadence, "ramp_limit": _check_ramp_limit, "venue": _check_venue}
