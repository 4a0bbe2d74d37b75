"""What every rule parser shares: the text check, the default rewording and ``finish`` (a ParseResult from its
parts, with status, questions, conflicts and confidence filled in)."""

from __future__ import annotations

from pydantic import ValidationError

from core.coach.rules.conflicts import rule_conflicts
from core.coach.rules.result import (
    MAX_RULE_TEXT,
    ClauseReading,
    ParseContext,
    ParseResult,
    Span,
    Unparsed,
    questions_for,
    status_of,
)
from core.errors import RuleParseError

SUGGESTION = ("Try e.g. “rest on Fridays”, “max 9 hours a week”, “no intervals on Mondays”, “no more than 2 hard "
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


