"""The one checker of the rule semantics documented in core/coach/rules.py: ``violations(plan, constraints)``,
and ``RuleContext`` (what each weekday allows), shared by the engine, the AI repair pass and plan edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel

from core.coach.rules import (
    DAY_NAMES,
    DAYS,
    HARD_TYPES,
    Constraint,
)

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
