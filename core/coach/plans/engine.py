"""Training plans: request validation, a deterministic periodisation engine, rule checking, storage, versions,
iCalendar and JSON export.

Plan JSON (stored in ``plans.plan``, exported, and what the AI must return)::

    {"weeks": [{"week", "start_date", "phase", "planned_hours", "planned_tss",
                "workouts": [{"date", "type", "duration_min", "tss", "target", "description"}]}]}

Every week lists all seven days (rest days as type ``rest``, 0 min). ``phase`` is base, build, peak, taper or
recovery (the easy week every 3–4 weeks). ``violations(plan, constraints)`` is the one checker of the rule
semantics documented in core/rules.py; the engine ends with a repair pass and re-checks, so a generated plan
never breaks a stated rule.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from core.store.db import audit, bump_data_version, delete_with_children, transaction
from core.errors import AIServiceError, NotFoundError, PlanGenerationError
from core.coach.rules import (
    DAY_NAMES,
    DAYS,
    HARD_TYPES,
    MODERATE_TYPES,
    WORKOUT_TYPES,
    Constraint,
    Day,
    WorkoutType,
    constraints_of,
    find_conflicts,
)

PHASES = ("base", "build", "peak", "taper", "recovery")
EVENT_TYPES = ("road_race", "gran_fondo", "time_trial", "criterium", "stage_race", "climbing_event",
               "general_fitness")
# average intensity factor of a whole session of each type (warm-up and recoveries included)
SESSION_IF = {"rest": 0.0, "recovery": 0.55, "endurance": 0.68, "long": 0.70, "tempo": 0.80, "sweet_spot": 0.84,
              "threshold": 0.86, "vo2max": 0.83, "anaerobic": 0.78, "race": 0.92}
# (zone, low %FTP, high %FTP) of the work part
ZONES = {"recovery": ("Z1", 0.45, 0.55), "endurance": ("Z2", 0.56, 0.75), "long": ("Z2", 0.56, 0.75),
         "tempo": ("Z3", 0.76, 0.87), "sweet_spot": ("Z3/Z4", 0.88, 0.94), "threshold": ("Z4", 0.95, 1.05),
         "vo2max": ("Z5", 1.06, 1.20), "anaerobic": ("Z6", 1.21, 1.50), "race": ("race", 0.85, 1.05)}
INTERVALS = {"tempo": "3 × 15 min", "sweet_spot": "3 × 12 min", "threshold": "2 × 20 min", "vo2max": "5 × 4 min",
             "anaerobic": "8 × 1 min", "recovery": "easy spin", "endurance": "steady", "long": "steady, fuel well",
             "race": "race day"}
DEFAULT_FTP_W = 200.0
HOURS_BY_LEVEL = {"beginner": 5.0, "intermediate": 7.0, "advanced": 10.0, "elite": 14.0}
TSS_PER_HOUR = 50.0  # a typical mixed week, used to turn a CTL target into hours
MIN_SESSION_MIN = 20


# ----------------------------------------------------------------------------------------------------------------
# Schemas
# ----------------------------------------------------------------------------------------------------------------

class PlanGoals(BaseModel):
    model_config = {"extra": "forbid"}

    event_date: date | None = None
    event_type: Literal[EVENT_TYPES] | None = None  # type: ignore[valid-type]
    route_id: int | None = None
    target_ftp_w: float | None = Field(None, ge=50, le=600)
    target_ctl: float | None = Field(None, ge=1, le=200)
    weekly_hours: float | None = Field(None, ge=1, le=40)


class UserPreferences(BaseModel):
    model_config = {"extra": "forbid"}

    available_days: list[Day] = Field(default_factory=lambda: list(DAYS))
    indoor_outdoor: Literal["indoor", "outdoor", "both"] = "both"
    long_ride_day: Day | None = None

    @field_validator("available_days")
    @classmethod
    def _order(cls, value):
        return [d for d in DAYS if d in value]


class PlanRequest(BaseModel):
    model_config = {"extra": "forbid"}

    rule_ids: list[int] = Field(default_factory=list, max_length=100)
    goals: PlanGoals = Field(default_factory=PlanGoals)
    user_preferences: UserPreferences = Field(default_factory=UserPreferences)
    duration_weeks: int | None = Field(None, ge=1, le=52)
    start_date: date | None = None
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _check(self):
        if not self.user_preferences.available_days:
            raise ValueError("no available days: pick at least one day of the week you can ride")
        pref = self.user_preferences.long_ride_day
        if pref and pref not in self.user_preferences.available_days:
            raise ValueError(f"the long-ride day ({DAY_NAMES[pref]}) is not one of your available days")
        return self


class Workout(BaseModel):
    model_config = {"extra": "forbid"}

    date: date
    type: WorkoutType
    duration_min: float = Field(ge=0, le=720)
    tss: float = Field(ge=0, le=1000)
    target: dict = Field(default_factory=dict)
    description: str = Field("", max_length=1000)


class Week(BaseModel):
    model_config = {"extra": "forbid"}

    week: int = Field(ge=1, le=52)
    start_date: date
    phase: Literal[PHASES]  # type: ignore[valid-type]
    planned_hours: float = Field(ge=0, le=100)
    planned_tss: float = Field(ge=0, le=5000)
    workouts: list[Workout] = Field(max_length=21)


class PlanModel(BaseModel):
    model_config = {"extra": "forbid"}

    weeks: list[Week] = Field(min_length=1, max_length=52)


# Rider-facing names of request fields (the form's labels), so messages never show a field path.
_FIELD_LABELS = {
    "weekly_hours": "Weekly hours", "duration_weeks": "Duration (weeks)", "event_date": "Event date",
    "target_ftp_w": "Target FTP", "target_ctl": "Target CTL", "available_days": "Available days",
    "long_ride_day": "Long-ride day", "start_date": "Start date", "route_id": "Goal route",
    "event_type": "Event type", "rule_ids": "Rules",
}


def _pydantic_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        names = [str(p) for p in err["loc"] if not isinstance(p, int)]
        label = next((_FIELD_LABELS[n] for n in reversed(names) if n in _FIELD_LABELS),
                     names[-1].replace("_", " ").capitalize() if names else "")
        msg = err["msg"].removeprefix("Value error, ")
        msg = msg[0].lower() + msg[1:] if label and msg else msg
        parts.append(f"{label} {msg}" if label else msg)
    return "; ".join(parts)


def next_monday(day: date) -> date:
    """``day`` itself when it is a Monday, else the following Monday."""
    return day + timedelta(days=(-day.weekday()) % 7)


def validate_request(data: dict | PlanRequest, *, today: date | None = None) -> PlanRequest:
    """A PlanRequest with start date and duration resolved, or PlanGenerationError saying what is wrong."""
    today = today or date.today()
    if isinstance(data, PlanRequest):
        data = data.model_dump()
    try:
        request = PlanRequest(**data)
    except ValidationError as exc:
        raise PlanGenerationError(f"The plan request is not valid — {_pydantic_message(exc)}") from None
    except TypeError as exc:
        raise PlanGenerationError(f"The plan request is not valid — {exc}") from None
    start = request.start_date or next_monday(today)
    if start < today - timedelta(days=7):
        raise PlanGenerationError(f"The plan would start on {start}, which is in the past.")
    start = start - timedelta(days=start.weekday())  # plans run Monday to Sunday
    goals = request.goals
    if goals.event_date is not None:
        if goals.event_date < today:
            raise PlanGenerationError(f"The event date {goals.event_date} is in the past; choose a future date.")
        if goals.event_date < start:
            raise PlanGenerationError(f"The event on {goals.event_date} is before the plan starts ({start}).")
        weeks_to_event = (goals.event_date - start).days // 7 + 1
        if weeks_to_event > 52:
            raise PlanGenerationError(f"The event on {goals.event_date} is {weeks_to_event} weeks away; a plan "
                                      "covers at most 52 weeks. Start later or pick a nearer event.")
        if request.duration_weeks is None:
            request.duration_weeks = weeks_to_event
        elif request.duration_weeks != weeks_to_event:
            raise PlanGenerationError(
                f"The event on {goals.event_date} falls in week {weeks_to_event} of a plan starting {start}, but "
                f"{request.duration_weeks} weeks were asked for: choose {weeks_to_event} weeks (or leave the "
                "duration empty).")
    request.duration_weeks = request.duration_weeks or 12
    request.start_date = start
    if goals.target_ctl and goals.weekly_hours:
        needed = goals.target_ctl * 7 / TSS_PER_HOUR
        if goals.weekly_hours < needed * 0.6:
            raise PlanGenerationError(
                f"Contradictory goals: a CTL of {goals.target_ctl:g} needs about {needed:.0f} hours a week, but "
                f"the weekly hours are set to {goals.weekly_hours:g}.")
    if goals.event_type == "general_fitness" and goals.event_date:
        raise PlanGenerationError("Contradictory goals: “general fitness” has no event date; pick an event type "
                                  "or clear the date.")
    return request


# ----------------------------------------------------------------------------------------------------------------
# Rule context: what each day allows
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class RuleContext:
    constraints: list[Constraint]
    available: set[int] = field(default_factory=lambda: set(range(7)))
    indoor_pref: str = "both"

    def __post_init__(self):
        cs = self.constraints
        self.rest = {DAYS.index(d) for c in cs if c.kind == "rest_days" for d in c.days}
        self.long_days = [DAYS.index(d) for c in cs if c.kind == "long_ride_day" for d in c.days]
        self.long_rule = any(c.kind == "long_ride_day" for c in cs)
        self.indoor_days = {DAYS.index(d) for c in cs if c.kind == "indoor_only_days" for d in c.days}
        self.forbidden = [(set(DAYS.index(d) for d in c.days) or set(range(7)), set(c.workout_types))
                          for c in cs if c.kind == "forbidden_types"]
        self.allowed_only = [({DAYS.index(d) for d in c.days} or set(range(7)), set(c.workout_types))
                             for c in cs if c.kind == "allowed_types"]
        self.max_hours = min((c.limit for c in cs if c.kind == "max_weekly_hours"), default=None)
        self.max_hard = min((int(c.limit) for c in cs if c.kind == "max_hard_sessions"), default=None)
        self.rest_after = min((int(c.limit) for c in cs if c.kind == "rest_after_hard_days"), default=None)
        self.max_consec = min((int(c.limit) for c in cs if c.kind == "max_consecutive_hard_days"), default=None)
        self.ramp = min((c.limit for c in cs if c.kind == "max_ramp_pct"), default=None)
        self.max_days = min((int(c.limit) for c in cs if c.kind == "max_training_days"), default=None)
        self.session_caps = [(set(DAYS.index(d) for d in c.days) or set(range(7)), c.limit)
                             for c in cs if c.kind == "max_session_minutes"]

    def allowed(self, day: int, kind: str) -> bool:
        if kind == "rest":
            return True
        if day in self.rest or day not in self.available:
            return False
        if kind == "long" and self.long_rule and day not in self.long_days:
            return False
        for days, types in self.forbidden:
            if day in days and kind in types:
                return False
        for days, types in self.allowed_only:
            if day in days and kind not in types:
                return False
        return True

    def cap_minutes(self, day: int) -> float:
        return min((limit for days, limit in self.session_caps if day in days), default=720.0)

    def indoor(self, day: int) -> bool:
        return day in self.indoor_days or self.indoor_pref == "indoor"

    def fallback(self, day: int, order=("endurance", "recovery", "tempo", "long")) -> str:
        for kind in order:
            if self.allowed(day, kind):
                return kind
        return "rest"


# ----------------------------------------------------------------------------------------------------------------
# The checker
# ----------------------------------------------------------------------------------------------------------------

def _as_dict(plan) -> dict:
    return plan.model_dump(mode="json") if isinstance(plan, BaseModel) else plan


def _day_of(workout: dict) -> int:
    value = workout["date"]
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return day.weekday()


def violations(plan, constraints: list[Constraint]) -> list[str]:
    """Every place the plan breaks a constraint, as readable lines (empty: the plan honours every rule)."""
    plan = _as_dict(plan)
    ctx = RuleContext(list(constraints))
    problems: list[str] = []
    flat: list[dict] = []
    best_tss = None
    for week in plan["weeks"]:
        n = week["week"]
        workouts = sorted(week["workouts"], key=lambda w: str(w["date"]))
        hours = sum(w["duration_min"] for w in workouts) / 60
        hard = sum(1 for w in workouts if w["type"] in HARD_TYPES)
        days_trained = len({str(w["date"]) for w in workouts if w["type"] != "rest"})
        for w in workouts:
            d, kind = _day_of(w), w["type"]
            where = f"week {n} {DAY_NAMES[DAYS[d]]} {w['date']}"
            if kind != "rest" and d in ctx.rest:
                problems.append(f"{where}: {kind} on a rest day")
            for days, types in ctx.forbidden:
                if d in days and kind in types:
                    problems.append(f"{where}: {kind} is not allowed on that day")
            for days, types in ctx.allowed_only:
                if d in days and kind != "rest" and kind not in types:
                    problems.append(f"{where}: only {', '.join(sorted(types))} allowed, got {kind}")
            if kind == "long" and ctx.long_rule and d not in ctx.long_days:
                problems.append(f"{where}: long ride outside the long-ride day")
            if kind != "rest" and d in ctx.indoor_days and not (w.get("target") or {}).get("indoor"):
                problems.append(f"{where}: {kind} is not indoors on an indoor-only day")
            cap = ctx.cap_minutes(d)
            if w["duration_min"] > cap + 1e-6:
                problems.append(f"{where}: {w['duration_min']:g} min is longer than the {cap:g} min limit")
        if ctx.max_hours is not None and hours > ctx.max_hours + 1e-6:
            problems.append(f"week {n}: {hours:.2f} h is more than {ctx.max_hours:g} h")
        if ctx.max_hard is not None and hard > ctx.max_hard:
            problems.append(f"week {n}: {hard} hard sessions, more than {ctx.max_hard}")
        if ctx.max_days is not None and days_trained > ctx.max_days:
            problems.append(f"week {n}: {days_trained} training days, more than {ctx.max_days}")
        tss = sum(w["tss"] for w in workouts)
        if ctx.ramp is not None and best_tss is not None and tss > best_tss * (1 + ctx.ramp / 100) + 0.5:
            problems.append(f"week {n}: TSS {tss:.0f} rises more than {ctx.ramp:g}% above {best_tss:.0f}")
        best_tss = tss if best_tss is None else max(best_tss, tss)
        flat.extend(workouts)
    # day sequence rules, across week boundaries
    by_day: dict[str, list[str]] = {}
    for w in flat:
        by_day.setdefault(str(w["date"])[:10], []).append(w["type"])
    streak = 0
    days_sorted = sorted(by_day)
    for i, day in enumerate(days_sorted):
        is_hard = any(t in HARD_TYPES for t in by_day[day])
        streak = streak + 1 if is_hard else 0
        if ctx.max_consec is not None and streak > ctx.max_consec:
            problems.append(f"{day}: {streak} hard days in a row, more than {ctx.max_consec}")
        if ctx.rest_after is not None and streak >= ctx.rest_after and i + 1 < len(days_sorted):
            nxt = days_sorted[i + 1]
            if date.fromisoformat(nxt) == date.fromisoformat(day) + timedelta(days=1) and \
                    any(t != "rest" for t in by_day[nxt]):
                problems.append(f"{nxt}: no rest after {streak} hard day(s)")
    return problems


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


def phase_plan(weeks: int, fitness_level: str = "intermediate") -> list[str]:
    """Phase of each week: base → build → peak → taper, with a recovery week every 4th (3rd for beginners)."""
    taper = 0 if weeks < 4 else (2 if weeks >= 20 else 1)
    rest = weeks - taper
    if rest <= 2:
        phases = ["build"] * rest
    else:
        peak = max(1, round(rest * 0.15))
        build = max(1, round(rest * 0.35))
        base = max(0, rest - peak - build)
        phases = ["base"] * base + ["build"] * build + ["peak"] * peak
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
    if kind not in ("endurance", "long", "recovery", "race"):
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


def _make(day: date, kind: str, minutes: float, ftp: float, ctx: RuleContext, climbs=None, route_name=None) -> dict:
    minutes = 0.0 if kind == "rest" else float(max(0, math.floor(minutes / 5) * 5))
    if kind != "rest" and minutes < MIN_SESSION_MIN:
        kind, minutes = "rest", 0.0
    target = _target(kind, ftp, ctx.indoor(day.weekday()), climbs if kind != "rest" else None)
    return {"date": day.isoformat(), "type": kind, "duration_min": minutes, "tss": workout_tss(kind, minutes),
            "target": target, "description": _description(kind, target, minutes, route_name)}


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
    minutes_budget = hours * 60
    candidates = [d for d in range(7) if d not in ctx.rest and d in ctx.available]
    if not candidates:
        return [_make(start + timedelta(days=d), "rest", 0, ftp, ctx) for d in range(7)]
    n_days = max(2, min(6, math.ceil(minutes_budget / 80)))
    if phase in ("recovery", "taper"):
        n_days = min(n_days, 4)
    if ctx.max_days is not None:
        n_days = min(n_days, ctx.max_days)
    n_days = min(n_days, len(candidates))
    # long ride
    order = ctx.long_days if ctx.long_rule else ([long_pref] if long_pref is not None else []) + [5, 6] + \
        sorted(candidates, reverse=True)
    long_day = next((d for d in order if d in candidates and ctx.allowed(d, "long")), None)
    chosen = _spread([long_day] if long_day is not None else [], candidates, n_days)
    kinds: dict[int, str] = {d: "endurance" for d in chosen}
    if long_day is not None:
        kinds[long_day] = "long"
    # hard sessions
    n_hard = _HARD_COUNT[phase] if not (phase == "base" and progress > 0.5) else 1
    if ctx.max_hard is not None:
        n_hard = min(n_hard, ctx.max_hard)
    strict = ctx.max_consec is not None or ctx.rest_after is not None

    def free(d):
        return d in kinds and kinds[d] == "endurance"

    def pick_type(d, prefs):
        for kind in prefs:
            if ctx.allowed(d, kind):
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
            if ctx.rest_after == 1 and d + 1 in kinds:
                continue  # the next day must stay a rest day
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
        if easy and ctx.allowed(easy[0], "recovery"):
            kinds[easy[0]] = "recovery"
    # a type not allowed on its day falls back
    for d in list(kinds):
        if not ctx.allowed(d, kinds[d]):
            kinds[d] = ctx.fallback(d)
    # durations
    durations: dict[int, float] = {}
    fixed = 0.0
    key_minutes = 60 if phase == "taper" else 75
    for d, kind in kinds.items():
        if kind in HARD_TYPES or kind in MODERATE_TYPES:
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
        minutes = min(durations.get(d, 0.0), ctx.cap_minutes(d))
        use_climbs = None
        if week_climbs and (kind in ("threshold", "vo2max", "sweet_spot")) and phase != "recovery":
            use_climbs = week_climbs
            work = sum(c.duration_min for c in week_climbs) * (2 if phase == "peak" else 1)
            minutes = min(ctx.cap_minutes(d), max(minutes, 30 + work * 1.6))
        out.append(_make(day, kind, minutes, ftp, ctx, use_climbs, route_name))
    return out


def _scale_week(week: list[dict], factor: float, ftp: float, ctx: RuleContext, route_name=None) -> None:
    for i, w in enumerate(week):
        if w["type"] == "rest":
            continue
        minutes = math.floor(w["duration_min"] * factor / 5) * 5
        day = date.fromisoformat(w["date"])
        climbs = [Climb(**{k: c[k] for k in ("name", "duration_min", "avg_grade_pct")}, distance_m=0,
                        power_w=c["power_w"]) for c in w["target"].get("climbs", [])] or None
        week[i] = _make(day, w["type"], minutes, ftp, ctx, climbs, route_name)


def enforce(weeks: list[list[dict]], ctx: RuleContext, ftp: float, *, baseline_tss: float | None = None,
            route_name: str | None = None) -> list[list[dict]]:
    """Repair pass: make every week satisfy every rule (downgrading, resting or shortening workouts). Used on
    the engine's draft and on an AI proposal that breaks a rule."""
    # 1. per workout: type allowed on its day, session length, indoor days
    for week in weeks:
        for i, w in enumerate(week):
            d = _day_of(w)
            kind = w["type"]
            if not ctx.allowed(d, kind):
                kind = ctx.fallback(d)
            minutes = min(w["duration_min"], ctx.cap_minutes(d))
            if kind != w["type"] or minutes != w["duration_min"] or \
                    (kind != "rest" and ctx.indoor(d) and not w.get("target", {}).get("indoor")):
                week[i] = _make(date.fromisoformat(str(w["date"])[:10]), kind, minutes, ftp, ctx, None, route_name)
    # 2. per week: hard sessions and training days
    for week in weeks:
        if ctx.max_hard is not None:
            hard = [i for i, w in enumerate(week) if w["type"] in HARD_TYPES]
            hard.sort(key=lambda i: (week[i]["type"] == "race", -i))
            for i in hard[: max(0, len(hard) - ctx.max_hard)]:
                _downgrade(week, i, ctx, ftp, route_name)
        if ctx.max_days is not None:
            trained = [i for i, w in enumerate(week) if w["type"] != "rest"]
            trained.sort(key=lambda i: (week[i]["type"] in ("long", "race"), week[i]["duration_min"]))
            for i in trained[: max(0, len(trained) - ctx.max_days)]:
                week[i] = _make(date.fromisoformat(week[i]["date"]), "rest", 0, ftp, ctx)
    # 3. hard days in a row, across weeks
    if ctx.max_consec is not None or ctx.rest_after is not None:
        flat = [(wi, i) for wi, week in enumerate(weeks) for i in range(len(week))]
        flat.sort(key=lambda p: weeks[p[0]][p[1]]["date"])
        streak = 0
        for n, (wi, i) in enumerate(flat):
            w = weeks[wi][i]
            if w["type"] in HARD_TYPES:
                if ctx.max_consec is not None and streak + 1 > ctx.max_consec:
                    _downgrade(weeks[wi], i, ctx, ftp, route_name)
                    streak = 0
                    continue
                streak += 1
                if ctx.rest_after is not None and streak >= ctx.rest_after and n + 1 < len(flat):
                    nwi, ni = flat[n + 1]
                    nxt = weeks[nwi][ni]
                    if nxt["type"] == "race":
                        _downgrade(weeks[wi], i, ctx, ftp, route_name)
                        streak -= 1
                    elif nxt["type"] != "rest":
                        weeks[nwi][ni] = _make(date.fromisoformat(nxt["date"]), "rest", 0, ftp, ctx)
            else:
                streak = 0
    # 4. weekly hours
    if ctx.max_hours is not None:
        for week in weeks:
            total = sum(w["duration_min"] for w in week)
            if total > ctx.max_hours * 60:
                _scale_week(week, ctx.max_hours * 60 / total, ftp, ctx, route_name)
    # 5. ramp: each week at most (1 + p) × the highest earlier week (and the current load for week 1)
    if ctx.ramp is not None:
        best = None  # the highest earlier week of this plan (the current load only caps the first week)
        for n, week in enumerate(weeks):
            reference = baseline_tss if n == 0 else best
            for _ in range(20):
                tss = sum(w["tss"] for w in week)
                if reference is None or tss <= reference * (1 + ctx.ramp / 100) + 0.01:
                    break
                _scale_week(week, reference * (1 + ctx.ramp / 100) / tss, ftp, ctx, route_name)
            tss = sum(w["tss"] for w in week)
            best = tss if best is None else max(best, tss)
    return weeks


def _downgrade(week: list[dict], i: int, ctx: RuleContext, ftp: float, route_name=None) -> None:
    w = week[i]
    d = _day_of(w)
    kind = ctx.fallback(d, ("tempo", "endurance", "recovery"))
    week[i] = _make(date.fromisoformat(str(w["date"])[:10]), kind, w["duration_min"], ftp, ctx, None, route_name)


def _assemble(weeks: list[list[dict]], phases: list[str], start: date) -> dict:
    out = []
    for n, (workouts, phase) in enumerate(zip(weeks, phases, strict=False), start=1):
        out.append({"week": n, "start_date": (start + timedelta(weeks=n - 1)).isoformat(), "phase": phase,
                    "planned_hours": round(sum(w["duration_min"] for w in workouts) / 60, 2),
                    "planned_tss": round(sum(w["tss"] for w in workouts), 1), "workouts": workouts})
    return {"weeks": out}


def build_plan(start: date, weeks: int, constraints: list[Constraint], *, ftp_w: float, ctl: float = 0.0,
               weekly_hours: float = 7.0, preferences: UserPreferences | None = None,
               fitness_level: str = "intermediate", event_date: date | None = None,
               climbs: list[Climb] | None = None, route_name: str | None = None) -> dict:
    """The deterministic engine (pure: no database). Returns plan JSON that satisfies every constraint."""
    preferences = preferences or UserPreferences()
    ctx = RuleContext(list(constraints), {DAYS.index(d) for d in preferences.available_days},
                      preferences.indoor_outdoor)
    phases = phase_plan(weeks, fitness_level)
    hours_cap = ctx.max_hours if ctx.max_hours is not None else 40
    long_pref = DAYS.index(preferences.long_ride_day) if preferences.long_ride_day else None
    drafts = []
    for n, phase in enumerate(phases):
        lo, hi = _LOAD[phase]
        same = [i for i, p in enumerate(phases) if p == phase]
        progress = (same.index(n) / max(1, len(same) - 1)) if len(same) > 1 else 1.0
        hours = min(hours_cap, weekly_hours * (lo + (hi - lo) * progress))
        drafts.append(_build_week(start + timedelta(weeks=n), phase, hours, progress, ctx, ftp_w, climbs or [],
                                  route_name, long_pref))
    if event_date is not None:
        _place_race(drafts, event_date, ctx, ftp_w)
    baseline = 7 * ctl if ctl >= 15 else None
    enforce(drafts, ctx, ftp_w, baseline_tss=baseline, route_name=route_name)
    return _assemble(drafts, phases, start)


def _place_race(drafts: list[list[dict]], event_date: date, ctx: RuleContext, ftp: float) -> None:
    for week in drafts:
        for i, w in enumerate(week):
            if w["date"] == event_date.isoformat():
                d = event_date.weekday()
                if ctx.allowed(d, "race"):
                    week[i] = _make(event_date, "race", 180 if ctx.cap_minutes(d) >= 180 else ctx.cap_minutes(d),
                                    ftp, ctx)
                    # the day before: an easy opener
                    if i > 0 and week[i - 1]["type"] not in ("rest",):
                        kind = ctx.fallback(d - 1, ("recovery", "endurance"))
                        week[i - 1] = _make(date.fromisoformat(week[i - 1]["date"]), kind, 45, ftp, ctx)
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
    from core.athletes import ftp_on, get_athlete

    today = today or date.today()
    request = validate_request(request, today=today)
    athlete = get_athlete(cur, athlete_id)
    constraints, rules = constraints_of(cur, athlete_id, request.rule_ids)
    notes: list[str] = []
    conflicts = find_conflicts(constraints)
    blocking = [c for c in conflicts if "conflicts" in c or "no day left" in c or "forbids" in c or "no room" in c]
    if blocking:
        raise PlanGenerationError("The chosen rules contradict each other: " + " ".join(blocking))
    prefs = request.user_preferences
    available = {DAYS.index(d) for d in prefs.available_days}
    rest = {DAYS.index(d) for c in constraints if c.kind == "rest_days" for d in c.days}
    if not available - rest:
        raise PlanGenerationError("No available day is left once the rest days in your rules are taken out.")
    ftp = ftp_on(cur, athlete_id, today) or athlete.get("ftp_w")
    if not ftp:
        ftp = DEFAULT_FTP_W
        notes.append(f"No FTP in your profile: power targets assume {DEFAULT_FTP_W:.0f} W. Set it in Settings.")
    goals = request.goals
    if goals.target_ftp_w and goals.target_ftp_w < ftp:
        raise PlanGenerationError(f"Contradictory goals: the target FTP ({goals.target_ftp_w:g} W) is below your "
                                  f"current FTP ({ftp:g} W).")
    ctl = _current_fitness(cur, athlete_id, today)
    max_hours = min((c.limit for c in constraints if c.kind == "max_weekly_hours"), default=None)
    if goals.weekly_hours:
        hours = goals.weekly_hours
    elif goals.target_ctl:
        hours = goals.target_ctl * 7 / TSS_PER_HOUR
    elif ctl > 5:
        hours = max(4.0, min(14.0, ctl * 7 / TSS_PER_HOUR * 1.1))
    else:
        hours = HOURS_BY_LEVEL.get(athlete.get("fitness_level") or "intermediate", 7.0)
    if max_hours is not None and hours > max_hours:
        if goals.weekly_hours:
            raise PlanGenerationError(f"Contradictory goals: {goals.weekly_hours:g} hours a week is more than the "
                                      f"rule's limit of {max_hours:g} hours.")
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
        plan, generator, note = _ai_plan(service, request, constraints, kwargs)
        notes.append(note)
    elif settings is not None:
        notes.append("No AI service configured: the plan comes from the built-in periodisation engine.")
    if plan is None:
        plan = build_plan(request.start_date, request.duration_weeks, constraints, **kwargs)
    left = violations(plan, constraints)
    if left:  # never expected: the engine ends with enforce(); refuse rather than save a rule-breaking plan
        raise PlanGenerationError("No plan could satisfy every rule: " + "; ".join(left[:3]))
    pacing = [{"name": c.name, "duration_min": round(c.duration_min, 1), "avg_grade_pct": c.avg_grade_pct,
               "distance_m": c.distance_m, "power_w": c.power_w} for c in climbs]
    return PlanResult(plan, request, constraints,
                      [{"id": r["id"], "version": r["version"], "name": r["name"]} for r in rules], generator,
                      notes, float(ftp), round(ctl, 1), projected_ctl(plan, ctl), pacing)


def _ai_plan(service, request: PlanRequest, constraints: list[Constraint], kwargs: dict):
    """(plan or None, generator, note). None means: use the engine."""
    start, weeks = request.start_date, request.duration_weeks
    payload = {
        "start_date": start.isoformat(), "duration_weeks": weeks, "phases": phase_plan(weeks),
        "athlete": {"ftp_w": kwargs["ftp_w"], "ctl": round(kwargs["ctl"], 1), "weekly_hours": kwargs["weekly_hours"]},
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
        proposed = PlanModel(**reply.data).model_dump(mode="json")
    except (ValidationError, TypeError) as exc:
        first = str(exc).splitlines()[0][:160]
        return None, "engine", f"The AI's plan did not fit the plan format ({first}); the built-in engine made " \
                               "this plan instead."
    problem = _shape_problem(proposed, start, weeks)
    if problem:
        return None, "engine", f"The AI's plan {problem}; the built-in engine made this plan instead."
    broken = violations(proposed, constraints)
    if not broken:
        for week in proposed["weeks"]:  # derived totals are ours to compute
            week["planned_hours"] = round(sum(w["duration_min"] for w in week["workouts"]) / 60, 2)
            week["planned_tss"] = round(sum(w["tss"] for w in week["workouts"]), 1)
        return proposed, "ai", "Plan proposed by the AI coach; it honours every rule."
    ctx = RuleContext(constraints, {DAYS.index(d) for d in request.user_preferences.available_days},
                      request.user_preferences.indoor_outdoor)
    weeks_list = [w["workouts"] for w in proposed["weeks"]]
    for week in weeks_list:
        for w in week:
            w["target"] = dict(w.get("target") or {})
            w["target"].setdefault("indoor", False)
    enforce(weeks_list, ctx, kwargs["ftp_w"], route_name=kwargs.get("route_name"))
    repaired = _assemble(weeks_list, [w["phase"] for w in proposed["weeks"]], start)
    if violations(repaired, constraints):
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


# ----------------------------------------------------------------------------------------------------------------
# Storage
# ----------------------------------------------------------------------------------------------------------------

_PLAN_COLUMNS = ("id", "athlete_id", "name", "description", "start_date", "end_date", "goal_type", "goals",
                 "preferences", "duration_weeks", "active", "version", "parent_plan_id", "is_template", "generator",
                 "plan", "created_at")
_PLAN_SELECT = ("SELECT id, athlete_id, name, description, start_date, end_date, goal_type, goals, preferences, "
                "duration_weeks, active, version, parent_plan_id, is_template, generator, plan, created_at FROM plans")
_PLAN_LIST = ("SELECT id, athlete_id, name, description, start_date, end_date, goal_type, goals, preferences, "
              "duration_weeks, active, version, parent_plan_id, is_template, generator, created_at FROM plans")


def _goal_type(request: PlanRequest) -> str:
    g = request.goals
    if g.route_id is not None:
        return "route"
    if g.event_type:
        return g.event_type
    if g.event_date:
        return "event"
    if g.target_ftp_w:
        return "ftp"
    if g.target_ctl:
        return "ctl"
    return "general_fitness"


def _insert_plan(cur, athlete_id: int, *, name: str, description: str | None, plan: dict, goal_type: str | None,
                 goals: dict, preferences: dict, version: int, parent_plan_id: int | None, is_template: bool,
                 generator: str, rules: list[dict]) -> int:
    weeks = plan["weeks"]
    start = date.fromisoformat(str(weeks[0]["start_date"]))
    end = date.fromisoformat(str(weeks[-1]["start_date"])) + timedelta(days=6)
    plan_id = cur.execute(
        "INSERT INTO plans (athlete_id, name, description, start_date, end_date, goal_type, goals, preferences, "
        "duration_weeks, active, version, parent_plan_id, is_template, generator, plan) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?, ?) RETURNING id",
        [athlete_id, name, description, start, end, goal_type, json.dumps(goals, default=str),
         json.dumps(preferences, default=str), len(weeks), version, parent_plan_id, is_template, generator,
         json.dumps(plan, default=str)]).fetchone()[0]
    for rule in rules:
        cur.execute("INSERT INTO plan_rules (plan_id, rule_id, rule_version) VALUES (?, ?, ?)",
                    [plan_id, rule["id"], rule["version"]])
    rows = [{"plan_id": plan_id, "date": date.fromisoformat(str(w["date"])[:10]), "type": w["type"],
             "duration_min": float(w["duration_min"]), "targets": json.dumps(w.get("target") or {}),
             "tss": float(w["tss"]), "description": w.get("description") or ""}
            for week in weeks for w in week["workouts"]]
    if rows:
        frame = pd.DataFrame(rows)
        cur.register("planned_workouts_frame", frame)
        try:
            cur.execute("INSERT INTO planned_workouts (plan_id, date, type, duration_min, targets, tss, description) "
                        "SELECT plan_id, date, type, duration_min, targets::JSON, tss, description "
                        "FROM planned_workouts_frame")
        finally:
            cur.unregister("planned_workouts_frame")
    return plan_id


def save_plan(cur, athlete_id: int, result: PlanResult, *, name: str | None = None,
              description: str | None = None, activate: bool = False) -> int:
    """Store a generated plan (version 1) with its rule versions and workouts; optionally make it active."""
    request = result.request
    name = (name or request.name or "").strip()[:120] or \
        f"{request.duration_weeks}-week plan from {request.start_date:%d %b %Y}"
    goals = request.goals.model_dump(mode="json") | {"route_pacing": result.route_pacing}
    with transaction(cur):
        plan_id = _insert_plan(
            cur, athlete_id, name=name, description=description or request.description, plan=result.plan,
            goal_type=_goal_type(request), goals=goals, preferences=request.user_preferences.model_dump(mode="json"),
            version=1, parent_plan_id=None, is_template=False, generator=result.generator, rules=result.rules)
        if activate:
            _activate(cur, athlete_id, plan_id)
        audit(cur, "create", "plan", plan_id, athlete_id, generator=result.generator)
        bump_data_version(cur)
    return plan_id


def _plan_row(row) -> dict:
    data = dict(zip(_PLAN_COLUMNS, row, strict=False))
    for key in ("goals", "preferences", "plan"):
        if isinstance(data[key], str):
            data[key] = json.loads(data[key])
    return data


def get_plan(cur, plan_id: int, athlete_id: int | None = None) -> dict:
    row = cur.execute(_PLAN_SELECT + " WHERE id = ?", [plan_id]).fetchone()
    if row is None or (athlete_id is not None and row[1] != athlete_id):
        raise NotFoundError(f"Plan {plan_id} was not found")
    plan = _plan_row(row)
    plan["rules"] = [dict(zip(("id", "version", "name", "text"), r, strict=False)) for r in cur.execute(
        "SELECT pr.rule_id, pr.rule_version, r.name, r.text FROM plan_rules pr JOIN rules r ON r.id = pr.rule_id "
        "WHERE pr.plan_id = ? ORDER BY pr.rule_id", [plan_id]).fetchall()]
    return plan


def list_plans(cur, athlete_id: int, *, templates: bool = False) -> list[dict]:
    """Plans (without their JSON body), newest first."""
    cols = [c for c in _PLAN_COLUMNS if c != "plan"]
    rows = cur.execute(_PLAN_LIST + " WHERE athlete_id = ? AND is_template = ? ORDER BY id DESC",
                       [athlete_id, templates]).fetchall()
    out = []
    for row in rows:
        data = dict(zip(cols, row, strict=False))
        for key in ("goals", "preferences"):
            if isinstance(data[key], str):
                data[key] = json.loads(data[key])
        out.append(data)
    return out


def _activate(cur, athlete_id: int, plan_id: int) -> None:
    cur.execute("UPDATE plans SET active = false WHERE athlete_id = ? AND active AND id <> ?", [athlete_id, plan_id])
    cur.execute("UPDATE plans SET active = true WHERE id = ?", [plan_id])


def activate_plan(cur, athlete_id: int, plan_id: int) -> None:
    """Make this plan the athlete's one active plan."""
    plan = get_plan(cur, plan_id, athlete_id)
    if plan["is_template"]:
        raise PlanGenerationError("A template cannot be the active plan; make a plan from it first.")
    with transaction(cur):
        _activate(cur, athlete_id, plan_id)
        audit(cur, "activate", "plan", plan_id, athlete_id)
        bump_data_version(cur)


def deactivate_plan(cur, athlete_id: int, plan_id: int) -> None:
    get_plan(cur, plan_id, athlete_id)
    with transaction(cur):
        cur.execute("UPDATE plans SET active = false WHERE id = ?", [plan_id])
        bump_data_version(cur)


def delete_plan(cur, athlete_id: int, plan_id: int) -> None:
    """Delete a plan with its workouts and rule links; its later versions and analyses stay, unlinked."""
    get_plan(cur, plan_id, athlete_id)
    with transaction(cur):
        cur.execute("UPDATE plans SET parent_plan_id = NULL WHERE parent_plan_id = ?", [plan_id])
        cur.execute("UPDATE analyses SET plan_id = NULL WHERE plan_id = ?", [plan_id])
        delete_with_children(cur, "plans", [plan_id])
        audit(cur, "delete", "plan", plan_id, athlete_id)
        bump_data_version(cur)


def _constraints_for_plan(cur, plan: dict) -> list[Constraint]:
    from core.coach.rules import get_rule

    return [c for r in plan["rules"] for c in get_rule(cur, r["id"])["constraints"]]


def save_version(cur, athlete_id: int, plan_id: int, new_plan: dict, *, note: str | None = None) -> int:
    """Store an edited plan body as the next version of ``plan_id`` (validated against the schema and the
    plan's rules); the active flag moves to the new version."""
    old = get_plan(cur, plan_id, athlete_id)
    try:
        body = PlanModel(**_as_dict(new_plan)).model_dump(mode="json")
    except ValidationError as exc:
        raise PlanGenerationError(f"The edited plan is not valid — {_pydantic_message(exc)}") from None
    broken = violations(body, _constraints_for_plan(cur, old))
    if broken:
        raise PlanGenerationError("The edited plan breaks its rules: " + "; ".join(broken[:3]))
    latest = cur.execute("SELECT max(version) FROM plans WHERE id = ? OR parent_plan_id = ?",
                         [plan_id, plan_id]).fetchone()[0] or old["version"]
    with transaction(cur):
        new_id = _insert_plan(cur, athlete_id, name=old["name"], description=note or old["description"], plan=body,
                              goal_type=old["goal_type"], goals=old["goals"], preferences=old["preferences"],
                              version=max(latest, old["version"]) + 1, parent_plan_id=plan_id,
                              is_template=old["is_template"], generator=old["generator"],
                              rules=[{"id": r["id"], "version": r["version"]} for r in old["rules"]])
        if old["active"]:
            _activate(cur, athlete_id, new_id)
        audit(cur, "version", "plan", new_id, athlete_id, parent=plan_id)
        bump_data_version(cur)
    return new_id


def rollback_plan(cur, athlete_id: int, plan_id: int, to_plan_id: int | None = None) -> int:
    """Roll back: a new version of ``plan_id`` whose body is that of ``to_plan_id`` (default: its parent)."""
    current = get_plan(cur, plan_id, athlete_id)
    target_id = to_plan_id or current["parent_plan_id"]
    if target_id is None:
        raise PlanGenerationError(f"Plan “{current['name']}” is the first version; there is nothing to roll back to.")
    target = get_plan(cur, target_id, athlete_id)
    return save_version(cur, athlete_id, plan_id, target["plan"], note=f"Rolled back to version {target['version']}")


def branch_plan(cur, athlete_id: int, plan_id: int, name: str, *, template: bool = False) -> int:
    """Copy a plan under a new name (version 1, parent recorded), or as a template."""
    old = get_plan(cur, plan_id, athlete_id)
    name = (name or "").strip()[:120]
    if not name:
        raise PlanGenerationError("Give the copy a name.")
    with transaction(cur):
        new_id = _insert_plan(cur, athlete_id, name=name, description=old["description"], plan=old["plan"],
                              goal_type=old["goal_type"], goals=old["goals"], preferences=old["preferences"],
                              version=1, parent_plan_id=plan_id, is_template=template, generator=old["generator"],
                              rules=[{"id": r["id"], "version": r["version"]} for r in old["rules"]])
        audit(cur, "template" if template else "branch", "plan", new_id, athlete_id, parent=plan_id)
        bump_data_version(cur)
    return new_id


def plan_from_template(cur, athlete_id: int, template_id: int, start: date, name: str | None = None) -> int:
    """A new plan from a template, shifted to start on the Monday of ``start``."""
    template = get_plan(cur, template_id, athlete_id)
    start = start - timedelta(days=start.weekday())
    shift = start - date.fromisoformat(str(template["plan"]["weeks"][0]["start_date"]))
    body = json.loads(json.dumps(template["plan"]))
    for week in body["weeks"]:
        week["start_date"] = (date.fromisoformat(week["start_date"]) + shift).isoformat()
        for w in week["workouts"]:
            w["date"] = (date.fromisoformat(w["date"]) + shift).isoformat()
    with transaction(cur):
        new_id = _insert_plan(cur, athlete_id, name=name or f"{template['name']} ({start:%d %b %Y})",
                              description=template["description"], plan=body, goal_type=template["goal_type"],
                              goals=template["goals"], preferences=template["preferences"], version=1,
                              parent_plan_id=template_id, is_template=False, generator=template["generator"],
                              rules=[{"id": r["id"], "version": r["version"]} for r in template["rules"]])
        audit(cur, "from_template", "plan", new_id, athlete_id, parent=template_id)
        bump_data_version(cur)
    return new_id


def plan_versions(cur, athlete_id: int, plan_id: int) -> list[dict]:
    """The chain of versions through ``plan_id`` (following parent links up, and same-name children down)."""
    root = get_plan(cur, plan_id, athlete_id)
    while root["parent_plan_id"] is not None:
        parent = get_plan(cur, root["parent_plan_id"], athlete_id)
        if parent["version"] >= root["version"]:
            break  # a branch starts a new chain
        root = parent
    chain, frontier = [root], [root["id"]]
    while frontier:
        rows = cur.execute("SELECT id FROM plans WHERE parent_plan_id IN (SELECT unnest(?)) AND version > 1 "
                           "ORDER BY id", [frontier]).fetchall()
        frontier = [r[0] for r in rows]
        chain.extend(get_plan(cur, i, athlete_id) for i in frontier)
    return [{k: p[k] for k in ("id", "name", "version", "parent_plan_id", "active", "created_at")} for p in chain]


def compare_plans(a: dict, b: dict) -> list[dict]:
    """Week-by-week differences between two plan bodies: hours, TSS and changed workouts."""
    a, b = _as_dict(a), _as_dict(b)
    out = []
    for n in range(max(len(a["weeks"]), len(b["weeks"]))):
        wa = a["weeks"][n] if n < len(a["weeks"]) else None
        wb = b["weeks"][n] if n < len(b["weeks"]) else None
        day_a = {w["date"]: (w["type"], w["duration_min"]) for w in (wa or {}).get("workouts", [])}
        day_b = {w["date"]: (w["type"], w["duration_min"]) for w in (wb or {}).get("workouts", [])}
        changed = [{"date": d, "before": day_a.get(d), "after": day_b.get(d)}
                   for d in sorted(set(day_a) | set(day_b)) if day_a.get(d) != day_b.get(d)]
        if changed or (wa or {}).get("planned_tss") != (wb or {}).get("planned_tss"):
            out.append({"week": n + 1, "hours_before": (wa or {}).get("planned_hours"),
                        "hours_after": (wb or {}).get("planned_hours"), "tss_before": (wa or {}).get("planned_tss"),
                        "tss_after": (wb or {}).get("planned_tss"), "changed": changed})
    return out


# ----------------------------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------------------------

def export_json(plan_row: dict) -> str:
    """The plan as JSON: its metadata, the rule versions used and the weeks (no secrets: none are stored)."""
    keys = ("id", "name", "description", "start_date", "end_date", "goal_type", "goals", "preferences",
            "duration_weeks", "version", "generator", "rules")
    doc = {k: plan_row.get(k) for k in keys} | {"weeks": plan_row["plan"]["weeks"]}
    return json.dumps(doc, default=str, ensure_ascii=False, indent=2)


def export_ics(plan_row: dict) -> bytes:
    """iCalendar with one all-day event per training day (rest days left out)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//VeloCoach//Training plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", plan_row["name"])
    stamp = datetime.now(UTC)
    for week in plan_row["plan"]["weeks"]:
        for n, w in enumerate(week["workouts"]):
            if w["type"] == "rest":
                continue
            day = date.fromisoformat(str(w["date"])[:10])
            event = Event()
            event.add("uid", f"velocoach-plan{plan_row['id']}-v{plan_row.get('version', 1)}-{day}-{n}"
                             f"-{uuid.uuid5(uuid.NAMESPACE_URL, plan_row['name']).hex[:8]}@velocoach.local")
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", f"{w['type'].replace('_', ' ').capitalize()} {w['duration_min']:.0f} min "
                                 f"(TSS {w['tss']:.0f})")
            event.add("description", f"{w.get('description', '')}\nWeek {week['week']} · {week['phase']}")
            event.add("categories", [week["phase"], w["type"]])
            cal.add_component(event)
    return cal.to_ical()


__all__ = [
    "PlanGoals", "UserPreferences", "PlanRequest", "PlanModel", "PlanResult", "Climb", "RuleContext",
    "validate_request", "violations", "build_plan", "enforce", "phase_plan", "projected_ctl", "generate_plan",
    "save_plan", "get_plan", "list_plans", "activate_plan", "deactivate_plan", "delete_plan", "save_version",
    "rollback_plan", "branch_plan", "plan_from_template", "plan_versions", "compare_plans", "export_json",
    "export_ics", "route_climbs", "climb_power", "workout_tss", "next_monday", "WORKOUT_TYPES",
]


# ----------------------------------------------------------------------------------------------------------------
# Views for the page (pure)
# ----------------------------------------------------------------------------------------------------------------

_SHORT = {"rest": "–", "recovery": "Rec", "endurance": "End", "tempo": "Tempo", "sweet_spot": "SST",
          "threshold": "Thr", "vo2max": "VO2", "anaerobic": "Ana", "long": "Long", "race": "RACE"}


def calendar_frame(plan: dict) -> pd.DataFrame:
    """One row per week, one column per weekday: 'type minutes' (🏠 for indoors), plus phase, hours and TSS."""
    rows = []
    for week in _as_dict(plan)["weeks"]:
        row = {"Week": week["week"], "Starts": week["start_date"], "Phase": week["phase"]}
        for day in DAYS:
            row[DAY_NAMES[day][:3]] = ""
        for w in week["workouts"]:
            label = DAY_NAMES[DAYS[_day_of(w)]][:3]
            if w["type"] == "rest":
                text = "rest"
            else:
                text = f"{_SHORT[w['type']]} {w['duration_min']:.0f}′" + (" 🏠" if w["target"].get("indoor") else "")
            row[label] = f"{row[label]} + {text}" if row[label] else text
        row["Hours"] = week["planned_hours"]
        row["TSS"] = week["planned_tss"]
        rows.append(row)
    return pd.DataFrame(rows)


def weekly_frame(plan: dict, weekly_ctl: list[float] | None = None) -> pd.DataFrame:
    """Week start, phase, hours, TSS and projected CTL (for the chart)."""
    weeks = _as_dict(plan)["weeks"]
    frame = pd.DataFrame({"week": [w["week"] for w in weeks],
                          "start_date": pd.to_datetime([w["start_date"] for w in weeks]),
                          "phase": [w["phase"] for w in weeks], "hours": [w["planned_hours"] for w in weeks],
                          "tss": [w["planned_tss"] for w in weeks]})
    if weekly_ctl is not None and len(weekly_ctl) == len(weeks):
        frame["ctl"] = weekly_ctl
    return frame


def route_choices(cur, athlete_id: int) -> dict[int, str]:
    """Saved (planned) routes to pick as a goal: id → name."""
    rows = cur.execute("SELECT id, name FROM routes WHERE athlete_id = ? AND kind = 'planned' ORDER BY name, id",
                       [athlete_id]).fetchall()
    return {r[0]: r[1] for r in rows}
