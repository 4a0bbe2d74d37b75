"""Training rules in plain language: a pydantic schema, two parsers behind one interface, conflicts, versions.

A rule row holds the rider's sentence and its parse (``RuleParse``): a list of ``Constraint`` records. The
deterministic parser covers the common phrasings offline; the LLM parser (``core.coach.ai``) proposes the same schema
and is validated by it, so text inside a rule ("ignore previous instructions…") can never change the output
types. ``parse_rule`` picks the LLM when AI is configured and falls back to the deterministic parser on any
failure, saying so in ``note``.

What each constraint kind means (``core.coach.plans.check.violations`` checks exactly this, week by week):

- ``rest_days`` (days): only rest on those weekdays.
- ``forbidden_types`` (days, workout_types): none of those types on those days (every day if no days).
- ``allowed_types`` (days, workout_types): only those types (or rest) on those days.
- ``max_weekly_hours`` (limit, unit h): the week's summed ``duration_min`` ≤ limit hours.
- ``max_hard_sessions`` (limit): hard sessions (threshold, vo2max, anaerobic, race) per week ≤ limit.
- ``rest_after_hard_days`` (limit N): after N hard days in a row the next day is a rest day.
- ``max_consecutive_hard_days`` (limit N): never more than N hard days in a row.
- ``long_ride_day`` (days): the long ride (type ``long``) only on those days.
- ``max_ramp_pct`` (limit %): a week's planned TSS ≤ (1 + limit/100) × the highest earlier week's TSS.
- ``indoor_only_days`` (days): every workout on those days is indoors (``target.indoor`` true).
- ``max_session_minutes`` (limit min, days): no single workout longer than limit on those days (all if none).
- ``max_training_days`` (limit): at most N non-rest days per week.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from core.coach.ai import record_verdict
from core.errors import AIServiceError, NotFoundError, RuleParseError
from core.store.db import audit, bump_data_version, transaction

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}
WorkoutType = Literal["rest", "recovery", "endurance", "tempo", "sweet_spot", "threshold", "vo2max", "anaerobic",
                      "long", "race"]
WORKOUT_TYPES: tuple[str, ...] = ("rest", "recovery", "endurance", "tempo", "sweet_spot", "threshold", "vo2max",
                                  "anaerobic", "long", "race")
HARD_TYPES = frozenset({"threshold", "vo2max", "anaerobic", "race"})
MODERATE_TYPES = frozenset({"tempo", "sweet_spot"})
RuleKind = Literal["rest_days", "forbidden_types", "allowed_types", "max_weekly_hours", "max_hard_sessions",
                   "rest_after_hard_days", "max_consecutive_hard_days", "long_ride_day", "max_ramp_pct",
                   "indoor_only_days", "max_session_minutes", "max_training_days"]
RULE_KINDS: tuple[str, ...] = RuleKind.__args__  # type: ignore[attr-defined]
KIND_LABELS = {
    "rest_days": "Rest days", "forbidden_types": "Forbidden workouts", "allowed_types": "Only these workouts",
    "max_weekly_hours": "Max hours per week", "max_hard_sessions": "Max hard sessions per week",
    "rest_after_hard_days": "Rest after hard days", "max_consecutive_hard_days": "Max hard days in a row",
    "long_ride_day": "Long-ride day", "max_ramp_pct": "Max weekly TSS ramp", "indoor_only_days": "Indoor only",
    "max_session_minutes": "Max session length", "max_training_days": "Max training days per week",
}
# kinds that need a number, and the unit it is in
LIMIT_UNITS = {"max_weekly_hours": "h", "max_hard_sessions": "sessions", "rest_after_hard_days": "days",
               "max_consecutive_hard_days": "days", "max_ramp_pct": "pct", "max_session_minutes": "min",
               "max_training_days": "days"}
LIMIT_RANGES = {"max_weekly_hours": (1, 40), "max_hard_sessions": (0, 7), "rest_after_hard_days": (1, 6),
                "max_consecutive_hard_days": (1, 6), "max_ramp_pct": (0, 100), "max_session_minutes": (15, 720),
                "max_training_days": (1, 7)}
DAY_KINDS = {"rest_days", "long_ride_day", "indoor_only_days"}
TYPE_KINDS = {"forbidden_types", "allowed_types"}
MAX_RULE_TEXT = 2000


class Constraint(BaseModel):
    """One machine-checkable constraint. Unknown fields are refused, types are closed sets."""

    model_config = {"extra": "forbid"}

    kind: RuleKind
    days: list[Day] = Field(default_factory=list, max_length=7)
    workout_types: list[WorkoutType] = Field(default_factory=list, max_length=10)
    limit: float | None = None
    unit: Literal["h", "min", "sessions", "days", "pct"] | None = None
    source_text: str = Field("", max_length=MAX_RULE_TEXT)

    @field_validator("days", "workout_types")
    @classmethod
    def _unique(cls, value):
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _complete(self):
        if self.kind in LIMIT_UNITS:
            if self.limit is None:
                raise ValueError(f"{self.kind} needs a number")
            low, high = LIMIT_RANGES[self.kind]
            if not low <= self.limit <= high:
                raise ValueError(f"{KIND_LABELS[self.kind]} must be between {low} and {high} {LIMIT_UNITS[self.kind]}")
            self.unit = LIMIT_UNITS[self.kind]
        if self.kind in DAY_KINDS and not self.days:
            raise ValueError(f"{KIND_LABELS[self.kind]} needs at least one day")
        if self.kind in TYPE_KINDS and not self.workout_types:
            raise ValueError(f"{KIND_LABELS[self.kind]} needs at least one workout type")
        return self

    def describe(self) -> str:
        days = ", ".join(DAY_NAMES[d] for d in self.days) if self.days else "every day"
        types = ", ".join(t.replace("_", " ") for t in self.workout_types)
        k = self.kind
        if k == "rest_days":
            return f"Rest on {days}"
        if k == "forbidden_types":
            return f"No {types} on {days}"
        if k == "allowed_types":
            return f"Only {types} on {days}"
        if k == "long_ride_day":
            return f"Long ride on {' or '.join(DAY_NAMES[d] for d in self.days)}"
        if k == "indoor_only_days":
            return f"Indoor only on {days}"
        if k == "max_weekly_hours":
            return f"At most {self.limit:g} hours per week"
        if k == "max_hard_sessions":
            return f"At most {self.limit:g} hard sessions per week"
        if k == "rest_after_hard_days":
            return f"A rest day after {self.limit:g} hard day(s) in a row"
        if k == "max_consecutive_hard_days":
            return f"Never more than {self.limit:g} hard day(s) in a row"
        if k == "max_ramp_pct":
            return f"Weekly TSS rises at most {self.limit:g}% above the highest earlier week"
        if k == "max_session_minutes":
            return f"No session longer than {self.limit:g} min on {days}"
        if k == "max_training_days":
            return f"At most {self.limit:g} training days per week"
        return k


class RuleParse(BaseModel):
    """The result of parsing one rule text. ``parser`` says which parser produced it."""

    model_config = {"extra": "forbid"}

    constraints: list[Constraint] = Field(default_factory=list, max_length=30)
    confidence_score: float = Field(ge=0, le=1)
    suggestions: list[str] = Field(default_factory=list, max_length=30)
    unparsed: list[str] = Field(default_factory=list, max_length=30)
    conflicts: list[str] = Field(default_factory=list)
    parser: Literal["deterministic", "ai"] = "deterministic"
    note: str | None = None
    ai_call_id: int | None = Field(default=None, exclude=True)  # the AI answer this came from (never stored)


# ----------------------------------------------------------------------------------------------------------------
# Deterministic parser
# ----------------------------------------------------------------------------------------------------------------

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a single": 1, "single": 1, "zero": 0}
_DAY_PATTERNS = [
    ("mon", r"mon(?:day)?s?"), ("tue", r"tue(?:s(?:day)?)?s?"), ("wed", r"wed(?:nesday)?s?"),
    ("thu", r"thu(?:r(?:s(?:day)?)?)?s?"), ("fri", r"fri(?:day)?s?"), ("sat", r"sat(?:urday)?s?"),
    ("sun", r"sun(?:day)?s?"),
]
_DAY_RE = re.compile(r"\b(" + "|".join(f"(?P<{d}>{p})" for d, p in _DAY_PATTERNS) + r")\b")
_WEEKEND_RE = re.compile(r"\b(?:weekends?|week-ends?)\b")
_WEEKDAYS_RE = re.compile(r"\b(?:weekdays?|work ?days?|during the week)\b")
_EVERYDAY_RE = re.compile(r"\b(?:every ?day|daily|any day)\b")

# phrase -> workout types (longest phrases first)
_TYPE_WORDS: list[tuple[str, list[str]]] = [
    (r"hard (?:sessions?|workouts?|rides?|efforts?|days?|training)|high[- ]intensity|intensity|hiit",
     ["threshold", "vo2max", "anaerobic", "race"]),
    (r"intervals?|interval sessions?|structured workouts?", ["sweet_spot", "threshold", "vo2max", "anaerobic"]),
    (r"vo2 ?max|vo2", ["vo2max"]),
    (r"threshold|ftp (?:work|efforts?|intervals?)", ["threshold"]),
    (r"sweet ?spot|sst", ["sweet_spot"]),
    (r"tempo", ["tempo"]),
    (r"anaerobic|sprints?", ["anaerobic"]),
    (r"races?|racing", ["race"]),
    (r"long rides?|long ride", ["long"]),
    (r"endurance|zone ?2|z2|base rides?", ["endurance"]),
    (r"easy rides?|easy|recovery rides?|recovery|spins?", ["recovery", "endurance"]),
]
_TYPE_RES = [(re.compile(r"\b(?:" + p + r")\b"), types) for p, types in _TYPE_WORDS]

_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_LIMIT_WORDS = r"(?:max(?:imum)?\.?|at most|no more than|not more than|up to|under|less than|fewer than|limit(?:ed)? (?:to|of)|cap(?:ped)? at|never more than|never over|not over|no longer than|not longer than)"


def _number(token: str) -> float:
    token = token.strip().lower()
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    return float(token.replace(",", "."))


def _days_in(text: str) -> tuple[list[str], str | None]:
    """Weekdays named in ``text`` (in week order) and a note when the phrase was ambiguous (the weekend)."""
    found = set()
    for match in _DAY_RE.finditer(text):
        found.update(k for k, v in match.groupdict().items() if v)
    note = None
    if _WEEKEND_RE.search(text):
        found.update({"sat", "sun"})
        note = "weekend"
    if _WEEKDAYS_RE.search(text):
        found.update(DAYS[:5])
    if _EVERYDAY_RE.search(text):
        found.update(DAYS)
    return [d for d in DAYS if d in found], note


def _types_in(text: str) -> list[str]:
    types: list[str] = []
    rest = text
    for regex, mapped in _TYPE_RES:
        if regex.search(rest):
            types.extend(mapped)
            rest = regex.sub(" ", rest)
    return list(dict.fromkeys(types))


_KEYWORDS = re.compile(
    r"\b(rest|off|no|never|avoid|only|max|maximum|most|more than|hours?|hrs?|long rides?|indoor|trainer|turbo|"
    r"zwift|ramp|increase|hard|limit|longer than|days? a week|days? per week|sessions?)\b")


def _clauses(text: str) -> list[str]:
    """Split a rule text into clauses: on punctuation, and on 'and'/'but' when what follows is a rule of its own."""
    pieces = [p.strip() for p in re.split(r"[,;.\n!?]+(?!\d)|\bbut\b|\balso\b|\bplus\b", text) if p and p.strip()]
    clauses: list[str] = []
    for piece in pieces:
        parts = re.split(r"\band\b|&", piece)
        current = parts[0]
        for part in parts[1:]:
            if _KEYWORDS.search(part) and _KEYWORDS.search(current):
                clauses.append(current.strip())
                current = part
            else:
                current = f"{current.strip()} and {part.strip()}"
        clauses.append(current.strip())
    return [c for c in clauses if c]


class _ClauseResult:
    def __init__(self, constraints=None, suggestions=None, confidence=1.0):
        self.constraints = constraints or []
        self.suggestions = suggestions or []
        self.confidence = confidence


def _parse_clause(clause: str) -> _ClauseResult | None:
    c = " " + re.sub(r"\s+", " ", clause.lower()).strip() + " "
    c = c.replace("’", "'")
    days, day_note = _days_in(c)
    suggestions: list[str] = []
    confidence = 1.0

    def constraint(**kw) -> Constraint:
        return Constraint(source_text=clause.strip(), **kw)

    # --- max weekly TSS ramp ---------------------------------------------------------------------------------
    if re.search(r"\bramp|\bincrease|\bprogress|\bbuild(?:ing)? (?:load|up)|\bload\b.*\brise", c) and \
            re.search(r"\d|" + "|".join(_NUMBER_WORDS), c) and not re.search(r"\bhours?\b|\bhrs?\b", c):
        m = re.search(_NUM + r"\s*(%|percent|per ?cent|pct)?", c)
        if m:
            pct = _number(m.group(1))
            if not m.group(2):
                suggestions.append(f"“{clause.strip()}”: no unit given — read {pct:g} as a percentage per week.")
                confidence = 0.7
            return _ClauseResult([constraint(kind="max_ramp_pct", limit=pct)], suggestions, confidence)

    # --- rest after N hard days / consecutive hard days ---------------------------------------------------------
    m = re.search(r"rest(?: day)?s? after " + _NUM + r" (?:hard|intense|tough|interval|consecutive hard) ?(?:days?|sessions?|workouts?)", c) \
        or re.search(r"after " + _NUM + r" (?:hard|intense|tough) (?:days?|sessions?)(?: in a row)?,? (?:take |have |a )?(?:a )?rest", c)
    if m:
        return _ClauseResult([constraint(kind="rest_after_hard_days", limit=_number(m.group(1)))])
    if re.search(r"\bno (?:back[- ]to[- ]back|consecutive) hard|\bno hard (?:days?|sessions?) (?:in a row|back[- ]to[- ]back)|never (?:two|2) hard days in a row", c):
        return _ClauseResult([constraint(kind="max_consecutive_hard_days", limit=1)])
    m = re.search(_LIMIT_WORDS + r" " + _NUM + r" hard (?:days?|sessions?) in a row", c)
    if m:
        return _ClauseResult([constraint(kind="max_consecutive_hard_days", limit=_number(m.group(1)))])

    # --- max hard sessions per week ---------------------------------------------------------------------------
    m = re.search(_LIMIT_WORDS + r" " + _NUM + r" (?:hard|intense|high[- ]intensity|interval|quality|key) "
                  r"(?:sessions?|workouts?|days?|rides?|efforts?)", c) \
        or re.search(r"\b" + _NUM + r" (?:hard|intense|quality|key) (?:sessions?|workouts?|days?|rides?) "
                     r"(?:a|per|each|every) week (?:max|maximum|at most)", c) \
        or re.search(r"\bonly " + _NUM + r" (?:hard|intense|quality|key) (?:sessions?|workouts?|days?|rides?)", c)
    if m:
        return _ClauseResult([constraint(kind="max_hard_sessions", limit=_number(m.group(1)))])

    # --- max training days per week ---------------------------------------------------------------------------
    m = re.search(r"(?:train|ride|training)?\s*" + _LIMIT_WORDS + r" " + _NUM + r" (?:training |riding )?days? "
                  r"(?:a|per|each|every) week", c) \
        or re.search(r"\b(?:train|ride) (?:only )?" + _NUM + r" days? (?:a|per|each|every) week", c)
    if m:
        return _ClauseResult([constraint(kind="max_training_days", limit=_number(m.group(1)))])

    # --- max session length ------------------------------------------------------------------------------------
    m = re.search(r"(?:rides?|sessions?|workouts?|training)\s*(?:of\s*)?(?:" + _LIMIT_WORDS
                  + r"|longer than|over|more than|beyond) " + _NUM + r"\s*(hours?|hrs?|h|minutes?|mins?|m)?\b", c) \
        or re.search(_LIMIT_WORDS + r" " + _NUM + r"\s*(hours?|hrs?|h|minutes?|mins?)\b (?:per|a|each) "
                     r"(?:ride|session|workout)", c)
    if m and not re.search(r"\b(?:a|per|each|every) week|weekly|in a week", c):
        value = _number(m.group(1))
        unit = m.group(2) or ""
        if unit.startswith("h"):
            minutes = value * 60
        elif unit.startswith("m"):
            minutes = value
        else:
            minutes = value * 60 if value <= 12 else value
            suggestions.append(f"“{clause.strip()}”: no unit given — read as {minutes:g} minutes.")
            confidence = 0.7
        return _ClauseResult([constraint(kind="max_session_minutes", limit=minutes, days=days)],
                             suggestions, confidence)

    # --- max weekly hours ---------------------------------------------------------------------------------------
    weekly = re.search(r"\b(?:a|per|each|every) week\b|\bweekly\b|\bin a week\b|/ ?w(?:ee)?k\b", c)
    m = re.search(_LIMIT_WORDS + r" " + _NUM + r"\s*(hours?|hrs?|h|minutes?|mins?)?\b", c) \
        or re.search(r"\b" + _NUM + r"\s*(hours?|hrs?|h)\b (?:a|per|each) week (?:max|maximum|at most|tops)", c)
    if m and (weekly or (m.group(2) or "").startswith("h")) and not re.search(r"\bhard\b|\bsessions?\b", c):
        value = _number(m.group(1))
        unit = m.group(2) or ""
        if unit.startswith("m"):
            hours = value / 60
        else:
            hours = value
            if not unit:
                suggestions.append(f"“{clause.strip()}”: no unit given — read {value:g} as hours per week.")
                confidence = 0.7
        if not weekly:
            suggestions.append(f"“{clause.strip()}”: read as a weekly limit.")
            confidence = min(confidence, 0.8)
        return _ClauseResult([constraint(kind="max_weekly_hours", limit=round(hours, 2))], suggestions, confidence)

    # --- long ride day -----------------------------------------------------------------------------------------
    if re.search(r"\blong (?:rides?|days?|sessions?|outings?)\b|\blong one\b", c) and not re.search(r"\bno long\b", c):
        if not days:
            suggestions.append(f"“{clause.strip()}”: which day? Saturday was assumed.")
            return _ClauseResult([constraint(kind="long_ride_day", days=["sat"])], suggestions, 0.5)
        if day_note == "weekend" and days == ["sat", "sun"]:
            suggestions.append("“the weekend” is ambiguous: Saturday or Sunday? Saturday was chosen; edit the rule "
                               "to say “long ride on Sunday” if you prefer.")
            return _ClauseResult([constraint(kind="long_ride_day", days=["sat"])], suggestions, 0.7)
        return _ClauseResult([constraint(kind="long_ride_day", days=days)])

    # --- indoor only -------------------------------------------------------------------------------------------
    if re.search(r"\bindoors?\b|\btrainer\b|\bturbo\b|\bzwift\b|\brollers\b", c):
        if not days:
            suggestions.append(f"“{clause.strip()}”: on which days? Name them, e.g. “indoor only on Tuesdays”.")
            return None
        return _ClauseResult([constraint(kind="indoor_only_days", days=days)])

    # --- rest days ---------------------------------------------------------------------------------------------
    rest_phrase = re.search(
        r"\brest(?:ing)?\b|\bdays? off\b|\boff on\b|\boff\b|\bno (?:training|riding|rides?|cycling|bike)\b|"
        r"\bnever (?:train|ride)\b|\bdon'?t (?:train|ride)\b|\bfree\b", c)
    types = _types_in(c)
    if rest_phrase and not types:
        if not days:
            suggestions.append(f"“{clause.strip()}”: which day(s)? Name them, e.g. “rest on Fridays”.")
            return None
        return _ClauseResult([constraint(kind="rest_days", days=days)])

    # --- forbidden / allowed workout types per weekday ---------------------------------------------------------
    if types:
        if re.search(r"\bno\b|\bnever\b|\bavoid\b|\bnot\b|\bdon'?t\b|\bwithout\b|\bforbid", c):
            if not days:
                suggestions.append(f"“{clause.strip()}”: no day named — applied to every day.")
                confidence = 0.8
            return _ClauseResult([constraint(kind="forbidden_types", days=days, workout_types=types)],
                                 suggestions, confidence)
        if re.search(r"\bonly\b|\bjust\b|\bkeep\b|\bshould be\b|\bmust be\b|\bare for\b|\bis for\b", c) and days:
            return _ClauseResult([constraint(kind="allowed_types", days=days, workout_types=types)])
    return None


class DeterministicParser:
    """Offline rule parser for the common English phrasings."""

    name = "deterministic"

    def parse(self, text: str) -> RuleParse:
        text = _check_text(text)
        constraints: list[Constraint] = []
        suggestions: list[str] = []
        unparsed: list[str] = []
        scores: list[float] = []
        for clause in _clauses(text):
            try:
                result = _parse_clause(clause)
            except ValidationError as exc:
                result = None
                suggestions.append(f"“{clause}”: {_pydantic_message(exc)}")
            if result is None or not result.constraints:
                unparsed.append(clause)
                if result is not None:
                    suggestions.extend(result.suggestions)
                scores.append(0.0)
                continue
            constraints.extend(result.constraints)
            suggestions.extend(result.suggestions)
            scores.append(result.confidence)
        for clause in unparsed:
            if not any(clause in s for s in suggestions):
                suggestions.append(f"“{clause}” was not understood and was left out. Try e.g. “rest on Fridays”, "
                                   "“max 9 hours a week”, “no intervals on Mondays”.")
        confidence = round(sum(scores) / len(scores), 2) if scores else 0.0
        return RuleParse(constraints=constraints, confidence_score=confidence, suggestions=suggestions,
                         unparsed=unparsed, conflicts=find_conflicts(constraints), parser="deterministic")


def _check_text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise RuleParseError("The rule is empty: write it in plain words, e.g. “rest on Fridays”.")
    if len(text) > MAX_RULE_TEXT:
        raise RuleParseError(f"The rule is {len(text)} characters long; keep it under {MAX_RULE_TEXT}.")
    if "\x00" in text:
        raise RuleParseError("The rule contains a NUL character; type it again as plain text.")
    return text.strip()


def _pydantic_message(exc: ValidationError) -> str:
    return "; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors())


class LLMParser:
    """Rule parser backed by core.coach.ai: the model proposes, RuleParse validates (extra fields and unknown kinds
    are refused), so injected instructions cannot change the output's shape."""

    name = "ai"

    def __init__(self, service):
        self.service = service

    def parse(self, text: str) -> RuleParse:
        text = _check_text(text)
        schema = RuleParse.model_json_schema()
        for name in ("conflicts", "parser", "note", "ai_call_id"):  # ours to fill, not the model's
            schema["properties"].pop(name, None)
        reply = self.service.complete_json("parse_rule", {"rule_text": text}, schema=schema,
                                           schema_name="rule_parse", validate=_validate_ai_parse)
        parsed = reply.value
        parsed.conflicts = find_conflicts(parsed.constraints)
        parsed.ai_call_id = reply.call_id  # saving the rule records that the rider kept this answer
        return parsed


def _validate_ai_parse(data) -> RuleParse:
    """The model's answer must be exactly the schema: unknown keys, kinds, days or types are refused."""
    if not isinstance(data, dict):
        raise AIServiceError("The AI answer was not a JSON object")
    ours = {"parser", "conflicts", "note", "ai_call_id"}  # filled by VeloCoach, never taken from the model
    try:
        return RuleParse(**{k: v for k, v in data.items() if k not in ours}, parser="ai")
    except (ValidationError, TypeError) as exc:
        raise AIServiceError(f"The AI answer did not fit the rule schema ({_short(exc)})") from None


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def parse_rule(text: str, *, cur=None, settings=None, service=None) -> RuleParse:
    """Parse a rule with the LLM when AI is configured (and ``cur`` given), else deterministically.

    Any AI failure falls back to the deterministic parser; ``note`` says what happened."""
    if service is None and cur is not None and settings is not None and settings.ai_enabled:
        from core.coach.ai import AIService

        service = AIService(cur, settings)
    if service is None:
        result = DeterministicParser().parse(text)
        if settings is not None and not settings.ai_enabled:
            result.note = "No AI service configured: parsed offline by the built-in parser."
        return result
    try:
        return LLMParser(service).parse(text)
    except AIServiceError as exc:
        result = DeterministicParser().parse(text)
        result.note = f"The AI service failed ({exc}); parsed offline by the built-in parser instead."
        return result


# ----------------------------------------------------------------------------------------------------------------
# Conflicts
# ----------------------------------------------------------------------------------------------------------------

def find_conflicts(constraints: list[Constraint]) -> list[str]:
    """Pairs (or sets) of constraints that cannot all hold, in plain words."""
    problems: list[str] = []
    rest = {d for c in constraints if c.kind == "rest_days" for d in c.days}
    long_rules = [c for c in constraints if c.kind == "long_ride_day"]
    for rule in long_rules:
        clash = [d for d in rule.days if d in rest]
        if clash and len(clash) == len(rule.days):
            problems.append(f"Long ride on {', '.join(DAY_NAMES[d] for d in clash)} conflicts with a rest day "
                            "on the same day.")
        for other in constraints:
            if other.kind == "forbidden_types" and "long" in other.workout_types and \
                    all((not other.days) or d in other.days for d in rule.days):
                problems.append("The long-ride day forbids long rides.")
            if other.kind == "allowed_types" and "long" not in other.workout_types and \
                    all(d in other.days for d in rule.days):
                problems.append(f"{other.describe()} leaves no room for the long ride on "
                                f"{', '.join(DAY_NAMES[d] for d in rule.days)}.")
    if len(rest) == 7:
        problems.append("Every day of the week is a rest day: there is no day left to train.")
    hours = [c.limit for c in constraints if c.kind == "max_weekly_hours"]
    if len(set(hours)) > 1:
        problems.append(f"Two different weekly hour limits ({', '.join(f'{h:g} h' for h in hours)}): the lower "
                        "one applies.")
    training_days = [c.limit for c in constraints if c.kind == "max_training_days"]
    if training_days and min(training_days) + len(rest) < 1:
        problems.append("No training day is left.")
    hard = [c.limit for c in constraints if c.kind == "max_hard_sessions"]
    if len(set(hard)) > 1:
        problems.append(f"Two different hard-session limits ({', '.join(f'{h:g}' for h in hard)}): the lower "
                        "one applies.")
    for rule in constraints:
        if rule.kind == "indoor_only_days" and set(rule.days) <= rest and rule.days:
            problems.append(f"Indoor only on {', '.join(DAY_NAMES[d] for d in rule.days)}, but those are rest "
                            "days anyway.")
    return list(dict.fromkeys(problems))


# ----------------------------------------------------------------------------------------------------------------
# Storage and versions
# ----------------------------------------------------------------------------------------------------------------

_RULE_COLUMNS = ("id", "athlete_id", "name", "text", "parsed", "version", "parent_rule_id", "created_at")
_RULE_SELECT = "SELECT r.id, r.athlete_id, r.name, r.text, r.parsed, r.version, r.parent_rule_id, r.created_at FROM rules r"


def _rule_row(row) -> dict:
    data = dict(zip(_RULE_COLUMNS, row, strict=False))
    data["parsed"] = json.loads(data["parsed"]) if isinstance(data["parsed"], str) else data["parsed"]
    data["constraints"] = [Constraint(**c) for c in data["parsed"].get("constraints", [])]
    return data


def rule_public(rule: dict) -> dict:
    """A JSON-safe view of a stored rule."""
    return {k: rule[k] for k in _RULE_COLUMNS if k != "athlete_id"} | {
        "description": [c.describe() for c in rule["constraints"]]}


def _default_name(parsed: RuleParse, text: str) -> str:
    if parsed.constraints:
        return parsed.constraints[0].describe()[:80]
    return text[:80]


def save_rule(cur, athlete_id: int, text: str, *, name: str | None = None, parsed: RuleParse | None = None) -> dict:
    """Parse (unless a previewed ``parsed`` is given) and store a rule as version 1. Refuses a rule that yields
    no constraint, so nothing unusable is saved."""
    text = _check_text(text)
    parsed = parsed or DeterministicParser().parse(text)
    if not parsed.constraints:
        raise RuleParseError(f"Nothing in “{text[:80]}” could be turned into a rule, so it was not saved. "
                             + (parsed.suggestions[0] if parsed.suggestions else ""))
    name = (name or "").strip()[:80] or _default_name(parsed, text)
    with transaction(cur):
        rule_id = cur.execute(
            "INSERT INTO rules (athlete_id, name, text, parsed, version) VALUES (?, ?, ?, ?, 1) RETURNING id",
            [athlete_id, name, text, parsed.model_dump_json()]).fetchone()[0]
        record_verdict(cur, parsed.ai_call_id, True)
        audit(cur, "create", "rule", rule_id, athlete_id)
        bump_data_version(cur)
    return get_rule(cur, rule_id)


def edit_rule(cur, rule_id: int, text: str, *, name: str | None = None, parsed: RuleParse | None = None) -> dict:
    """Store an edit as a new version whose parent is ``rule_id``; the old version stays (plans point at it)."""
    old = get_rule(cur, rule_id)
    text = _check_text(text)
    parsed = parsed or DeterministicParser().parse(text)
    if not parsed.constraints:
        raise RuleParseError(f"Nothing in “{text[:80]}” could be turned into a rule, so the edit was not saved.")
    with transaction(cur):
        new_id = cur.execute(
            "INSERT INTO rules (athlete_id, name, text, parsed, version, parent_rule_id) VALUES (?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            [old["athlete_id"], (name or "").strip()[:80] or old["name"], text, parsed.model_dump_json(),
             old["version"] + 1, rule_id]).fetchone()[0]
        record_verdict(cur, parsed.ai_call_id, True)
        audit(cur, "edit", "rule", new_id, old["athlete_id"], parent=rule_id)
        bump_data_version(cur)
    return get_rule(cur, new_id)


def get_rule(cur, rule_id: int) -> dict:
    row = cur.execute(_RULE_SELECT + " WHERE r.id = ?", [rule_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Rule {rule_id} was not found")
    return _rule_row(row)


_LATEST_WHERE = (" WHERE r.athlete_id = ? AND (NOT ? OR NOT EXISTS (SELECT 1 FROM rules c"
                 " WHERE c.parent_rule_id = r.id)) ORDER BY r.id DESC")


def list_rules(cur, athlete_id: int, *, latest_only: bool = True) -> list[dict]:
    """The athlete's rules, newest first; by default only the latest version of each."""
    rows = cur.execute(
        _RULE_SELECT + _LATEST_WHERE, [athlete_id, latest_only]).fetchall()
    return [_rule_row(r) for r in rows]


def rule_versions(cur, rule_id: int) -> list[dict]:
    """Every version in ``rule_id``'s chain (ancestors and descendants), oldest first."""
    root = get_rule(cur, rule_id)
    while root["parent_rule_id"] is not None:
        root = get_rule(cur, root["parent_rule_id"])
    chain = [root]
    while True:
        row = cur.execute(_RULE_SELECT + " WHERE r.parent_rule_id = ? ORDER BY r.id LIMIT 1",
                          [chain[-1]["id"]]).fetchone()
        if row is None:
            return chain
        chain.append(_rule_row(row))


def delete_rule(cur, rule_id: int) -> None:
    """Delete a rule version no plan uses and no newer version edits."""
    rule = get_rule(cur, rule_id)
    used = cur.execute("SELECT count(*) FROM plan_rules WHERE rule_id = ?", [rule_id]).fetchone()[0]
    if used:
        raise RuleParseError(f"Rule “{rule['name']}” is used by {used} plan(s); delete those plans first.")
    child = cur.execute("SELECT count(*) FROM rules WHERE parent_rule_id = ?", [rule_id]).fetchone()[0]
    if child:
        raise RuleParseError(f"Rule “{rule['name']}” has a newer version; delete that one first.")
    with transaction(cur):
        cur.execute("DELETE FROM rules WHERE id = ?", [rule_id])
        audit(cur, "delete", "rule", rule_id, rule["athlete_id"])
        bump_data_version(cur)


def constraints_of(cur, athlete_id: int, rule_ids: list[int]) -> tuple[list[Constraint], list[dict]]:
    """The constraints of the given rules (all belonging to ``athlete_id``) and the rule rows."""
    rules = []
    for rule_id in dict.fromkeys(rule_ids):
        rule = get_rule(cur, int(rule_id))
        if rule["athlete_id"] != athlete_id:
            raise NotFoundError(f"Rule {rule_id} was not found")
        rules.append(rule)
    return [c for r in rules for c in r["constraints"]], rules
