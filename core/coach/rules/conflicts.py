"""Conflicts, named by both sources: rule against rule (two constraints that cannot both hold) and rule against the
plan's goal (a rest or unavailable day on the event date, a weekly cap below the hours asked for).

A conflict is *blocking* when no plan can honour both sources (generation refuses and says which two); otherwise it
is a note the preview shows (e.g. a rest-day rule on the race day: the race is kept, the rule is exempt there).
This is a sure subset: what it misses, the checker still catches, and generation then names the rules it broke.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from core.coach.rules.model import (
    DAY_NAMES,
    DAYS,
    TYPE_LABELS,
    describe,
    expand_types,
    parse_constraint,
)


@dataclass(frozen=True)
class Conflict:
    message: str
    blocking: bool = True
    sources: tuple[str, ...] = field(default_factory=tuple)
    indices: tuple[int, ...] = field(default_factory=tuple)  # the constraints involved (rule vs rule)

    def __str__(self) -> str:
        return self.message


def _named(items: list, names: list[str] | None) -> list[str]:
    """How each constraint is named in a message: “rule name” (what it says), or just what it says."""
    out = []
    for i, c in enumerate(items):
        said = describe(c)
        name = names[i] if names and i < len(names) and names[i] else None
        out.append(f"“{name}” ({said})" if name and name != said else f"“{said}”")
    return out


def _plain_rest(c) -> bool:
    """A rest rule that holds on its weekdays in every week (no phase or event window)."""
    return c.kind == "rest_days" and not c.phases and not c.before_event_days


def rule_conflicts(constraints: list, *, names: list[str] | None = None,
                   hard_includes_sweet_spot: bool = True) -> list[Conflict]:
    """Pairs (or sets) of constraints that cannot all hold, each message naming both sources."""
    items = [parse_constraint(c) for c in constraints]
    label = _named(items, names)
    out: list[Conflict] = []

    def add(message: str, *idx: int) -> None:
        idx = tuple(dict.fromkeys(idx))
        who = " and ".join(label[i] for i in idx)
        out.append(Conflict(f"{who}: {message}", True, tuple(label[i] for i in idx), idx))

    rest_by_day: dict[str, int] = {}
    for i, c in enumerate(items):
        if _plain_rest(c):
            for d in c.effective_days():
                rest_by_day.setdefault(d, i)
    if len(rest_by_day) == 7:
        add("every day is a rest day, no training is left.", *sorted(set(rest_by_day.values())))
    for i, c in enumerate(items):
        if c.kind == "long_ride_days" and all(d in rest_by_day for d in c.days):
            add("the long-ride day is a rest day.", i, rest_by_day[c.days[0]])
        if c.kind == "fixed_session" and c.workout_type != "commute":
            for d in c.days:
                if d in rest_by_day:
                    add(f"the fixed session falls on a rest day ({DAY_NAMES[d]}).", i, rest_by_day[d])
                    break
            for j, other in enumerate(items):
                if other.kind not in ("banned_types", "allowed_types") or other.phases or other.before_event_days:
                    continue
                members = expand_types(other.types, hard_includes_sweet_spot=hard_includes_sweet_spot)
                hit = [d for d in c.days if d in other.effective_days()]
                banned = (c.workout_type in members) == (other.kind == "banned_types")
                if hit and banned:
                    add(f"the fixed {TYPE_LABELS[c.workout_type]} on {DAY_NAMES[hit[0]]} is not allowed there.",
                        i, j)
        if c.kind == "long_ride_days":
            for j, other in enumerate(items):
                if other.kind not in ("banned_types", "allowed_types") or other.phases or other.before_event_days:
                    continue
                banned = ("long" in expand_types(other.types)) == (other.kind == "banned_types")
                if banned and set(c.days) <= set(other.effective_days()):
                    add("long rides are not allowed on the long-ride day.", i, j)
    for kind in ("weekly_volume", "training_days", "type_count", "session_length"):
        group = [(i, c) for i, c in enumerate(items) if c.kind == kind]
        for ia, a in group:
            for ib, b in group:
                if ia == ib or a.min is None or b.max is None or a.min <= b.max:
                    continue
                if getattr(a, "unit", None) != getattr(b, "unit", None):
                    continue
                if kind in ("type_count", "session_length") and a.types != b.types and a.types and b.types:
                    continue
                if set(a.effective_days() if hasattr(a, "days") else DAYS) & \
                        set(b.effective_days() if hasattr(b, "days") else DAYS):
                    add(f"a minimum of {a.min:g} is above a maximum of {b.max:g}.", ia, ib)
    for i, c in enumerate(items):
        if c.kind == "training_days" and c.min is not None and not (c.days or c.except_days or c.phases):
            free = 7 - len(rest_by_day)
            if free < c.min:
                add(f"at least {c.min} training days a week, but only {free} days are not rest days.",
                    i, *sorted(set(rest_by_day.values())))
    banned_all = {}
    for i, c in enumerate(items):
        if c.kind == "banned_types" and not (c.days or c.except_days or c.phases or c.before_event_days):
            for t in expand_types(c.types, hard_includes_sweet_spot=hard_includes_sweet_spot):
                banned_all.setdefault(t, i)
    for i, c in enumerate(items):
        members = expand_types(getattr(c, "types", []) or [], hard_includes_sweet_spot=hard_includes_sweet_spot)
        if c.kind == "type_count" and c.min and members and members <= set(banned_all):
            add("a minimum number of sessions of a type that is banned.", i, banned_all[next(iter(members))])
    day_caps = [(i, c.max) for i, c in enumerate(items) if c.kind == "training_days" and c.max is not None
                and not (c.days or c.except_days or c.phases)]
    session_caps = [(i, c.max) for i, c in enumerate(items) if c.kind == "session_length" and c.unit == "min"
                    and c.max is not None and not (c.types or c.days or c.except_days or c.phases or
                                                   c.before_event_days)]
    for i, c in enumerate(items):
        if c.kind != "weekly_volume" or c.unit != "h" or c.min is None or c.phases:
            continue
        days = min(day_caps, key=lambda x: x[1], default=(None, 7 - len(rest_by_day)))
        length = min(session_caps, key=lambda x: x[1], default=(None, 720.0))
        if days[0] is None and length[0] is None:
            continue
        most = days[1] * length[1] / 60 + sum(f.duration_min * f.per_day * len(f.days) for f in items
                                               if f.kind == "fixed_session" and f.workout_type == "commute") / 60
        if c.min > most + 1e-9:
            others = [x for x in (days[0], length[0]) if x is not None] or sorted(set(rest_by_day.values()))
            add(f"at least {c.min:g} hours a week, but the other rules leave at most {most:.1f}.", i, *others)
    fixed_hours = sum(c.duration_min * c.per_day * len(c.days) for c in items if c.kind == "fixed_session") / 60
    for i, c in enumerate(items):
        if c.kind == "weekly_volume" and c.unit == "h" and c.max is not None and fixed_hours > c.max + 1e-9:
            fixed = [j for j, f in enumerate(items) if f.kind == "fixed_session"]
            add(f"the fixed sessions alone take {fixed_hours:.1f} h a week, above the cap of {c.max:g} h.", i, *fixed)
    seen, unique = set(), []
    for conflict in out:
        if conflict.message not in seen:
            seen.add(conflict.message)
            unique.append(conflict)
    return unique


def goal_conflicts(constraints: list, *, event_date: date | None = None, weekly_hours: float | None = None,
                   names: list[str] | None = None, goal: str = "your goal",
                   hard_includes_sweet_spot: bool = True) -> list[Conflict]:
    """Rules against the plan's goal: the event date (a rest/unavailable day, a ban on racing that day) and the
    weekly hours asked for (a cap below them or a minimum above them). Messages name the rule and the goal."""
    items = [parse_constraint(c) for c in constraints]
    label = _named(items, names)
    out: list[Conflict] = []
    if event_date is not None:
        weekday = DAYS[event_date.weekday()]
        event = f"{goal} on {event_date:%a %d %b %Y}"
        for i, c in enumerate(items):
            on_day = hasattr(c, "effective_days") and weekday in c.effective_days() and \
                (not getattr(c, "phases", None) or "taper" in c.phases) and not getattr(c, "before_event_days", None)
            if c.kind == "unavailable_dates" and c.start <= event_date <= c.end:
                out.append(Conflict(f"{label[i]} covers {event}: change the rule or the date.", True, (label[i], goal)))
            elif c.kind == "rest_days" and on_day and c.reason == "unavailable":
                out.append(Conflict(f"{label[i]} says you cannot ride on {DAY_NAMES[weekday]}s, the day of {event}: "
                                    "change the rule or the date.", True, (label[i], goal)))
            elif c.kind == "rest_days" and on_day:
                out.append(Conflict(f"{label[i]} makes {DAY_NAMES[weekday]} a rest day, but {event} is on that day: "
                                    "the race is kept and stays on its day.", False, (label[i], goal)))
            elif c.kind in ("banned_types", "allowed_types") and on_day:
                members = expand_types(c.types, hard_includes_sweet_spot=hard_includes_sweet_spot)
                if ("race" in members) == (c.kind == "banned_types"):
                    out.append(Conflict(f"{label[i]} does not allow racing on {DAY_NAMES[weekday]}, the day of "
                                        f"{event}: the race is kept and stays on its day.", False, (label[i], goal)))
    if weekly_hours is not None:
        for i, c in enumerate(items):
            if c.kind != "weekly_volume" or c.unit != "h" or c.phases:
                continue
            if c.max is not None and weekly_hours > c.max + 1e-9:
                out.append(Conflict(f"{label[i]} caps the week below the {weekly_hours:g} hours a week asked for in "
                                    f"{goal}: ask for {c.max:g} hours or fewer, or change the rule.", True,
                                    (label[i], goal)))
            if c.min is not None and weekly_hours < c.min - 1e-9:
                out.append(Conflict(f"{label[i]} asks for more than the {weekly_hours:g} hours a week of {goal}: ask "
                                    f"for at least {c.min:g} hours, or change the rule.", True, (label[i], goal)))
    return out


def conflicts_with(new_constraints: list, rules: list[dict], *, name: str = "this rule",
                   hard_includes_sweet_spot: bool = True) -> list[Conflict]:
    """Conflicts between a rule being previewed and the saved ``rules`` (rows with "name" and "constraints"),
    each naming both sources; conflicts among the saved rules alone are left out."""
    existing = [c for r in rules for c in r["constraints"]]
    names = [r["name"] for r in rules for _ in r["constraints"]] + [name] * len(new_constraints)
    first_new = len(existing)
    return [c for c in rule_conflicts(existing + list(new_constraints), names=names,
                                      hard_includes_sweet_spot=hard_includes_sweet_spot)
            if any(i >= first_new for i in c.indices) and any(i < first_new for i in c.indices)]
