"""Reading a rider's sentence into constraints: the built-in keyword parser (offline) and the LLM parser, both
returning a ``ParseResult`` (core.coach.rules.result); ``parse_rule`` picks the LLM when AI is configured and falls
back to the built-in parser on any failure, saying so in ``note``.

The keyword parser is the interim reader (a grammar-based parser replaces it): it splits the sentence into clauses
(keeping their offsets) and maps common phrasings to constraints; anything else is left unparsed with a rewording.
The LLM proposes the same constraint schema and is validated by it, so text inside a rule ("ignore previous
instructions…") can never change the output's types.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.coach.rules.clauses import read_text, word_norm, word_role
from core.coach.rules.conflicts import rule_conflicts
from core.coach.rules.frames import Carry
from core.coach.rules.model import Constraint, constraint_key, describe, expand_types
from core.coach.rules.result import (
    MAX_RULE_TEXT,
    ClauseReading,
    ParseContext,
    ParseResult,
    Span,
    Unparsed,
    UnparsedReason,
    Word,
    questions_for,
    status_of,
)
from core.errors import AIServiceError, RuleParseError

_SUGGESTION = ("Try e.g. “rest on Fridays”, “max 9 hours a week”, “no intervals on Mondays”, “no more than 2 hard "
               "sessions a week”.")


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
           note: str | None = None, ignored: list[Span] | None = None) -> ParseResult:
    """The ParseResult of a sentence from its parts: status, questions, conflicts and confidence filled in."""
    context = context or ParseContext()
    questions = questions_for(constraints, context)
    conflicts = [c.message for c in rule_conflicts(constraints,
                                                   hard_includes_sweet_spot=context.hard_includes_sweet_spot)]
    confidence = min((c.confidence for c in clauses), default=0.0) if constraints else 0.0
    return ParseResult(text=text, status=status_of(constraints, unparsed), constraints=constraints, clauses=clauses,
                       unparsed=unparsed[:30], questions=questions[:30], conflicts=conflicts[:30],
                       suggestions=list(dict.fromkeys(suggestions))[:30], confidence_score=round(confidence, 2),
                       parser=parser, note=note, ignored=ignored or [])


class DeterministicParser:
    """The offline sentence reader (core.coach.rules.clauses): tokens, clauses, rule families, precision first."""

    name = "deterministic"

    def parse(self, text: str, context: ParseContext | None = None) -> ParseResult:
        text = check_text(text)
        context = context or ParseContext()
        outcomes = read_text(text, Carry(today=context.today))
        constraints: list = []
        clauses: list[ClauseReading] = []
        failed: list = []
        ignored: list[Span] = []
        for outcome in outcomes:
            if outcome.ok:
                words = [Word(start=t.start, end=t.end, text=t.text, role=word_role(t), normalised=word_norm(t))
                         for t in outcome.words if t.end > t.start][:60]
                clauses.append(ClauseReading(
                    span=_span(text, outcome.start, outcome.end),
                    constraints=list(range(len(constraints), len(constraints) + len(outcome.constraints))),
                    words=words, confidence=outcome.confidence))
                constraints.extend(outcome.constraints)
            elif outcome.ignored:
                if outcome.tokens and outcome.end > outcome.start:
                    ignored.append(_span(text, outcome.start, outcome.end))
            else:
                failed.append(outcome)
        unparsed = _unparsed_spans(text, outcomes)
        blocking = [c.message for c in rule_conflicts(constraints,
                                                      hard_includes_sweet_spot=context.hard_includes_sweet_spot)
                    if c.blocking] + self_contradictions(constraints)
        if blocking:  # a sentence that contradicts itself is refused whole, never half applied
            message = blocking[0]
            unparsed = [Unparsed(start=0, end=len(text), text=text, reason="contradictory",
                                 suggestion=f"These cannot all hold: {message} Keep the one you mean."[:500])]
            constraints, clauses = [], []
        if not constraints and not unparsed:  # only fillers, symbols or emoji
            unparsed = [Unparsed(start=0, end=len(text), text=text, reason="not_a_constraint",
                                 suggestion=f"That does not read as a training rule. {_SUGGESTION}")]
            ignored = []
        return finish(text, constraints, clauses, unparsed[:30], [u.suggestion for u in unparsed],
                      parser="deterministic", context=context, ignored=ignored[:30])


def self_contradictions(constraints: list) -> list[str]:
    """Contradictions inside one rule text that rule_conflicts leaves to the checker: two different tapers or
    cadences, a minimum count of a type above the maximum of a group holding it ("max 3 hard sessions a week but at
    least 4 VO2 sessions")."""
    out: list[str] = []
    for kind in ("taper", "recovery_cadence"):
        keys = {constraint_key(c) for c in constraints if c.kind == kind}
        if len(keys) > 1:
            out.append(f"two different {kind.replace('_', ' ')} rules.")
    counts = [c for c in constraints if c.kind == "type_count"]
    for a in counts:
        for b in counts:
            if a is not b and a.min is not None and b.max is not None and a.min > b.max \
                    and expand_types(a.types) <= expand_types(b.types):
                out.append(f"“{describe(a)}” and “{describe(b)}”.")
    return out


def _span(text: str, start: int, end: int) -> Span:
    return Span(start=start, end=end, text=text[start:end])


def _unparsed_spans(text: str, outcomes) -> list[Unparsed]:
    """Adjacent clauses that were not read become one unparsed span, with the first one's reason and rewording."""
    out: list[Unparsed] = []
    run: list = []

    def flush():
        if run:
            start, end = run[0].start, run[-1].end
            if end > start:
                out.append(Unparsed(start=start, end=end, text=text[start:end], reason=run[0].reason,
                                    suggestion=run[0].suggestion or _SUGGESTION))
            run.clear()

    for outcome in outcomes:
        if outcome.ok or outcome.ignored:
            flush()
        else:
            run.append(outcome)
    flush()
    return out


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
        return finish(text, list(answer.constraints), clauses, unparsed, answer.suggestions, parser="ai",
                      context=context)


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
