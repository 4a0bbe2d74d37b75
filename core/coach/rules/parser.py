"""Reading a rider's sentence into constraints: the built-in sentence reader (offline, ``DeterministicParser``)
and, when an AI service is configured, the LLM (``core.coach.rules.llm_parse``); both return a ``ParseResult``.

``parse_rule`` uses the LLM when AI is configured, reads the sentence with the built-in reader too and attaches
it when the two differ (the preview shows both); any AI failure falls back to the built-in reader, saying so in
``note``. The built-in reader: ``tokens`` (normalised words, typos, numbers, durations, dates), ``clauses``
(sentences, fragments, labels, ellipsis), ``frames``/``families`` (the clause grammar, precision first).
"""

from __future__ import annotations

from pydantic import ValidationError

from core.coach.rules.clauses import read_text, word_norm, word_role
from core.coach.rules.compose import SUGGESTION as _SUGGESTION
from core.coach.rules.compose import check_text, finish
from core.coach.rules.conflicts import rule_conflicts
from core.coach.rules.frames import Carry
from core.coach.rules.llm_parse import AIParse, LLMParser, compare
from core.coach.rules.model import constraint_key, describe, expand_types
from core.coach.rules.result import (
    ClauseReading,
    ParseContext,
    ParseResult,
    Span,
    Unparsed,
    Word,
)
from core.errors import AIServiceError, RuleParseError

__all__ = ["AIParse", "DeterministicParser", "LLMParser", "check_text", "finish", "parse_rule"]


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
        if len(constraints) > 30 or len(clauses) > 30:
            raise RuleParseError(f"This text holds {len(constraints)} rules; save at most 30 per rule (split it).")
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


_REASON_ORDER = ["unsafe", "contradictory", "not_representable", "not_a_constraint", "ambiguous", "out_of_range",
                 "unknown_words", "too_vague"]


def _unparsed_spans(text: str, outcomes) -> list[Unparsed]:
    """Adjacent clauses that were not read become one unparsed span, with the first one's reason and rewording."""
    out: list[Unparsed] = []
    run: list = []

    def flush():
        if run:
            start, end = run[0].start, run[-1].end
            if end > start:  # the most telling reason of the run ("when it rains" says why better than "no rides")
                first = min(run, key=lambda o: _REASON_ORDER.index(o.reason) if o.reason in _REASON_ORDER else 99)
                out.append(Unparsed(start=start, end=end, text=text[start:end], reason=first.reason,
                                    suggestion=first.suggestion or _SUGGESTION))
            run.clear()

    for outcome in outcomes:
        if outcome.ok or outcome.ignored:
            flush()
        else:
            run.append(outcome)
    flush()
    return out


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
        ai = LLMParser(service).parse(text, context)
    except (AIServiceError, ValidationError) as exc:
        result = DeterministicParser().parse(text, context)
        reason = exc if isinstance(exc, AIServiceError) else "its answer did not fit the rule schema"
        result.note = f"The AI service failed ({reason}); parsed offline by the built-in parser instead."
        return result
    return compare(ai, DeterministicParser().parse(text, context))
