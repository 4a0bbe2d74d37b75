"""The rule language (schema version 2): vocabulary, groups, the 16 constraint kinds, comparison, plain words.

One constraint is one *kind* with typed fields; every model refuses unknown fields (``extra="forbid"``) and checks
every number, so nothing a parser (or an AI) proposes can mean something the checker does not know. The exact
meaning of each kind is in its class docstring and is implemented once, in ``core.coach.plans.check``; the rider's
version of the same text is in docs/COACHING.md ("Training rules").

Vocabulary: days ``mon … sun``; workout types (``WORKOUT_TYPES``); groups (``GROUPS``) stored by name and
expanded only when checking, so the Settings choice "sweet spot counts as hard" applies to saved rules too; phases
of a plan week ``base build peak taper recovery`` (loading = base, build, peak).

General rules of every kind (the checker applies them):
- Scope: a workout is in scope when its weekday is among the effective days (``days``, all seven when empty, minus
  ``except_days``), its week's phase is in ``phases`` (all when empty) and, with ``before_event_days`` N, its date
  is one of the N days before the event (the event day excluded).
- Minimums are tested on loading weeks only (unless ``phases`` is given); maximums on every week in scope.
- The event (the ``race`` on the goal date) is exempt from every kind; a rule that hits it is a conflict.
- Commutes are exempt from every kind except ``weekly_volume``, ``ramp_limit``, ``fixed_session`` and
  ``unavailable_dates``: they never make a training day, a hard day, or break a rest day.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

SCHEMA_VERSION = 2

# ---------------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------------

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS: tuple[str, ...] = DAYS[:5]
WEEKEND: tuple[str, ...] = DAYS[5:]
DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}

WorkoutType = Literal["rest", "recovery", "endurance", "tempo", "sweet_spot", "threshold", "vo2max", "anaerobic",
                      "sprint", "long", "race", "test", "group_ride", "commute"]
WORKOUT_TYPES: tuple[str, ...] = WorkoutType.__args__  # type: ignore[attr-defined]
Group = Literal["hard", "intervals", "intensity", "easy", "any"]
GROUPS: tuple[str, ...] = Group.__args__  # type: ignore[attr-defined]
TypeOrGroup = Literal[WorkoutType, Group]  # flattened by typing
TYPE_ORDER = {name: i for i, name in enumerate(WORKOUT_TYPES + GROUPS)}

Phase = Literal["base", "build", "peak", "taper", "recovery"]
PHASES: tuple[str, ...] = Phase.__args__  # type: ignore[attr-defined]
LOADING_PHASES: tuple[str, ...] = ("base", "build", "peak")

_HARD = ("sweet_spot", "threshold", "vo2max", "anaerobic", "sprint", "race", "test", "group_ride")
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "hard": _HARD,
    "intervals": ("tempo", "sweet_spot", "threshold", "vo2max", "anaerobic", "sprint"),
    "intensity": ("tempo",) + _HARD,
    "easy": ("recovery", "endurance"),
    "any": tuple(t for t in WORKOUT_TYPES if t not in ("rest", "commute")),
}
# the hard *training* types the engine schedules; a rule set that leaves none of them "removes all intensity"
INTENSITY_TRAINING: tuple[str, ...] = ("sweet_spot", "threshold", "vo2max", "anaerobic", "sprint")

TYPE_LABELS = {"rest": "rest", "recovery": "recovery", "endurance": "endurance (Z2)", "tempo": "tempo",
               "sweet_spot": "sweet spot", "threshold": "threshold", "vo2max": "VO2max", "anaerobic": "anaerobic",
               "sprint": "sprints", "long": "long ride", "race": "race", "test": "FTP test",
               "group_ride": "group ride", "commute": "commute"}
GROUP_LABELS = {"hard": "hard", "intervals": "intervals", "intensity": "intensity", "easy": "easy",
                "any": "any ride"}
KIND_LABELS = {
    "rest_days": "Rest days", "unavailable_dates": "Away (dates)", "allowed_types": "Only these workouts",
    "banned_types": "No such workouts", "session_length": "Session length", "weekly_volume": "Weekly volume",
    "training_days": "Training days per week", "type_count": "Sessions per week", "max_consecutive": "In a row",
    "day_after": "Day after", "long_ride_days": "Long-ride day", "fixed_session": "Fixed session",
    "taper": "Taper", "recovery_cadence": "Recovery weeks", "ramp_limit": "Ramp limit", "venue": "Indoor / outdoor",
}


def group_members(name: str, *, hard_includes_sweet_spot: bool = True) -> tuple[str, ...]:
    """The concrete types a group covers under the rider's setting (a type name covers itself)."""
    members = DEFAULT_GROUPS.get(name, (name,))
    if name == "hard" and not hard_includes_sweet_spot:
        members = tuple(t for t in members if t != "sweet_spot")
    return members


def expand_types(types, *, hard_includes_sweet_spot: bool = True) -> set[str]:
    """The concrete workout types a types list covers (groups expanded; sweet spot stays in "intensity")."""
    out: set[str] = set()
    for name in types:
        out.update(group_members(name, hard_includes_sweet_spot=hard_includes_sweet_spot))
    return out


def hard_types(*, hard_includes_sweet_spot: bool = True) -> frozenset[str]:
    return frozenset(group_members("hard", hard_includes_sweet_spot=hard_includes_sweet_spot))


def group_coverage(name: str, *, hard_includes_sweet_spot: bool = True) -> str:
    """What a group covers, in the preview's words: 'hard = sweet spot, threshold, VO2max, …'."""
    members = group_members(name, hard_includes_sweet_spot=hard_includes_sweet_spot)
    text = f"{GROUP_LABELS[name]} = " + ", ".join(TYPE_LABELS[t] for t in members)
    if name == "hard":
        text += f" (sweet spot counts as hard: {'yes' if hard_includes_sweet_spot else 'no'}, see Settings)"
    return text


def _sorted_days(values) -> list[str]:
    return [d for d in DAYS if d in set(values)]


def _sorted_types(values) -> list[str]:
    return sorted(dict.fromkeys(values), key=lambda t: TYPE_ORDER[t])


def _in_range(value: float | None, low: float, high: float, what: str) -> None:
    if value is not None and not (low <= value <= high):
        raise ValueError(f"{what} must be between {low:g} and {high:g} (got {value:g})")


# ---------------------------------------------------------------------------------------------------------------
# Constraint kinds
# ---------------------------------------------------------------------------------------------------------------

class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str  # narrowed to a Literal by each kind; declared here so that "kind" comes first in the JSON

    def effective_days(self) -> list[str]:
        days = getattr(self, "days", None) or list(DAYS)
        excluded = set(getattr(self, "except_days", None) or ())
        return [d for d in DAYS if d in days and d not in excluded]


class _WeekScope(_Kind):
    """Scope of a kind: days (empty = every day) minus except_days, and phases (empty = every week)."""

    days: list[Day] = Field(default_factory=list, max_length=7)
    except_days: list[Day] = Field(default_factory=list, max_length=6)
    phases: list[Phase] = Field(default_factory=list, max_length=5)

    @field_validator("days", "except_days")
    @classmethod
    def _days_sorted(cls, v):
        return _sorted_days(v)

    @field_validator("phases")
    @classmethod
    def _phases_sorted(cls, v):
        return [p for p in PHASES if p in set(v)]

    @model_validator(mode="after")
    def _fold_except(self):
        if self.days and self.except_days:  # "weekdays except Wednesday" == mon, tue, thu, fri
            self.days = [d for d in self.days if d not in self.except_days]
            self.except_days = []
            if not self.days:
                raise ValueError("the exceptions remove every day named")
        if len(self.except_days) == 7:
            raise ValueError("every day is an exception")
        return self


class _DayScope(_WeekScope):
    """Scope of a per-workout kind: the week scope plus a window of N days before the event."""

    before_event_days: int | None = Field(None, ge=1, le=42)


def _check_types(types: list[str], *, allow_empty: bool, allow_any: bool = True) -> list[str]:
    if not types and not allow_empty:
        raise ValueError("name at least one workout type or group")
    if "rest" in types:
        raise ValueError("'rest' is not a workout type here: use rest_days")
    if "commute" in types:
        raise ValueError("commutes are fixed sessions and exempt from this kind: change the fixed session instead")
    if not allow_any and "any" in types:
        raise ValueError("'any' is not allowed here (banning every workout is rest_days)")
    return _sorted_types(types)


class RestDays(_DayScope):
    """Every in-scope date has no workout other than rest (commutes allowed). ``reason`` (rest | unavailable) only
    words conflicts: the event or a fixed session on an unavailable day is refused, on a rest day it is noted."""

    kind: Literal["rest_days"] = "rest_days"
    reason: Literal["rest", "unavailable"] = "rest"

    @model_validator(mode="after")
    def _check(self):
        if not (self.days or self.except_days or self.before_event_days):
            raise ValueError("rest_days needs days (or a window before the event)")
        if len(self.effective_days()) == 7 and not self.phases and not self.before_event_days:
            raise ValueError("every day would be a rest day: no training is left")
        return self


class UnavailableDates(_Kind):
    """Every date from start to end (inclusive) has no workout other than rest; commutes are dropped too."""

    kind: Literal["unavailable_dates"] = "unavailable_dates"
    start: date
    end: date

    @model_validator(mode="after")
    def _check(self):
        if self.end < self.start:
            raise ValueError("the end date is before the start date")
        if (self.end - self.start).days > 120:
            raise ValueError("an unavailable range is at most 121 days")
        return self


class AllowedTypes(_DayScope):
    """Every in-scope workout is rest or of one of ``types`` ("easy-only days" = ``["easy"]``)."""

    kind: Literal["allowed_types"] = "allowed_types"
    types: list[TypeOrGroup] = Field(max_length=20)

    @field_validator("types")
    @classmethod
    def _types(cls, v):
        return _check_types(v, allow_empty=False)


class BannedTypes(_DayScope):
    """No in-scope workout is of one of ``types``."""

    kind: Literal["banned_types"] = "banned_types"
    types: list[TypeOrGroup] = Field(max_length=20)

    @field_validator("types")
    @classmethod
    def _types(cls, v):
        return _check_types(v, allow_empty=False, allow_any=False)


_LENGTH_RANGE = {"min": (10, 720), "km": (5, 400), "mi": (3, 250)}
_VOLUME_RANGE = {"h": (0.5, 40), "km": (10, 1500), "mi": (5, 1000), "tss": (20, 2500)}


def _check_min_max(obj, low: float, high: float, what: str):
    if obj.min is None and obj.max is None:
        raise ValueError(f"{what} needs a minimum, a maximum or both")
    _in_range(obj.min, low, high, f"{what} minimum")
    _in_range(obj.max, low, high, f"{what} maximum")
    if obj.min is not None and obj.max is not None and obj.min > obj.max:
        raise ValueError(f"{what}: the minimum ({obj.min:g}) is above the maximum ({obj.max:g})")
    return obj


class SessionLength(_DayScope):
    """Every in-scope workout (of ``types``; every type when empty) lasts ≤ max (every week) and ≥ min (loading
    weeks) minutes, or covers that distance (km/mi: duration × the athlete's average speed, 25 km/h when unknown).
    "Max 2 h a day" is this kind (one training workout a day); the long ride's cap is ``types=["long"]``."""

    kind: Literal["session_length"] = "session_length"
    types: list[TypeOrGroup] = Field(default_factory=list, max_length=20)
    min: float | None = None
    max: float | None = None
    unit: Literal["min", "km", "mi"] = "min"

    @field_validator("types")
    @classmethod
    def _types(cls, v):
        return _check_types(v, allow_empty=True)

    @model_validator(mode="after")
    def _check(self):
        return _check_min_max(self, *_LENGTH_RANGE[self.unit], f"session length ({self.unit})")


class WeeklyVolume(_Kind):
    """For every week in scope the summed hours, distance or TSS of all its workouts (commutes and fixed sessions
    included, the event excluded) is ≤ max, and on loading weeks ≥ min."""

    kind: Literal["weekly_volume"] = "weekly_volume"
    min: float | None = None
    max: float | None = None
    unit: Literal["h", "km", "mi", "tss"] = "h"
    phases: list[Phase] = Field(default_factory=list, max_length=5)

    @field_validator("phases")
    @classmethod
    def _phases_sorted(cls, v):
        return [p for p in PHASES if p in set(v)]

    @model_validator(mode="after")
    def _check(self):
        return _check_min_max(self, *_VOLUME_RANGE[self.unit], f"weekly volume ({self.unit})")


class TrainingDays(_WeekScope):
    """Per week, the number of training days (a date with a workout other than rest or commute) among the
    effective days is ≤ max, and on loading weeks ≥ min. "At least 2 rest days a week" = ``max 5``."""

    kind: Literal["training_days"] = "training_days"
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _check(self):
        _check_min_max(self, 1, 7, "training days per week")
        if self.max is not None and self.max > len(self.effective_days()):
            raise ValueError("more training days than days in scope")
        return self


class TypeCount(_WeekScope):
    """Per week, the number of workouts of ``types`` on the effective days is ≤ max, and on loading weeks ≥ min.
    A maximum of 0 is a ban (``banned_types``)."""

    kind: Literal["type_count"] = "type_count"
    types: list[TypeOrGroup] = Field(max_length=20)
    min: int | None = None
    max: int | None = None

    @field_validator("types")
    @classmethod
    def _types(cls, v):
        return _check_types(v, allow_empty=False)

    @model_validator(mode="after")
    def _check(self):
        if self.max == 0:
            raise ValueError("a maximum of 0 is a ban: use banned_types")
        return _check_min_max(self, 1, 14, "sessions per week")


class MaxConsecutive(_Kind):
    """No run of more than ``limit`` consecutive calendar days (across weeks) each with a workout of ``types``.
    "Never hard days back to back" = hard, 1; "never ride more than 5 days in a row" = any, 5."""

    kind: Literal["max_consecutive"] = "max_consecutive"
    types: list[TypeOrGroup] = Field(default_factory=lambda: ["hard"], max_length=20)
    limit: int = Field(ge=1, le=7)

    @field_validator("types")
    @classmethod
    def _types(cls, v):
        return _check_types(v, allow_empty=False)


class DayAfter(_Kind):
    """Whenever the ``streak`` consecutive days ending on day D each have a workout of ``trigger``, each of the
    ``following_days`` days after D has only rest (``rest``), rest or recovery (``recovery``), or rest or easy
    types (``easy``)."""

    kind: Literal["day_after"] = "day_after"
    trigger: list[TypeOrGroup] = Field(default_factory=lambda: ["hard"], max_length=20)
    streak: int = Field(1, ge=1, le=6)
    then: Literal["rest", "recovery", "easy"] = "rest"
    following_days: int = Field(1, ge=1, le=3)

    @field_validator("trigger")
    @classmethod
    def _types(cls, v):
        return _check_types(v, allow_empty=False)

    @model_validator(mode="after")
    def _check(self):
        if self.trigger == ["any"] and self.then == "rest" and self.following_days == 1:
            raise ValueError("a rest day after N training days in a row is max_consecutive (types any, limit N)")
        return self


class LongRideDays(_Kind):
    """Every ``long`` workout is on one of ``days``; the engine places the week's long ride there."""

    kind: Literal["long_ride_days"] = "long_ride_days"
    days: list[Day] = Field(min_length=1, max_length=7)

    @field_validator("days")
    @classmethod
    def _days_sorted(cls, v):
        return _sorted_days(v)


class FixedSession(_Kind):
    """On every plan date whose weekday is in ``days`` (except unavailable dates and the event day) there are
    ``per_day`` workouts of ``workout_type`` of ``duration_min`` each (±10 %), indoors when ``indoor``. They count
    in hours, TSS and every other kind (commutes only in volume and ramp). "40 min each way Mon–Fri" = commute,
    40, per_day 2."""

    kind: Literal["fixed_session"] = "fixed_session"
    days: list[Day] = Field(min_length=1, max_length=7)
    workout_type: WorkoutType
    duration_min: float = Field(ge=10, le=480)
    per_day: int = Field(1, ge=1, le=2)
    indoor: bool | None = None

    @field_validator("days")
    @classmethod
    def _days_sorted(cls, v):
        return _sorted_days(v)

    @field_validator("workout_type")
    @classmethod
    def _not_rest(cls, v):
        if v == "rest":
            raise ValueError("a fixed session cannot be rest: use rest_days")
        return v


class Taper(_Kind):
    """The last ceil(length_days / 7) weeks (the event week counted) have phase taper and no earlier week does;
    with ``volume_drop_pct`` P each taper week's hours ≤ (1 − P/100) × the last loading week's. Replaces the
    engine's default taper."""

    kind: Literal["taper"] = "taper"
    length_days: int = Field(ge=0, le=35)
    volume_drop_pct: float | None = Field(None, ge=10, le=80)


class RecoveryCadence(_Kind):
    """Before the taper, no run of more than ``load_weeks`` loading weeks, and every run of recovery weeks is
    exactly ``recovery_weeks`` long; with ``recovery_load_pct`` P a recovery week's TSS ≤ P % of the last loading
    week's. Replaces the engine's default cadence."""

    kind: Literal["recovery_cadence"] = "recovery_cadence"
    load_weeks: int = Field(ge=1, le=6)
    recovery_weeks: int = Field(1, ge=1, le=2)
    recovery_load_pct: float | None = Field(None, ge=30, le=90)


class RampLimit(_Kind):
    """Each loading week's TSS or hours ≤ the most recent earlier loading week's × (1 + limit/100) (``pct``) or
    + limit (``abs``); the first loading week compares with the athlete's recent weekly mean (4 weeks) when known.
    ``ctl``: the projected CTL at the end of a week minus at the end of the previous ≤ limit points. Replaces the
    engine's default ramp."""

    kind: Literal["ramp_limit"] = "ramp_limit"
    metric: Literal["tss", "hours", "ctl"] = "tss"
    limit: float
    unit: Literal["pct", "abs"] = "pct"

    @model_validator(mode="after")
    def _check(self):
        if self.metric == "ctl" and self.unit != "abs":
            raise ValueError("a CTL ramp is in CTL points per week (unit abs)")
        ranges = {("tss", "pct"): (0, 100), ("hours", "pct"): (0, 100), ("tss", "abs"): (0, 300),
                  ("hours", "abs"): (0, 5), ("ctl", "abs"): (0, 15)}
        _in_range(self.limit, *ranges[(self.metric, self.unit)], f"{self.metric} ramp ({self.unit})")
        return self


class Venue(_DayScope):
    """Every in-scope workout (of ``types``; all when empty) is indoors (``where`` indoor) or outdoors."""

    kind: Literal["venue"] = "venue"
    where: Literal["indoor", "outdoor"]
    types: list[TypeOrGroup] = Field(default_factory=list, max_length=20)

    @field_validator("types")
    @classmethod
    def _types(cls, v):
        return _check_types(v, allow_empty=True)


Constraint = Annotated[RestDays | UnavailableDates | AllowedTypes | BannedTypes | SessionLength | WeeklyVolume | TrainingDays | TypeCount | MaxConsecutive | DayAfter | LongRideDays | FixedSession | Taper | RecoveryCadence | RampLimit | Venue, Field(discriminator="kind")]
CONSTRAINT = TypeAdapter(Constraint)
CONSTRAINT_LIST = TypeAdapter(list[Constraint])
KINDS: tuple[str, ...] = tuple(m.model_fields["kind"].default for m in Constraint.__origin__.__args__)  # type: ignore
# fields that do not change what the checker tests (left out of the comparison key)
INFORMATIONAL_FIELDS = {"reason"}


def parse_constraint(data) -> BaseModel:
    """A version-2 constraint from its JSON dict (raises pydantic.ValidationError); a model passes through."""
    return data if isinstance(data, BaseModel) else CONSTRAINT.validate_python(data)


def constraint_json(c) -> dict:
    """The compact JSON of a constraint: kind first, fields left at their default omitted."""
    c = parse_constraint(c)
    return {"kind": c.kind} | c.model_dump(mode="json", exclude_defaults=True)


# ---------------------------------------------------------------------------------------------------------------
# Comparison and merging (the bench's *exact*, de-duplication)
# ---------------------------------------------------------------------------------------------------------------

def constraint_key(c: BaseModel) -> str:
    """A canonical string for exact-match comparison: every semantic field, days as the effective set, type lists
    as the concrete types they cover (so ["easy"] == ["recovery", "endurance"]); ``reason`` is left out."""
    data = c.model_dump(mode="json", exclude=INFORMATIONAL_FIELDS)
    for field in ("types", "trigger"):  # compare meanings: groups expanded with the default membership
        if data.get(field):
            data[field] = sorted(expand_types(data[field]), key=lambda t: TYPE_ORDER[t])
    if "except_days" in data:
        data["days"] = c.effective_days()  # type: ignore[attr-defined]
        data.pop("except_days")
    for k, v in list(data.items()):
        if isinstance(v, float):
            data[k] = round(v, 2)
    return json.dumps(data, sort_keys=True)


def _merge_pair(a: BaseModel, b: BaseModel) -> BaseModel | None:
    """One constraint equal in meaning to a AND b, when that is a single constraint of the same kind; else None."""
    if a.kind != b.kind:  # type: ignore[attr-defined]
        return None
    da, db = a.model_dump(), b.model_dump()
    kind = da["kind"]
    if kind in ("rest_days", "banned_types", "venue"):
        # a ban on a set of days AND a ban on another set = a ban on the union (same everything else)
        same = {k: v for k, v in da.items() if k not in ("days", "except_days", "reason", "types")}
        other = {k: v for k, v in db.items() if k not in ("days", "except_days", "reason", "types")}
        if same != other:
            return None
        ea, eb = a.effective_days(), b.effective_days()  # type: ignore[attr-defined]
        if da.get("types", None) == db.get("types", None):
            merged = dict(da, days=_sorted_days(set(ea) | set(eb)), except_days=[])
            if kind == "rest_days":
                merged["reason"] = "unavailable" if "unavailable" in (da["reason"], db["reason"]) else "rest"
            if len(merged["days"]) == 7 and kind != "rest_days":
                merged["days"] = []
            try:
                return parse_constraint(merged)
            except ValidationError:
                return None
        if kind == "banned_types" and ea == eb:
            return parse_constraint(dict(da, types=list(set(da["types"]) | set(db["types"]))))
        return None
    if kind in ("weekly_volume", "session_length", "training_days", "type_count"):
        rest_a = {k: v for k, v in da.items() if k not in ("min", "max")}
        rest_b = {k: v for k, v in db.items() if k not in ("min", "max")}
        if rest_a != rest_b:
            return None
        if (da["min"] is None) != (db["min"] is None) and (da["max"] is None) != (db["max"] is None):
            lo = da["min"] if da["min"] is not None else db["min"]
            hi = da["max"] if da["max"] is not None else db["max"]
            try:
                return parse_constraint(dict(da, min=lo, max=hi))
            except ValidationError:
                return None
    return None


def normalise(constraints: list) -> list:
    """Merge constraints that together mean one constraint (rest Tue + rest Sat = rest Tue, Sat; min 6 h + max 10 h
    = 6–10 h), drop exact duplicates. Intersections (allowed_types, long_ride_days) are never merged."""
    items = [parse_constraint(c) for c in constraints]
    changed = True
    while changed:
        changed = False
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                same = constraint_key(items[i]) == constraint_key(items[j])
                merged = items[i] if same else _merge_pair(items[i], items[j])
                if merged is not None:
                    items = [x for k, x in enumerate(items) if k not in (i, j)] + [merged]
                    changed = True
                    break
            if changed:
                break
    return sorted(items, key=constraint_key)


def same_constraints(expected: list, got: list) -> bool:
    """The bench's *exact*: the same set of constraints after normalise (kind, days, types, phase, limits, units)."""
    return sorted(map(constraint_key, normalise(expected))) == sorted(map(constraint_key, normalise(got)))


# ---------------------------------------------------------------------------------------------------------------
# Plain words (the preview, rule lists, conflict messages)
# ---------------------------------------------------------------------------------------------------------------

def days_words(c) -> str:
    """'every day', 'weekdays', 'Monday, Friday' plus the phase and event-window scope."""
    days = c.effective_days()
    if len(days) == 7:
        where = "every day"
    elif days == list(WEEKDAYS):
        where = "weekdays"
    elif days == list(WEEKEND):
        where = "weekends"
    else:
        where = ", ".join(DAY_NAMES[d] for d in days)
    if getattr(c, "phases", None):
        where += " in " + "/".join(c.phases) + " weeks"
    if getattr(c, "before_event_days", None):
        where += f" in the {c.before_event_days} day(s) before the event"
    return where


def types_words(types) -> str:
    return ", ".join(GROUP_LABELS.get(t) or TYPE_LABELS[t] for t in types) or "every ride"


def _range(c, unit: str) -> str:
    if c.min is not None and c.max is not None:
        return f"between {c.min:g} and {c.max:g} {unit}"
    return f"at most {c.max:g} {unit}" if c.max is not None else f"at least {c.min:g} {unit}"


def describe(c) -> str:
    """Plain words for one constraint (groups by name; ``covers`` says what they hold)."""
    c = parse_constraint(c)
    k = c.kind
    if k == "rest_days":
        return f"{'Unavailable' if c.reason == 'unavailable' else 'Rest'}: {days_words(c)}"
    if k == "unavailable_dates":
        return f"No training from {c.start} to {c.end}"
    if k == "allowed_types":
        return f"Only {types_words(c.types)} on {days_words(c)}"
    if k == "banned_types":
        return f"No {types_words(c.types)} on {days_words(c)}"
    if k == "session_length":
        what = f"Each {types_words(c.types)} session" if c.types else "Each ride"
        return f"{what} {_range(c, c.unit)} on {days_words(c)}"
    if k == "weekly_volume":
        unit = {"h": "hours", "tss": "TSS"}.get(c.unit, c.unit)
        return f"Weekly {_range(c, unit)}" + (f" in {'/'.join(c.phases)} weeks" if c.phases else "")
    if k in ("training_days", "type_count"):
        what = "training days" if k == "training_days" else f"{types_words(c.types)} session(s)"
        scoped = c.days or c.except_days or c.phases
        text = f"{_range(c, what)} per week" + (f" (counting {days_words(c)})" if scoped else "")
        return text[0].upper() + text[1:]
    if k == "max_consecutive":
        return f"Never more than {c.limit} day(s) in a row with {types_words(c.types)}"
    if k == "day_after":
        then = {"rest": "rest", "recovery": "rest or recovery only", "easy": "easy riding or rest only"}[c.then]
        return (f"After {c.streak} day(s) in a row of {types_words(c.trigger)}: {c.following_days} day(s) of "
                f"{then}")
    if k == "long_ride_days":
        return f"Long ride on {' or '.join(DAY_NAMES[d] for d in c.days)}"
    if k == "fixed_session":
        each = " each way" if c.per_day == 2 else ""
        where = " (indoors)" if c.indoor else ""
        return (f"Fixed {TYPE_LABELS[c.workout_type]} {c.duration_min:g} min{each}{where} on "
                f"{', '.join(DAY_NAMES[d] for d in c.days)}")
    if k == "taper":
        drop = f", volume down {c.volume_drop_pct:g} %" if c.volume_drop_pct else ""
        return f"Taper of {c.length_days} days before the event{drop}"
    if k == "recovery_cadence":
        share = f" at ≤ {c.recovery_load_pct:g} % of the last loading week's TSS" if c.recovery_load_pct else ""
        return f"{c.load_weeks} loading week(s) then {c.recovery_weeks} recovery week(s){share}"
    if k == "ramp_limit":
        unit = "%" if c.unit == "pct" else {"tss": " TSS", "hours": " h", "ctl": " CTL points"}[c.metric]
        metric = {"tss": "TSS", "hours": "hours", "ctl": "CTL"}[c.metric]
        return f"Weekly {metric} rises at most {c.limit:g}{unit} over the last loading week"
    what = types_words(c.types) if c.types else "Every ride"
    return f"{what[0].upper() + what[1:]} {c.where}s on {days_words(c)}"


def covers(c, *, hard_includes_sweet_spot: bool = True) -> list[str]:
    """What the groups named by a constraint cover, one line each (the preview shows them under the rule)."""
    names = list(getattr(c, "types", None) or []) + list(getattr(c, "trigger", None) or [])
    return [group_coverage(g, hard_includes_sweet_spot=hard_includes_sweet_spot)
            for g in dict.fromkeys(names) if g in DEFAULT_GROUPS]
