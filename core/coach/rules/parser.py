"""Reading a rider's sentence into constraints: the built-in keyword parser (offline) and the LLM parser, both
returning a ``ParseResult`` (core.coach.rules.result); ``parse_rule`` picks the LLM when AI is configured and falls
back to the built-in parser on any failure, saying so in ``note``.

The keyword parser is the interim reader (a grammar-based parser replaces it): it splits the sentence into clauses
(keeping their offsets) and maps common phrasings to constraints; anything else is left unparsed with a rewording.
The LLM proposes the same constraint schema and is validated by it, so text inside a rule ("ignore previous
instructions…") can never change the output's types.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.coach.rules.conflicts import rule_conflicts
from core.coach.rules.model import DAYS, WEEKDAYS, Constraint, parse_constraint
from core.coach.rules.result import (
    MAX_RULE_TEXT,
    ClauseReading,
    ParseContext,
    ParseResult,
    Span,
    Unparsed,
    UnparsedReason,
    questions_for,
    status_of,
)
from core.errors import AIServiceError, RuleParseError

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

# phrase -> workout types or groups (longest phrases first); groups are stored by name (Settings decide "hard")
_TYPE_WORDS: list[tuple[str, list[str]]] = [
    (r"hard (?:sessions?|workouts?|rides?|efforts?|days?|training)|high[- ]intensity|hiit|quality (?:sessions?|"
     r"workouts?)|key (?:sessions?|workouts?)", ["hard"]),
    (r"intensity", ["intensity"]),
    (r"intervals?|interval sessions?|structured workouts?", ["intervals"]),
    (r"vo2 ?max|vo2", ["vo2max"]),
    (r"threshold|ftp (?:work|efforts?|intervals?)", ["threshold"]),
    (r"sweet ?spot|sst", ["sweet_spot"]),
    (r"tempo", ["tempo"]),
    (r"anaerobic", ["anaerobic"]),
    (r"sprints?", ["sprint"]),
    (r"races?|racing", ["race"]),
    (r"long rides?|long ride", ["long"]),
    (r"endurance|zone ?2|z2|base rides?", ["endurance"]),
    (r"recovery rides?|recovery|spins?", ["recovery"]),
    (r"easy rides?|easy", ["easy"]),
]
_TYPE_RES = [(re.compile(r"\b(?:" + p + r")\b"), types) for p, types in _TYPE_WORDS]

_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_LIMIT_WORDS = (r"(?:max(?:imum)?\.?|at most|no more than|not more than|up to|under|less than|fewer than|"
                r"limit(?:ed)? (?:to|of)|cap(?:ped)? at|never more than|never over|not over|no longer than|"
                r"not longer than)")
_WEEKLY = re.compile(r"\b(?:a|per|each|every) week\b|\bweekly\b|\bin a week\b|/ ?w(?:ee)?k\b")
_UNAVAILABLE = re.compile(r"\bcan'?t\b|\bcannot\b|\bunable\b|\bnot available\b|\bbusy\b|\bno time\b")
_SUGGESTION = ("Try e.g. “rest on Fridays”, “max 9 hours a week”, “no intervals on Mondays”, “no more than 2 hard "
               "sessions a week”.")


def _number(token: str) -> float:
    token = token.strip().lower()
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    return float(token.replace(",", "."))


def _days_in(text: str) -> tuple[list[str], str | None]:
    """Weekdays named in ``text`` (in week order) and a note when the phrase was a group (the weekend)."""
    found = set()
    for match in _DAY_RE.finditer(text):
        found.update(k for k, v in match.groupdict().items() if v)
    note = None
    if _WEEKEND_RE.search(text):
        found.update({"sat", "sun"})
        note = "weekend"
    if _WEEKDAYS_RE.search(text):
        found.update(WEEKDAYS)
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
_SPLIT = re.compile(r"[,;.\n!?]+(?!\d)|\bbut\b|\balso\b|\bplus\b", re.I)
_AND = re.compile(r"\band\b|&", re.I)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in "%'′\""):
        end -= 1
    return (start, end) if end > start else None


def clause_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause: split on punctuation, and on 'and' when both sides are rules of their own."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for cut in list(_SPLIT.finditer(text)) + [None]:
        end = cut.start() if cut else len(text)
        current = pos
        for joint in _AND.finditer(text, pos, end):
            left = text[current:joint.start()]
            nxt = _AND.search(text, joint.end(), end)
            right = text[joint.end():nxt.start() if nxt else end]
            if _KEYWORDS.search(left.lower()) and _KEYWORDS.search(right.lower()):
                spans.append((current, joint.start()))
                current = joint.end()
        spans.append((current, end))
        pos = cut.end() if cut else len(text)
    return [s for s in (_trim(text, a, b) for a, b in spans) if s]


class _Clause:
    def __init__(self, constraints: list[dict], suggestions=None, confidence: float = 1.0):
        self.constraints = constraints
        self.suggestions = suggestions or []
        self.confidence = confidence


def _parse_clause(clause: str) -> _Clause | None:
    c = " " + re.sub(r"\s+", " ", clause.lower()).strip().replace("’", "'") + " "
    days, day_note = _days_in(c)
    suggestions: list[str] = []
    confidence = 1.0
    weekly = bool(_WEEKLY.search(c))

    # ramp -------------------------------------------------------------------------------------------------------
    if re.search(r"\bramp|\bincrease|\bprogress|\bbuild(?:ing)? (?:load|up)|\bload\b.*\brise|\bclimb", c) and \
            re.search(r"\d|" + "|".join(_NUMBER_WORDS), c):
        m = re.search(_NUM + r"\s*(%|percent|per ?cent|pct)?", c)
        if m:
            pct = _number(m.group(1))
            metric = "hours" if re.search(r"\bhours?\b|\bhrs?\b|\bvolume\b", c) else "tss"
            if not m.group(2):
                suggestions.append(f"“{clause}”: no unit given — read {pct:g} as a percentage per week.")
                confidence = 0.7
            return _Clause([{"kind": "ramp_limit", "metric": metric, "limit": pct, "unit": "pct"}], suggestions,
                           confidence)
    # rest after N hard days / consecutive hard days ---------------------------------------------------------------
    m = re.search(r"rest(?: day)?s? after " + _NUM + r" (?:hard|intense|tough|interval|consecutive hard) ?"
                  r"(?:days?|sessions?|workouts?)", c) \
        or re.search(r"after " + _NUM + r" (?:hard|intense|tough) (?:days?|sessions?)(?: in a row)?,? (?:take |have "
                     r"|a )?(?:a )?rest", c)
    if m:
        return _Clause([{"kind": "day_after", "trigger": ["hard"], "streak": int(_number(m.group(1))),
                         "then": "rest"}])
    if re.search(r"rest(?: day)? after (?:a|every|each) hard (?:day|session|workout)", c):
        return _Clause([{"kind": "day_after", "trigger": ["hard"], "streak": 1, "then": "rest"}])
    if re.search(r"\bno (?:back[- ]to[- ]back|consecutive) hard|\bhard (?:days?|sessions?) (?:in a row|back[- ]to[- ]"
                 r"back)|never (?:two|2) hard days in a row", c):
        return _Clause([{"kind": "max_consecutive", "types": ["hard"], "limit": 1}])
    m = re.search(_LIMIT_WORDS + r" " + _NUM + r" hard (?:days?|sessions?) in a row", c)
    if m:
        return _Clause([{"kind": "max_consecutive", "types": ["hard"], "limit": int(_number(m.group(1)))}])
    # sessions of a type per week --------------------------------------------------------------------------------
    m = re.search(_LIMIT_WORDS + r" " + _NUM + r" ([a-z0-9 -]+?) ?(?:sessions?|workouts?|days?|rides?|efforts?)", c) \
        or re.search(r"\bonly " + _NUM + r" ([a-z0-9 -]+?) ?(?:sessions?|workouts?|days?|rides?)", c)
    if m and _types_in(m.group(0)) and weekly:
        count = int(_number(m.group(1)))
        types = _types_in(m.group(0))
        if count == 0:
            return _Clause([{"kind": "banned_types", "types": types}])
        return _Clause([{"kind": "type_count", "types": types, "max": count}])
    # training days per week -------------------------------------------------------------------------------------
    m = re.search(r"(?:train|ride|training)?\s*" + _LIMIT_WORDS + r" " + _NUM + r" (?:training |riding )?days? "
                  r"(?:a|per|each|every) week", c) \
        or re.search(r"\b(?:train|ride) (?:only )?" + _NUM + r" days? (?:a|per|each|every) week", c)
    if m:
        return _Clause([{"kind": "training_days", "max": int(_number(m.group(1)))}])
    # session length -----------------------------------------------------------------------------------------------
    m = re.search(r"(?:rides?|sessions?|workouts?|training)\s*(?:of\s*)?(?:" + _LIMIT_WORDS
                  + r"|longer than|over|more than|beyond) " + _NUM + r"\s*(hours?|hrs?|h|minutes?|mins?|m)?\b", c) \
        or re.search(_LIMIT_WORDS + r" " + _NUM + r"\s*(hours?|hrs?|h|minutes?|mins?)\b (?:per|a|each) "
                     r"(?:ride|session|workout|day)", c) \
        or (days and not weekly and re.search(_LIMIT_WORDS + r" " + _NUM + r"\s*(hours?|hrs?|h|minutes?|mins?)\b", c))
    if m and not weekly:
        value, unit = _number(m.group(1)), m.group(2) or ""
        if unit.startswith("h"):
            minutes = value * 60
        elif unit.startswith("m"):
            minutes = value
        else:
            minutes = value * 60 if value <= 12 else value
            suggestions.append(f"“{clause}”: no unit given — read as {minutes:g} minutes.")
            confidence = 0.7
        types = [t for t in _types_in(c) if t != "intensity"]
        return _Clause([{"kind": "session_length", "max": round(minutes, 1), "days": days, "types": types}],
                       suggestions, confidence)
    # weekly hours -------------------------------------------------------------------------------------------------
    m = re.search(_LIMIT_WORDS + r" " + _NUM + r"\s*(hours?|hrs?|h|minutes?|mins?)?\b", c) \
        or re.search(r"\b" + _NUM + r"\s*(hours?|hrs?|h)\b (?:a|per|each) week (?:max|maximum|at most|tops)", c)
    if m and (weekly or (m.group(2) or "").startswith("h")) and not re.search(r"\bhard\b|\bsessions?\b", c):
        value, unit = _number(m.group(1)), m.group(2) or ""
        hours = value / 60 if unit.startswith("m") else value
        if not unit:
            suggestions.append(f"“{clause}”: no unit given — read {value:g} as hours per week.")
            confidence = 0.7
        if not weekly:
            suggestions.append(f"“{clause}”: read as a weekly limit.")
            confidence = min(confidence, 0.8)
        return _Clause([{"kind": "weekly_volume", "max": round(hours, 2), "unit": "h"}], suggestions, confidence)
    # long ride day ----------------------------------------------------------------------------------------------
    if re.search(r"\blong (?:rides?|days?|sessions?|outings?)\b|\blong one\b", c) and not re.search(r"\bno long\b", c):
        if not days:
            suggestions.append(f"“{clause}”: which day? Name it, e.g. “long ride on Saturday”.")
            return None
        if day_note == "weekend":
            suggestions.append("Long ride on Saturday or Sunday: write “long ride on Sunday” to fix one day.")
        return _Clause([{"kind": "long_ride_days", "days": days}], suggestions)
    # indoor only ------------------------------------------------------------------------------------------------
    if re.search(r"\bindoors?\b|\btrainer\b|\bturbo\b|\bzwift\b|\brollers\b", c):
        if not days:
            suggestions.append(f"“{clause}”: on which days? Name them, e.g. “indoor only on Tuesdays”.")
            return None
        return _Clause([{"kind": "venue", "where": "indoor", "days": days}])
    # rest days --------------------------------------------------------------------------------------------------
    rest_phrase = re.search(
        r"\brest(?:ing)?\b|\bdays? off\b|\boff on\b|\boff\b|\bno (?:training|riding|rides?|cycling|bike)\b|"
        r"\bnever (?:train|ride)\b|\bdon'?t (?:train|ride)\b|\bfree\b|\bcan'?t (?:train|ride)\b|\bcannot (?:train|"
        r"ride)\b|\bunable to (?:train|ride)\b", c)
    types = _types_in(c)
    if rest_phrase and not types:
        if not days:
            suggestions.append(f"“{clause}”: which day(s)? Name them, e.g. “rest on Fridays”.")
            return None
        reason = "unavailable" if _UNAVAILABLE.search(c) else "rest"
        return _Clause([{"kind": "rest_days", "days": days, "reason": reason}])
    # banned / allowed types per weekday ---------------------------------------------------------------------------
    if types:
        if re.search(r"\bno\b|\bnever\b|\bavoid\b|\bnot\b|\bdon'?t\b|\bwithout\b|\bforbid", c):
            if not days:
                suggestions.append(f"“{clause}”: no day named — this bans it in every week of the season.")
                confidence = 0.8
            return _Clause([{"kind": "banned_types", "days": days, "types": types}], suggestions, confidence)
        if re.search(r"\bonly\b|\bjust\b|\bkeep\b|\bshould be\b|\bmust be\b|\bare for\b|\bis for\b", c) and days:
            return _Clause([{"kind": "allowed_types", "days": days, "types": types}])
    return None


def check_text(text) -> str:
    """The rule's text, stripped, or RuleParseError saying why it cannot be read (empty, huge, NUL)."""
    if not isinstance(text, str) or not text.strip():
        raise RuleParseError("The rule is empty: write it in plain words, e.g. “rest on Fridays”.")
    if len(text) > MAX_RULE_TEXT:
        raise RuleParseError(f"The rule is {len(text)} characters long; keep it under {MAX_RULE_TEXT}.")
    if "\x00" in text:
        raise RuleParseError("The rule contains a NUL character; type it again as plain text.")
    return text.strip()


def _pydantic_message(exc: ValidationError) -> str:
    return "; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors())


def finish(text: str, constraints: list, clauses: list[ClauseReading], unparsed: list[Unparsed],
           suggestions: list[str], *, parser: str, context: ParseContext | None = None,
           note: str | None = None) -> ParseResult:
    """The ParseResult of a sentence from its parts: status, questions, conflicts and confidence filled in."""
    context = context or ParseContext()
    questions = questions_for(constraints, context)
    conflicts = [c.message for c in rule_conflicts(constraints,
                                                   hard_includes_sweet_spot=context.hard_includes_sweet_spot)]
    confidence = min((c.confidence for c in clauses), default=0.0) if constraints else 0.0
    return ParseResult(text=text, status=status_of(constraints, unparsed), constraints=constraints, clauses=clauses,
                       unparsed=unparsed[:30], questions=questions[:30], conflicts=conflicts[:30],
                       suggestions=list(dict.fromkeys(suggestions))[:30], confidence_score=round(confidence, 2),
                       parser=parser, note=note)


class DeterministicParser:
    """Offline rule parser for the common English phrasings (the interim keyword reader)."""

    name = "deterministic"

    def parse(self, text: str, context: ParseContext | None = None) -> ParseResult:
        text = check_text(text)
        constraints: list = []
        clauses: list[ClauseReading] = []
        unparsed: list[Unparsed] = []
        suggestions: list[str] = []
        for start, end in clause_spans(text):
            piece = text[start:end]
            reason: UnparsedReason = "unknown_words"
            try:
                result = _parse_clause(piece)
                found = [parse_constraint(c) for c in result.constraints] if result else []
            except ValidationError as exc:
                result, found, reason = None, [], "out_of_range"
                suggestions.append(f"“{piece}”: {_pydantic_message(exc)}")
            if not found:
                hint = next((s for s in (result.suggestions if result else []) if piece in s), None)
                hint = hint or next((s for s in suggestions if piece in s), None)
                unparsed.append(Unparsed(start=start, end=end, text=piece, reason=reason,
                                         suggestion=(hint or f"“{piece}” was not understood. {_SUGGESTION}")[:500]))
                continue
            clauses.append(ClauseReading(span=Span(start=start, end=end, text=piece),
                                         constraints=list(range(len(constraints), len(constraints) + len(found))),
                                         confidence=result.confidence))
            constraints.extend(found)
            suggestions.extend(result.suggestions)
        suggestions.extend(u.suggestion for u in unparsed)
        return finish(text, constraints, clauses, unparsed, suggestions, parser="deterministic", context=context)


class _AIUnparsed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_RULE_TEXT)
    reason: UnparsedReason = "unknown_words"
    suggestion: str = Field(min_length=1, max_length=500)


class AIParse(BaseModel):
    """What the LLM is asked to return (the constraint schema itself); VeloCoach adds spans, status and checks."""

    model_config = ConfigDict(extra="forbid")

    constraints: list[Constraint] = Field(default_factory=list, max_length=30)
    unparsed: list[_AIUnparsed] = Field(default_factory=list, max_length=30)
    suggestions: list[str] = Field(default_factory=list, max_length=30)
    confidence_score: float = Field(ge=0, le=1)


class LLMParser:
    """Rule parser backed by core.coach.ai: the model proposes, ``AIParse`` validates (extra fields and unknown kinds
    are refused), so injected instructions cannot change the output's shape."""

    name = "ai"

    def __init__(self, service):
        self.service = service

    def parse(self, text: str, context: ParseContext | None = None) -> ParseResult:
        text = check_text(text)
        reply = self.service.complete_json("parse_rule", {"rule_text": text}, schema=AIParse.model_json_schema(),
                                           schema_name="rule_parse", validate=_validate_ai_parse)
        answer: AIParse = reply.value
        unparsed = []
        for item in answer.unparsed:
            at = text.lower().find(item.text.lower())
            if at < 0:
                raise AIServiceError("The AI answer named words that are not in the rule")
            unparsed.append(Unparsed(start=at, end=at + len(item.text), text=text[at:at + len(item.text)],
                                     reason=item.reason, suggestion=item.suggestion))
        if not answer.constraints and not unparsed:
            unparsed = [Unparsed(start=0, end=len(text), text=text, reason="unknown_words",
                                 suggestion=answer.suggestions[0][:500] if answer.suggestions else _SUGGESTION)]
        clauses = [ClauseReading(span=Span(start=0, end=len(text), text=text),
                                 constraints=list(range(len(answer.constraints))),
                                 confidence=answer.confidence_score)] if answer.constraints else []
        result = finish(text, list(answer.constraints), clauses, unparsed, answer.suggestions, parser="ai",
                        context=context)
        result._ai_call_id = reply.call_id  # saving the rule records that the rider kept this answer
        return result


def _validate_ai_parse(data) -> AIParse:
    """The model's answer must be exactly the schema: unknown keys, kinds, days or types are refused."""
    if not isinstance(data, dict):
        raise AIServiceError("The AI answer was not a JSON object")
    try:
        return AIParse(**data)
    except (ValidationError, TypeError) as exc:
        raise AIServiceError(f"The AI answer did not fit the rule schema ({str(exc).splitlines()[0][:200]})") from None


def parse_rule(text: str, *, cur=None, settings=None, service=None, context: ParseContext | None = None) -> ParseResult:
    """Parse a rule with the LLM when AI is configured (and ``cur`` given), else with the built-in parser.

    Any AI failure falls back to the built-in parser; ``note`` says what happened."""
    if service is None and cur is not None and settings is not None and settings.ai_enabled:
        from core.coach.ai import AIService

        service = AIService(cur, settings)
    if service is None:
        result = DeterministicParser().parse(text, context)
        if settings is not None and not settings.ai_enabled:
            result.note = "No AI service configured: parsed offline by the built-in parser."
        return result
    try:
        return LLMParser(service).parse(text, context)
    except (AIServiceError, ValidationError) as exc:
        result = DeterministicParser().parse(text, context)
        reason = exc if isinstance(exc, AIServiceError) else "its answer did not fit the rule schema"
        result.note = f"The AI service failed ({reason}); parsed offline by the built-in parser instead."
        return result
