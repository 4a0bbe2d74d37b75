"""Edits of a saved plan as new versions: move a workout to another day, swap two days, skip a day, replace a day's
workout with one from the library, change a workout's duration. Each edit is applied to a copy of the plan body,
re-checked against the plan's rules (``rule_breaks``: the one place this module calls the checker), refused naming
the rule it breaks, or saved only with an explicit override that the new version records (``plans.change``).

Days already past are not edited (the calendar records what happened there); the goal event stays on its day.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from core.coach.plans.schema import MIN_SESSION_MIN
from core.errors import RuleBreakError, ValidationError

EDIT_KINDS = ("move", "swap", "skip", "replace", "duration")
MAX_MINUTES = 720.0


class PlanEdit(BaseModel):
    """One edit: ``day`` is the workout's day; ``to`` the other day (move, swap); ``workout_id`` a library id
    (replace); ``minutes`` the new length (duration)."""

    model_config = {"extra": "forbid"}

    kind: Literal["move", "swap", "skip", "replace", "duration"]
    day: date
    to: date | None = None
    workout_id: str | None = Field(None, max_length=60)
    minutes: float | None = Field(None, ge=MIN_SESSION_MIN, le=MAX_MINUTES)

    @model_validator(mode="after")
    def _needs(self):
        if self.kind in ("move", "swap") and self.to is None:
            raise ValueError(f"a {self.kind} needs the other day")
        if self.kind in ("move", "swap") and self.to == self.day:
            raise ValueError(f"a {self.kind} needs two different days")
        if self.kind == "replace" and not self.workout_id:
            raise ValueError("a replace needs a library workout id")
        if self.kind == "duration" and self.minutes is None:
            raise ValueError("a duration change needs the new length in minutes")
        return self


@dataclass
class EditResult:
    plan_id: int            # the new version
    old_plan_id: int
    version: int
    summary: str
    override: bool
    broken: list[str] = field(default_factory=list)   # what the override accepted, each naming its rule
    rules_checked: int = 0

    def public(self) -> dict:
        return asdict(self)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _label(w: dict) -> str:
    return str((w.get("target") or {}).get("name") or w["type"].replace("_", " "))


def _riding(workouts: list[dict]) -> list[dict]:
    return [w for w in workouts if w["type"] != "rest"]


def _is_event(w: dict) -> bool:
    return w["type"] == "race" and bool((w.get("target") or {}).get("event"))


def _by_day(body: dict) -> dict[date, list[dict]]:
    out: dict[date, list[dict]] = {}
    for week in body["weeks"]:
        start = _day(week["start_date"])
        for i in range(7):
            out.setdefault(start + timedelta(days=i), [])
        for w in week["workouts"]:
            out.setdefault(_day(w["date"]), []).append(w)
    return out


def _rebuild(body: dict, days: dict[date, list[dict]]) -> None:
    """Each week's workouts from ``days`` (dates set), its hours and TSS recomputed."""
    for week in body["weeks"]:
        start = _day(week["start_date"])
        workouts = []
        for i in range(7):
            day = start + timedelta(days=i)
            for w in days.get(day, []):
                w["date"] = day.isoformat()
                workouts.append(w)
        week["workouts"] = workouts
        week["planned_hours"] = round(sum(float(w["duration_min"]) for w in workouts) / 60, 2)
        week["planned_tss"] = round(sum(float(w["tss"]) for w in workouts), 1)


def _check_day(days: dict[date, list[dict]], day: date, today: date, what: str) -> None:
    if day not in days:
        first, last = min(days), max(days)
        raise ValidationError(f"{day:%a %d %b %Y} is not a day of this plan ({first:%d %b %Y} to {last:%d %b %Y}).")
    if day < today:
        raise ValidationError(f"{day:%a %d %b %Y} is past: {what} days from today on (the calendar keeps what "
                              "happened).")
    if any(_is_event(w) for w in days[day]):
        raise ValidationError(f"{day:%a %d %b %Y} is the event day: the event stays on its day.")


def apply_edit(body: dict, edit: PlanEdit, *, today: date, ctx=None) -> tuple[dict, str]:
    """(the edited copy of ``body``, a sentence saying what changed). ValidationError when the edit cannot apply."""
    from core.coach.plans.check import RuleContext
    from core.coach.plans.weekbuild import from_library, plan_type, refit, rest_day

    ctx = ctx or RuleContext([])
    body = copy.deepcopy(body)
    days = _by_day(body)
    day = edit.day
    _check_day(days, day, today, "edit")
    here = _riding(days[day])
    if edit.kind in ("move", "swap"):
        to = edit.to
        _check_day(days, to, today, "move workouts to")
        there = _riding(days[to])
        if edit.kind == "move":
            if not here:
                raise ValidationError(f"{day:%a %d %b} has no workout to move.")
            if there:
                raise ValidationError(f"{to:%a %d %b} already has {_label(there[0])}: swap the two days instead.")
            days[to], days[day] = here, [rest_day(day)]
            summary = f"Moved {' + '.join(map(_label, here))} from {day:%a %d %b} to {to:%a %d %b}"
        else:
            if not here and not there:
                raise ValidationError(f"{day:%a %d %b} and {to:%a %d %b} are both rest days: nothing to swap.")
            days[day], days[to] = there or [rest_day(day)], here or [rest_day(to)]
            summary = (f"Swapped {day:%a %d %b} ({' + '.join(map(_label, here)) or 'rest'}) with "
                       f"{to:%a %d %b} ({' + '.join(map(_label, there)) or 'rest'})")
    else:
        if not here:
            raise ValidationError(f"{day:%a %d %b} is a rest day: there is no workout to {edit.kind}.")
        main = max(here, key=lambda w: float(w["duration_min"]))
        others = [w for w in days[day] if w is not main and w["type"] != "rest"]
        if edit.kind == "skip":
            days[day] = [rest_day(day)]
            days[day][0]["description"] = f"Skipped: {_label(main)}"
            summary = f"Skipped {' + '.join(map(_label, here))} on {day:%a %d %b}"
        elif edit.kind == "replace":
            from core.coach.library import library

            workout = library().get(edit.workout_id)
            new = from_library(day, workout, None, indoor=bool((main.get("target") or {}).get("indoor")),
                               kind=plan_type(workout.type))
            days[day] = [new, *others]
            summary = f"Replaced {_label(main)} on {day:%a %d %b} with {workout.name} ({new['duration_min']:.0f} min)"
        else:
            new = refit(main, float(edit.minutes), ctx)
            if new["type"] == "rest":
                raise ValidationError(f"{edit.minutes:g} min is too short for a workout (at least "
                                      f"{MIN_SESSION_MIN} min); skip the day instead.")
            days[day] = [new, *others]
            summary = (f"Changed {_label(main)} on {day:%a %d %b} from {float(main['duration_min']):.0f} to "
                       f"{new['duration_min']:.0f} min")
    _rebuild(body, days)
    return body, summary


def rule_breaks(rules: list[dict], before: dict, after: dict, **context) -> list[str]:
    """What ``after`` breaks that ``before`` kept, each line naming the rule: 'week 2 Monday 2027-01-11:
    endurance on a rest day — breaks “Rest day”'. ``rules`` are the plan's rules with their ``constraints``;
    ``context`` RuleContext's keywords for the plan (core.coach.plans.store.rule_check_keywords: the event day is
    exempt, "hard" as the plan was made with).

    The one use of the checker here (core.coach.plans.check.RuleContext over the plan's rules)."""
    from core.coach.plans.check import RuleContext

    constraints = [c for r in rules for c in r.get("constraints") or []]
    names = [r["name"] for r in rules for _ in r.get("constraints") or []]
    if not constraints:
        return []
    check = RuleContext(constraints, names=names, **context)  # each line ends "— breaks “<rule name>”"
    kept = set(check.violations(before))
    return [line for line in check.violations(after) if line not in kept]


def plan_rules(cur, plan_row: dict) -> list[dict]:
    """The plan's rules (the versions it was made with) with their constraints."""
    from core.coach.rules.store import get_rule

    return [get_rule(cur, r["id"]) for r in plan_row["rules"]]


def preview_edit(cur, athlete_id: int, plan_id: int, edit: PlanEdit | dict, *, today: date | None = None) -> dict:
    """What an edit would do, saving nothing: {summary, broken, plan (the edited body), rules_checked}."""
    from core.coach.plans.store import get_plan, rule_check_keywords, rule_context_for_plan

    edit = edit if isinstance(edit, PlanEdit) else _parse(edit)
    plan = get_plan(cur, plan_id, athlete_id)
    rules = plan_rules(cur, plan)
    body, summary = apply_edit(plan["plan"], edit, today=today or date.today(), ctx=rule_context_for_plan(cur, plan))
    return {"summary": summary, "broken": rule_breaks(rules, plan["plan"], body, **rule_check_keywords(cur, plan)),
            "plan": body,
            "rules_checked": len(rules)}


def _parse(data: dict) -> PlanEdit:
    from pydantic import ValidationError as PydanticError

    from core.coach.plans.schema import _pydantic_message

    try:
        return PlanEdit(**data)
    except PydanticError as exc:
        raise ValidationError(f"The edit is not valid — {_pydantic_message(exc)}") from None


def edit_plan(cur, athlete_id: int, plan_id: int, edit: PlanEdit | dict, *, override: bool = False,
              today: date | None = None) -> EditResult:
    """Apply ``edit`` and save the result as the next version of ``plan_id`` (rides re-matched to it). An edit
    that breaks a rule raises RuleBreakError naming it, unless ``override``: then the version is saved with the
    override and the broken rules recorded. A failure changes nothing."""
    from core.coach.plans.store import get_plan, save_version

    edit = edit if isinstance(edit, PlanEdit) else _parse(edit)
    preview = preview_edit(cur, athlete_id, plan_id, edit, today=today)
    broken = preview["broken"]
    if broken and not override:
        raise RuleBreakError(f"Not saved — {preview['summary']} would break "
                             + "; ".join(broken[:3]) + (f" (and {len(broken) - 3} more)" if len(broken) > 3 else "")
                             + ". Choose another day or workout, or save it with an override.", broken)
    change = {"kind": edit.kind, "summary": preview["summary"], "edit": edit.model_dump(mode="json"),
              "override": bool(broken), "broken": broken, "rules_checked": preview["rules_checked"]}
    new_id = save_version(cur, athlete_id, plan_id, preview["plan"], note=preview["summary"], change=change,
                          accept_breaks=bool(broken))  # rides re-matched to the new version as it is saved
    new = get_plan(cur, new_id, athlete_id)
    return EditResult(new_id, plan_id, new["version"], preview["summary"], bool(broken), broken,
                      preview["rules_checked"])


def change_line(change: dict | None) -> str:
    """'Moved Threshold 3 × 8 from Tue 05 Jan to Wed 06 Jan · checked against 3 rules, all kept' for a version."""
    if not change:
        return "as generated"
    text = str(change.get("summary") or change.get("kind") or "")
    if change.get("kind") in EDIT_KINDS:
        n = change.get("rules_checked", 0)
        if change.get("override"):
            text += f" · saved with an override of: {'; '.join(change.get('broken') or [])}"
        else:
            text += f" · checked against {n} rule{'s' if n != 1 else ''}, all kept" if n else " · no rules to check"
    elif change.get("override"):
        text += " · saved with an override"
    return text


def parse_edit_words(kind: str, day: str, value: str | None) -> dict:
    """The CLI's ``plan edit ID KIND DAY [VALUE]`` as an edit dict (dates YYYY-MM-DD, minutes a number)."""
    if kind not in EDIT_KINDS:
        raise ValidationError(f"Unknown edit “{kind}”: use one of {', '.join(EDIT_KINDS)}.")
    try:
        data: dict = {"kind": kind, "day": date.fromisoformat(day)}
        if kind in ("move", "swap"):
            data["to"] = date.fromisoformat(value or "")
        elif kind == "replace":
            data["workout_id"] = value
        elif kind == "duration":
            data["minutes"] = float(value or "")
    except ValueError:
        need = {"move": "DAY TO (YYYY-MM-DD)", "swap": "DAY OTHER_DAY (YYYY-MM-DD)", "skip": "DAY (YYYY-MM-DD)",
                "replace": "DAY LIBRARY_WORKOUT_ID", "duration": "DAY MINUTES"}[kind]
        raise ValidationError(f"plan edit {kind} needs {need}.") from None
    if kind == "skip" and value:
        raise ValidationError("plan edit skip takes only the day.")
    return data

