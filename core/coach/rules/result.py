"""What a parser returns for one sentence (``ParseResult``, schema version 2), the context it reads a sentence in
(``ParseContext``) and the questions a preview asks before applying a constraint (``questions_for``).

A sentence is *understood* (constraints, nothing left over), *partial* (constraints and unparsed spans, each with a
reason and a concrete rewording) or *refused* (no constraint). Every span points into the text; every constraint
comes from exactly one clause; a clause with more than one grammar reading is never applied. ``rules parse --json``
prints this model; a rule row stores it in ``rules.parsed``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from core.coach.rules.model import (
    DAYS,
    INTENSITY_TRAINING,
    LOADING_PHASES,
    Constraint,
    describe,
    expand_types,
    parse_constraint,
)

MAX_RULE_TEXT = 2000


class Span(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=MAX_RULE_TEXT)

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError("a span ends after it starts")
        return self


WordRole = Literal["negation", "modality", "number", "unit", "day", "type", "group", "phase", "scope", "except",
                   "event", "kind", "date"]


class Word(Span):
    """One word (or multi-word token) that produced part of a constraint, and its role."""

    role: WordRole
    normalised: str | None = Field(None, max_length=60)  # e.g. "wensday" → "wed", "1h30" → "90 min"


class ClauseReading(BaseModel):
    """One clause of the sentence, the constraints it produced (indices into ParseResult.constraints) and why."""

    model_config = ConfigDict(extra="forbid")

    span: Span
    constraints: list[int] = Field(min_length=1, max_length=10)
    words: list[Word] = Field(default_factory=list, max_length=60)
    confidence: float = Field(ge=0, le=1)
    readings: int = Field(1, ge=1)  # grammar readings found; the parser never returns a clause with more than one


UnparsedReason = Literal["unknown_words", "not_a_constraint", "not_representable", "too_vague", "ambiguous",
                         "contradictory", "out_of_range", "unsafe"]
UNPARSED_REASONS: tuple[str, ...] = UnparsedReason.__args__  # type: ignore[attr-defined]


class Unparsed(Span):
    """A part of the sentence left out, why, and a concrete rewording the rider can try."""

    reason: UnparsedReason
    suggestion: str = Field(min_length=1, max_length=500)


QuestionCode = Literal["removes_all_intensity", "bans_type_all_season", "below_recent_load", "readings_differ"]


class Question(BaseModel):
    """A constraint that is proposed but not applied until the rider confirms it."""

    model_config = ConfigDict(extra="forbid")

    code: QuestionCode
    constraints: list[int] = Field(min_length=1)
    message: str = Field(min_length=1, max_length=500)


Status = Literal["understood", "partial", "refused"]


class ParseResult(BaseModel):
    """What `rules parse TEXT --json` prints and what a rule row stores (schema_version 2)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[2] = 2
    text: str = Field(max_length=MAX_RULE_TEXT)
    status: Status
    constraints: list[Constraint] = Field(default_factory=list, max_length=30)
    clauses: list[ClauseReading] = Field(default_factory=list, max_length=30)
    unparsed: list[Unparsed] = Field(default_factory=list, max_length=30)
    ignored: list[Span] = Field(default_factory=list, max_length=30)  # fillers and reasons ("because I work")
    questions: list[Question] = Field(default_factory=list, max_length=30)
    conflicts: list[str] = Field(default_factory=list, max_length=30)
    suggestions: list[str] = Field(default_factory=list, max_length=30)
    confidence_score: float = Field(0.0, ge=0, le=1)
    parser: Literal["deterministic", "ai", "upgrade"] = "deterministic"
    note: str | None = Field(None, max_length=1000)
    # the AI answer this came from (core.coach.ai's call id; never stored nor in the schema): saving the rule records
    # that the rider kept it
    _ai_call_id: int | None = PrivateAttr(default=None)
    # the built-in reader's parse when an AI parse differs from it (the preview shows both readings)
    alternative: ParseResult | None = None

    @model_validator(mode="after")
    def _consistent(self):
        n = len(self.constraints)
        if self.status == "refused" and (n or not self.unparsed):
            raise ValueError("a refused parse has no constraints and at least one unparsed span")
        if self.status == "partial" and not (n and self.unparsed):
            raise ValueError("a partial parse has constraints and unparsed spans")
        if self.status == "understood" and (not n or self.unparsed):
            raise ValueError("an understood parse has constraints and no unparsed span")
        for q in self.questions:
            if any(not 0 <= i < n for i in q.constraints):
                raise ValueError("a question points at a constraint that does not exist")
        spans = [c.span for c in self.clauses] + [w for c in self.clauses for w in c.words] + \
            list(self.unparsed) + list(self.ignored)
        for s in spans:
            if self.text[s.start:s.end] != s.text:
                raise ValueError(f"span {s.start}:{s.end} does not match the text ({s.text!r})")
        if self.parser != "upgrade" and n:
            covered = [i for c in self.clauses for i in c.constraints]
            if sorted(covered) != list(range(n)):
                raise ValueError("every constraint comes from exactly one clause")
        if any(c.readings > 1 for c in self.clauses):
            raise ValueError("a clause with more than one reading is asked about, never applied")
        return self

    def questioned(self) -> set[int]:
        """Indices of the constraints under a question (shown, not applied until confirmed)."""
        return {i for q in self.questions for i in q.constraints}


def status_of(constraints: list, unparsed: list) -> str:
    """understood | partial | refused, by the invariants of ParseResult."""
    if not constraints:
        return "refused"
    return "partial" if unparsed else "understood"


# ---------------------------------------------------------------------------------------------------------------
# Context and questions
# ---------------------------------------------------------------------------------------------------------------

class ParseContext(BaseModel):
    """What the parser and the preview know besides the sentence (relative dates, recent load, Settings).
    The defaults are the corpus's context (tests/data/rule_corpus)."""

    model_config = ConfigDict(extra="forbid")

    today: date = date(2025, 3, 3)
    event_date: date | None = date(2025, 6, 15)
    recent_weekly_hours: float | None = 8.0
    recent_weekly_tss: float | None = 450.0
    recent_weekly_km: float | None = 200.0
    hard_includes_sweet_spot: bool = True


_QUESTION_TEXT = {
    "removes_all_intensity": "These rules leave no day of a loading week for intensity (sweet spot or harder): the "
                             "plan would have none. Is that what you mean?",
    "bans_type_all_season": "This bans the type in every week of the season, not only in one phase or on some "
                            "days. Is that what you mean?",
    "below_recent_load": "This caps the week below what you have ridden recently. Is that what you mean?",
}


def _applies(c, day: str, phase: str) -> bool:
    """Does a scoped constraint apply on this weekday in a week of this phase (outside any event window)?"""
    if getattr(c, "before_event_days", None):
        return False
    phases = getattr(c, "phases", None)
    return day in c.effective_days() and (not phases or phase in phases)


def questions_for(constraints: list, ctx: ParseContext | None = None) -> list[dict]:
    """The confirmations a preview must ask before applying these constraints: [{code, constraints, message}].

    - removes_all_intensity: no weekday of any loading phase still allows a hard training type
      (INTENSITY_TRAINING); lists the banned_types/allowed_types that take intensity away.
    - bans_type_all_season: a banned_types with no day, phase or event-window scope.
    - below_recent_load: a weekly_volume maximum (for all phases or a loading phase) below the recent weekly load.
    """
    ctx = ctx or ParseContext()
    items = [parse_constraint(c) for c in constraints]
    out: list[dict] = []
    intensity = set(INTENSITY_TRAINING)
    if not ctx.hard_includes_sweet_spot:
        intensity.discard("sweet_spot")
    any_left = False
    takers: set[int] = set()
    for day in DAYS:
        for phase in LOADING_PHASES:
            left = set(intensity)
            for i, c in enumerate(items):
                if c.kind not in ("rest_days", "banned_types", "allowed_types") or not _applies(c, day, phase):
                    continue
                before = len(left)
                if c.kind == "rest_days":
                    left.clear()
                elif c.kind == "banned_types":
                    left -= expand_types(c.types, hard_includes_sweet_spot=ctx.hard_includes_sweet_spot)
                else:
                    left &= expand_types(c.types, hard_includes_sweet_spot=ctx.hard_includes_sweet_spot)
                if len(left) < before and c.kind != "rest_days":
                    takers.add(i)
            any_left = any_left or bool(left)
    if not any_left and takers:
        out.append({"code": "removes_all_intensity", "constraints": sorted(takers)})
    for i, c in enumerate(items):
        if c.kind == "banned_types" and not (c.days or c.except_days or c.phases or c.before_event_days):
            out.append({"code": "bans_type_all_season", "constraints": [i]})
    for i, c in enumerate(items):
        if c.kind != "weekly_volume" or c.max is None:
            continue
        if c.phases and not set(c.phases) & set(LOADING_PHASES):
            continue
        recent = {"h": ctx.recent_weekly_hours, "tss": ctx.recent_weekly_tss, "km": ctx.recent_weekly_km,
                  "mi": ctx.recent_weekly_km / 1.609344 if ctx.recent_weekly_km else None}[c.unit]
        if recent is not None and c.max < recent - 1e-9:
            out.append({"code": "below_recent_load", "constraints": [i]})
    for q in out:
        named = "; ".join(describe(items[i]) for i in q["constraints"])
        q["message"] = f"{_QUESTION_TEXT[q['code']]} ({named})"[:500]
    return out
