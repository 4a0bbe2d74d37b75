"""Plan-change suggestions as pydantic objects (scale a week, swap a day to recovery, move a workout): the one schema
for the deterministic coach and the AI, validated against the plan's dates; sentences describing each."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

MAX_SUGGESTIONS = 10

# ------------------------------------------------------------------------------------------------------------
# Suggestion schema
# ------------------------------------------------------------------------------------------------------------

class _Suggestion(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reason: str = Field("", max_length=500)


class ScaleWeek(_Suggestion):
    action: Literal["scale_week"]
    week_start: date
    factor: float = Field(ge=0.5, le=1.2)

    def describe(self) -> str:
        change = f"{(self.factor - 1) * 100:+.0f} %"
        return f"Scale the week of {self.week_start:%d %b} by {change}"


class SwapToRecovery(_Suggestion):
    action: Literal["swap_to_recovery"]
    date: date

    def describe(self) -> str:
        return f"Make {self.date:%a %d %b} an easy recovery ride"


class MoveWorkout(_Suggestion):
    action: Literal["move_workout"]
    from_: date = Field(alias="from")
    to: date

    def describe(self) -> str:
        return f"Swap the workouts of {self.from_:%a %d %b} and {self.to:%a %d %b}"


Suggestion = Annotated[ScaleWeek | SwapToRecovery | MoveWorkout, Field(discriminator="action")]
_ONE = TypeAdapter(Suggestion)


class AIAnalysis(BaseModel):
    """What the AI may answer: feedback sentences and suggestions (each re-validated one by one)."""

    model_config = ConfigDict(extra="ignore")

    feedback: list[str] = Field(min_length=1, max_length=8)
    suggestions: list = Field(max_length=MAX_SUGGESTIONS)


def _ai_schema() -> dict:
    return {"type": "object", "properties": {
        "feedback": {"type": "array", "items": {"type": "string", "maxLength": 500}, "maxItems": 8},
        "suggestions": {"type": "array", "maxItems": MAX_SUGGESTIONS, "items": _ONE.json_schema()}},
        "required": ["feedback", "suggestions"]}


def suggestion_dump(s) -> dict:
    return s.model_dump(mode="json", by_alias=True)


def parse_suggestion(data) -> ScaleWeek | SwapToRecovery | MoveWorkout:
    """A validated suggestion, or pydantic.ValidationError."""
    return _ONE.validate_python(data)


def describe_suggestion(data: dict) -> str:
    """One line for the page / CLI, e.g. “Scale the week of 12 Apr by −10 % — reason”."""
    try:
        s = parse_suggestion(data)
    except PydanticValidationError:
        return str(data)
    return s.describe() + (f" — {s.reason}" if s.reason else "")


def validate_suggestions(items, plan_body: dict | None, *, today: date) -> tuple[list[dict], list[str]]:
    """Keep the suggestions that fit the schema and the plan (dates inside it, not before ``today``, a Monday
    for scale_week, both days in the same week for move_workout). Returns (kept, reasons for the dropped)."""
    kept, dropped = [], []
    if not isinstance(items, list):
        return [], ["the suggestions were not a list"]
    weeks = {date.fromisoformat(str(w["start_date"])): w for w in (plan_body or {}).get("weeks", [])}
    days = {str(wo["date"])[:10] for w in weeks.values() for wo in w["workouts"]}
    for n, item in enumerate(items[:MAX_SUGGESTIONS], start=1):
        try:
            s = parse_suggestion(item)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            dropped.append(f"suggestion {n} did not fit the format ({'.'.join(map(str, first['loc']))}: "
                           f"{first['msg']})")
            continue
        problem = None
        if plan_body is None:
            problem = "there is no active plan"
        elif isinstance(s, ScaleWeek):
            if s.week_start not in weeks:
                problem = f"the week of {s.week_start} is not a week of the plan"
            elif s.week_start + timedelta(days=6) < today:
                problem = f"the week of {s.week_start} is over"
        else:
            for day in ((s.date,) if isinstance(s, SwapToRecovery) else (s.from_, s.to)):
                if day.isoformat() not in days:
                    problem = f"{day} is not a day of the plan"
                elif day < today:
                    problem = f"{day} is in the past"
            if isinstance(s, MoveWorkout) and problem is None and \
                    s.from_ - timedelta(days=s.from_.weekday()) != s.to - timedelta(days=s.to.weekday()):
                problem = "a workout can only move within its week"
        if problem:
            dropped.append(f"suggestion {n} ({s.action}) was dropped: {problem}")
        else:
            kept.append(suggestion_dump(s))
    return kept, dropped


def find_workout(body: dict, day: str) -> tuple[dict, int] | None:
    """The week and index of the workout on ``day`` (YYYY-MM-DD) in a plan body, or None."""
    for week in body["weeks"]:
        for i, w in enumerate(week["workouts"]):
            if str(w["date"])[:10] == day:
                return week, i
    return None


def retotal_weeks(body: dict) -> None:
    """Re-sort each week's workouts by date and recompute its planned hours and TSS."""
    for week in body["weeks"]:
        week["workouts"].sort(key=lambda w: str(w["date"]))
        week["planned_hours"] = round(sum(w["duration_min"] for w in week["workouts"]) / 60, 2)
        week["planned_tss"] = round(sum(w["tss"] for w in week["workouts"]), 1)
