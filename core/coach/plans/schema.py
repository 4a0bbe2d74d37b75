"""Plan vocabulary and request schemas: phases, event types, session intensities, and the validated plan request.

Plan JSON (stored in ``plans.plan``, exported, and what the AI must return)::

    {"weeks": [{"week", "start_date", "phase", "planned_hours", "planned_tss", "why",
                "workouts": [{"date", "type", "duration_min", "tss", "target", "description", "steps"}]}]}

Every week lists all seven days (rest days as type ``rest``, 0 min). ``phase`` is base, build, peak, taper or
recovery (the easy week every 3–4 weeks); ``why`` is the week's sentence. ``steps`` is the structured workout
(core.coach.workouts: targets in % FTP, resolved to watts where shown or exported) and ``tss`` is computed from it;
``target`` holds ``workout_id``, ``name``, ``zone``, ``power_pct``, ``if``, ``intervals``, ``indoor`` (and for races
``event``/``priority``, for route sessions ``climbs``). Plans saved before steps existed have none (empty list)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from core.coach.rules.model import (
    DAY_NAMES,
    DAYS,
    Day,
    WorkoutType,
)
from core.coach.workouts import Repeat, Step
from core.errors import PlanGenerationError

PHASES = ("base", "build", "peak", "taper", "recovery")
EVENT_TYPES = ("road_race", "gran_fondo", "time_trial", "criterium", "stage_race", "climbing_event",
               "general_fitness")
# average intensity factor of a whole session of each type (warm-up and recoveries included)
SESSION_IF = {"rest": 0.0, "recovery": 0.55, "endurance": 0.68, "long": 0.70, "tempo": 0.80, "sweet_spot": 0.84,
              "threshold": 0.86, "vo2max": 0.83, "anaerobic": 0.78, "race": 0.92, "sprint": 0.72, "test": 0.88,
              "group_ride": 0.82, "commute": 0.60}
# (zone, low %FTP, high %FTP) of the work part
ZONES = {"recovery": ("Z1", 0.45, 0.55), "endurance": ("Z2", 0.56, 0.75), "long": ("Z2", 0.56, 0.75),
         "tempo": ("Z3", 0.76, 0.87), "sweet_spot": ("Z3/Z4", 0.88, 0.94), "threshold": ("Z4", 0.95, 1.05),
         "vo2max": ("Z5", 1.06, 1.20), "anaerobic": ("Z6", 1.21, 1.50), "race": ("race", 0.85, 1.05),
         "sprint": ("Z7", 1.50, 3.00), "test": ("test", 1.00, 1.05), "group_ride": ("Z2–Z5", 0.60, 1.10),
         "commute": ("Z1–Z2", 0.45, 0.70)}
INTERVALS = {"tempo": "3 × 15 min", "sweet_spot": "3 × 12 min", "threshold": "2 × 20 min", "vo2max": "5 × 4 min",
             "anaerobic": "8 × 1 min", "recovery": "easy spin", "endurance": "steady", "long": "steady, fuel well",
             "race": "race day", "sprint": "8 × 10 s", "test": "20-min FTP test", "group_ride": "ride with the group",
             "commute": "easy commute"}
DEFAULT_FTP_W = 200.0
HOURS_BY_LEVEL = {"beginner": 5.0, "intermediate": 7.0, "advanced": 10.0, "elite": 14.0}
TSS_PER_HOUR = 50.0  # a typical mixed week, used to turn a CTL target into hours
MIN_SESSION_MIN = 20


# ----------------------------------------------------------------------------------------------------------------
# Schemas
# ----------------------------------------------------------------------------------------------------------------

DISTRIBUTIONS = ("pyramidal", "polarised", "sweet_spot")


class OtherEvent(BaseModel):
    """A B race (a short mini-taper around it) or a C race (raced as a hard training day) inside the plan."""

    model_config = {"extra": "forbid"}

    date: date
    priority: Literal["B", "C"] = "B"
    event_type: Literal[EVENT_TYPES] | None = None  # type: ignore[valid-type]
    name: str | None = Field(None, max_length=80)


class PlanGoals(BaseModel):
    model_config = {"extra": "forbid"}

    event_date: date | None = None
    event_type: Literal[EVENT_TYPES] | None = None  # type: ignore[valid-type]
    route_id: int | None = None
    target_ftp_w: float | None = Field(None, ge=50, le=600)
    target_ctl: float | None = Field(None, ge=1, le=200)
    weekly_hours: float | None = Field(None, ge=1, le=40)
    other_events: list[OtherEvent] = Field(default_factory=list, max_length=10)

    @field_validator("other_events")
    @classmethod
    def _one_a_day(cls, value):
        days = [e.date for e in value]
        if len(set(days)) != len(days):
            raise ValueError("two B/C races on the same day")
        return sorted(value, key=lambda e: e.date)


class UserPreferences(BaseModel):
    model_config = {"extra": "forbid"}

    available_days: list[Day] = Field(default_factory=lambda: list(DAYS))
    indoor_outdoor: Literal["indoor", "outdoor", "both"] = "both"
    long_ride_day: Day | None = None
    intensity_distribution: Literal[DISTRIBUTIONS] = "pyramidal"  # type: ignore[valid-type]
    ftp_tests: bool = False

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
    steps: list[Step | Repeat] = Field(default_factory=list, max_length=60)


class Week(BaseModel):
    model_config = {"extra": "forbid"}

    week: int = Field(ge=1, le=52)
    start_date: date
    phase: Literal[PHASES]  # type: ignore[valid-type]
    planned_hours: float = Field(ge=0, le=100)
    planned_tss: float = Field(ge=0, le=5000)
    why: str = Field("", max_length=500)
    workouts: list[Workout] = Field(max_length=21)


class PlanModel(BaseModel):
    model_config = {"extra": "forbid"}

    weeks: list[Week] = Field(min_length=1, max_length=52)

    def plan_json(self) -> dict:
        """The plan as stored: JSON types, each workout's steps without their empty optional fields."""
        out = self.model_dump(mode="json")
        for week, model in zip(out["weeks"], self.weeks, strict=True):
            for workout, w in zip(week["workouts"], model.workouts, strict=True):
                workout["steps"] = [item.model_dump(mode="json", exclude_none=True) for item in w.steps]
        return out


# Rider-facing names of request fields (the form's labels), so messages never show a field path.
_FIELD_LABELS = {
    "weekly_hours": "Weekly hours", "duration_weeks": "Duration (weeks)", "event_date": "Event date",
    "target_ftp_w": "Target FTP", "target_ctl": "Target CTL", "available_days": "Available days",
    "long_ride_day": "Long-ride day", "start_date": "Start date", "route_id": "Goal route",
    "event_type": "Event type", "rule_ids": "Rules", "other_events": "B/C races",
    "intensity_distribution": "Intensity distribution", "ftp_tests": "FTP tests",
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
    last_day = start + timedelta(weeks=request.duration_weeks, days=-1)
    for other in goals.other_events:
        if not start <= other.date <= last_day:
            raise PlanGenerationError(f"The {other.priority} race on {other.date} is outside the plan "
                                      f"({start} to {last_day}).")
        if goals.event_date is not None and other.date >= goals.event_date:
            raise PlanGenerationError(f"The {other.priority} race on {other.date} is not before the goal event "
                                      f"({goals.event_date}); B and C races come before it.")
    if goals.event_type == "general_fitness" and goals.event_date:
        raise PlanGenerationError("Contradictory goals: “general fitness” has no event date; pick an event type "
                                  "or clear the date.")
    return request


def parse_race_dates(text: str | None, priority: str) -> list[dict]:
    """B or C races typed as dates ('2027-04-12, 2027-05-03') → other_events entries; PlanGenerationError naming
    the piece that is not a date."""
    out = []
    for piece in re.split(r"[,;\s]+", (text or "").strip())[:20]:
        if not piece:
            continue
        try:
            out.append({"date": date.fromisoformat(piece[:10]) if len(piece) <= 10 else None, "priority": priority})
        except ValueError:
            out.append(None)
        if out[-1] is None or out[-1]["date"] is None:
            raise PlanGenerationError(f"“{piece[:20]}” in the {priority} races is not a date; write dates as "
                                      "YYYY-MM-DD, separated by commas.")
    return out
